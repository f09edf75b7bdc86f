#!/usr/bin/env bash
# The shell pipelines' own options: --help prints what the script does (exit 0) and does
# nothing else; an option or argument it does not take is a usage error (exit 2, said on
# stderr) before anything runs. "Anything" is watched: apt-get, make, dpkg-query, psql and
# the server tools are stubs on PATH that log their calls (and fail), the database is
# unreachable (PGHOST), and each run is in an empty directory that must stay empty.
set -u
. "$(dirname "$0")/../lib/tap.sh"
tmp=$(mktemp -d /tmp/ro-pipelines.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/stubs"
for c in apt-get apt dpkg-query make psql createdb initdb pg_ctl pg_config sudo runuser; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 1\n' "$c" "$tmp" >"$tmp/stubs/$c"
	chmod +x "$tmp/stubs/$c"
done

run() { # run SCRIPT ARGS...: in an empty directory, stubs first on PATH; sets st, out, err
	rm -rf "$tmp/cwd" "$tmp/calls"
	mkdir "$tmp/cwd"
	(cd "$tmp/cwd" && PATH=$tmp/stubs:$PATH PGHOST=/nonexistent RO_LOCK=$tmp/cwd/lock \
		RECONCILE_DIR=$tmp/cwd "$ROOT/pipelines/$1" "${@:2}" >"$tmp/out" 2>"$tmp/err")
	st=$?
	out=$(cat "$tmp/out") err=$(cat "$tmp/err")
}
nothing_ran() { [ ! -e "$tmp/calls" ] && [ -z "$(ls -A "$tmp/cwd")" ]; }
ran() { if [ -e "$tmp/calls" ]; then tr '\n' ';' <"$tmp/calls" | head -c 200; fi; ls -A "$tmp/cwd" | tr '\n' ' '; }

for s in setup demo ingest-dumps export reconcile; do
	run "$s" --help
	check "$s --help: exit 0 ($st), the usage and exit statuses on stdout, nothing on stderr" \
		'[ $st -eq 0 ] && grep -q "^\(usage: \)\{0,1\}\(pipelines/\)\{0,1\}$s" <<<"$out" && grep -q "Exit status" <<<"$out" && [ -z "$err" ]'
	check "$s --help: nothing else runs, no file ($(ran))" nothing_ran
	check "$s --help: names --version" 'grep -q -- "--version" <<<"$out"'
	run "$s" --version
	check "$s --version: exit 0 ($st), one line 'pipelines/$s (RevenueOS Pipelines) VERSION' ($out), nothing on stderr" \
		'[ $st -eq 0 ] && [ "$out" = "pipelines/$s (RevenueOS Pipelines) $(cat "$ROOT/VERSION")" ] && [ -z "$err" ]'
	check "$s --version: nothing else runs, no file ($(ran))" nothing_ran
	v=$out
	run "$s" -h
	check "$s -h: exit 0 ($st), the --help" '[ $st -eq 0 ] && grep -q "Exit status" <<<"$out" && [ -z "$err" ] && nothing_ran'
	run "$s" -V
	check "$s -V: exit 0 ($st), the --version" '[ $st -eq 0 ] && [ "$out" = "$v" ] && [ -z "$err" ] && nothing_ran'
	# output that cannot be written is a failure, exit 3, as for the programs (audit-U 5)
	# and said once, as ours (audit-INS 5: "cat: write error", twice for --help)
	for o in --help --version; do
		e=$(cd "$tmp" && PATH=$tmp/stubs:$PATH "$ROOT/pipelines/$s" $o 2>&1 >/dev/full)
		st=$?
		check "$s $o >/dev/full: exit 3 ($st), said once as $s's ($e)" \
			'[ $st -eq 3 ] && [ "$e" = "${s##*/}: cannot write to standard output" ]'
	done
	# a typo's value is not said: --dns=URI (for --dsn) may hold a password (audit-S2 2)
	run "$s" --dns=postgresql://u:PWLEAK@h/db
	check "$s --dns=URI: exit 2 ($st), said without the value ($(head -c 100 <<<"$err"))" \
		'[ $st -eq 2 ] && grep -q "^$s: unknown option '"'--dns=...'"'" <<<"$err" && ! grep -q PWLEAK <<<"$err" && nothing_ran'
	for bad in --no-such-option -x; do
		run "$s" "$bad"
		check "$s $bad: usage error (exit $st), said on stderr with the usage (usage: pipelines/$s), nothing on stdout" \
			'[ $st -eq 2 ] && grep -q "^$s: unknown option '"'$bad'"'" <<<"$err" && grep -q "^usage: pipelines/$s\( \|$\)" <<<"$err" && [ -z "$out" ]'
		check "$s $bad: nothing runs, no file ($(ran))" nothing_ran
	done
done

# run through a symlink (cron's, from /usr/local/bin), from another directory, as cron runs
# them (env -i, PATH=/usr/bin:/bin): each finds its programs beside the file the link names,
# and demo its setup (they looked beside the link: "fetch-events: command not found")
mkdir -p "$tmp/links" "$tmp/dumps"
for s in setup demo ingest-dumps export reconcile; do
	ln -sfn "$ROOT/pipelines/$s" "$tmp/links/$s"
done
link_run() { # link_run SCRIPT ARGS...: the symlink to SCRIPT as cron runs it; sets st, err
	rm -rf "$tmp/cwd" "$tmp/calls"
	mkdir "$tmp/cwd"
	(cd "$tmp/cwd" && env -i PATH="$tmp/stubs:/usr/bin:/bin" PGHOST=/nonexistent RO_LOCK="$tmp/cwd/lock" \
		RECONCILE_DIR="$tmp/cwd" "$tmp/links/$1" "${@:2}" >"$tmp/out" 2>"$tmp/err" </dev/null)
	st=$?
	err=$(cat "$tmp/err")
}
for s in setup demo ingest-dumps export reconcile; do
	link_run "$s" --version
	check "$s --version through a symlink: its version ($(cat "$tmp/out"))" \
		'[ $st -eq 0 ] && [ "$(cat "$tmp/out")" = "pipelines/$s (RevenueOS Pipelines) $(cat "$ROOT/VERSION")" ]'
done
for s in setup demo; do
	link_run "$s"
	check "$s through a symlink: runs the source tree's setup (exit $st; $(ran); $(head -c 120 <<<"$err"))" \
		'grep -q "^dpkg-query " "$tmp/calls" && ! grep -q "No such file\|run it from the source tree" <<<"$err"'
done
link_run ingest-dumps --project acme "$tmp/dumps"
check "ingest-dumps through a symlink: its stages run, load finds no database (exit $st; $(head -c 200 <<<"$err"))" \
	'[ $st -eq 3 ] && grep -q "^load: cannot connect" <<<"$err" && ! grep -q "command not found\|cannot find" <<<"$err"'
# the caller ignores SIGPIPE (systemd's IgnoreSIGPIPE=yes, a parent's trap '' PIPE): load
# failing, the stages before it are not said to have failed too (audit-LOC 2: their EPIPE
# was exit 3, "fetch-events exited 3", "normalize exited 3")
"$ROOT/tests/lib/gen-events" 4000 >"$tmp/big-dump.ndjson"
err=$( (trap '' PIPE; cd "$tmp" && PGHOST=/nonexistent RO_LOCK="$tmp/lock-pipe" \
	exec "$ROOT/pipelines/ingest-dumps" --project acme "$tmp/big-dump.ndjson") 2>&1 >/dev/null)
st=$?
check "ingest-dumps with SIGPIPE ignored, load failing: load said alone, exit 3 ($st; $(tr '\n' '|' <<<"$err" | head -c 300))" \
	'[ $st -eq 3 ] && grep -q "^ingest-dumps: load exited 3$" <<<"$err" && ! grep -q "fetch-events exited\|normalize exited" <<<"$err"'
# a descriptor limit too small to hold the NDJSON open (ulimit -n 8: bash keeps some of its
# own): said, exit 3, its part file not left behind (audit-LOC 3)
mkdir -p "$tmp/rd"
( for f in /proc/self/fd/*; do f=${f##*/}; [ "$f" -le 2 ] || eval "exec $f>&-" 2>/dev/null; done
  ulimit -n 8 && RECONCILE_DIR="$tmp/rd" PGHOST=/nonexistent exec "$ROOT/pipelines/reconcile" acme ) >/dev/null 2>"$tmp/err"
