#!/usr/bin/env bash
# Faults the stateless filters must survive (TAP): a full disk, a closed pipe downstream,
# unreadable files, directory symlink loops, huge lines, stdin and stdout closed.
# Database faults and overlapping runs are the loader's (tests/db/).
set -u
. "$(dirname "$0")/../lib/tap.sh"
tmp=$(mktemp -d /tmp/ro-faults.XXXXXX)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export RO_NO_PROGRESS=1
# Sanitizer builds: their shadow memory is not ours, so peak RSS is only checked without.
san=0
grep -q __asan_init "$BIN/fetch-events" 2>/dev/null && san=1
rss_below() { # KB: true when the last run's peak RSS is under it (always, on sanitizer builds)
	[ $san -eq 1 ] || [ "$(rss)" -lt "$1" ]
}

"$ROOT/tests/lib/gen-events" 20000 >"$tmp/events.ndjson"
"$BIN/fetch-events" --received-at 2026-11-25T00:00:00Z "$tmp/events.ndjson" >"$tmp/raw.ndjson" 2>"$tmp/err"
st=$?
check "fetch-events reads the generated events" '[ $st -eq 0 ] && [ ! -s "$tmp/err" ]'
small=$ROOT/fixtures/hotmart/purchase_approved.json

# 1. Disk full: exit 3 and one message naming the problem, whether the output fills
# the stdio buffer many times over or is only flushed at the end.
full() { # name, then the command
	local name=$1 st; shift
	"$@" >/dev/full 2>"$tmp/err"; st=$?
	if [ $st -eq 3 ] && grep -q "^$name: write error: No space left on device$" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" -eq 1 ]; then
		ok "$name > /dev/full exits 3 with one message (${*: -1})"
	else
		notok "$name > /dev/full exits 3 with one message (${*: -1}): exit $st, stderr: $(head -c 300 "$tmp/err")"
	fi
}
full fetch-events "$BIN/fetch-events" "$small"
full fetch-events "$BIN/fetch-events" "$tmp/events.ndjson"
head -n 1 "$tmp/raw.ndjson" >"$tmp/one.ndjson"
full normalize "$BIN/normalize" "$tmp/one.ndjson"
full normalize "$BIN/normalize" "$tmp/raw.ndjson"
full normalize "$BIN/normalize" --emit-raw "$tmp/events.ndjson"
# a file-size limit (ulimit -f): the same, "File too large", where SIGXFSZ killed the
# program without a word, exit 153, its output cut (audit-E 5); the rejects file too
fsize() { # name, then the command
	local name=$1 st; shift
	(ulimit -f 8; exec "$@" >"$tmp/fsize.out" 2>"$tmp/err"); st=$?
	check "$name past ulimit -f exits 3 with one message (${*: -1}; exit $st: $(head -c 200 "$tmp/err"))" \
		'[ $st -eq 3 ] && grep -q "^$name: write error: File too large$" "$tmp/err"'
}
fsize fetch-events "$BIN/fetch-events" "$tmp/events.ndjson"
fsize normalize "$BIN/normalize" "$tmp/raw.ndjson"
fsize to-csv "$BIN/to-csv" "$tmp/raw.ndjson"
head -c 20000 /dev/zero | tr '\0' 'x' | fold -w 100 >"$tmp/junk.ndjson"
(ulimit -f 8; exec "$BIN/fetch-events" --rejects "$tmp/fsize.rej" "$tmp/junk.ndjson" >/dev/null 2>"$tmp/err"); st=$?
check "fetch-events --rejects past ulimit -f: exit 3, said (exit $st: $(tail -c 200 "$tmp/err"))" \
	'[ $st -eq 3 ] && grep -q "File too large" "$tmp/err"'

# 2. A closed pipe downstream (head -n 1): the filter ends quietly, by SIGPIPE or
# with status 0..3, never with a storm of messages; head gets its line.
quiet_pipe() { # what, then the pipeline's first command
	local what=$1 st; shift
	"$@" 2>"$tmp/err" | head -n 1 >"$tmp/line"; st=${PIPESTATUS[0]}
	if [ -s "$tmp/line" ] && [ ! -s "$tmp/err" ] && { [ $st -eq 141 ] || [ $st -le 3 ]; }; then
		ok "$what | head -n 1 ends quietly (exit $st)"
	else
		notok "$what | head -n 1 ends quietly: exit $st, stderr: $(head -c 300 "$tmp/err")"
	fi
}
quiet_pipe "fetch-events" "$BIN/fetch-events" "$tmp/events.ndjson"
quiet_pipe "normalize" "$BIN/normalize" "$tmp/raw.ndjson"
quiet_pipe "normalize --emit-raw" "$BIN/normalize" --emit-raw "$tmp/events.ndjson"
quiet_pipe "to-csv" "$BIN/to-csv" "$tmp/raw.ndjson"
quiet_pipe "reconcile --details" "$BIN/reconcile" --details "$tmp/raw.ndjson" /dev/null
# reconcile ignores SIGPIPE while it feeds sort(1), to tell a dead sort; once sort has
# all its input, a reader gone ends it by SIGPIPE as it ends the other filters.
"$BIN/reconcile" --details "$tmp/raw.ndjson" /dev/null 2>/dev/null | head -n 1 >/dev/null
st=${PIPESTATUS[0]}
check "reconcile --details | head -n 1 ends by SIGPIPE (exit $st)" '[ $st -eq 141 ]'
out=$( (trap '' PIPE; "$BIN/reconcile" --details "$tmp/raw.ndjson" /dev/null 2>"$tmp/err" | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") )
check "reconcile with SIGPIPE ignored: exit 3, nothing on stderr (got $out, $(wc -l <"$tmp/err") lines)" \
	'[ "$out" = 3 ] && [ ! -s "$tmp/err" ]'
# Totals out of balance, their reader gone before they were written: no verdict on totals
# no one read, on stderr for cron mail (audit-D 1: "out of balance" was said first).
gone=$(python3 - "$BIN/reconcile" "$tmp/raw.ndjson" <<'PY'
import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
a = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)  # SIGPIPE as a shell has it
b = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, restore_signals=False)  # ignored
print(a.returncode, len(a.stderr), b.returncode, len(b.stderr))
PY
)
check "reconcile's totals out of balance to a closed pipe: SIGPIPE, or exit 3 ignoring it, no verdict (got $gone)" \
	'[ "$gone" = "-13 0 3 0" ]'
