#!/usr/bin/env bash
# The stateless filters run in flat memory (TAP): fetch-events | normalize over 50 000
# generated events (~45 MB) stays under 16 MB peak RSS each (GNU time %M), as it does over
# 500 events; fetch-events over them as raw HTTP requests too; to-csv over the result too. A resource bound, not a timing. Skipped on sanitizer builds (their shadow
# memory and quarantine are not ours).
set -u
. "$(dirname "$0")/../lib/tap.sh"
limit_kb=16384
if grep -q __asan_init "$BIN/normalize" 2>/dev/null; then
	echo "ok 1 - peak RSS # SKIP sanitizer build"
	exit 0
fi
if ! /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	echo "ok 1 - peak RSS # SKIP GNU time (/usr/bin/time) not installed"
	exit 0
fi
tmp=$(mktemp -d /tmp/ro-memory.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export RO_NO_PROGRESS=1

for events in 500 50000; do
	"$ROOT/tests/lib/gen-events" $events >"$tmp/in.ndjson"
	/usr/bin/time -f %M -o "$tmp/fetch.rss" "$BIN/fetch-events" "$tmp/in.ndjson" 2>"$tmp/fetch.err" |
		/usr/bin/time -f %M -o "$tmp/norm.rss" "$BIN/normalize" 2>"$tmp/norm.err" >"$tmp/out"
	st=("${PIPESTATUS[@]}")
	lines=$(wc -l <"$tmp/out")
	if [ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ] && [ "$lines" -eq $events ]; then
		ok "fetch-events | normalize: $events events in, $events events out"
	else
		notok "fetch-events | normalize: $events events: exit ${st[*]}, $lines out: $(head -c 300 "$tmp/fetch.err" "$tmp/norm.err")"
	fi
	for prog in fetch norm; do
		kb=$(tail -n 1 "$tmp/$prog.rss")
		name=$([ $prog = fetch ] && echo fetch-events || echo normalize)
		if [ -n "$kb" ] && [ "$kb" -lt $limit_kb ]; then
			ok "$name over $events events: peak RSS $kb KB < $limit_kb KB"
			if [ $events -eq 500 ]; then
				eval "small_$prog=$kb"
			else
				small=$(eval echo "\$small_$prog")
				if [ "$kb" -le $((small + 2048)) ]; then
					ok "$name: flat, $kb KB at $events events vs $small KB at 500"
				else
					notok "$name: grows with input, $kb KB at $events events vs $small KB at 500"
				fi
			fi
		else
			notok "$name over $events events: peak RSS ${kb:-?} KB, limit $limit_kb KB"
		fi
	done
done
# fetch-events over the same events as raw HTTP requests back to back (gzip, as a receiver's
# rotated log): streamed, one request held at a time, as flat as NDJSON.
to_http() {
	LC_ALL=C awk '{ printf "POST /webhooks/hotmart HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", length($0), $0 }'
}
for events in 500 50000; do
	"$ROOT/tests/lib/gen-events" $events | to_http | gzip -1 >"$tmp/in.http.gz"
	/usr/bin/time -f %M -o "$tmp/http.rss" "$BIN/fetch-events" "$tmp/in.http.gz" >"$tmp/out.http" 2>"$tmp/err"
	st=$? kb=$(tail -n 1 "$tmp/http.rss") lines=$(wc -l <"$tmp/out.http")
	if [ $st -eq 0 ] && [ "$lines" -eq $events ] && [ -n "$kb" ] && [ "$kb" -lt $limit_kb ]; then
		ok "fetch-events over $events raw HTTP requests (gzip): $lines envelopes, peak RSS $kb KB < $limit_kb KB"
	else
		notok "fetch-events over $events raw HTTP requests: exit $st, $lines out, peak RSS ${kb:-?} KB: $(head -c 300 "$tmp/err")"
	fi
	[ $events -eq 500 ] && small_http=$kb
done
if [ -n "${small_http:-}" ] && [ -n "$kb" ] && [ "$kb" -le $((small_http + 2048)) ]; then
	ok "fetch-events over raw HTTP: flat, $kb KB at 50000 requests vs $small_http KB at 500"
else
	notok "fetch-events over raw HTTP: grows with input, ${kb:-?} KB at 50000 requests vs ${small_http:-?} KB at 500"
fi
# to-csv over the 50 000 canonical events just written.
/usr/bin/time -f %M -o "$tmp/csv.rss" "$BIN/to-csv" --money "$tmp/out" >"$tmp/csv" 2>"$tmp/err"
st=$? kb=$(tail -n 1 "$tmp/csv.rss") rows=$(wc -l <"$tmp/csv")
if [ $st -eq 0 ] && [ "$rows" -eq 50001 ] && [ -n "$kb" ] && [ "$kb" -lt $limit_kb ]; then
	ok "to-csv --money over 50000 events: $rows rows, peak RSS $kb KB < $limit_kb KB"
else
	notok "to-csv --money over 50000 events: exit $st, $rows rows, peak RSS ${kb:-?} KB: $(head -c 300 "$tmp/err")"
fi
# The stream the loader takes: raw lines and events interleaved, from bare payloads.
/usr/bin/time -f %M -o "$tmp/emit.rss" "$BIN/normalize" --emit-raw "$tmp/in.ndjson" >/dev/null 2>"$tmp/err"
st=$? kb=$(tail -n 1 "$tmp/emit.rss")
if [ $st -eq 0 ] && [ -n "$kb" ] && [ "$kb" -lt $limit_kb ]; then
	ok "normalize --emit-raw over 50000 bare payloads: peak RSS $kb KB < $limit_kb KB"
else
	notok "normalize --emit-raw over 50000 bare payloads: exit $st, peak RSS ${kb:-?} KB: $(head -c 300 "$tmp/err")"
fi