st=$?
check "pipelines/reconcile under ulimit -n 8: exit 3, said, no part file left ($st; $(ls "$tmp/rd"); $(head -c 120 "$tmp/err"))" \
	'[ $st -eq 3 ] && [ -s "$tmp/err" ] && [ -z "$(ls -A "$tmp/rd")" ]'
link_run reconcile acme
check "reconcile through a symlink: reconcile runs, finds no database (exit $st; $(head -c 200 <<<"$err"))" \
	'[ $st -eq 3 ] && grep -q "^reconcile: cannot connect" <<<"$err" && ! grep -q "command not found\|cannot find" <<<"$err"'
link_run export payments --project acme
check "export through a symlink: load and to-csv found, psql run (exit $st; $(ran); $(head -c 200 <<<"$err"))" \
	'[ $st -eq 3 ] && grep -q "^psql " "$tmp/calls" && ! grep -q "cannot run\|cannot find" <<<"$err"'
# a TMPDIR or RECONCILE_DIR whose name starts with '-' is a directory, not mktemp's option
# (audit-INS 3: "mktemp: invalid option", exit 3)
mkdir -p "$tmp/dash/-t"
err=$(cd "$tmp/dash" && TMPDIR=-t RECONCILE_DIR=-t PGHOST=/nonexistent RO_LOCK="$tmp/dash/lock" \
	"$ROOT/pipelines/ingest-dumps" --project acme "$tmp/dumps" 2>&1 >/dev/null)
