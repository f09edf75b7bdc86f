#!/usr/bin/env bash
# load behind a connection pooler (audit-POOL), PgBouncer in each of its modes. In session
# mode a load is the same as one on the server; in transaction and statement mode, whose
# sessions are handed to any client between transactions, load refuses before it writes,
# exit 3, and leaves nothing the pool's next client inherits: no lock, no setting (in a pool
# of one session; docs/load.md says what a busier one may keep).
. "$(dirname "$0")/lib/db.sh"
command -v pgbouncer >/dev/null || PATH=$PATH:/usr/sbin
if ! command -v pgbouncer >/dev/null; then
	echo "ok 1 # skip pgbouncer is not installed (pipelines/setup installs it)"
	exit 0
fi
fetch-events --project acme --received-at 2026-12-01T00:00:00Z "$ROOT/fixtures/dumps" 2>/dev/null |
	normalize --emit-raw 2>/dev/null >"$T/acme.ndjson"
n=$(wc -l <"$T/acme.ndjson")

# pools MODE PORT SIZE: a PgBouncer in front of the test cluster, its socket in $T/pb
pb=$T/pb
mkdir -p "$pb"
echo '"postgres" ""' >"$pb/users.txt"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$T"
pids=""
pool() {
	local mode=$1
	case $1 in noreset | resetall) mode=session ;; esac
	cat >"$pb/$1.ini" <<EOF
[databases]
* = host=$PGHOST port=$PGPORT
[pgbouncer]
listen_addr =
unix_socket_dir = $pb
listen_port = $2
auth_type = trust
auth_file = $pb/users.txt
pool_mode = $mode
default_pool_size = $3
server_reset_query = ${4-DISCARD ALL}
max_client_conn = 20
logfile = $pb/$1.log
pidfile = $pb/$1.pid
ignore_startup_parameters = extra_float_digits,options
EOF
	[ "$(id -u)" -eq 0 ] && chown postgres: "$pb/$1.ini"
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- pgbouncer -d -q "$pb/$1.ini"; else pgbouncer -d -q "$pb/$1.ini"; fi
	for _ in $(seq 50); do [ -S "$pb/.s.PGSQL.$2" ] && break; sleep 0.1; done
}
trap 'for m in session transaction statement noreset resetall; do [ -f "$pb/$m.pid" ] && kill "$(cat "$pb/$m.pid")" 2>/dev/null; done; cleanup' EXIT
pool session 6401 2
pool transaction 6402 1
pool statement 6403 2
pool noreset 6404 2 "" # session mode, its sessions handed on unreset (server_reset_query empty)
pool resetall 6405 2 "RESET ALL" # session mode, its reset leaving temporary tables and locks
via() { echo "host=$pb port=$1 dbname=$2"; }

# session mode: the same as on the server
a=$(newdb pool_direct)
b=$(newdb pool_session)
load --dsn "dbname=$a" --batch 3 "$T/acme.ndjson" 2>/dev/null
load --dsn "$(via 6401 "$b")" --batch 3 "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "session mode: loaded (exit $st)" test "$st" = 0
check "session mode: the tables are the same as a load on the server" same_state "$a" "$b"
load --dsn "$(via 6401 "$b")" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "session mode: a second load, given a session the pool reset, runs (exit $st)" \
	sh -c "[ $st = 0 ] && grep -q 'inserted 0, updated 0, unchanged $n,' '$T/err'"
check "session mode: the pool's next client is no loader" \
	test "$(psql -XAt -d "$(via 6401 "$b")" -c "SELECT coalesce(current_setting('revenueos.writer', true), '')")" = ""

# transaction mode (a pool of one session: every client's transactions share it)
c=$(newdb pool_tx)
timeout 60 load --dsn "$(via 6402 "$c")" --batch 3 "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "transaction mode: refused, exit 3 (got $st)" test "$st" = 3
check "transaction mode: the message says why" \
	grep -q "^load: this connection's session is not load's own .*a connection pooler that hands a session on" "$T/err"
