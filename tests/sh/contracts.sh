#!/usr/bin/env bash
# Contracts stay documented: every reject code in src/lib/diag.h is in docs/rejects.md,
# every program answers --help (exit 0, with "Exit status") and --version, and misuse exits 2.
# And the record fields options and file names make: --project, source, --plans keys.
set -u
. "$(dirname "$0")/../lib/tap.sh"

codes=$(sed -n 's/^[[:space:]]*X(REJ_[A-Z0-9_]*, "\([a-z0-9_]*\)".*/\1/p' src/lib/diag.h)
[ -n "$codes" ] || notok "found the reject codes in diag.h"
for c in $codes; do
	if grep -q "| \`$c\` |" docs/rejects.md; then ok "reject code $c is documented"; else notok "reject code $c is documented in docs/rejects.md"; fi
done

for p in "$BIN"/*; do
	name=$(basename "$p")
	out=$("$p" --help 2>/dev/null); st=$?
	if [ $st -eq 0 ] && grep -q "Exit status" <<<"$out" && grep -q "^usage: $name" <<<"$out"; then
		ok "$name --help"
	else
		notok "$name --help (exit $st)"
	fi
	if "$p" --version 2>/dev/null | grep -q "^$name "; then ok "$name --version"; else notok "$name --version"; fi
	# the short forms, in every program alike
	if [ "$("$p" -h 2>&1)" = "$out" ]; then ok "$name -h is --help"; else notok "$name -h is --help"; fi
	if [ "$("$p" -V 2>&1)" = "$("$p" --version)" ]; then ok "$name -V is --version"; else notok "$name -V is --version"; fi
	"$p" --no-such-option </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -q "^usage: $name" "${TMPDIR:-/tmp}/contracts.err.$$"; then ok "$name misuse exits 2 with the synopsis"; else notok "$name misuse exits 2 (got $st)"; fi
	# run by its path, it still says "name: ..." (getopt's own message too)
	if grep -q "^$name: unrecognized option '--no-such-option'" "${TMPDIR:-/tmp}/contracts.err.$$"; then
		ok "$name names itself in getopt's message"
	else
		notok "$name names itself in getopt's message: $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$")"
	fi
	# started with another argv[0] (a symlink, exec -a, an empty one), it names itself still:
	# "prog:" is the contract ops people grep for
	for a0 in "" "/opt/x/revenue-$name"; do
		(exec -a "$a0" "$p" --no-such-option </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$")
		if grep -q "^$name: unrecognized option '--no-such-option'" "${TMPDIR:-/tmp}/contracts.err.$$" &&
			grep -q "^usage: $name " "${TMPDIR:-/tmp}/contracts.err.$$"; then
			ok "$name names itself under argv[0] '$a0'"
		else
			notok "$name names itself under argv[0] '$a0': $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$")"
		fi
	done
	# a typo's value is not said: --dns=URI (for --dsn) may hold a password (audit-S2 2)
	"$p" --dns=postgresql://u:PWLEAK1@h/db </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -q "^$name: unrecognized option '--dns' (its value not shown)$" "${TMPDIR:-/tmp}/contracts.err.$$" &&
		! grep -q PWLEAK "${TMPDIR:-/tmp}/contracts.err.$$"; then
		ok "$name says an unknown option without its value"
	else
		notok "$name says an unknown option without its value (exit $st): $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$")"
	fi
	"$p" --help=PWLEAK2 </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -q "^$name: option '--help' doesn't allow an argument$" "${TMPDIR:-/tmp}/contracts.err.$$"; then
		ok "$name: an argument to a flag said without it"
	else
		notok "$name: an argument to a flag said without it (exit $st): $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$")"
	fi
	# --max-line past 1G: a usage error, where a line of 2 GiB went to json-c as a negative
	# int length and was refused as invalid JSON (audit-SA 1); 1G itself is taken
	"$p" --max-line 1025M </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -q "^$name: --max-line: '1025M' is more than 1G" "${TMPDIR:-/tmp}/contracts.err.$$" &&
		"$p" --max-line 1G --help >/dev/null 2>&1; then
		ok "$name --max-line takes at most 1G"
	else
		notok "$name --max-line takes at most 1G (exit $st): $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$")"
	fi
	rm -f "${TMPDIR:-/tmp}/contracts.err.$$"
done

# --project ends in every record: one that would make them invalid JSON or break a
# line, or that no index of the tables could hold, is a usage error, never passed on
for p in fetch-events normalize; do
	for bad in "" $'acme\xff' $'ac\tme' $'ac\nme' "$(printf 'p%.0s' $(seq 1 256))"; do
		"$BIN/$p" --project "$bad" </dev/null >"${TMPDIR:-/tmp}/contracts.out.$$" 2>/dev/null; st=$?
		show=$(printf %q "$bad"); [ ${#bad} -gt 20 ] && show="of ${#bad} bytes"
		if [ $st -eq 2 ] && [ ! -s "${TMPDIR:-/tmp}/contracts.out.$$" ]; then ok "$p refuses --project $show"; else notok "$p refuses --project $show (exit $st)"; fi
	done
	if printf '' | "$BIN/$p" --project 'açme-1' >/dev/null 2>&1; then ok "$p takes a UTF-8 --project"; else notok "$p takes a UTF-8 --project"; fi
	if printf '' | "$BIN/$p" --project "$(printf 'p%.0s' $(seq 1 255))" >/dev/null 2>&1; then ok "$p takes a 255-byte --project"; else notok "$p takes a 255-byte --project"; fi
done
rm -f "${TMPDIR:-/tmp}/contracts.out.$$"

# source is "FILE:LINE" whole, however long the path (the schema's copy key)
d=$(mktemp -d "${TMPDIR:-/tmp}/contracts.XXXXXX")
long=$d
for i in $(seq 1 12); do long=$long/$(printf 'd%.0s' $(seq 1 60))$i; done
mkdir -p "$long"
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' fixtures/stripe/charge.failed.json >"$long/a.ndjson"
for p in fetch-events normalize; do
	got=$("$BIN/$p" "$long/a.ndjson" 2>/dev/null | head -n 1 | sed -n 's/.*"source":"\([^"]*\)".*/\1/p')
	if [ "$got" = "$long/a.ndjson:1" ]; then ok "$p keeps a ${#long}-byte path whole in source"; else notok "$p keeps a ${#long}-byte path whole in source (got ${#got} bytes)"; fi