check "ingest-dumps with TMPDIR=-t: its stages run, load finds no database ($(head -c 200 <<<"$err"))" \
	'grep -q "^load: cannot connect" <<<"$err" && ! grep -q "mktemp\|temporary" <<<"$err"'
err=$(cd "$tmp/dash" && TMPDIR=-t RECONCILE_DIR=-t PGHOST=/nonexistent "$ROOT/pipelines/reconcile" acme 2>&1 >/dev/null)
check "pipelines/reconcile with RECONCILE_DIR=-t: reconcile runs, finds no database ($(head -c 200 <<<"$err"))" \
	'grep -q "^reconcile: cannot connect" <<<"$err" && ! grep -q "mktemp\|cannot write" <<<"$err"'
# installed without its programs (PREFIX/bin empty, none on PATH): exit 3, the program
# named (ingest-dumps said a usage error, exit 2; reconcile exited 127)
mkdir -p "$tmp/inst/bin" "$tmp/inst/share/revenueos/pipelines"
cp "$ROOT/pipelines/ingest-dumps" "$ROOT/pipelines/export" "$ROOT/pipelines/reconcile" "$tmp/inst/share/revenueos/pipelines/"
cp -r "$ROOT/pipelines/lib" "$tmp/inst/share/revenueos/pipelines/"
for s in ingest-dumps export reconcile; do
	ln -sfn "$tmp/inst/share/revenueos/pipelines/$s" "$tmp/links/$s"
done
for a in "ingest-dumps fetch-events --project acme $tmp/dumps" "export to-csv payments --project acme" "reconcile reconcile acme"; do
	set -- $a
	s=$1 prog=$2
	link_run "$s" "${@:3}"
	check "$s without its programs: exit 3 ($st), said ($(head -c 200 <<<"$err")), no file ($(ran))" \
		'[ $st -eq 3 ] && grep -q "^$s: cannot find '"'$prog'"'" <<<"$err" && [ "$(wc -l <<<"$err")" -eq 1 ] && nothing_ran'
done
# installed with a program that cannot be run (its mode lost in a copy): exit 3 before
# anything runs, named (ingest-dumps ran fetch-events and load, and load logged a run:
# audit-INS 1)
for a in "ingest-dumps normalize --project acme $tmp/dumps" "export load payments --project acme" "reconcile to-csv acme"; do
	set -- $a
	s=$1 prog=$2
	for p in fetch-events normalize load to-csv reconcile; do cp "$BIN/$p" "$tmp/inst/bin/"; done
	chmod -x "$tmp/inst/bin/$prog"
	link_run "$s" "${@:3}"
	check "$s with a $prog that cannot be run: exit 3 ($st), said ($(head -c 200 <<<"$err")), no file ($(ran))" \
		'[ $st -eq 3 ] && grep -q "^$s: cannot find '"'$prog'"', or cannot run it" <<<"$err" && [ "$(wc -l <<<"$err")" -eq 1 ] && nothing_ran'
	rm -f "$tmp/inst/bin/"*
done
# installed under a directory with a ':', which PATH cannot hold: said, not "cannot find"
# a program that is there (audit-INS 3)
mkdir -p "$tmp/c:d/bin" "$tmp/c:d/pipelines"
cp "$ROOT/pipelines/ingest-dumps" "$tmp/c:d/pipelines/"
cp -r "$ROOT/pipelines/lib" "$tmp/c:d/pipelines/"
cp "$BIN/fetch-events" "$BIN/normalize" "$BIN/load" "$tmp/c:d/bin/"
ln -sfn "$tmp/c:d/pipelines/ingest-dumps" "$tmp/links/ingest-dumps"
link_run ingest-dumps --project acme "$tmp/dumps"
check "ingest-dumps installed under a ':': exit 3 ($st), said ($(head -c 200 <<<"$err")), no file ($(ran))" \
	'[ $st -eq 3 ] && grep -q "^ingest-dumps: the programs. directory .*c:d/bin. holds a .:." <<<"$err" && nothing_ran'
