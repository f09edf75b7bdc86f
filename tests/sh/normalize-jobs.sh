#!/usr/bin/env bash
# normalize --jobs N writes the same bytes as --jobs 1: stdout, stderr, the rejects file and
# the exit status, over an input of many jobs mixing events, failures and bad lines.
set -u
. "$(dirname "$0")/../lib/tap.sh"
tmp=$(mktemp -d /tmp/ro-jobs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fetch-events --received-at 2026-11-25T00:00:00Z fixtures/stripe fixtures/hotmart fixtures/dumps \
	>"$tmp/env" 2>/dev/null
for i in $(seq 1 40); do
	cat "$tmp/env" fixtures/bad/mixed.ndjson
	echo '{"record":"raw","provider":"stripe","external_event_id":"evt_bad'"$i"'","payload":{"id":"evt_bad","object":"event","type":"invoice.paid","data":{"object":{"object":"invoice","amount_paid":"12"}}}}'
done >"$tmp/in"
lines=$(wc -l <"$tmp/in")

normalize --jobs 1 --rejects "$tmp/rej1" --emit-raw "$tmp/in" >"$tmp/out1" 2>"$tmp/err1"
st1=$?
[ "$st1" -eq 1 ] && ok "--jobs 1: exit 1 over $lines lines with bad ones" || notok "--jobs 1: exit $st1"
[ -s "$tmp/rej1" ] && ok "--jobs 1: rejects written" || notok "--jobs 1: rejects written"
for j in 2 3 4 8; do
	normalize --jobs $j --rejects "$tmp/rej$j" --emit-raw "$tmp/in" >"$tmp/out$j" 2>"$tmp/err$j"
	st=$?
	[ "$st" -eq "$st1" ] && ok "--jobs $j: same exit status" || notok "--jobs $j: exit $st, not $st1"
	cmp -s "$tmp/out1" "$tmp/out$j" && ok "--jobs $j: same stdout" || notok "--jobs $j: stdout differs"
	cmp -s "$tmp/err1" "$tmp/err$j" && ok "--jobs $j: same stderr" || notok "--jobs $j: stderr differs"
	cmp -s "$tmp/rej1" "$tmp/rej$j" && ok "--jobs $j: same rejects" || notok "--jobs $j: rejects differ"
done
# --project with envelopes of other projects: said once, naming the first such envelope in
# input order whatever thread met one first, and no data error: exit 0 (audit-threads 1, 2)
# the envelopes whose events normalize (none failed: their exit status is 0)
normalize "$tmp/env" 2>/dev/null | jq -r 'select(.status == "failed") | .source' | sort -u >"$tmp/failed"
grep -v -F -f <(sed 's/.*/"source":"&"/' "$tmp/failed") "$tmp/env" >"$tmp/good"
normalize "$tmp/good" >/dev/null 2>&1
st=$?
check "the fixtures' envelopes without those of failed events: exit 0 ($st)" '[ $st -eq 0 ]'
for i in $(seq 1 30); do cat "$tmp/good"; done >"$tmp/many"
first=$(( $(wc -l <"$tmp/many") / 2 ))
awk -v f="$first" 'NR < f { sub(/"project_id":"default"/, "\"project_id\":\"acme\"") }
	NR == f { sub(/"project_id":"default"/, "\"project_id\":\"beta\"") }
	NR > f { sub(/"project_id":"default"/, "\"project_id\":\"gamma\"") } { print }' "$tmp/many" >"$tmp/proj"
for j in 1 2 4; do
	normalize --jobs $j --project acme "$tmp/proj" >/dev/null 2>"$tmp/perr$j"
	st=$?
	check "--jobs $j --project acme over other projects: exit 0 ($st), said once, at line $first ('beta')" \
		'[ $st -eq 0 ] && [ "$(wc -l <"$tmp/perr$j")" -eq 1 ] && grep -q "proj:$first: --project .acme. is for bare payloads: this envelope keeps its project .beta." "$tmp/perr$j"'
done
normalize --quiet --jobs 2 --project acme "$tmp/proj" >/dev/null 2>"$tmp/perrq"
st=$?
check "the same, --quiet: exit 0 ($st), nothing said" '[ $st -eq 0 ] && [ ! -s "$tmp/perrq" ]'

normalize --jobs 0 </dev/null >/dev/null 2>&1
[ $? -eq 2 ] && ok "--jobs 0 is a usage error" || notok "--jobs 0 is a usage error"