done
rm -rf "$d"

# --plans: a price id too long for the mapping's key is a line not read (exit 2); an
# event's price too long for the key maps to nothing, never to the price its first
# 511 bytes spell (here: one of exactly that length)
d=$(mktemp -d "${TMPDIR:-/tmp}/contracts.XXXXXX")
pad=$(printf 'x%.0s' $(seq 1 600))
printf 'stripe\tprice_FakePro0001%s\tpro\n' "$pad" >"$d/plans.tsv"
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' fixtures/stripe/customer.subscription.created.json >"$d/sub.ndjson"
"$BIN/normalize" --plans "$d/plans.tsv" "$d/sub.ndjson" >"$d/out" 2>"$d/err"
st=$?
if [ $st -eq 2 ] && [ ! -s "$d/out" ] && grep -q "plans.tsv:1: price id longer than" "$d/err"; then
	ok "a plans line with a price id too long is reported, nothing done (exit 2)"
else
	notok "a plans line with a price id too long is reported, nothing done: exit $st"
fi
long=$(python3 -c 'print("price_FakePro0001" + "x" * (511 - len("stripe") - 1 - len("price_FakePro0001")))')
printf 'stripe\t%s\tpro\n' "$long" >"$d/plans.tsv"
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))).replace("price_FakePro0001", sys.argv[2] + "y"))' \
	fixtures/stripe/customer.subscription.created.json "$long" >"$d/sub.ndjson"
out=$("$BIN/normalize" --plans "$d/plans.tsv" "$d/sub.ndjson" 2>"$d/err")
if grep -q '"status":"processed"' <<<"$out" && grep -q '"plan_code":null' <<<"$out" && [ ! -s "$d/err" ]; then
	ok "an event's price too long for the key maps to no plan"