check "transaction mode: nothing written, no run row" \
	test "$(q "$c" "SELECT (SELECT count(*) FROM external_events_raw) + (SELECT count(*) FROM pipeline_runs)")" = 0
check "transaction mode: the pool's next client is no loader (revenueos.writer unset: its plans set by hand are stamped)" \
	test "$(psql -XAt -d "$(via 6402 "$c")" -c "SELECT coalesce(current_setting('revenueos.writer', true), '')")" = ""
check "transaction mode: nor the settings load makes (client_min_messages, the mark)" \
	test "$(psql -XAt -d "$(via 6402 "$c")" -c "SELECT current_setting('client_min_messages') || ',' ||
		coalesce(current_setting('revenueos.session', true), '')")" = "notice,"
check "transaction mode: no lock left, a load on the server runs" \
	timeout 60 load --dsn "dbname=$c" "$T/acme.ndjson" 2>/dev/null
check "transaction mode: its tables are a clean load's" same_state "$a" "$c"
# a second try through the pool: the session it is given holds the first one's mark
timeout 60 load --dsn "$(via 6402 "$c")" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "transaction mode: a second try refused too, exit 3 (got $st)" \
	sh -c "[ $st = 3 ] && grep -q \"session is not load's own\" '$T/err'"
# --migrate, one connection, one transaction a migration: it gives its turn back, or
# every load on the server waits until the pool drops the session
d=ro_pool_migrate_$$
dbs="$dbs $d"
createdb "$d"
timeout 120 load --migrate --dsn "$(via 6402 "$d")" 2>"$T/err" && st=0 || st=$?
check "transaction mode: --migrate runs (exit $st)" test "$st" = 0
check "transaction mode: after it, a load on the server is not kept waiting" \
	timeout 60 load --dsn "dbname=$d" "$T/acme.ndjson" 2>/dev/null