# Rejects said before a filter is stopped by a signal (the load behind it gone) are in its
# rejects file, each whole: they stayed in its buffer, the last cut (audit-JOB 2).
{ for i in $(seq 1 60); do echo "{\"bad line $i"; done; cat "$tmp/events.ndjson"; } >"$tmp/badfirst.ndjson"
"$BIN/fetch-events" --rejects "$tmp/f.rej" "$tmp/badfirst.ndjson" 2>"$tmp/err" | head -n 1 >/dev/null
st=${PIPESTATUS[0]}
check "fetch-events | head -n 1 (exit $st): the 60 rejects it said in its file, each whole ($(wc -l <"$tmp/f.rej") lines)" \
	'[ $st -eq 141 ] && [ "$(grep -c invalid_json "$tmp/err")" -eq 60 ] && [ "$(wc -l <"$tmp/f.rej")" -eq 60 ] &&
	 jq -e -s "length == 60" "$tmp/f.rej" >/dev/null'
# ... and normalize's: a job's rejects were written after its output, and the signal its
# output met took them (stop 44's last read)
"$BIN/normalize" --rejects "$tmp/n.rej" "$tmp/badfirst.ndjson" 2>"$tmp/err" | head -n 1 >/dev/null
st=${PIPESTATUS[0]}
check "normalize | head -n 1 (exit $st): the 60 rejects it said in its file, each whole ($(wc -l <"$tmp/n.rej") lines)" \
	'[ $st -eq 141 ] && [ "$(grep -c invalid_json "$tmp/err")" -eq 60 ] && [ "$(wc -l <"$tmp/n.rej")" -eq 60 ] &&
	 jq -e -s "length == 60" "$tmp/n.rej" >/dev/null'
# The whole pipeline: both upstream filters quiet.
"$BIN/fetch-events" "$tmp/events.ndjson" 2>"$tmp/err1" | "$BIN/normalize" 2>"$tmp/err2" | head -n 1 >"$tmp/line"
st=("${PIPESTATUS[@]}")
check "fetch-events | normalize | head -n 1 ends quietly (exit ${st[*]})" \
	'[ -s "$tmp/line" ] && [ ! -s "$tmp/err1" ] && [ ! -s "$tmp/err2" ] && [ "${st[0]}" -ne 1 ] && [ "${st[1]}" -ne 1 ]'