link_run ingest-dumps --version
check "and its --version answers still (exit $st; $(cat "$tmp/out"))" '[ $st -eq 0 ] && grep -q "^pipelines/ingest-dumps " "$tmp/out"'
# a reconcile found that cannot be run (its interpreter gone): exit 3, said (it was 127)
printf '#!/nonexistent/sh\n' >"$tmp/inst/bin/reconcile"
chmod +x "$tmp/inst/bin/reconcile"
ln -sfn "$BIN/to-csv" "$tmp/inst/bin/to-csv"
ln -sfn "$BIN/load" "$tmp/inst/bin/load"
link_run reconcile acme
check "reconcile that cannot be run: exit 3 ($st), said ($(tail -n 1 <<<"$err")), no NDJSON left ($(ran))" \
	'[ $st -eq 3 ] && grep -q "^reconcile: cannot run '"'reconcile'"'" <<<"$err" && nothing_ran'
# a reconcile killed by a signal (the OOM killer's KILL): exit 3, said once, by the script
# (it exited 137, and bash said "line 169: 1234 Killed   reconcile --db ..." beside it)
printf '#!/bin/sh\nkill -KILL $$\n' >"$tmp/inst/bin/reconcile"
link_run reconcile acme
check "reconcile killed: exit 3 ($st), said by the script alone ($(tr '\n' ' ' <<<"$err")), no NDJSON left ($(ran))" \
	'[ $st -eq 3 ] && [ "$err" = "reconcile: '"'reconcile'"' was killed by signal 9 (exit 137)" ] && nothing_ran'
# a script copied without the lib/ it sources (not by make install): said, exit 3, even for
# --help (bash's own 'No such file or directory' and exit 1 under set -e)
mkdir -p "$tmp/nolib"
for s in ingest-dumps export reconcile; do
	cp "$ROOT/pipelines/$s" "$tmp/nolib/"
	ln -sfn "$tmp/nolib/$s" "$tmp/links/$s"
	link_run "$s" --help
	check "$s copied without lib/: exit 3 ($st), said ($(head -c 200 <<<"$err"))" \
		'[ $st -eq 3 ] && [ "$err" = "$s: cannot read $tmp/nolib/lib/common.sh: install the pipelines with '"'make install'"'" ]'
done
for s in ingest-dumps export reconcile; do
	ln -sfn "$ROOT/pipelines/$s" "$tmp/links/$s"
done

# no temporary file can be made (TMPDIR gone): exit 3, said as the script's, nothing left
# behind (audit-P 4: export exited 1, reconcile left an empty result file)
for s in export reconcile; do
	rm -rf "$tmp/cwd"; mkdir "$tmp/cwd"
	(cd "$tmp/cwd" && PATH=$tmp/stubs:$PATH PGHOST=/nonexistent TMPDIR=$tmp/no-such-dir RECONCILE_DIR=$tmp/cwd \
		"$ROOT/pipelines/$s" $([ $s = export ] && echo payments) --project acme >"$tmp/out" 2>"$tmp/err")
	st=$?
	check "$s with TMPDIR gone: exit 3 ($st), said ($(head -c 200 "$tmp/err")), no file left" \
		'[ $st -eq 3 ] && grep -q "^$s: cannot make a temporary" "$tmp/err" && [ -z "$(ls -A "$tmp/cwd")" ]'
done

: >"$tmp/dump.ndjson"
run ingest-dumps "$tmp/dump.ndjson" --dsn=postgresql://u:PWLEAK@h/db
check "ingest-dumps DUMP --dsn=URI: exit 2 ($st), the option after the dumps said without its value" \
	'[ $st -eq 2 ] && grep -q "^ingest-dumps: '"'--dsn=...'"': no such file" <<<"$err" && ! grep -q PWLEAK <<<"$err"'

# two runs (of two projects: each its own lock) given one --rejects-dir: the second does
# not start, as each removes the rejects files it will write (audit-P 3: one run's rejected
# lines lost, the other's counted twice)
mkdir -m 700 "$tmp/rej-held"
flock "$tmp/rej-held/.lock" sleep 5 &
holder=$!
sleep 0.5
run ingest-dumps --project other --rejects-dir "$tmp/rej-held" "$tmp/dump.ndjson"
check "ingest-dumps with a --rejects-dir another run writes in: exit 75 ($st), said, nothing run ($(ran))" \
	'[ $st -eq 75 ] && grep -q "^ingest-dumps: another run writes its rejects in --rejects-dir" <<<"$err" && [ ! -e "$tmp/calls" ]'
