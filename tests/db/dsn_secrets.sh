#!/usr/bin/env bash
# A password given to the pipelines with --dsn (or RO_DSN) reaches no command line they
# start (`ps`, /proc/PID/cmdline: anybody's to read) and no message; libpq itself reads the
# string (load --split-dsn), so a DSN that connected still connects (the trust cluster
# takes any password). The scripts' own command lines are the user's: RO_DSN keeps it out.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures
pw=Pw$$xq7Z

# holders PID: the processes whose command line holds $pw, but PID (the script, given it
# by the test) and its forks (subshells, with its command line), one a line (matched by
# bash itself: a grep would hold it in its own)
# (builtins only: quick, so that the processes are still there)
cmdline() { # cmdline PID: its command line, NULs as blanks
	local a=()
	{ mapfile -d '' a <"/proc/$1/cmdline"; } 2>/dev/null || return 1
	printf '%s' "${a[*]}"
}
holders() {
	local d c own
	own=$(cmdline "$1")
	for d in /proc/[0-9]*; do
		c=$(cmdline "${d#/proc/}") || continue
		[ "$c" != "$own" ] && [[ $c == *"$pw"* ]] && echo "${d#/proc/}: $c"
	done
	return 0
}
# env_holders NAME: the processes named NAME whose environment has PGPASSWORD=$pw
env_holders() {
	local d c a v
	for d in /proc/[0-9]*; do
		{ read -r c <"$d/comm"; } 2>/dev/null && [ "$c" = "$1" ] || continue
		a=()
		{ mapfile -d '' a <"$d/environ"; } 2>/dev/null
		for v in "${a[@]}"; do
			[ "$v" = "PGPASSWORD=$pw" ] && echo "${d#/proc/}"
		done
	done
	return 0
}
# wait_backend DB APP T0 [WHERE]: until a connection of APP, started after T0, is in DB
# (and WHERE holds of it: e.g. it waits on a lock)
wait_backend() {
	for _ in $(seq 1 400); do
		[ "$(q "$1" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'
			AND application_name = '$2' AND backend_start > '$3' AND ${4:-true}")" -gt 0 ] && return 0
		sleep 0.02
	done
	return 1
}
# lock_for DB TABLE SECONDS: hold an exclusive lock on TABLE (in the background) until
# SECONDS have passed; returns once it is held
lock_for() {
	PGAPPNAME=locker psql -X -q -d "$1" -c "BEGIN; LOCK $2 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($3); COMMIT;" >/dev/null &
	for _ in $(seq 1 400); do
		[ "$(q "$1" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			WHERE a.application_name = 'locker' AND l.relation = '$2'::regclass AND l.granted")" -gt 0 ] && return 0
		sleep 0.02
	done
	return 1
}

db=$(newdb dsnsec)
uri="postgresql://postgres:$pw@/$db?host=$PGHOST"

# ingest-dumps: load, which reads a FIFO dump's lines, is connected and waiting meanwhile
mkfifo "$T/dump.ndjson"
t0=$(q "$db" "SELECT clock_timestamp()")
"$ROOT/pipelines/ingest-dumps" --project acme --dsn "$uri" "$T/dump.ndjson" 2>"$T/ing.err" &
ing=$!
wait_backend "$db" load "$t0"
holders $ing >"$T/holders"
zcat "$fx/dumps/2026-11/stripe-2026-11-05.ndjson.gz" >"$T/dump.ndjson"
wait $ing
st=$?
check "ingest-dumps --dsn with a password: no command line it starts holds it ($(cat "$T/holders"))" \
	test ! -s "$T/holders"
check "and the dump is loaded into the --dsn's database, its run noted there (exit $st: $(head -c 300 "$T/ing.err"))" \
	test "$st $(q "$db" "SELECT count(*) > 0 FROM external_events_raw") $(q "$db" "SELECT count(*) FROM pipeline_runs WHERE program = 'ingest-dumps'")" = "0 t 1"