# An ignored SIGPIPE (some shells and supervisors do that) turns into EPIPE: exit 3, quietly.
out=$( (trap '' PIPE; "$BIN/fetch-events" "$tmp/events.ndjson" 2>"$tmp/err" | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") )
check "fetch-events with SIGPIPE ignored: exit 3, nothing on stderr (got $out, $(wc -l <"$tmp/err") lines)" \
	'[ "$out" = 3 ] && [ ! -s "$tmp/err" ]'
out=$( (trap '' PIPE; "$BIN/normalize" "$tmp/raw.ndjson" 2>"$tmp/err" | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") )
check "normalize with SIGPIPE ignored: exit 3, nothing on stderr (got $out, $(wc -l <"$tmp/err") lines)" \
	'[ "$out" = 3 ] && [ ! -s "$tmp/err" ]'

# 3. Unreadable and missing files: a message each, exit 3, the other files still read.
mkdir "$tmp/in"
cp "$small" "$tmp/in/a.json"
cp "$small" "$tmp/in/b.json"
sed 's/"id": *"[^"]*"/"id": "other-event"/' "$small" >"$tmp/in/c.json"
chmod 000 "$tmp/in/b.json"
chmod 755 "$tmp" "$tmp/in"
as_user() { # run unprivileged, so that mode 000 means unreadable even for root
	if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else "$@"; fi
}
as_user "$BIN/fetch-events" "$tmp/in/a.json" "$tmp/in/b.json" "$tmp/no-such-file" "$tmp/in/c.json" \
	>"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: unreadable and missing files exit 3 (got $st)" '[ $st -eq 3 ]'
check "fetch-events: both are named on stderr" \
	'grep -q "cannot open .$tmp/in/b.json.: Permission denied" "$tmp/err" &&
	 grep -q "cannot open .$tmp/no-such-file.: No such file or directory" "$tmp/err"'
check "fetch-events: the readable files around them are still read" '[ "$(wc -l <"$tmp/out")" -eq 2 ]'
as_user "$BIN/fetch-events" "$tmp/in" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events DIR with an unreadable file: exit 3, the rest read (exit $st)" \
	'[ $st -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
head -n 5 "$tmp/raw.ndjson" >"$tmp/in/raw.ndjson"
chmod 644 "$tmp/in/raw.ndjson"
cp "$tmp/in/raw.ndjson" "$tmp/in/raw0.ndjson"
chmod 000 "$tmp/in/raw0.ndjson"
as_user "$BIN/normalize" "$tmp/in/raw0.ndjson" "$tmp/no-such-file" "$tmp/in/raw.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize: unreadable and missing files exit 3, the others read (exit $st)" \
	'[ $st -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 5 ] && [ "$(wc -l <"$tmp/err")" -eq 2 ]'
"$BIN/normalize" "$tmp/in" "$tmp/in/raw.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize DIR: cannot be read as a file, exit 3, the others read (exit $st: $(head -c 200 "$tmp/err"))" \
	'[ $st -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 5 ]'
# A file that opens but whose read(2) fails (EIO: /proc/self/mem at offset 0) is a system
# failure, not bad data: read_error at its line, exit 3, the files after it still read.
head -n 5 "$tmp/events.ndjson" >"$tmp/five.ndjson"
for p in fetch-events normalize to-csv; do
	"$BIN/$p" /proc/self/mem "$tmp/five.ndjson" >"$tmp/out" 2>"$tmp/err"
	st=$?
	check "$p: an I/O error reading a file is exit 3 with read_error, the next file read (exit $st)" \
		'[ $st -eq 3 ] && grep -q "^$p: /proc/self/mem:1: read error: Input/output error (read_error)$" "$tmp/err" &&
		 [ "$(wc -l <"$tmp/out")" -ge 5 ]'
done
"$BIN/reconcile" /proc/self/mem "$tmp/in/raw.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "reconcile: an I/O error reading an input is exit 3 with read_error (exit $st)" \
	'[ $st -eq 3 ] && grep -q "^reconcile: /proc/self/mem:1: read error: Input/output error (read_error)$" "$tmp/err"'
# A gzip input cut short (copied in part, still being written) was not read whole either:
# no totals, no verdict, exit 3 (audit-R 1: exit 4, the lost tail's events "missing")
"$BIN/normalize" --received-at 2026-11-02T10:00:00Z "$tmp/in/raw.ndjson" 2>/dev/null | gzip -c >"$tmp/ev.gz"
head -c $(( $(wc -c <"$tmp/ev.gz") - 40 )) "$tmp/ev.gz" >"$tmp/ev-cut.gz"
"$BIN/reconcile" "$tmp/in/raw.ndjson" "$tmp/ev.gz" >/dev/null 2>&1; whole=$?
"$BIN/reconcile" "$tmp/in/raw.ndjson" "$tmp/ev-cut.gz" >"$tmp/out" 2>"$tmp/err"
st=$?
check "reconcile: a gzip input cut short is exit 3, no totals (exit $st; whole: $whole)" \
	'[ $st -eq 3 ] && [ $whole -ne 3 ] && [ ! -s "$tmp/out" ] && grep -q "(truncated_gzip)$" "$tmp/err" &&
	 grep -q "^reconcile: nothing reconciled" "$tmp/err"'
# The same mid-file, after lines were read (a disk or a network mount failing): a shim
# makes read(2) fail with EIO once 100 KB of the file were read. Exit 3, not 1: the rest of
# the file is missing, which is no bad line.
cat >"$tmp/eio.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
static size_t total;
ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	if (!real)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	if (fd >= 3 && total >= 100000) {
		errno = EIO;
		return -1;
	}
	ssize_t r = real(fd, buf, n);
	if (fd >= 3 && r > 0)
		total += (size_t)r;
	return r;
}
EOF
if cc -shared -fPIC -o "$tmp/eio.so" "$tmp/eio.c" -ldl 2>"$tmp/err"; then
	for p in fetch-events normalize to-csv reconcile; do
		in=$tmp/raw.ndjson; [ $p = fetch-events ] && in=$tmp/events.ndjson
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$tmp/eio.so \
			"$BIN/$p" "$in" >"$tmp/out" 2>"$tmp/err"
		st=$?
		check "$p: an I/O error in the middle of a plain file is exit 3 with read_error (exit $st)" \
			'[ $st -eq 3 ] && grep -q "^$p: $in:[0-9]*: read error: Input/output error (read_error)$" "$tmp/err"'
	done
else
	notok "cc builds the read(2) shim: $(head -c 300 "$tmp/err")"
fi
# reconcile's sort dying mid-input (here: it cannot make its temporary files) is said, with
# its exit status, not left as a silent broken pipe.
TMPDIR=$tmp/no-such-dir "$BIN/reconcile" --sort-memory 1M "$tmp/raw.ndjson" /dev/null >/dev/null 2>"$tmp/err"
st=$?
check "reconcile: sort failing mid-input is exit 3 and said (exit $st)" \
	'[ $st -eq 3 ] && grep -q "^reconcile: sort failed (exit 2); is \$TMPDIR full?$" "$tmp/err"'
check "reconcile: sort's own words are said after reconcile's name, every line" \
	'grep -q "^reconcile: sort: .*no-such-dir" "$tmp/err" && ! grep -v "^reconcile: " "$tmp/err" | grep -q .'

# 4. Directory symlink loops: each real directory read once, no hang, exit 3 with a message.
mkdir -p "$tmp/loop/d/e"
cp "$small" "$tmp/loop/d/a.json"
cp "$tmp/in/c.json" "$tmp/loop/d/e/c.json"
ln -s . "$tmp/loop/d/self"
ln -s .. "$tmp/loop/d/e/up"
ln -s ../.. "$tmp/loop/d/e/upup"
ln -s ../e "$tmp/loop/d/e/again"
timeout 20 "$BIN/fetch-events" "$tmp/loop/d" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events over symlink loops ends (exit $st)" '[ $st -ne 124 ]'
check "fetch-events over symlink loops: exit 3" '[ $st -eq 3 ]'
check "fetch-events over symlink loops: each event once ($(wc -l <"$tmp/out") lines)" '[ "$(wc -l <"$tmp/out")" -eq 2 ]'
check "fetch-events over symlink loops: a message names a loop" 'grep -q "loop" "$tmp/err"'
# Other paths to what was read (current -> 2026-11, a dump linked into a second folder, a
# directory named beside its parent) are no loop: each event once, no word, exit 0.
mkdir -p "$tmp/alias/2026-11" "$tmp/alias/shared"
cp "$small" "$tmp/alias/2026-11/a.json"
cp "$tmp/in/c.json" "$tmp/alias/shared/c.json"
ln -s 2026-11 "$tmp/alias/current"
ln -s ../shared/c.json "$tmp/alias/2026-11/c.json"
"$BIN/fetch-events" "$tmp/alias" "$tmp/alias/2026-11" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events over symlinked folders and files: each event once, exit 0, quiet (exit $st, $(wc -l <"$tmp/out") lines)" \
	'[ $st -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
# A dump named twice, or named and in a directory named too: read once, the second naming
# said on stderr, exit 0; two pipes (<(zcat ...)) are two inputs, each read.
"$BIN/fetch-events" "$tmp/alias" "$tmp/alias/2026-11/a.json" "$tmp/alias/2026-11/a.json" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a dump named again is read once (exit $st, $(wc -l <"$tmp/out") lines)" \
	'[ $st -eq 0 ] && [ "$(grep -c "a.json.: read already in this run, skipped" "$tmp/err")" -eq 2 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
# stdin redirected from a dump named too, before or after it (audit-U 3)
"$BIN/fetch-events" "$tmp/alias/2026-11/a.json" - <"$tmp/alias/2026-11/a.json" >"$tmp/out" 2>"$tmp/err"
st=$?
"$BIN/fetch-events" - "$tmp/alias/2026-11/a.json" <"$tmp/alias/2026-11/a.json" >"$tmp/out2" 2>"$tmp/err2"
st2=$?
check "fetch-events: stdin from a dump named too is read once (exit $st $st2, $(wc -l <"$tmp/out") and $(wc -l <"$tmp/out2") lines)" \
	'[ $st -eq 0 ] && [ $st2 -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && [ "$(wc -l <"$tmp/out2")" -eq 1 ] &&
	 grep -q "standard input is a file read already" "$tmp/err" && grep -q "a.json.: read already in this run" "$tmp/err2"'
"$BIN/fetch-events" <(cat "$small") <(cat "$small") >"$tmp/out" 2>"$tmp/err"
check "fetch-events: two pipes of the same dump are two inputs ($(wc -l <"$tmp/out") lines)" \
	'[ "$(wc -l <"$tmp/out")" -eq 2 ] && [ ! -s "$tmp/err" ]'
# This run's own output and rejects file, in the walked directory, are not dumps: named,
# skipped, the exit status unchanged; a second run appending there reads only the dumps.
mkdir -p "$tmp/own"
cp "$small" "$tmp/own/a.json"
"$BIN/fetch-events" --rejects "$tmp/own/r.rejects" "$tmp/own" >"$tmp/own/out.ndjson" 2>"$tmp/err"
st=$?
"$BIN/fetch-events" --rejects "$tmp/own/r.rejects" "$tmp/own" >>"$tmp/own/out.ndjson" 2>>"$tmp/err"
st2=$?
check "fetch-events skips its own output and rejects in a walked directory (exit $st $st2, $(wc -l <"$tmp/own/out.ndjson") lines)" \
	'[ $st -eq 0 ] && [ $st2 -eq 0 ] && [ "$(wc -l <"$tmp/own/out.ndjson")" -eq 2 ] && [ ! -s "$tmp/own/r.rejects" ] &&
	[ "$(grep -c "own/out.ndjson.: this run.s own output or rejects file, skipped" "$tmp/err")" -eq 2 ] &&
	[ "$(grep -c "own/r.rejects.: this run.s own output or rejects file, skipped" "$tmp/err")" -eq 2 ]'

# 5. A huge line: rejected as line_too_long within --max-line's memory, the next line read.
{
	printf '{"id":"huge","pad":"'
	head -c $((40 << 20)) /dev/zero | tr '\0' a
	printf '"}\n'
	head -n 1 "$tmp/events.ndjson"
} >"$tmp/huge.ndjson"
rss() { sed -n 's/^rss=//p' "$tmp/time"; }
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" --max-line 64k "$tmp/huge.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events --max-line 64k on a 40 MB line: exit 1, line_too_long, the next line read" \
	'[ $st -eq 1 ] && grep -q ":1: line longer than 65536 bytes (line_too_long)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'
check "fetch-events --max-line 64k on a 40 MB line: peak RSS $(rss) KB < 16 MB" 'rss_below 16384'
{ sed -n 1p "$tmp/huge.ndjson"; cat "$tmp/one.ndjson"; } >"$tmp/huge2.ndjson"
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/normalize" --max-line 64k "$tmp/huge2.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize --max-line 64k on a 40 MB line: exit 1, line_too_long, the next line read" \
	'[ $st -eq 1 ] && grep -q ":1: line longer than 65536 bytes (line_too_long)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'
check "normalize --max-line 64k on a 40 MB line: peak RSS $(rss) KB < 16 MB" 'rss_below 16384'
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" "$tmp/huge.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events (default --max-line 16M) on a 40 MB line: exit 1, peak RSS $(rss) KB < 64 MB" \
	'[ $st -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && rss_below 65536'
# An element of a pretty-printed array that grows past --max-line over 4 million short lines:
# dropped as it streams by, its lines not held (not even as line ends), the event after it
# read at its own line.
{
	echo '['; echo '{"id":"evt_long","object":"event","pad":['
	yes '1,' | head -n 4000000; echo '1]},'; head -n 1 "$tmp/events.ndjson"; echo ']'
} >"$tmp/huge-element.json"
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" --max-line 64k "$tmp/huge-element.json" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events --max-line 64k on an array element of 4M lines: exit 1, rejected at line 2, the event after it read at line 4000004" \
	'[ $st -eq 1 ] && grep -q "huge-element.json:2: array element longer than 65536 bytes (line_too_long)" "$tmp/err" &&
	 ! grep -q "document longer" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q "huge-element.json:4000004\"" "$tmp/out"'
check "fetch-events --max-line 64k on an array element of 4M lines: peak RSS $(rss) KB < 16 MB" 'rss_below 16384'
# The same 40 MB as raw HTTP request bodies (Content-Length, one chunk, no length), each
# followed by a whole request: skipped as they stream by, never held.
one=$(head -n 1 "$tmp/events.ndjson")
whole() { printf 'POST /h HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s' "${#one}" "$one"; }
big=$((40 << 20))
{
	printf 'POST /h HTTP/1.1\r\nContent-Length: %d\r\n\r\n' $big; head -c $big /dev/zero | tr '\0' a; whole
	printf 'POST /h HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n' $big; head -c $big /dev/zero | tr '\0' a
	printf '\r\n0\r\n\r\n'; whole
	printf 'POST /h HTTP/1.1\r\n\r\n'; head -c $big /dev/zero | tr '\0' a; printf '\r\n'; whole
} >"$tmp/huge.http"
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" --max-line 64k "$tmp/huge.http" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events --max-line 64k on 40 MB request bodies: exit 1, three line_too_long, the three requests after them read" \
	'[ $st -eq 1 ] && [ "$(grep -c "(line_too_long)" "$tmp/err")" -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]'
check "fetch-events --max-line 64k on 40 MB request bodies: peak RSS $(rss) KB < 16 MB" 'rss_below 16384'

# 6. stdin or stdout closed: a message and exit 3, no crash.
"$BIN/fetch-events" <&- >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events with stdin closed: exit 3 and a message (exit $st)" '[ $st -eq 3 ] && grep -q "cannot open" "$tmp/err"'
"$BIN/normalize" <&- >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize with stdin closed: exit 3 and a message (exit $st)" '[ $st -eq 3 ] && grep -q "cannot open" "$tmp/err"'
"$BIN/fetch-events" "$small" >&- 2>"$tmp/err"
st=$?
check "fetch-events with stdout closed: exit 3 and a message (exit $st)" '[ $st -eq 3 ] && grep -q "write error" "$tmp/err"'
"$BIN/normalize" "$tmp/raw.ndjson" >&- 2>"$tmp/err"
st=$?
check "normalize with stdout closed: exit 3 and one message (exit $st)" \
	'[ $st -eq 3 ] && grep -q "write error" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 1 ]'
"$BIN/normalize" </dev/null >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize with empty stdin: exit 0, nothing written" '[ $st -eq 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]'
# A standard descriptor closed at start is not taken by the next file opened: the rejects
# file gets neither the data (stdout closed) nor the messages (stderr closed).
{ head -n 1 "$tmp/events.ndjson"; echo 'not json'; } >"$tmp/onebad-fetch.ndjson"
{ head -n 1 "$tmp/raw.ndjson"; echo 'not json'; } >"$tmp/onebad.ndjson"
for p in fetch-events normalize to-csv reconcile; do
	in=$tmp/onebad.ndjson
	[ $p = fetch-events ] && in=$tmp/onebad-fetch.ndjson
	rm -f "$tmp/rej"
	"$BIN/$p" --rejects "$tmp/rej" "$in" >/dev/null 2>&-
	st=$?
	check "$p 2>&- --rejects FILE: the rejects file holds only rejects (exit $st)" \
		'[ "$(wc -l <"$tmp/rej")" -eq 1 ] && grep -q "^{\"file\":.*\"code\":\"invalid_json\"" "$tmp/rej"'
	rm -f "$tmp/rej"
	"$BIN/$p" --rejects "$tmp/rej" "$in" >&- 2>/dev/null
	st=$?
	check "$p >&- --rejects FILE: exit 3, no data in the rejects file (exit $st)" \
		'[ $st -eq 3 ] && [ "$(wc -l <"$tmp/rej")" -eq 1 ] && grep -q "\"code\":\"invalid_json\"" "$tmp/rej"'
done
# A rejects file holds whole payload lines: made for its owner only, whatever the umask;
# one that is there keeps its mode.
for p in fetch-events normalize to-csv reconcile; do
	in=$tmp/onebad.ndjson
	[ $p = fetch-events ] && in=$tmp/onebad-fetch.ndjson
	rm -f "$tmp/rej"
	(umask 022; "$BIN/$p" --rejects "$tmp/rej" "$in" >/dev/null 2>&1)
	check "$p --rejects FILE under umask 022: FILE is made 0600 ($(stat -c %a "$tmp/rej"))" \
		'[ "$(stat -c %a "$tmp/rej")" = 600 ] && [ "$(wc -l <"$tmp/rej")" -eq 1 ]'
done
: >"$tmp/rej" && chmod 640 "$tmp/rej"
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/onebad.ndjson" >/dev/null 2>&1
check "a rejects FILE that is there keeps its mode ($(stat -c %a "$tmp/rej")), emptied first" \
	'[ "$(stat -c %a "$tmp/rej")" = 640 ] && [ "$(wc -l <"$tmp/rej")" -eq 1 ]'

# 7. A file name that is not UTF-8 (Latin-1 "café"): envelopes and rejects stay UTF-8 (the
# name's byte shows as \xe9), so normalize takes every envelope.
mkdir "$tmp/names"
cp "$small" "$tmp/names/$(printf 'caf\351.json')"
printf '{"oops"\n' >"$tmp/names/$(printf 'bad\351.ndjson')"
"$BIN/fetch-events" --rejects "$tmp/rejects" "$tmp/names" 2>"$tmp/err" | "$BIN/normalize" >"$tmp/out" 2>"$tmp/err2"
st=("${PIPESTATUS[@]}")
check "a Latin-1 file name: fetch-events exit 1 for the bad line, normalize takes the envelope (exit ${st[*]})" \
	'[ "${st[0]}" -eq 1 ] && [ "${st[1]}" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q "caf\\\\\\\\xe9.json:1" "$tmp/out"'
check "a Latin-1 file name: the rejects record is UTF-8 JSON naming the file" \
	'python3 -c "import json,sys; r=json.loads(open(sys.argv[1], encoding=\"utf-8\").read()); sys.exit(r[\"file\"].endswith(\"bad\\\\xe9.ndjson\") is False)" "$tmp/rejects"'

# 8. A file listed in a directory, then rotated away before its turn (a.ndjson.1 -> .gz while
# the run reads the directory; audit-cron 3): said, skipped, not an I/O failure; the next run
# reads its new name. A dangling symlink, there all along, stays one (exit 3).
mkdir "$tmp/rot"
for i in $(seq 20000); do printf '{"id":"evt_r%d","object":"event","type":"customer.created","created":1790000000,"data":{"object":{"id":"cus_1","object":"customer"}}}\n' "$i"; done >"$tmp/rot/0big.ndjson"
cp "$tmp/rot/0big.ndjson" "$tmp/rot/z.ndjson"
# the directory is listed before its first file is read: once a line is out, z can go
"$BIN/fetch-events" "$tmp/rot" 2>"$tmp/err" | { read -r _; rm "$tmp/rot/z.ndjson"; wc -l >"$tmp/out"; }
st=${PIPESTATUS[0]}
check "a file gone since its directory was read: exit $st, said, the other read ($(cat "$tmp/out") more lines)" \
	'[ $st -eq 0 ] && grep -q "z.ndjson.: gone since its directory was read (rotated or removed?), skipped$" "$tmp/err" &&
	 [ "$(cat "$tmp/out")" -eq 19999 ]'
ln -s "$tmp/nowhere.ndjson" "$tmp/rot/dangling.ndjson"
"$BIN/fetch-events" "$tmp/rot" >/dev/null 2>"$tmp/err"
st=$?
check "a dangling symlink in a directory: exit $st, said" '[ $st -eq 3 ] && grep -q "dangling.ndjson" "$tmp/err"'
# A file read, then removed while the run goes on (a rotation, a spool emptied), can leave its
# inode number to a new file the walk meets later: that one is another file, and read (audit-FD
# 1: it was taken for the one read, skipped without a word, exit 0). The FIFO holds the run
# between the two directories; ext4 hands the freed inode to the next file made.
mkdir -p "$tmp/ir/a" "$tmp/ir/b" && mkfifo "$tmp/ir/pipe"
ir_ev() { printf '{"id":"%s","object":"event","type":"invoice.paid","created":1794096060,"data":{"object":{"id":"in_1","object":"invoice"}}}\n' "$1"; }
ir_ev evt_ir_old >"$tmp/ir/a/old.ndjson"
"$BIN/fetch-events" "$tmp/ir/a" "$tmp/ir/pipe" "$tmp/ir/b" >"$tmp/ir/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/ir/out" ] && break; sleep 0.1; done
ino=$(stat -c %i "$tmp/ir/a/old.ndjson")
rm "$tmp/ir/a/old.ndjson"
ir_ev evt_ir_new >"$tmp/ir/b/new.ndjson"
reused=$([ "$(stat -c %i "$tmp/ir/b/new.ndjson")" = "$ino" ] && echo "its inode reused" || echo "another inode")
: >"$tmp/ir/pipe"
wait $pid
st=$?
check "a new file in a removed one's place is read ($reused; exit $st)" \
	'[ $st -eq 0 ] && grep -q evt_ir_old "$tmp/ir/out" && grep -q evt_ir_new "$tmp/ir/out"'
# A file's name that is not UTF-8 (Latin-1, from a Windows share): each such byte is said
# \xNN, in the source and the rejects' file as on stderr, so two names stay two (audit-FD 2:
# both were 'caf?.ndjson')
mkdir -p "$tmp/l1"
{ ir_ev evt_l1_e9; echo bad; } >"$tmp/l1/$(printf 'caf\xe9').ndjson"
{ ir_ev evt_l1_e8; echo bad; } >"$tmp/l1/$(printf 'caf\xe8').ndjson"
"$BIN/fetch-events" --rejects "$tmp/l1.rej" "$tmp/l1" >"$tmp/out" 2>"$tmp/err"
st=$?
check "names not UTF-8: each byte said \\xNN, in sources, rejects and stderr (exit $st)" \
	'[ $st -eq 1 ] && grep -q "evt_l1_e9.*\"source\":\"[^\"]*/l1/caf\\\\\\\\xe9.ndjson:1\"" "$tmp/out" &&
	 grep -q "evt_l1_e8.*\"source\":\"[^\"]*/l1/caf\\\\\\\\xe8.ndjson:1\"" "$tmp/out" &&
	 grep -q "\"file\":\"[^\"]*/l1/caf\\\\\\\\xe9.ndjson\",\"line\":2" "$tmp/l1.rej" &&
	 grep -q "/l1/caf\\\\xe8.ndjson:2: invalid JSON" "$tmp/err"'
# Directories are read down to 32 levels below the one named (the stack's bound); a deeper one
# is named, not read, exit 3 (audit-FD 3: the message guessed at a symlink loop)
p="$tmp/deep"; for i in $(seq 33); do p=$p/d$i; done; mkdir -p "$p"
ir_ev evt_deep32 >"${p%/d33}/a.ndjson"; ir_ev evt_deep33 >"$p/a.ndjson"
"$BIN/fetch-events" "$tmp/deep" >"$tmp/out" 2>"$tmp/err"
st=$?
check "32 levels down read, the 33rd named and not read (exit $st)" \
	'[ $st -eq 3 ] && grep -q evt_deep32 "$tmp/out" && ! grep -q evt_deep33 "$tmp/out" && grep -q "/d33.: nested more than 32 directories below the one named, not read$" "$tmp/err"'
# A first line cut between tokens ({"id":"evt_1",) makes fetch-events read ahead to tell a
# document from NDJSON; blank lines after it are not kept: 4 million of them (16 KB of gzip)
# took 258 MB (audit-MEM 1), now the memory of any run
{ echo '{"id":"evt_1","object":"event",'; yes '' | head -n 4000000; ir_ev evt_after_blanks; } | gzip -1 >"$tmp/blanks.gz"
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" "$tmp/blanks.gz" >"$tmp/out" 2>"$tmp/err"
st=$?
check "4 million blank lines after a cut first line: exit $st, the event after them at its line, peak RSS $(rss) KB < 16 MB" \
	'[ $st -eq 1 ] && grep -q "\"source\":\"[^\"]*blanks.gz:4000002\"" "$tmp/out" && rss_below 16384'
# and the messages that name a path themselves (a file named twice, one not found) say it so
"$BIN/fetch-events" "$tmp/l1/$(printf 'caf\xe9').ndjson" "$tmp/l1/$(printf 'caf\xe9').ndjson" >/dev/null 2>"$tmp/err"
"$BIN/normalize" "$tmp/l1/$(printf 'n\xe9').ndjson" >/dev/null 2>>"$tmp/err"
check "a path in a message: its bytes not UTF-8 said \\xNN" \
	'grep -q "/l1/caf\\\\xe9.ndjson.: read already in this run, skipped$" "$tmp/err" && grep -q "cannot open .[^ ]*/l1/n\\\\xe9.ndjson.: No such file" "$tmp/err"'

# 9. The tree json-c builds of a line costs far more than its bytes (8 MB of "1," took 590 MB,
# 300 KB of "{}" 80 MB): a line (or document, element, capture) whose tree would be over
# 1 000 000 units (about 50 MB: an object 16, a member 8 more, an array 3, another value 1)
# is refused before it is built, too_many_values; a payload over 999 000 (its envelope holds
# it and more, and the next program builds it whole). An array of events is built element by
# element: 4 000 events on one 15 MB line are read.
python3 - "$ROOT/fixtures/stripe/invoice.paid.json" "$tmp" <<'PY2'
import json, sys
e = json.load(open(sys.argv[1])); t = sys.argv[2]
with open(t + "/values.ndjson", "w") as f:
    f.write('{"a":[' + "1," * 4000000 + "1]}\n")
    f.write('{"a":[' + "{}," * 99999 + "{}]}\n")
    for n, i in ((110850, "evt_v1"), (110000, "evt_v2")):
        e["id"] = i; e["data"]["object"]["metadata"] = {"k%d" % k: k for k in range(n)}
        f.write(json.dumps(e) + "\n")
e["data"]["object"]["metadata"] = {}
with open(t + "/array.json", "w") as f:
    f.write(json.dumps([dict(e, id="evt_a%d" % k) for k in range(4000)]) + "\n")
with open(t + "/form.http", "w") as f:
    body = "&".join("f%d=1" % k for k in range(70000))
    f.write("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\n\r\n%s" % (len(body), body))
PY2
big="JSON too large to build in memory (its tree over 1000000 units: an object 16, a member 8 more, an array 3, any other value 1) (too_many_values)"
pay="JSON too large to build in memory (a payload: its tree over 999000 units, which its envelope holds and more) (too_many_values)"
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/fetch-events" "$tmp/values.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: 4M values and 100 000 objects refused, a payload over its limit refused, one under it read (exit $st: $(head -c 300 "$tmp/err"))" \
	'[ $st -eq 1 ] && grep -qF ":1: $big" "$tmp/err" && grep -qF ":2: $big" "$tmp/err" && grep -qF ":3: $pay" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q evt_v2 "$tmp/out"'
check "fetch-events on them: peak RSS $(rss) KB < 64 MB" 'rss_below 65536'
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/normalize" "$tmp/out" >/dev/null 2>"$tmp/err"
check "normalize reads the envelope of the payload under the limit (exit $?: $(head -c 200 "$tmp/err")), peak RSS $(rss) KB < 64 MB" \
	'[ ! -s "$tmp/err" ] && rss_below 65536'
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/normalize" --emit-raw --jobs 4 "$tmp/values.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize --emit-raw --jobs 4 of the payloads: the same three refused (exit $st), peak RSS $(rss) KB < 200 MB" \
	'[ $st -eq 1 ] && [ "$(grep -c "(too_many_values)$" "$tmp/err")" -eq 3 ] && [ "$(grep -c "\"record\":\"raw\"" "$tmp/out")" -eq 1 ] && rss_below 204800'
/usr/bin/time -f 'rss=%M' -o "$tmp/time" "$BIN/to-csv" "$tmp/values.ndjson" >/dev/null 2>"$tmp/err"
check "to-csv: the 4M-value and 100 000-object lines refused, too_many_values, peak RSS $(rss) KB < 64 MB" \
	'grep -qF ":1: $big" "$tmp/err" && grep -qF ":2: $big" "$tmp/err" && rss_below 65536'
"$BIN/fetch-events" "$tmp/array.json" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: an array of 4 000 events on one line is read whole (exit $st, $(wc -l <"$tmp/out") envelopes)" \
	'[ $st -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 4000 ]'
"$BIN/fetch-events" "$tmp/form.http" >/dev/null 2>"$tmp/err"
check "fetch-events: a captured form of 70 000 fields refused, too_many_values ($(head -c 200 "$tmp/err"))" \
	'grep -q ":1: captured form body holds more than 62437 fields (too_many_values)$" "$tmp/err"'

# 10. A file another compressor or archiver made is told by its first bytes and not read:
# one read_error naming the format, exit 3 (a file not read), where its bytes were rejected
# as NUL bytes and bad JSON, many a file, exit 1 as if the rest went through (audit-F2 2).
# A plain file whose text holds "ustar" at byte 257 is read.
printf '\x28\xb5\x2f\xfd\x24\x00\x01\x00zstd' >"$tmp/a.zst"
printf '\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46' >"$tmp/a.xz"
printf 'BZh91AY&SY\x00\x01' >"$tmp/a.bz2"
printf 'PK\x03\x04\x14\x00\x00\x00' >"$tmp/a.zip"
gzip -c "$small" | gzip -c >"$tmp/a.gz.gz"
(cd "$tmp" && cp "$small" e.json && tar cf a.tar e.json)
for f in a.zst a.xz a.bz2 a.zip a.gz.gz a.tar; do
	for p in fetch-events normalize to-csv reconcile; do
		"$BIN/$p" "$tmp/$f" >/dev/null 2>"$tmp/err"
		st=$?
		check "$p $f: exit 3, one read_error naming its format (exit $st: $(head -c 160 "$tmp/err"))" \
			'[ $st -eq 3 ] && grep -q "^$p: $tmp/$f:1: .*, not read (only plain text and gzip are): decompress it first (read_error)$" "$tmp/err" &&
			 [ "$(grep -c "(read_error)" "$tmp/err")" -eq 1 ]'
	done
done
python3 -c "import json,sys; t=json.dumps(json.load(open(sys.argv[1]))); l='{\"a\":\"'+'p'*251+'ustar  x\", '+t[1:]; assert l.index('ustar')==257; print(l)" \
	"$small" >"$tmp/ustar.ndjson"
"$BIN/fetch-events" "$tmp/ustar.ndjson" >"$tmp/out" 2>"$tmp/err"
check "a plain file holding ustar near byte 257 is read (exit $?)" '[ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 1 ]'

# One --rejects FILE given to two programs of a pipeline at once: the one that opens it
# second is refused (exit 2), where each emptied it and wrote over the other's records,
# one cut (audit-RJ 2). fetch-events holds it while it waits for its FIFO input.
mkfifo "$tmp/rj.fifo"
"$BIN/fetch-events" --rejects "$tmp/rj.rej" "$tmp/rj.fifo" >/dev/null 2>&1 &
fpid=$!
for _ in $(seq 1 250); do # its lock taken (/proc/locks names the file's inode)
	[ -e "$tmp/rj.rej" ] && grep -q ":$(stat -c %i "$tmp/rj.rej") " /proc/locks && break
	sleep 0.02
done
"$BIN/normalize" --rejects "$tmp/rj.rej" </dev/null >/dev/null 2>"$tmp/err"
st=$?
timeout 5 sh -c 'printf "bad\n" >"$1"' sh "$tmp/rj.fifo"
wait $fpid
check "normalize given the --rejects FILE fetch-events writes: usage error (exit $st), said; fetch-events' record kept" \
	'[ $st -eq 2 ] && grep -q "^normalize: --rejects: another program running writes it" "$tmp/err" &&
	[ "$(grep -c "\"code\":\"invalid_json\"" "$tmp/rj.rej")" -eq 1 ]'
"$BIN/to-csv" --rejects "$tmp/rj.rej" </dev/null >/dev/null 2>&1
check "once it has ended, the next program takes it: emptied (exit $?)" '[ ! -s "$tmp/rj.rej" ]'
# --rejects /dev/stdout on a terminal: the data's stream, refused as a file or a pipe is
# (audit-RJ 4: accepted, the records mixed into the CSV); /dev/null stays a place for both
script -qec "'$BIN/to-csv' --rejects /dev/stdout '$tmp/rj.fifo.none'" /dev/null >"$tmp/out" 2>&1
st=$?
check "to-csv --rejects /dev/stdout on a terminal: usage error (exit $st)" \
	'[ $st -eq 2 ] && grep -q "it is the standard output" "$tmp/out"'
script -qec "printf 'x\\n' | '$BIN/to-csv' --rejects /dev/stderr" /dev/null >"$tmp/out" 2>&1
st=$?
check "... /dev/stderr on that same terminal is taken (exit $st, the line rejected)" \
	'[ $st -eq 1 ] && grep -q "\"code\":\"invalid_json\"" "$tmp/out"'
echo '[1]' | "$BIN/to-csv" --rejects /dev/null >/dev/null 2>&1
check "to-csv --rejects /dev/null >/dev/null: taken (exit $?, the line rejected)" '[ $? -eq 1 ]'

# Out of memory under a limit (ulimit -v, systemd's LimitAS=): exit 3, said, or the whole
# output, at every limit. json-c made a string it could not copy a null and went on:
# normalize wrote a 12 MB customer name as null, to-csv a cell as "", exit 0, or called
# the line not_object, exit 1 (audit-LOC 1; src/lib/oom.c). Not on sanitizer builds:
# AddressSanitizer reserves terabytes of address space, and replaces malloc itself.
if [ $san -eq 1 ]; then
	ok "# SKIP out of memory under ulimit -v: sanitizer build"
else
	python3 -c "import json; print(json.dumps({'id': 'evt_FakeBig1', 'object': 'event', 'type': 'customer.created',
		'created': 1795185000, 'api_version': '2024-06-20', 'data': {'object': {'id': 'cus_FakeBig1',
		'object': 'customer', 'name': 'A' * (12 << 20), 'email': 'big@example.com'}}}))" >"$tmp/big.json"
	"$BIN/fetch-events" --received-at 2026-12-01T00:00:00Z "$tmp/big.json" >"$tmp/big.env"
	for c in "normalize --jobs 1 --emit-raw" "to-csv"; do
		"$BIN"/$c "$tmp/big.env" >"$tmp/big.good" 2>/dev/null
		wrong=""
		for kb in $(seq 20000 5000 140000); do
			(ulimit -v $kb && exec "$BIN"/$c "$tmp/big.env") >"$tmp/out" 2>"$tmp/err"
			st=$?
			if [ $st -eq 0 ] && cmp -s "$tmp/out" "$tmp/big.good"; then :
			elif [ $st -eq 3 ] && grep -q "^${c%% *}: out of memory: Cannot allocate memory$" "$tmp/err"; then :
			# the dynamic loader's own, before main: no output at all
			elif [ $st -eq 127 ] && [ ! -s "$tmp/out" ] && grep -q "error while loading shared libraries" "$tmp/err"; then :
			else wrong="$wrong $kb:$st:$(head -c 80 "$tmp/err")"
			fi
		done
		check "${c%% *} under ulimit -v 20000..140000 KB: the whole output, or out of memory, exit 3 (${wrong:-every limit})" '[ -z "$wrong" ]'
	done
	# and the memory comes from an allocator the user preloads (LD_PRELOAD of jemalloc,
	# tcmalloc, heaptrack), whose free takes it back: one that marks its blocks and aborts on
	# another's (taking glibc's own, the programs gave it glibc's: each died at its first
	# free, review R15 1)
	cat >"$tmp/tagalloc.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