kill $holder 2>/dev/null; wait $holder 2>/dev/null

# setup and demo take no argument at all: a word is not "go ahead"
for s in setup demo; do
	run "$s" install
	check "$s install: usage error (exit $st), said on stderr" '[ $st -eq 2 ] && grep -q "^$s: unexpected argument '"'install'"'" <<<"$err"'
	check "$s install: nothing runs ($(ran))" nothing_ran
done

# demo's one option may be given twice, as the programs' flags may
run demo --pg-env --pg-env --help
check "demo --pg-env --pg-env --help: the help (exit $st), nothing runs" \
	'[ $st -eq 0 ] && grep -q "^usage: pipelines/demo" <<<"$out" && [ -z "$err" ]'

# ingest-dumps: what it passes to load is judged before the lock, a dump read or a run
# recorded; its options take --opt=value as the programs' do, and go before the dumps
mkdir -p "$tmp/dumps"
for o in "--jobs 0" "--max-line 1Q"; do
	run ingest-dumps --project acme $o "$tmp/dumps"
	check "ingest-dumps $o: usage error (exit $st), said as ingest-dumps' ($(head -n 1 <<<"$err")), nothing runs ($(ran))" \
		'[ $st -eq 2 ] && grep -q "^ingest-dumps: ${o% *}" <<<"$err" && grep -q "^usage: pipelines/ingest-dumps" <<<"$err" && nothing_ran'
done
# no dump named: a usage error, where it would read stdin and record a run (mutation audit MP)
run ingest-dumps --project acme </dev/null
check "ingest-dumps without a dump: usage error (exit $st), said ($(head -n 1 <<<"$err")), nothing runs ($(ran))" \
	'[ $st -eq 2 ] && grep -q "^ingest-dumps: no dump files or directories given" <<<"$err" && nothing_ran'
run ingest-dumps --project acme --batch 0 "$tmp/dumps"
check "ingest-dumps --batch 0: usage error (exit $st), said as ingest-dumps' with its usage" \
	'[ $st -eq 2 ] && grep -q "^ingest-dumps: --batch: .0. is not a size" <<<"$err" && grep -q "^usage: pipelines/ingest-dumps" <<<"$err" && ! grep -q "^usage: load" <<<"$err"'
check "ingest-dumps --batch 0: nothing runs, no lock ($(ran))" nothing_ran
for p in "" $'a\tb'; do
	run ingest-dumps --project "$p" "$tmp/dumps"
	check "ingest-dumps --project '$p': usage error (exit $st), fetch-events' reason as ingest-dumps'" \
		'[ $st -eq 2 ] && grep -q "^ingest-dumps: --project " <<<"$err" && grep -q "^usage: pipelines/ingest-dumps" <<<"$err"'
	check "ingest-dumps --project '$p': nothing runs, no lock ($(ran))" nothing_ran
done
run ingest-dumps --project acme --rejects-dir "$tmp/dumps/rejects" "$tmp/dumps"
check "ingest-dumps --rejects-dir inside a dump directory: usage error (exit $st)" \
	'[ $st -eq 2 ] && grep -q "is inside the dump directory" <<<"$err"'
check "ingest-dumps --rejects-dir inside a dump directory: the directory not made ($(ran))" \
	'nothing_ran && [ -z "$(ls -A "$tmp/dumps")" ]'
# a rejects file given as a dump, to replay it: refused, before anything runs (it was emptied
# first, the run clean: audit-RJ 1)
mkdir -p "$tmp/rj"
echo '{"file":"d","line":1}' >"$tmp/rj/normalize.rejects"
run ingest-dumps --project acme --rejects-dir "$tmp/rj" "$tmp/dumps" "$tmp/rj/normalize.rejects"
check "ingest-dumps given its --rejects-dir's normalize.rejects as a dump: usage error (exit $st), said" \
	'[ $st -eq 2 ] && grep -q "is --rejects-dir.s normalize.rejects, which a run empties first" <<<"$err"'
check "... nothing runs, the file kept ($(ran))" 'nothing_ran && [ -s "$tmp/rj/normalize.rejects" ]'
# the guard that stops the stages after a SIGKILL holds none of the caller's descriptors:
# a flock(1) lock around a run was held a second after it (review R13 1)
(cd "$tmp/cwd" && PATH=$tmp/stubs:$PATH PGHOST=/nonexistent RO_LOCK=$tmp/cwd/lock \
	flock -n -E 99 "$tmp/fl.lock" "$ROOT/pipelines/ingest-dumps" --project acme --quiet "$tmp/dumps" >/dev/null 2>&1)