else
	notok "an event's price too long for the key maps to no plan: $(head -c 300 "$d/err")"
fi
rm -rf "$d"

# Exit status 1 is not "events failed" for every program (README's table): a failed event is
# normalize's 1 and reconcile's delta (4); load stores it and exits 0 (tests/db/load_idempotent.sh)
d=$(mktemp -d "${TMPDIR:-/tmp}/contracts.XXXXXX")
printf '{"record":"raw","provider":"stripe","external_event_id":"evt_f1","project_id":"p","received_at":"2026-11-02T00:00:00Z","occurred_at":"2026-11-02T00:00:00Z","source":"a:1","payload":{"id":"evt_f1","object":"event","type":"invoice.paid","created":1793577600,"data":{"object":{"id":"in_1","object":"invoice"}}}}\n' >"$d/raw"
"$BIN/normalize" "$d/raw" >"$d/events" 2>/dev/null; st=$?
if [ $st -eq 1 ] && grep -q '"status":"failed"' "$d/events"; then ok "normalize: a failed event is written, exit 1"; else notok "normalize: a failed event is written, exit 1 (got $st)"; fi
"$BIN/reconcile" "$d/raw" "$d/events" >/dev/null 2>&1; st=$?
if [ $st -eq 4 ]; then ok "reconcile: a failed event is a delta, exit 4"; else notok "reconcile: a failed event is a delta, exit 4 (got $st)"; fi
rm -rf "$d"