# blocked TABLE APP OUT ERR COMMAND...: COMMAND in the background while TABLE is locked,
# looked at once APP's connection waits on the lock: the command lines holding the password
# but COMMAND's own in $T/holders, the psql processes with it in PGPASSWORD in $T/env;
# COMMAND's exit status in st
blocked() {
	local table=$1 app=$2 out=$3 err=$4 pid t0
	shift 4
	lock_for "$db" "$table" 5
	t0=$(q "$db" "SELECT clock_timestamp()")
	"$@" >"$out" 2>"$err" &
	pid=$!
	wait_backend "$db" "$app" "$t0" "wait_event_type = 'Lock'"
	env_holders psql >"$T/env"
	holders $pid >"$T/holders"
	wait $pid
	st=$?
	wait
}

# pipelines/reconcile: reconcile waits on a lock of the raw table
export RECONCILE_DIR=$T
blocked external_events_raw reconcile "$T/rec.out" "$T/rec.err" "$ROOT/pipelines/reconcile" acme --dsn "$uri"
check "pipelines/reconcile --dsn with a password: reconcile's command line does not hold it ($(cat "$T/holders"))" \
	test ! -s "$T/holders"
check "and it reconciles that database (exit $st: $(head -c 300 "$T/rec.err"))" \
	sh -c '[ "$1" -eq 0 ] && grep -q "^balanced" "$2"' sh "$st" "$T/rec.out"

# export: psql waits on a lock of payments; it has the password in its environment
blocked payments psql /dev/null "$T/exp.err" "$ROOT/pipelines/export" payments --project acme --dsn "$uri" -o "$T/pay.csv"
check "export --dsn with a password: psql's command line does not hold it ($(cat "$T/holders"))" \
	test ! -s "$T/holders"
check "psql has it in PGPASSWORD, its own environment ($(wc -l <"$T/env") process)" test -s "$T/env"
check "and the export runs, audited in that database (exit $st: $(head -c 300 "$T/exp.err"))" \
	test "$st $(head -c 9 "$T/pay.csv") $(q "$db" "SELECT count(*) FROM audit_logs WHERE action = 'export'")" = "0 provider, 1"

# RO_DSN and RO_AUDIT_DSN: export's --dsn and --audit-dsn from the environment
db3=$(newdb dsnaudit)
RO_DSN=$uri RO_AUDIT_DSN="postgresql://postgres:$pw@/$db3?host=$PGHOST" PGDATABASE=postgres \
	"$ROOT/pipelines/export" payments --project acme -o "$T/pay2.csv" 2>"$T/exp2.err"
st=$?
check "export with RO_DSN and RO_AUDIT_DSN: read from the one, audited in the other (exit $st: $(head -c 300 "$T/exp2.err"))" \
	test "$st $(head -c 9 "$T/pay2.csv") $(q "$db3" "SELECT count(*) FROM audit_logs WHERE action = 'export'")" = "0 provider, 1"

# a database's name alone, as psql -d and libpq take it (export took it before load
# --split-dsn read its --dsn)
"$ROOT/pipelines/export" payments --project acme --dsn "$db" -o "$T/plain.csv" 2>"$T/plain.err"
st=$?
check "export --dsn DBNAME: exports (exit $st: $(head -c 200 "$T/plain.err"))" test "$st $(head -c 9 "$T/plain.csv")" = "0 provider,"
PGDATABASE=postgres load --dsn "$db" </dev/null 2>"$T/plain.err"
st=$?
check "load --dsn DBNAME: connects to it (exit $st: $(head -c 200 "$T/plain.err"))" test "$st" -eq 0
# a secret that cannot leave psql's command line (an sslpassword: no variable holds it) is said
"$ROOT/pipelines/export" payments --project acme --dsn "host=$PGHOST dbname=$db sslpassword=$pw" \
	-o "$T/ssl.csv" 2>"$T/ssl.err"
st=$?
check "export with an sslpassword: runs, warns that it stays on psql's command line, never prints it (exit $st)" \
	sh -c '[ "$1" -eq 0 ] && grep -q "^export: warning: a secret of --dsn stays on psql" "$2" && ! grep -q "$3" "$2"' sh "$st" "$T/ssl.err" "$pw"