flock -n -E 99 "$tmp/fl.lock" true
st=$?
check "a flock(1) around ingest-dumps is free as soon as it ends (exit $st)" '[ $st -eq 0 ]'
# an empty name (an unset variable: --plans "$PLANS") is refused, not read as no option
# (--batch '' was: load --batch '' is a usage error)
for o in --plans --plans= --rejects-dir --rejects-dir= --batch --batch= --jobs --jobs= --max-line --max-line=; do
	if [ "${o%=}" = "$o" ]; then run ingest-dumps "$o" "" "$tmp/dumps"; else run ingest-dumps "$o" "$tmp/dumps"; fi
	check "ingest-dumps $o '': usage error (exit $st), said" \
		'[ $st -eq 2 ] && grep -q "^ingest-dumps: ${o%=}: an empty \(file name\|directory name\|N\|SIZE\)$" <<<"$err"'
	check "ingest-dumps $o '': nothing runs ($(ran))" nothing_ran
done
# RO_LOCK a symlink (another user's, planted by that name) is not followed: the file it
# names is not created; a --rejects-dir others may write, or another user's, is refused
# before a stage writes in it (audit-security 1, 3)
rm -f "$tmp/lock-target"; ln -sfn "$tmp/lock-target" "$tmp/lock-link"
(cd "$tmp" && PATH=$tmp/stubs:$PATH PGHOST=/nonexistent RO_LOCK=$tmp/lock-link \
	"$ROOT/pipelines/ingest-dumps" --project acme "$tmp/dumps" >/dev/null 2>"$tmp/err"); st=$?
check "ingest-dumps, RO_LOCK a symlink: exit 3 ($st), said, the file it names not made" \
	'[ $st -eq 3 ] && grep -q "is a symlink: not followed" "$tmp/err" && [ ! -e "$tmp/lock-target" ]'
mkdir -p "$tmp/shared-rej" && chmod 777 "$tmp/shared-rej"
run ingest-dumps --project acme --rejects-dir "$tmp/shared-rej" "$tmp/dumps"
check "ingest-dumps --rejects-dir others may write: exit 3 ($st), said, nothing written in it" \
	'[ $st -eq 3 ] && grep -q "is not a directory this user owns and alone writes" <<<"$err" && [ -z "$(ls -A "$tmp/shared-rej")" ]'
run ingest-dumps "$tmp/dumps" --project acme
check "ingest-dumps DIR --project: usage error (exit $st), options go before the dumps" \
	'[ $st -eq 2 ] && grep -q "^ingest-dumps: '"'--project'"': no such file or directory (options go before the dumps)" <<<"$err"'
check "ingest-dumps DIR --project: nothing runs ($(ran))" nothing_ran
run ingest-dumps --project acme -
check "ingest-dumps -: usage error (exit $st), saying that stdin is /dev/stdin here (audit-CLI 4)" \
	'[ $st -eq 2 ] && grep -q "^ingest-dumps: '"'-'"': no such file (dumps are files and directories; for stdin, give /dev/stdin)" <<<"$err"'
umask 022
run ingest-dumps --project=acme --batch=10k --rejects-dir="$tmp/rej" --plans="$ROOT/fixtures/plans.tsv" "$tmp/dumps"
check "ingest-dumps --opt=value: taken (exit $st: the database is unreachable, 3)" \
	'[ $st -eq 3 ] && ! grep -q "unknown option" <<<"$err" && [ -d "$tmp/rej" ]'
# the rejects hold whole payload lines: the directory it makes and the files are the owner's only
check "ingest-dumps --rejects-dir under umask 022: the directory made 0700, its rejects files 0600 ($(stat -c '%n %a' "$tmp/rej" "$tmp/rej"/* | tr '\n' ' '))" \
	'[ "$(stat -c %a "$tmp/rej")" = 700 ] && [ -e "$tmp/rej/fetch-events.rejects" ] && [ -z "$(find "$tmp/rej" -type f ! -perm 600)" ]'
rm -rf "$tmp/rej"

# export: what is required is said as missing before psql is run (MUT-P E01: without
# --project, export asked the database for project '')
for a in "payments" "customers -o x.csv" "--project acme"; do
	# shellcheck disable=SC2086 # the arguments are words
	run export $a
	check "export $a: usage error (exit $st), what is missing said ($(head -n 1 <<<"$err"))" \
		'[ $st -eq 2 ] && grep -qx "export: \(--project is required\|what to export: customers or payments\)" <<<"$err"'
	check "export $a: psql not run, no file ($(ran))" nothing_ran
