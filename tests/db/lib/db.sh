# tests/db/lib/db.sh: helpers for the database tests (sourced). Each test makes its
# own databases (dropped at exit) in the private cluster tests/run started.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export RO_SQL_DIR=$ROOT/sql RO_NO_PROGRESS=1
PATH=${BIN:-$ROOT/bin}:$PATH
T=$(mktemp -d /tmp/ro-dbtest.XXXXXX)
# ingest-dumps' lock, the test's own: a run of the same project elsewhere on the machine (a
# cron's) would make it exit 75, and a test feeding it a FIFO wait for ever. The default
# lock's own tests (load_faults.sh) set RO_LOCK= themselves.
export RO_LOCK=$T/ingest.lock
n_test=0
dbs=""
cleanup() {
	for d in $dbs; do dropdb --if-exists "$d" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT

ok() { n_test=$((n_test + 1)); echo "ok $n_test - $1"; }
not_ok() { n_test=$((n_test + 1)); echo "not ok $n_test - $1"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# newdb NAME: a fresh database with the schema and the test price mapping.
newdb() {
	local db=ro_$1_$$
	dbs="$dbs $db"
	dropdb --if-exists "$db" >/dev/null 2>&1
	createdb "$db" || return 1
	load --migrate --dsn "dbname=$db" 2>/dev/null || return 1
	psql -qX -d "$db" -v ON_ERROR_STOP=1 -c "INSERT INTO plan_prices VALUES
		('stripe', 'price_starter_m', 'starter'), ('stripe', 'price_pro_m', 'pro')" >/dev/null
	echo "$db"
}

q() { psql -qXAt -d "$1" -v ON_ERROR_STOP=1 -c "$2"; }

# grant_loader DB ROLE: ROLE may load into DB with the least privilege docs/load.md names
# (SELECT, INSERT, UPDATE, DELETE on the schema's tables, its sequences, TEMP on DB)
grant_loader() {
	psql -qX -d "$1" -v ON_ERROR_STOP=1 >/dev/null <<SQL
GRANT USAGE ON SCHEMA public TO $2;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $2;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO $2;
GRANT TEMP ON DATABASE $1 TO $2;
SQL
}
. "$ROOT/tests/lib/proc.sh"

# db_before NAME NNN: the database of the release before sql/NNN_*.sql, every migration
# before NNN applied and none from it on (a later one may need what NNN adds); its name
# on stdout. db_without NAME NNN: every migration but NNN (the later ones must not need
# it), a database this loader loads into once NNN's own change is made by hand.
db_before() { db_migrated "$1" "$2" before; }
db_without() { db_migrated "$1" "$2" without; }
db_migrated() {
	local db=ro_$1_$$ dir=$T/sql_$3_$2 f
	dbs="$dbs $db"
	mkdir -p "$dir"
	for f in "$ROOT"/sql/[0-9]*.sql; do
		case $3 in
		before) [[ $(basename "$f") < $2_ ]] && cp "$f" "$dir/" ;;
		*) [[ $(basename "$f") != $2_* ]] && cp "$f" "$dir/" ;;
		esac
	done
	dropdb --if-exists "$db" >/dev/null 2>&1
	createdb "$db" || return 1
	load --migrate --dsn "dbname=$db" --sql-dir "$dir" 2>/dev/null || return 1
	echo "$db"
}

# load_reversed DB FILE: FILE's envelope and event pairs (normalize --emit-raw's) loaded
# last pair first, a pair a batch. load_pairs DB FILE N...: pair N (from 1) a run, in
# the order given.
load_reversed() { tac "$2" | paste - - | awk -F'\t' '{print $2; print $1}' | load --dsn "dbname=$1" --batch 2 2>/dev/null; }
load_pairs() {
	local db=$1 f=$2 i
	shift 2
	for i in "$@"; do sed -n "$((2 * i - 1)),$((2 * i))p" "$f" | load --dsn "dbname=$db" 2>/dev/null; done
}

# check_backfill DB NNN TAMPER_SQL [FROM]: rows of DB set back by TAMPER_SQL to what an
# older release stored come back as this loader writes them once sql/NNN's backfill (the
# file from the line matching FROM, else all of it) has run.
check_backfill() {
	local db=$1 file from=${4:-}
	file=$(ls "$ROOT"/sql/"$2"_*.sql)
	state "$db" >"$T/before"
	q "$db" "$3" >/dev/null
	state "$db" >"$T/old"
	check "(the older release's state differs)" sh -c "! cmp -s '$T/old' '$T/before'"
	# one before sql/033 as the loader's session: its trigger, not there when such a
	# migration ran, refuses a NULL plan from any other; one after it must say so itself,
	# as sql/019 and sql/022 do (audit-R7 C)
	local opts=""
	[[ $2 < 033 ]] && opts="-c revenueos.writer=load"
	if [ -n "$from" ]; then sed -n "/$from/,\$p" "$file"; else cat "$file"; fi |
		PGOPTIONS="$opts" psql -qX1 -d "$db" -v ON_ERROR_STOP=1 >/dev/null
	state "$db" >"$T/after"
	check "sql/$2's backfill gives what the loader writes" diff "$T/before" "$T/after"
}

# check_needs_migration NAME NNN FILE: the database of the release before sql/NNN (its
# name in old_db) refuses FILE, exit 3 and "run 'load --migrate' first"; migrated, NNN
# applies to it.
check_needs_migration() {
	local st name
	old_db=$(db_before "$1" "$2")
	dbs="$dbs $old_db"
	load --dsn "dbname=$old_db" "$3" 2>"$T/err" && st=0 || st=$?
	check "before sql/$2: exit 3, 'run load --migrate first' (exit $st)" \
		sh -c "test $st = 3 && grep -q \"run 'load --migrate' first\" '$T/err'"
	load --migrate --dsn "dbname=$old_db" 2>"$T/mig"
	name=$(basename "$(ls "$ROOT"/sql/"$2"_*.sql)")
	check "sql/$2 applies to it" grep -q "applied $name" "$T/mig"
}

# advisory_locks DB N [granted|waiting]: wait (5 s at most) until DB has N advisory locks
# granted (or waited for): a psql holding the loaders' turn, a load waiting behind it.
advisory_locks() {
	local cond=granted i
	[ "${3:-granted}" = waiting ] && cond="NOT granted"
	for i in $(seq 50); do
		[ "$(q "$1" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND $cond")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ingest_stream FILE...: what pipelines/ingest-dumps hands to load (raw envelopes and
# canonical events, project acme, a fixed receipt time), on stdout.
ingest_stream() { fetch-events --project acme --received-at 2026-12-01T00:00:00Z "$@" | normalize --emit-raw; }

# state DB [strict]: every data table as sorted JSON lines. The run-time columns
# (when a row was first/last processed) are left out unless strict. Rows in byte order,
# whatever the database's collation.
STATE_TABLES="settings projects integrations external_events_raw external_events_normalized
	external_events plans plan_prices customers subscriptions payments"
state() {
	local db=$1 strict=${2:-} t drop="- 'first_processed_at' - 'last_processed_at'"
	[ -n "$strict" ] && drop=""
	for t in $STATE_TABLES; do
		echo "== $t"
		q "$db" "SELECT r FROM (SELECT (to_jsonb(x) $drop)::text AS r FROM $t x) y ORDER BY r COLLATE \"C\""
	done
}

# same_state DB1 DB2 [strict]: identical, else the diff on stderr.
same_state() {
	state "$1" ${3:-} >"$T/a" && state "$2" ${3:-} >"$T/b" && diff "$T/a" "$T/b" >&2
}