# a password whose text is also another field's (a user named as it) leaves the command
# line like any other: no warning
"$ROOT/pipelines/export" payments --project acme --dsn "host=$PGHOST dbname=$db user=postgres password=postgres" \
	-o "$T/same.csv" 2>"$T/same.err"
st=$?
check "export, a password that is the user's name: exports, no warning (exit $st: $(head -c 200 "$T/same.err"))" \
	sh -c '[ "$1" -eq 0 ] && ! grep -q "warning" "$2"' sh "$st" "$T/same.err"

# a service written with blanks around '=' (libpq reads it): the password stays in the
# string psql gets, said
"$ROOT/pipelines/export" payments --project acme --dsn "host=/nonexistent service = ro_nosuch password=$pw" \
	-o "$T/svc2.csv" 2>"$T/svc2.err"
check "export, 'service = x' and a password: warned that it stays on psql's command line, never printed" \
	sh -c 'grep -q "^export: warning: a secret of --dsn stays on psql" "$1" && ! grep -q "$2" "$1"' sh "$T/svc2.err" "$pw"

# a password that is a piece of libpq's own text: masked with the whole quoted text holding
# it ("/none********istent" would tell it), the message withheld when it sits outside quotes
for c in "x:socket \"\*\*\*\*\*\*\*\*\" failed" "on:message withheld: a secret of the connection string"; do
	w=${c%%:*} want=${c#*:}
	load --dsn "host=/nonexistent password=$w" </dev/null 2>"$T/short.err"
	st=$?
	check "load, password '$w' in libpq's text: exit $st, '$want' ($(head -c 200 "$T/short.err"))" \
		sh -c '[ "$1" -eq 3 ] && grep -q "$2" "$3" && ! grep -q "none\*\|\*istent\|conn\*" "$3"' sh "$st" "$want" "$T/short.err"
	reconcile --db --dsn "host=/nonexistent password=$w" >/dev/null 2>"$T/short.err"
	st=$?
	check "reconcile --db, password '$w': exit $st, '$want' ($(head -c 200 "$T/short.err"))" \
		sh -c '[ "$1" -eq 3 ] && grep -q "$2" "$3" && ! grep -q "none\*\|\*istent\|conn\*" "$3"' sh "$st" "$want" "$T/short.err"
	"$ROOT/pipelines/export" payments --project acme --dsn "host=/nonexistent dbname=d password=$w" \
		--audit-dsn "host=/nonexistent dbname=d password=$w" -o "$T/short.csv" 2>"$T/short.err"
	st=$?
	check "export, password '$w': psql's lines as '$want' ($(grep -v warning "$T/short.err" | head -c 200))" \
		sh -c '[ "$1" -eq 3 ] && grep -q "^export: .*$2" "$3" && ! grep -q "none\*\|\*istent\|conn\*" "$3"' sh "$st" "$want" "$T/short.err"
done

# --dsn '': the PG* environment, as for load and export; RO_DSN not read
RO_DSN="dbname=ro_no_such_db_$$" PGDATABASE=$db "$ROOT/pipelines/reconcile" acme --dsn '' >/dev/null 2>"$T/empty.err"
st=$?
check "pipelines/reconcile --dsn '': the PG* environment's database, not RO_DSN's (exit $st: $(head -c 200 "$T/empty.err"))" test "$st" -eq 0

# a service named by PGSERVICE: its file's password= would win over PGPASSWORD, so the
# string goes as it is, with a warning
printf '[ro]\nhost=%s\ndbname=%s\n' "$PGHOST" "$db" >"$T/svc.conf"
PGSERVICEFILE=$T/svc.conf PGSERVICE=ro "$ROOT/pipelines/export" payments --project acme \
	--dsn "postgresql://postgres:$pw@/$db?host=$PGHOST" -o "$T/svc.csv" 2>"$T/svc.err"
st=$?
check "export with PGSERVICE set and a password: runs, warns, never prints it (exit $st: $(head -c 200 "$T/svc.err"))" \
	sh -c '[ "$1" -eq 0 ] && grep -q "^export: warning: a secret of --dsn stays on psql" "$2" && ! grep -q "$3" "$2"' sh "$st" "$T/svc.err" "$pw"

# a string libpq does not read (audit-secrets 2): a usage error, quoting none of it; libpq's
# own message, which psql would print, quotes it
for d in "Postgresql://secuser:$pw@/$db?host=$PGHOST" " postgresql://secuser:$pw@/$db?host=$PGHOST" \
	"host=$PGHOST dbname=$db password=$pw horse battery"; do
	for o in --dsn --audit-dsn; do
		"$ROOT/pipelines/export" payments --project acme "$o" "$d" -o "$T/bad.csv" 2>"$T/bad.err"
		st=$?
		check "export $o '${d%%:*}...': exit 2, '$o: not a valid ...', nothing of the string said (exit $st)" \
			sh -c '[ "$1" -eq 2 ] && grep -q "^export: $3: not a valid connection string or URI" "$2" &&
				! grep -q "$4\|horse\|secuser" "$2"' sh "$st" "$T/bad.err" "$o" "$pw"
	done
	# from the environment: named as its variable, not as an option not given
	for v in RO_DSN RO_AUDIT_DSN; do
		env "$v=$d" "$ROOT/pipelines/export" payments --project acme -o "$T/bad.csv" 2>"$T/bad.err"
		st=$?
		check "export with $v '${d%%:*}...': exit 2, '$v: not a valid ...', nothing of the string said (exit $st: $(head -n 1 "$T/bad.err"))" \
			sh -c '[ "$1" -eq 2 ] && grep -q "^export: $3: not a valid connection string or URI" "$2" &&
				! grep -q "$4\|horse\|secuser" "$2"' sh "$st" "$T/bad.err" "$v" "$pw"
	done
	"$ROOT/pipelines/ingest-dumps" --project acme --dsn "$d" "$fx/dumps/2026-11/stripe-2026-11-05.ndjson.gz" 2>"$T/bad.err"
	st=$?
	check "ingest-dumps --dsn '${d%%:*}...': exit 2 before anything runs, nothing of the string said (exit $st)" \
		sh -c '[ "$1" -eq 2 ] && grep -q "^ingest-dumps: --dsn: not a valid" "$2" && ! grep -q "$3\|horse" "$2"' sh "$st" "$T/bad.err" "$pw"
	RO_DSN=$d "$ROOT/pipelines/reconcile" acme 2>"$T/bad.err" >/dev/null
	st=$?
	check "pipelines/reconcile with RO_DSN '${d%%:*}...': exit 2, said as RO_DSN's (exit $st)" \
		sh -c '[ "$1" -eq 2 ] && grep -q "^reconcile: RO_DSN: not a valid" "$2" && ! grep -q "$3\|horse" "$2"' sh "$st" "$T/bad.err" "$pw"
done

# RO_DSN for the programs themselves: the connection when --dsn is not given
db2=$(newdb dsnenv)
RO_DSN="dbname=$db2" load "$fx/db/basic.ndjson" 2>"$T/env.err"
st=$?
check "load with RO_DSN loads into its database (exit $st)" \
	test "$st $(q "$db2" "SELECT count(*) > 0 FROM external_events_normalized")" = "0 t"
RO_DSN="dbname=ro_no_such_db_$$" load --dsn "dbname=$db2" "$fx/db/basic.ndjson" 2>"$T/env.err"
check "--dsn wins over RO_DSN (exit $?)" test $? -eq 0
RO_DSN="host='$pw" load </dev/null 2>"$T/env.err"
st=$?
check "an RO_DSN libpq does not read: exit 2, said as RO_DSN's, not quoted (exit $st)" \
	sh -c '[ "$1" -eq 2 ] && grep -q "^load: RO_DSN: not a valid" "$2" && ! grep -q "$3" "$2"' sh "$st" "$T/env.err" "$pw"
RO_DSN="dbname=$db2" reconcile --db >/dev/null 2>"$T/env.err"
st=$?
check "reconcile --db with RO_DSN reconciles its database, which has the schema (exit $st: 0 or 4)" \
	test "$st" -eq 0 -o "$st" -eq 4