# session mode without a server_reset_query, or with one that leaves temporary tables and
# advisory locks (RESET ALL): a load leaves its sessions as new ones (DISCARD ALL), so the
# next runs (review R18 2: it waited for the lock the first one's session still held, on the
# server too); after one killed, the next is refused, said
for pm in noreset:6404 resetall:6405; do
	m=${pm%%:*} port=${pm#*:}
	g=$(newdb "pool_$m")
	load --dsn "$(via "$port" "$g")" "$T/acme.ndjson" 2>/dev/null && st=0 || st=$?
	timeout 60 load --dsn "$(via "$port" "$g")" "$T/acme.ndjson" 2>"$T/err" && st2=0 || st2=$?
	check "session mode, reset '$m': two loads run, one after the other (exit $st, $st2)" test "$st:$st2" = 0:0
	# (a load killed under RESET ALL: the session that held the lock is refused when given,
	# the other passes and waits for it; docs/load.md)
	[ "$m" = noreset ] || continue
	rm -f "$T/fifo.$m"
	mkfifo "$T/fifo.$m"
	load --dsn "$(via "$port" "$g")" "$T/fifo.$m" 2>/dev/null &
	pk=$!
	exec 8>"$T/fifo.$m"
	head -n 2 "$T/acme.ndjson" >&8
	advisory_locks "$g" 1
	kill -9 "$pk"
	wait "$pk" 2>/dev/null
	exec 8>&-
	timeout 60 load --dsn "$(via "$port" "$g")" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
	check "session mode, reset '$m': after a load killed, the next is refused, said (exit $st: $(head -c 160 "$T/err"))" \
		sh -c "[ $st = 3 ] && grep -Eq \"it holds (another connection's mark|an earlier client's temporary tables or advisory locks)\" '$T/err'"
done

# --note-run (ingest-dumps' record of its run), one connection: through a transaction pool
# it leaves nothing either (review R18 3: the pool's next client had its settings)
echo '{}' | load --note-run ingest-dumps --dsn "$(via 6402 "$c")" 2>/dev/null && st=0 || st=$?
check "transaction mode: --note-run runs (exit $st), and the pool's next client has none of its settings" \
	sh -c "[ $st = 0 ] && [ \"\$(psql -XAt -d '$(via 6402 "$c")' -c \"SELECT current_setting('client_min_messages') || ',' ||
		coalesce(current_setting('revenueos.session', true), '') || ',' || current_setting('search_path')\")\" = 'notice,,\"\$user\", public' ]"

# a mark set on the database (or the role, or PGOPTIONS) is no pooler's: taken over
q "$a" "ALTER DATABASE $a SET revenueos.session = 'x'"
load --dsn "dbname=$a" "$T/acme.ndjson" 2>/dev/null && st=0 || st=$?
check "revenueos.session set on the database: a load on the server runs (exit $st)" test "$st" = 0
PGOPTIONS='-c revenueos.session=y' load --dsn "dbname=$a" "$T/acme.ndjson" 2>/dev/null && st=0 || st=$?
check "and in PGOPTIONS (exit $st)" test "$st" = 0
q "$a" "ALTER DATABASE $a RESET revenueos.session"

# a load waiting its turn holds one connection (review R17 1: it held two, and under a
# role's connection limit the second of two overlapping loads failed instead of waiting)
r=ro_pool_limit_$$
q postgres "DROP ROLE IF EXISTS $r; CREATE ROLE $r LOGIN CONNECTION LIMIT 2" >/dev/null
h=$(newdb pool_limit)
grant_loader "$h" "$r"
mkfifo "$T/fifo"
load --dsn "dbname=$h user=$r" "$T/fifo" 2>"$T/errA" &
pa=$!
exec 7>"$T/fifo"
head -n 2 "$T/acme.ndjson" >&7
# (the turn taken, and its second connection closed: a role without the scratch tables' rights
# stages in its temporary tables, on one)
advisory_locks "$h" 1
for _ in $(seq 100); do
	[ "$(q "$h" "SELECT count(*) FROM pg_stat_activity WHERE usename = '$r'")" = 1 ] && break
	sleep 0.1
done
load --dsn "dbname=$h user=$r" "$T/acme.ndjson" 2>"$T/errB" 7>&- &
pb_load=$!
sleep 2
check "a second load waits for the turn under a limit of 2 connections (not failed: $(head -c 120 "$T/errB"))" \
	kill -0 "$pb_load"
tail -n +3 "$T/acme.ndjson" >&7
exec 7>&-
wait "$pa" && sa=0 || sa=$?
wait "$pb_load" && sb=0 || sb=$?
check "then both load (exit $sa, $sb: $(head -c 200 "$T/errB"))" test "$sa:$sb" = 0:0
q postgres "DROP OWNED BY $r" >/dev/null 2>&1
q "$h" "DROP OWNED BY $r" >/dev/null 2>&1
q postgres "DROP ROLE IF EXISTS $r" >/dev/null 2>&1

# statement mode: PgBouncer ends a client at its first BEGIN
e=$(newdb pool_stmt)
timeout 60 load --dsn "$(via 6403 "$e")" "$T/acme.ndjson" 2>"$T/err" && st=0 || st=$?
check "statement mode: refused, exit 3 (got $st)" test "$st" = 3
check "statement mode: the message says why" grep -q "a connection pooler that hands a session on" "$T/err"
check "statement mode: no run row left unfinished" test "$(q "$e" "SELECT count(*) FROM pipeline_runs")" = 0
f=ro_pool_stmt_migrate_$$
dbs="$dbs $f"
createdb "$f"
timeout 60 load --migrate --dsn "$(via 6403 "$f")" 2>"$T/err" && st=0 || st=$?
check "statement mode: --migrate refused at its first BEGIN, exit 3, said (got $st)" \
	sh -c "[ $st = 3 ] && grep -q \"(a transaction's BEGIN was refused: .*a connection pooler that hands a session on\" '$T/err'"
check "the input was $n records" test "$n" -gt 0
echo "1..$n_test"