done
# export: an option value to-csv refuses is a usage error before psql is run
for d in "--delimiter=;;" "--delimiter=a" "--delimiter="; do
	run export payments --project acme "$d" -o x.csv
	check "export $d: usage error (exit $st), said as export's" '[ $st -eq 2 ] && grep -q "^export: --delimiter: " <<<"$err"'
	check "export $d: psql not run, no file ($(ran))" nothing_ran
done

# export runs the to-csv next to it, not one a $BIN of the caller's environment names (audit-P 5)
mkdir -p "$tmp/otherbin"
printf '#!/bin/sh\necho "to-csv: --delimiter: FAKE" >&2\nexit 2\n' >"$tmp/otherbin/to-csv"
chmod +x "$tmp/otherbin/to-csv"
BIN=$tmp/otherbin run export payments --project acme "--delimiter=;" -o x.csv
check "export under BIN=another directory: its own to-csv (exit $st: the database is unreachable)" \
	'[ $st -ne 2 ] && ! grep -q FAKE <<<"$err"'

# export --since/--until: a date or an RFC 3339 time, not a word PostgreSQL reads too (the
# audit row keeps the text, which must name the window), said before psql runs
for t in yesterday now infinity "Nov 20 2026" "2026-11-01T10:00:00,5Z"; do
	run export payments --project acme --since "$t" -o x.csv
	check "export --since '$t': usage error (exit $st), said" '[ $st -eq 2 ] && grep -q "^export: '"'$t'"' is not a time" <<<"$err"'
	check "export --since '$t': psql not run, no file ($(ran))" nothing_ran
done

# export --since '' (an unset variable: --since "$SINCE"): a usage error, as for reconcile
# and fetch-events, not the whole history exported; --actor '': not the login name in the
# audit row instead of who asked
for o in --since --since= --until --until= --actor --actor=; do
	if [ "${o%=}" = "$o" ]; then run export payments --project acme "$o" "" -o x.csv; else run export payments --project acme "$o" -o x.csv; fi
	check "export $o '': usage error (exit $st), said ($(head -n 1 <<<"$err"))" \
		'[ $st -eq 2 ] && grep -q "^export: ${o%=}: an empty \(TIME\|NAME\)$" <<<"$err"'
	check "export $o '': psql not run, no file ($(ran))" nothing_ran
done

# export -o '': not a file name; stdout is '-' (or no -o)
for o in "-o=" "--output="; do
	if [ "$o" = "-o=" ]; then run export payments --project acme -o ""; else run export payments --project acme --output=; fi
	check "export ${o%=} '': usage error (exit $st), said on stderr, nothing on stdout" \
		'[ $st -eq 2 ] && grep -q "^export: -o needs a FILE name" <<<"$err" && [ -z "$out" ]'
	check "export ${o%=} '': psql not run, no file ($(ran))" nothing_ran
done

# ingest-dumps' exit status from its stages' (docs: the worst of them, a signal's as 3):
# stages that are stubs, told what to do by $tmp/mode (link_run clears the environment),
# installed as the programs are (MUT-P B06, B08, B12: none reproduced with the real ones)
mkdir -p "$tmp/stg/bin" "$tmp/stg/share/revenueos/pipelines"
cp "$ROOT/pipelines/ingest-dumps" "$tmp/stg/share/revenueos/pipelines/"
cp -r "$ROOT/pipelines/lib" "$tmp/stg/share/revenueos/pipelines/"
ln -sfn "$tmp/stg/share/revenueos/pipelines/ingest-dumps" "$tmp/links/ingest-dumps"
for p in fetch-events normalize load; do
	cat >"$tmp/stg/bin/$p" <<EOF
#!/bin/bash
# a stage that does what $tmp/mode says for it: "$p=N" exits N, "$p=lost" ends the shell
# that would have written its status, "$p=killed" is killed (the OOM killer's SIGKILL);
# "load-note=N" is load --note-run's
case "\$*" in *--version* | *--help*) echo "$p (stub)"; exit 0 ;; esac
n=$p; case "\$*" in *--note-run*) n=load-note ;; esac
if [ \$n = load-note ]; then cat >"$tmp/note"; else cat >/dev/null; fi
m=\$(sed -n "s/^\$n=//p" "$tmp/mode")
[ "\$m" = lost ] && { kill -KILL \$PPID; exit 0; }
[ "\$m" = killed ] && kill -KILL \$\$
exit "\${m:-0}"
EOF
	chmod +x "$tmp/stg/bin/$p"