#define TAG 0x5eedf00dcafef00dULL
void *malloc(size_t n) { uint64_t *p = __libc_malloc(n + 16); if (!p) return 0; p[0] = TAG; p[1] = n; return p + 2; }
void free(void *q) { if (!q) return; uint64_t *p = (uint64_t *)q - 2; if (p[0] != TAG) abort(); p[0] = 0; __libc_free(p); }
void *calloc(size_t a, size_t b) { if (b && a > SIZE_MAX / b) return 0; void *q = malloc(a * b); if (q) memset(q, 0, a * b); return q; }
void *realloc(void *q, size_t n)
{
	if (!q) return malloc(n);
	uint64_t *p = (uint64_t *)q - 2;
	if (p[0] != TAG) abort();
	if (!n) { free(q); return 0; }
	void *r = malloc(n);
	if (r) { memcpy(r, q, p[1] < n ? p[1] : n); free(q); }
	return r;
}
C
	if cc -shared -fPIC -O1 -o "$tmp/tagalloc.so" "$tmp/tagalloc.c" 2>"$tmp/err"; then
		wrong=""
		for c in "fetch-events --received-at 2026-12-01T00:00:00Z" "normalize --emit-raw" "to-csv" "reconcile"; do
			LD_PRELOAD=$tmp/tagalloc.so "$BIN"/$c "$tmp/raw.ndjson" >"$tmp/out.tag" 2>"$tmp/err.tag"
			st=$?
			"$BIN"/$c "$tmp/raw.ndjson" >"$tmp/out.plain" 2>/dev/null
			[ $st -lt 128 ] && cmp -s "$tmp/out.tag" "$tmp/out.plain" || wrong="$wrong ${c%% *}:$st"
		done
		check "every program under a preloaded allocator: its memory, its free, the same output (${wrong:-all})" '[ -z "$wrong" ]'
	else
		notok "a preloaded allocator for the test: cc failed: $(head -c 200 "$tmp/err")"
	fi
fi

# Progress on a terminal comes from a pipeline's last stage alone: every stage spoke, each
# over the other's line (audit-CLI). The input comes in two halves a second apart, so that
# progress is due (1024 events, half a second) whatever the machine's pace.
cat >"$tmp/progress.sh" <<'SH'
half() { yes '{"id":"evt_p","object":"event","type":"x.y","created":1,"data":{"object":{}}}' | head -n 2048; }
{ half; sleep 1; half; } | env -u RO_NO_PROGRESS "$1/fetch-events" --provider stripe | env -u RO_NO_PROGRESS "$1/normalize" >/dev/null
SH
script -qec "bash '$tmp/progress.sh' '$BIN'" /dev/null >"$tmp/out" 2>&1
check "fetch-events | normalize on a terminal: normalize's progress alone" \
	'grep -q "normalize: [0-9]* events" "$tmp/out" && ! grep -q "fetch-events: [0-9]* events" "$tmp/out"'