# A program's synopsis in its doc names every option its --help's usage lines name
for pd in fetch-events:docs/events.md normalize:docs/events.md load:docs/load.md reconcile:docs/reconcile.md to-csv:docs/to-csv.md; do
	p=${pd%%:*} doc=${pd#*:}
	want=$("$BIN/$p" --help | sed -n '/^usage:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u)
	have=$(awk -v p="$p" '$0 ~ "^    " p "( |$)" { on = 1 } on && !/^    / { exit } on' "$doc" | grep -o -- '--[a-z][a-z-]*' | sort -u)
	missing=$(comm -23 <(echo "$want") <(echo "$have") | tr '\n' ' ')
	if [ -n "$want" ] && [ -z "$missing" ]; then ok "$doc's synopsis names every option of $p's usage"; else notok "$doc's synopsis lacks $p's ${missing:-options}"; fi
done

# --provider's help lists the registry's connectors, in its order (src/connectors/registry.c)
names=$(sed -n 's/^[[:space:]]*&\([a-z0-9_]*\)_connector,$/\1/p' src/connectors/registry.c | paste -sd, - | sed 's/,/, /g')
for p in fetch-events normalize; do
	line=$("$BIN/$p" --help | grep -- '--provider NAME')
	if [ -n "$names" ] && [[ $line == *"'s ($names)"* ]]; then ok "$p --help names the providers ($names)"; else notok "$p --help names the providers ($names): $line"; fi
done

# load --note-run: a note that is not one is a usage error before any connection
printf '[1]' | PGHOST=/nonexistent "$BIN/load" --note-run x >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
if [ $st -eq 2 ] && grep -q "^load: --note-run: stdin is not one JSON object" "${TMPDIR:-/tmp}/contracts.err.$$"; then
	ok "load --note-run with a bad note exits 2 before connecting"
else
	notok "load --note-run with a bad note exits 2 before connecting (got $st)"
fi
# options that cannot go together, or one without the option it serves: a usage error
# before any connection, said with the synopsis, never one of them silently dropped:
# --sql-dir is --migrate's; --batch, --rejects, --max-line, --quiet are a load's (mutation
# audit MUT-P: --migrate FILE migrated and exited 0, --split-dsn --batch printed the split)
mig="--migrate loads nothing: --batch, --rejects, --max-line and --quiet are for a load"
for c in "--sql-dir sql|--sql-dir is read by --migrate only" \
	"--migrate --batch 10|$mig" "--migrate --rejects /dev/null|$mig" \
	"--migrate --max-line 1M|$mig" "--migrate --quiet|$mig" \
	"--split-dsn --batch 10|--split-dsn takes only --dsn" \
	"--split-dsn --migrate|--split-dsn takes only --dsn" \
	"--split-dsn --note-run x|--split-dsn takes only --dsn" \
	"--split-dsn --sql-dir sql|--split-dsn takes only --dsn" \
	"--split-dsn README.md|--split-dsn takes only --dsn" \
	"--migrate README.md|--migrate takes no input files" \
	"--note-run x --migrate|--note-run takes only --dsn" \
	"--note-run x --batch 10|--note-run takes only --dsn" \
	"--note-run x --sql-dir sql|--note-run takes only --dsn" \
	"--note-run x README.md|--note-run takes only --dsn"; do
	o=${c%%|*} m=${c#*|}
	# shellcheck disable=SC2086 # the options are words
	PGHOST=/nonexistent "$BIN/load" --dsn 'dbname=x password=pw' $o </dev/null >"${TMPDIR:-/tmp}/contracts.out.$$" \
		2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -qx "load: $m" "${TMPDIR:-/tmp}/contracts.err.$$" &&
		grep -q "^usage: load" "${TMPDIR:-/tmp}/contracts.err.$$" && [ ! -s "${TMPDIR:-/tmp}/contracts.out.$$" ]; then
		ok "load $o exits 2: $m"
	else
		notok "load $o exits 2: $m (got $st: $(head -n 1 "${TMPDIR:-/tmp}/contracts.err.$$"))"
	fi
done
rm -f "${TMPDIR:-/tmp}/contracts.out.$$"
# a usage error leaves a --rejects FILE as it was: the last run's rejects are not emptied
# before the options are refused (audit-CL 3: to-csv's --columns, reconcile's --dsn)
rj=${TMPDIR:-/tmp}/contracts.rejects.$$
for cmd in "to-csv --rejects $rj -c a..b" "reconcile --dsn dbname=x --rejects $rj /dev/null /dev/null" \
	"fetch-events --rejects $rj --since x" "normalize --rejects $rj --jobs 0"; do
	echo keep >"$rj"
	set -- $cmd
	p=$1; shift
	"$BIN/$p" "$@" </dev/null >/dev/null 2>&1; st=$?
	if [ $st -eq 2 ] && [ "$(cat "$rj")" = keep ]; then ok "$cmd: exit 2, the rejects file left as it was"
	else notok "$cmd: exit 2, the rejects file left as it was (got $st, $(wc -c <"$rj") bytes)"; fi
done
rm -f "$rj"
rm -f "${TMPDIR:-/tmp}/contracts.err.$$"

# tests/run leaves no connection of the caller's to its tests (a production RO_DSN in an ops
# shell: tests/db/export.sh exported its customers and wrote its audit_logs)
# (its counts are not tests/all's: TEST_COUNTS unset)
out=$(env -u TEST_COUNTS RO_DSN='host=/ro-caller dbname=prod' RO_AUDIT_DSN='host=/ro-caller dbname=audit' \
	PGSERVICE=ro-caller PGHOSTADDR=192.0.2.1 tests/run sh/runner-env.sh 2>&1)
if [ "$(tail -n 1 <<<"$out")" = "4 passed, 0 failed, 0 skipped" ]; then
	ok "tests/run unsets RO_DSN, RO_AUDIT_DSN, PGSERVICE and PGHOSTADDR"
else
	notok "tests/run unsets RO_DSN, RO_AUDIT_DSN, PGSERVICE and PGHOSTADDR: $(tr '\n' ' ' <<<"$out")"
fi

# load refuses a database a newer release migrated: its NEWEST_MIGRATION is sql/'s last
# (audit-UP 2), so a new migration without it fails here, not in the field
newest=$(sed -n 's/^#define NEWEST_MIGRATION "\(.*\)"$/\1/p' src/load/migrate.h)
last=$(cd sql && ls [0-9]*.sql | tail -n 1)
if [ -n "$newest" ] && [ "$newest" = "$last" ]; then ok "load's NEWEST_MIGRATION is sql/'s last ($last)"
else notok "load's NEWEST_MIGRATION ($newest) is sql/'s last ($last)"; fi