done
# each case: the stages' modes | the exit | the line said | the note's exit_status and stages
for c in "fetch-events=0 normalize=0 load=0 load-note=0|0||0|0,0,0" \
	"fetch-events=0 normalize=1 load=0 load-note=0|1|normalize exited 1|1|0,1,0" \
	"fetch-events=141 normalize=1 load=0 load-note=0|1|normalize exited 1|1|141,1,0" \
	"fetch-events=141 normalize=0 load=0 load-note=0|3|fetch-events exited 141|3|141,0,0" \
	"fetch-events=0 normalize=0 load=lost load-note=0|3|load exited 3|3|0,0,3" \
	"fetch-events=0 normalize=0 load=killed load-note=0|3|load exited 137|3|0,0,137" \
	"fetch-events=killed normalize=0 load=0 load-note=0|3|fetch-events exited 137|3|137,0,0" \
	"fetch-events=0 normalize=0 load=0 load-note=3|3|the run could not be recorded in pipeline_runs|0|0,0,0" \
	"fetch-events=0 normalize=1 load=0 load-note=3|3|the run could not be recorded in pipeline_runs|1|0,1,0"; do
	IFS='|' read -r mode want said note_st stages <<<"$c"
	tr ' ' '\n' <<<"$mode" >"$tmp/mode"
	rm -f "$tmp/note"
	link_run ingest-dumps --project acme "$tmp/dumps"
	check "ingest-dumps, stages $mode: exit $want ($st)${said:+, said '$said'} ($(tr '\n' ' ' <<<"$err" | head -c 200))" \
		'[ $st -eq $want ] && if [ -n "$said" ]; then grep -qx "ingest-dumps: $said" <<<"$err"; else [ -z "$err" ]; fi'
	# and nothing else (the shell's own "line 326: 1234 Killed   load ${load_args...}" was)
	case $mode in
	*lost*) ;; # (bash's job report "Done" of the shell killed: no stage's)
	*) check "and nothing else on stderr" '[ -z "$err" ] || ! grep -qv "^ingest-dumps: " <<<"$err"' ;;
	esac
	got=$(python3 -c 'import json, sys; n = json.load(open(sys.argv[1])); s = n["detail"]["stages"]
print(n["exit_status"], ",".join(str(s[p]["exit_status"]) for p in ("fetch-events", "normalize", "load")))' "$tmp/note" 2>&1)
	check "and the run noted with exit_status $note_st, its stages' $stages ($got)" '[ "$got" = "$note_st $stages" ]'
	case $mode in
	*141*normalize=1*) check "and the fetch-events ended by SIGPIPE behind it is not said" '! grep -q "fetch-events exited" <<<"$err"' ;;
	esac
done

# stderr closed, stdout too or not: the run is made and noted, exit 0 (with both closed,
# each stage's redirection of stderr failed on the closed descriptor: none ran, exit 1).
# Eight runs each: export's and reconcile's check of stderr, which ingest-dumps now
# shares, failed one run in four or three on a loaded machine
printf '%s\n' fetch-events=0 normalize=0 load=0 load-note=0 >"$tmp/mode"
for closed in '2>&-' '>&- 2>&-'; do
	got=""
	for i in 1 2 3 4 5 6 7 8; do
		rm -f "$tmp/note"
		(cd "$tmp/cwd" && eval 'env -i PATH="$tmp/stubs:/usr/bin:/bin" PGHOST=/nonexistent RO_LOCK="$tmp/cwd/lock" \
			"$tmp/links/ingest-dumps" --project acme "$tmp/dumps" </dev/null' "$closed")
		got="$got $?:$(tr -d ' \n' <"$tmp/note" 2>/dev/null | grep -c '"exit_status":0,"rejected":0,"detail"')"
	done
	check "ingest-dumps $closed, eight runs: each exit 0, the run noted ok (exit:noted$got)" \
		'[ "$got" = "$(printf " 0:1%.0s" 1 2 3 4 5 6 7 8)" ]'
done

# tests/all, the same: it runs setup (apt-get as root) and the whole suite otherwise
for a in --help --no-such-option run; do
	rm -rf "$tmp/cwd" "$tmp/calls" && mkdir "$tmp/cwd"
	(cd "$tmp/cwd" && PATH=$tmp/stubs:$PATH "$ROOT/tests/all" "$a" >"$tmp/out" 2>"$tmp/err")
	st=$?
	want=2 && [ "$a" = --help ] && want=0
	check "tests/all $a: exit $st (want $want), nothing runs ($(ran))" \
		'[ $st -eq $want ] && nothing_ran && grep -q "^usage: tests/all" "$tmp/$([ $want = 0 ] && echo out || echo err)"'
done

echo "1..$n"
