#!/usr/bin/env bash
# pipelines/export against the private PostgreSQL cluster (PG* exported by tests/run):
# both exports, their filters and options, the audit_logs row, failures, and flat memory.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BIN=${BIN:-$ROOT/bin}
export PATH="$BIN:$PATH"
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
tmp=$(mktemp -d /tmp/ro-export-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The schema comes from the loader's migrations; until the loader is built there is nothing to export.
if ! command -v load >/dev/null || [ ! -d sql ]; then
	echo "ok 1 - pipelines/export database tests # SKIP no 'load' program or sql/ (the loader) in this tree"
	exit 0
fi
export PGDATABASE=ro_export_test
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ro_export_test" -c "CREATE DATABASE ro_export_test" >/dev/null
check "load --migrate creates the schema" load --migrate
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
. tests/lib/proc.sh

q <<'EOF'
INSERT INTO customers (project_id, provider, customer_id, email, name, phone, country, first_event_at, state_occurred_at) VALUES
('acme', 'stripe', 'cus_1', 'ana@example.com', '=HYPERLINK("http://x","y")', '+55 11 99999-0000', 'BR', '2026-01-05T10:00:00Z', '2026-01-06T10:00:00.250Z'),
('acme', 'stripe', 'cus_2', 'bia@example.com', E'Li, "Wei"\r\nline2 😀', NULL, 'JP', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z'),
('acme', 'hotmart', 'h_3', NULL, 'João', NULL, NULL, '2025-12-31T23:59:59Z', '2026-01-01T00:00:00Z'),
('other', 'stripe', 'cus_9', 'x@example.com', 'Other', NULL, NULL, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z');
INSERT INTO payments (project_id, provider, payment_id, object, customer_id, amount_minor, currency, status, method, installments, refunded_minor, discount_minor, paid_at, state_occurred_at, state_event_id, charge_id, payment_intent_id) VALUES
('acme', 'stripe', 'in_1', 'invoice', 'cus_1', 1990, 'BRL', 'succeeded', 'card', 1, 0, 0, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z', 'evt_1', NULL, NULL),
('acme', 'stripe', 'in_2', 'invoice', 'cus_2', 5000, 'JPY', 'refunded', 'card', NULL, 5000, NULL, '2026-02-05T10:00:00Z', '2026-02-06T10:00:00Z', 'evt_2', 'ch_2', 'pi_2'),
('acme', 'hotmart', 'HP3', 'purchase', 'h_3', 12345, 'KWD', 'pending', 'boleto', 3, NULL, NULL, NULL, '2026-03-05T10:00:00Z', 'evt_3', NULL, NULL),
('other', 'stripe', 'in_9', 'invoice', 'cus_9', 100, 'USD', 'succeeded', 'card', 1, 0, 0, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z', 'evt_9', NULL, NULL);
EOF

# Parse a CSV with Python's csv module and compare with the expected rows (JSON).
csv_is() { # csv_is FILE EXPECTED_JSON [DELIM] [ENCODING]
	python3 - "$@" <<'EOF'
import csv, json, sys
f, want = sys.argv[1], json.loads(sys.argv[2])
delim = sys.argv[3] if len(sys.argv) > 3 else ","
enc = sys.argv[4] if len(sys.argv) > 4 else "utf-8"
got = list(csv.reader(open(f, newline="", encoding=enc), delimiter=delim))
if got != want:
    print("# got  %r\n# want %r" % (got, want))
    sys.exit(1)
EOF
}

# 1. customers to stdout
pipelines/export customers --project acme --actor tester >"$tmp/c.csv" 2>"$tmp/c.err"
check "customers: exit 0" [ $? -eq 0 ]
check "customers: CRLF rows, header first" grep -q $'^provider,customer_id,email,name,phone,country,deleted,deleted_at,first_event_at,updated_at\r$' "$tmp/c.csv"
check "customers: values read back (sanitized formula and phone, CRLF and emoji in a name, UTC times, other project left out)" \
	csv_is "$tmp/c.csv" '[["provider","customer_id","email","name","phone","country","deleted","deleted_at","first_event_at","updated_at"],
	 ["hotmart","h_3","","João","","","false","","2025-12-31T23:59:59Z","2026-01-01T00:00:00Z"],
	 ["stripe","cus_1","ana@example.com","'"'"'=HYPERLINK(\"http://x\",\"y\")","'"'"'+55 11 99999-0000","BR","false","","2026-01-05T10:00:00Z","2026-01-06T10:00:00.250Z"],
	 ["stripe","cus_2","bia@example.com","Li, \"Wei\"\r\nline2 😀","","JP","false","","2026-03-01T00:00:00Z","2026-03-01T00:00:00Z"]]'
check "customers: the summary on stderr" grep -q "export: 3 customers of project 'acme'" "$tmp/c.err"

# 2. payments to a file, with a time window
pipelines/export payments --project acme --since 2026-01-01 --until 2026-03-01 -o "$tmp/p.csv" --actor tester 2>/dev/null
check "payments -o: exit 0" [ $? -eq 0 ]
check "payments: money as exact decimals, only the window's rows" \
	csv_is "$tmp/p.csv" '[["provider","payment_id","object","status","amount","refunded","discount","currency","method","installments","failure_code","customer_id","customer_email","invoice_id","subscription_id","due_at","paid_at","livemode","updated_at","charge_id","payment_intent_id"],
	 ["stripe","in_1","invoice","succeeded","19.90","0.00","0.00","BRL","card","1","","cus_1","ana@example.com","","","","2026-01-05T10:00:00Z","","2026-01-05T10:00:00Z","",""],
	 ["stripe","in_2","invoice","refunded","5000","5000","","JPY","card","","","cus_2","bia@example.com","","","","2026-02-05T10:00:00Z","","2026-02-06T10:00:00Z","ch_2","pi_2"]]'
no_part() { ! compgen -G "$tmp/*.part.*" >/dev/null; }
check "payments -o: no partial file left" no_part

# 3. the audit rows
audit=$(q -c "SELECT actor, action, project_id, target_type, metadata->>'row_count', metadata->'filters'->>'since',
	metadata->'filters'->>'until', metadata->>'status', metadata->>'output' IS NOT NULL, at > now() - interval '1 hour'
	FROM audit_logs ORDER BY id")
want="tester|export|acme|customers|3|||ok|f|t
tester|export|acme|payments|2|2026-01-01|2026-03-01|ok|t|t"
check "audit_logs: one row per export with actor, project, kind, filters, row count, time" [ "$audit" = "$want" ]
[ "$audit" = "$want" ] || printf '# got:\n%s\n' "$audit" | sed 's/^/# /'

# 3b. a session in another client encoding (PGCLIENTENCODING, the role's setting): the CSV
# is the same UTF-8, and so is the actor in the audit row (audit-csv 1)
PGCLIENTENCODING=LATIN1 pipelines/export customers --project acme --actor "tëster" >"$tmp/c1.csv" 2>/dev/null
check "customers with PGCLIENTENCODING=LATIN1: exit 0, the same CSV" cmp -s "$tmp/c.csv" "$tmp/c1.csv"
q -c "ALTER ROLE CURRENT_USER SET client_encoding = 'LATIN1'"
pipelines/export customers --project acme --actor tester >"$tmp/c2.csv" 2>/dev/null
st=$?
q -c "ALTER ROLE CURRENT_USER RESET client_encoding"
check "customers with the role's client_encoding LATIN1: exit $st, the same CSV" sh -c "test $st = 0 && cmp -s '$tmp/c.csv' '$tmp/c2.csv'"
check "the actor stored as sent, UTF-8" [ "$(q -c "SELECT count(*) FROM audit_logs WHERE actor = 'tëster'")" = 1 ]

# 4. Excel options pass through
pipelines/export payments --project acme --bom --delimiter ';' --actor tester >"$tmp/x.csv" 2>/dev/null
check "payments --bom --delimiter ';': exit 0" [ $? -eq 0 ]
check "--bom: the file starts with the UTF-8 BOM" [ "$(head -c 3 "$tmp/x.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ]
check "--delimiter ';': KWD with three decimals, read back with ';'" \
	python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1],newline="",encoding="utf-8-sig"),delimiter=";")); sys.exit(not (len(r)==4 and r[1][1]=="HP3" and r[1][4]=="12.345"))' "$tmp/x.csv"
pipelines/export payments --project acme --delimiter ';' --decimal-comma --actor tester >"$tmp/dc.csv" 2>/dev/null
check "--delimiter ';' --decimal-comma (pt-BR Excel): exit 0, amounts 12,345 KWD, 19,90 BRL, 5000 JPY" \
	python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1],newline="",encoding="utf-8"),delimiter=";")); sys.exit(not (len(r)==4 and sorted(x[4] for x in r[1:])==["12,345","19,90","5000"]))' "$tmp/dc.csv"
pipelines/export payments --project acme -d';' --decimal-comma --actor tester -o"$tmp/dj.csv" 2>/dev/null
check "-d';' -oFILE, the values joined as to-csv takes them (audit-CLI 3): the same file" \
	cmp -s "$tmp/dc.csv" "$tmp/dj.csv"

# 5. usage errors write nothing and audit nothing
before=$(q -c "SELECT count(*) FROM audit_logs")
pipelines/export customers --actor tester >/dev/null 2>&1; check "no --project: exit 2" [ $? -eq 2 ]
pipelines/export invoices --project acme >/dev/null 2>&1; check "unknown kind: exit 2" [ $? -eq 2 ]
pipelines/export payments --project acme --since yesterdayish >/dev/null 2>&1; check "bad --since: exit 2" [ $? -eq 2 ]
# hour 24, PostgreSQL's next midnight, is no RFC 3339 time, as reconcile and fetch-events
# read it (audit-T3: accepted)
pipelines/export payments --project acme --until 2026-01-01T24:00:00Z >/dev/null 2>"$tmp/h24.err"
check "--until ...T24:00:00Z: exit 2, said (exit $?)" sh -c '[ "$1" -eq 2 ] && grep -q "is not a time" "$2"' sh $? "$tmp/h24.err"
pipelines/export payments --project acme --since 2026-12-01 --until 2026-11-01 >/dev/null 2>&1; check "--since not before --until: exit 2" [ $? -eq 2 ]
pipelines/export payments --project acme --bogus >/dev/null 2>&1; check "unknown option: exit 2" [ $? -eq 2 ]
pipelines/export payments --project acm -o "$tmp/typo.csv" 2>"$tmp/typo.err"; st=$?
check "a project the database does not know (a typo): exit 2, its projects named, no file (exit $st)" \
	sh -c "[ $st -eq 2 ] && ! [ -e '$tmp/typo.csv' ] && grep -q \"^export: no project 'acm' in the database (its projects: \" '$tmp/typo.err'"
# -oFILE is taken, but not a long option's typo: the data would go to a file named "utput=..."
# (review R19 1)
for o in "-output=$tmp/o.csv" "-o=$tmp/o.csv"; do
	(cd "$tmp" && "$ROOT/pipelines/export" payments --project acme "$o" >/dev/null 2>"$tmp/o.err")
	st=$?
	check "$o: exit 2 (got $st), no file" \
		sh -c '[ "$1" -eq 2 ] && grep -q "^export: unknown option" "$2" && [ -z "$(find "$3" -name "*utput*" -o -name "=*")" ]' sh $st "$tmp/o.err" "$tmp"
done
pipelines/export --help | grep -q "^Exit status"; check "--help: exit 0 with the exit statuses" [ $? -eq 0 ]
# an option passed to to-csv that to-csv refuses: said before the export starts, not a failed export
for d in "--delimiter ;;" "--delimiter=;;" "-d a" "--delimiter="; do
	# shellcheck disable=SC2086
	pipelines/export payments --project acme $d -o "$tmp/dl.csv" >/dev/null 2>"$tmp/dl.err"
	st=$?
	check "$d: exit 2 (got $st), to-csv's reason as export's, no file" \
		sh -c '[ "$1" -eq 2 ] && grep -q "^export: --delimiter: " "$2" && ! grep -q "^to-csv" "$2" && [ ! -e "$3" ]' sh $st "$tmp/dl.err" "$tmp/dl.csv"
done
check "a refused --delimiter: no partial file" no_part
check "usage errors leave no audit row" [ "$(q -c "SELECT count(*) FROM audit_logs")" = "$before" ]
# a role that may read payments and customers alone (what the CSV reads) cannot check a --project: said,
# not an empty export that reads as ok without a word (audit-ROLE 3)
q -c "DROP ROLE IF EXISTS ro_exp_narrow_$$; CREATE ROLE ro_exp_narrow_$$ LOGIN; GRANT SELECT ON payments, customers TO ro_exp_narrow_$$" >/dev/null 2>&1
pipelines/export payments --project acm --dsn "dbname=ro_export_test user=ro_exp_narrow_$$" \
	--audit-dsn "dbname=ro_export_test" --actor tester -o "$tmp/narrow.csv" 2>"$tmp/narrow.err"
st=$?
check "a role that may read payments and customers alone, --project a typo: exit $st, the check said undone ($(head -c 160 "$tmp/narrow.err"))" \
	sh -c "[ $st -eq 0 ] && grep -q 'may not read projects' '$tmp/narrow.err'"
q -c "DROP OWNED BY ro_exp_narrow_$$; DROP ROLE ro_exp_narrow_$$" >/dev/null 2>&1

# rows in byte order whatever the database's collation (audit-ENC 4: under de_DE they came
# in another order, so a replica rebuilt elsewhere gave other bytes)
q -d postgres -c "DROP DATABASE IF EXISTS ro_export_icu_$$" >/dev/null
if q -d postgres -c "CREATE DATABASE ro_export_icu_$$ TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de' LOCALE 'C.UTF-8'" >/dev/null 2>&1 &&
	load --migrate --dsn "dbname=ro_export_icu_$$" 2>/dev/null; then
	q -d "ro_export_icu_$$" -c "INSERT INTO customers (project_id, provider, customer_id, first_event_at, state_occurred_at) VALUES
		('acme', 'stripe', 'cus_a', '2026-01-05', '2026-01-05'), ('acme', 'stripe', 'cus_B', '2026-01-05', '2026-01-05'),
		('acme', 'hotmart', 'h_z', '2026-01-05', '2026-01-05')" >/dev/null
	pipelines/export customers --project acme --dsn "dbname=ro_export_icu_$$" 2>/dev/null | cut -d, -f1,2 >"$tmp/icu.csv"
	check "rows in byte order under an ICU 'de' collation: $(tr '\r\n' '  ' <"$tmp/icu.csv")" \
		test "$(tr -d '\r' <"$tmp/icu.csv" | tr '\n' ' ')" = "provider,customer_id hotmart,h_z stripe,cus_B stripe,cus_a "
else
	notok "a database with an ICU 'de' collation could be made and migrated"
fi
q -d postgres -c "DROP DATABASE IF EXISTS ro_export_icu_$$" >/dev/null

# 6. failures: no audit -> no file; a failed read is audited as failed and leaves no file
pipelines/export customers --project acme -o "$tmp/na.csv" --audit-dsn "dbname=no_such_db" >/dev/null 2>"$tmp/na.err"
check "audit impossible: exit 3" [ $? -eq 3 ]
check "audit impossible: psql's reason said, every line as export's" \
	sh -c 'grep -q "no_such_db" "$1" && ! grep -qv "^export: " "$1"' sh "$tmp/na.err"
check "audit impossible: no file" [ ! -e "$tmp/na.csv" ]
check "audit impossible: no partial file" no_part
# an audit database that cannot take the row (a standby: read-only; a role without INSERT on
# audit_logs; a database without the schema): refused before a row is read, stdout empty,
# exit 3, said (audit-BAK 2: the rows were streamed, then the audit failed)
q -d postgres -c "DROP DATABASE IF EXISTS ro_export_noschema_$$" -c "CREATE DATABASE ro_export_noschema_$$" >/dev/null
q -c "DROP ROLE IF EXISTS ro_exp_ro_$$; CREATE ROLE ro_exp_ro_$$ LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ro_exp_ro_$$" >/dev/null 2>&1
before=$(q -c "SELECT count(*) FROM audit_logs")
for c in "PGOPTIONS=-c default_transaction_read_only=on:read-only (default_transaction_read_only)" \
	"RO_AUDIT_DSN=dbname=ro_export_test user=ro_exp_ro_$$:not writable by this role" \
	"RO_AUDIT_DSN=dbname=ro_export_noschema_$$:without the RevenueOS schema"; do
	setting=${c%%:*} said=${c#*:}
	env "$setting" pipelines/export customers --project acme >"$tmp/rw.out" 2>"$tmp/rw.err"
	st=$?
	check "audit database ${setting%%=*}=${setting#*=}: exit 3 (got $st), nothing on stdout, said ($(head -c 200 "$tmp/rw.err"))" \
		sh -c '[ "$1" -eq 3 ] && [ ! -s "$2" ] && grep -q "^export: the audit row.s database (.*) is $3.*Nothing was read" "$4"' sh $st "$tmp/rw.out" "$said" "$tmp/rw.err"
done
check "an audit database that cannot take the row: no audit row" [ "$(q -c "SELECT count(*) FROM audit_logs")" = "$before" ]
q -c "DROP OWNED BY ro_exp_ro_$$; DROP ROLE ro_exp_ro_$$" >/dev/null 2>&1
q -d postgres -c "DROP DATABASE ro_export_noschema_$$" >/dev/null
pipelines/export customers --project acme -o "$tmp/nr.csv" --dsn "dbname=no_such_db" --audit-dsn "dbname=ro_export_test" --actor tester >/dev/null 2>&1
check "database unreadable: exit 3" [ $? -eq 3 ]
check "database unreadable: no file" [ ! -e "$tmp/nr.csv" ]
check "database unreadable: audited as failed" [ "$(q -c "SELECT metadata->>'status' FROM audit_logs ORDER BY id DESC LIMIT 1")" = failed ]
pipelines/export customers --project acme --since 2026-01-01 --dsn "dbname=no_such_db" --audit-dsn "dbname=ro_export_test" >/dev/null 2>"$tmp/nt.err"
st=$?
check "database unreadable with --since: exit 3, psql's reason said, not a bad time (exit $st)" \
	sh -c '[ "$2" -eq 3 ] && grep -q "no_such_db" "$1" && ! grep -q "is not a time" "$1"' sh "$tmp/nt.err" $st
check "database unreadable with --since: audited as failed" \
	[ "$(q -c "SELECT metadata->>'status' || ' ' || (metadata->'filters'->>'since') FROM audit_logs ORDER BY id DESC LIMIT 1")" = "failed 2026-01-01" ]
# a FILE that cannot be made (no such directory; a file where a directory should be): the
# export got past its options, so it fails audited, exit 3, said as export's (no shell error)
touch "$tmp/afile"
for o in "$tmp/no-such-dir/x.csv:No such file or directory" "$tmp/afile/x.csv:Not a directory"; do
	f=${o%:*} why=${o##*:}
	pipelines/export customers --project acme -o "$f" --actor tester >/dev/null 2>"$tmp/o.err"
	st=$?
	check "-o ${f#"$tmp"/}: exit 3 (got $st), one line: export: cannot write '...': $why" \
		sh -c '[ "$1" -eq 3 ] && [ "$(cat "$2")" = "export: cannot write '"'"'$3'"'"': $4" ]' sh $st "$tmp/o.err" "$f" "$why"
	check "-o ${f#"$tmp"/}: audited as failed, with the FILE and 0 rows" \
		[ "$(q -c "SELECT metadata->>'status' || ' ' || (metadata->>'output') || ' ' || (metadata->>'row_count') FROM audit_logs ORDER BY id DESC LIMIT 1")" = "failed $f 0" ]
done
check "-o a FILE that cannot be made: no partial file left" no_part
# a password holding an '@' not written %40: libpq takes the rest of it for the host name,
# which psql's messages quote; export masks it with the whole quoted host name (both reads
# fail: the database and the audit)
pipelines/export customers --project acme -o "$tmp/pw.csv" \
	--dsn "postgresql://nobody:s3cr@3tpw@nohost.invalid:1/none" >/dev/null 2>"$tmp/pw.err"
st=$?
check "a password with a bare '@' in a URI: exit 3, psql's reasons said, no part of the password ($(head -c 200 "$tmp/pw.err"))" \
	sh -c '[ "$2" -eq 3 ] && grep -q "could not translate host name \"\*\*\*\*\*\*\*\*\"" "$1" && grep -q "audit_logs" "$1" && ! grep -q "3tpw" "$1" && ! grep -q "s3cr" "$1"' sh "$tmp/pw.err" $st
# the same with an '@' in the URI's query too; and a '/' in the password (not written %2F):
# libpq reads no password, takes "Xy7" for the port and says so
for u in "postgresql://nobody:s3cr@3tpw@nohost.invalid:1/none?application_name=export@cron" \
	"postgresql://nobody:Xy7/Qz9+w@nohost.invalid:1/none"; do
	pipelines/export customers --project acme -o "$tmp/pw.csv" --dsn "$u" >/dev/null 2>"$tmp/pw.err"
	st=$?
	check "a password in $u: exit 3, no part of it printed ($(head -c 200 "$tmp/pw.err"))" \
		sh -c '[ "$2" -eq 3 ] && [ -s "$1" ] && ! grep -q "3tpw\|s3cr\|Xy7\|Qz9" "$1"' sh "$tmp/pw.err" $st
done

# 6b. output names: one starting with '-' is a file; '-' is stdout; a directory is refused
(cd "$tmp" && umask 022 && "$ROOT/pipelines/export" customers --project acme -o -dash.csv >/dev/null 2>"$tmp/dash.err")
st=$?
check "-o -dash.csv: exit 0, the file written, no part left (exit $st)" \
	sh -c '[ "$1" -eq 0 ] && [ -s "$2/-dash.csv" ] && ! ls "$2" | grep -q "part"' sh $st "$tmp"
check "-o FILE under umask 022: made 0600, customers' details for the owner only ($(stat -c %a "$tmp/-dash.csv"))" \
	[ "$(stat -c %a "$tmp/-dash.csv")" = 600 ]
check "-o -dash.csv: audited ok with its name, and the absolute path it names" \
	[ "$(q -c "SELECT metadata->>'status' || ' ' || (metadata->>'output') || ' ' || (metadata->>'output_path') FROM audit_logs ORDER BY id DESC LIMIT 1")" = "ok -dash.csv $(realpath "$tmp")/-dash.csv" ]
# -o a symlink: replaced by the file (mv -T), not followed; the audit row names it
ln -s "$tmp/elsewhere.csv" "$tmp/link.csv"
pipelines/export customers --project acme -o "$tmp/link.csv" >/dev/null 2>&1
check "-o a symlink: replaced by the export, not followed; output_path names it (exit $?)" \
	sh -c '[ -f "$1/link.csv" ] && ! [ -L "$1/link.csv" ] && ! [ -e "$1/elsewhere.csv" ] && [ "$2" = "$(realpath "$1")/link.csv" ]' \
	sh "$tmp" "$(q -c "SELECT metadata->>'output_path' FROM audit_logs ORDER BY id DESC LIMIT 1")"
# -o a relative FILE from a directory since removed: no absolute path to audit, none (it
# was '/gone.csv', a path never involved: audit-LOC 4)
mkdir "$tmp/gone"
(cd "$tmp/gone" && rmdir "$tmp/gone" && "$ROOT/pipelines/export" customers --project acme -o gone.csv >/dev/null 2>&1)
check "-o FILE from a removed directory: failed (exit $?), audited with no output_path" \
	[ "$(q -c "SELECT metadata->>'status' || ' ' || (metadata->>'output') || ' ' || coalesce(metadata->>'output_path', 'none') FROM audit_logs ORDER BY id DESC LIMIT 1")" = "failed gone.csv none" ]
pipelines/export customers --project acme -o - >"$tmp/stdout.csv" 2>/dev/null
check "-o -: the CSV on stdout (exit $?)" sh -c 'head -n 1 "$1" | grep -q "^provider,customer_id"' sh "$tmp/stdout.csv"
mkdir "$tmp/adir"
before=$(q -c "SELECT count(*) FROM audit_logs")
pipelines/export customers --project acme -o "$tmp/adir" >/dev/null 2>&1
check "-o DIRECTORY: exit 2 (exit $?)" [ $? -eq 2 ]
check "-o DIRECTORY: nothing written into it, no audit row" \
	sh -c '[ -z "$(ls -A "$1")" ] && [ "$2" = "$3" ]' sh "$tmp/adir" "$before" "$(q -c "SELECT count(*) FROM audit_logs")"

# 6c. a bare date is a UTC day, whatever the session's zone: in_1 was paid 2026-01-05T10:00Z
got=$(PGTZ=Pacific/Kiritimati pipelines/export payments --project acme --since 2026-01-05 --until 2026-01-05T10:00:01 2>/dev/null | tail -n +2 | cut -d, -f2 | tr -d '\r')
check "--since DATE, --until TIME without a zone are UTC under PGTZ=Pacific/Kiritimati (got '$got')" [ "$got" = in_1 ]

# 7. memory stays flat: 200,000 rows take about what 1,000 rows take (psql reads through a cursor)
q <<'EOF'
INSERT INTO payments (project_id, provider, payment_id, object, customer_id, amount_minor, currency, status, method, paid_at, state_occurred_at, state_event_id)
SELECT CASE WHEN i <= 1000 THEN 'small' ELSE 'big' END, 'stripe', 'in_' || i, 'invoice', 'cus_' || i, i * 7, 'BRL', 'succeeded', 'card',
	'2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute', '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute', 'evt_' || i
FROM generate_series(1, 201000) i;
EOF
# Under ASan freed memory waits in a quarantine (256 MB by default): turn it off for this
# measurement, so that resident size means the same in both builds.
peak() { # peak PROJECT: the largest resident size (KB) of the export's processes, and its row count
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 python3 - "$1" <<'EOF'
import resource, subprocess, sys
p = subprocess.run(["pipelines/export", "payments", "--project", sys.argv[1], "--actor", "tester"],
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
rows = p.stdout.count(b"\r\n") - 1
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rows, p.returncode)
EOF
}
read -r small_kb small_rows small_st <<<"$(peak small)"
read -r big_kb big_rows big_st <<<"$(peak big)"
check "200,000-row export: exit 0, every row written ($big_rows, $small_rows)" \
	[ "$big_st-$big_rows-$small_st-$small_rows" = 0-200000-0-1000 ]
check "200,000-row export: all rows, peak memory ${big_kb} KB vs ${small_kb} KB for 1,000 rows (under +16 MB)" [ $((big_rows == 200000 && big_kb < small_kb + 16384)) -eq 1 ]

# 8. a CSV that cannot be written, on an export larger than the pipes' buffers: to-csv dies
# first, psql of SIGPIPE behind it: said as a write failure, not a database one (audit-T 1)
last_audit() { q -c "SELECT metadata->>'status' || ' ' || coalesce(metadata->>'row_count', 'null') FROM audit_logs ORDER BY id DESC LIMIT 1"; }
audits() { q -c "SELECT count(*) FROM audit_logs"; }
pipelines/export payments --project big --actor tester >/dev/full 2>"$tmp/full.err"
st=$?
check "a full disk on a 200,000-row export: exit 3, a write failure, not the database's (exit $st: $(head -c 300 "$tmp/full.err"))" \
	sh -c '[ "$2" -eq 3 ] && grep -q "^export: writing the CSV failed" "$1" && ! grep -q "PostgreSQL" "$1"' sh "$tmp/full.err" $st
check "a full disk: audited as failed, its row count unknown ($(last_audit))" [ "$(last_audit)" = "failed null" ]
pipelines/export payments --project small --actor tester >/dev/full 2>"$tmp/full1.err"
st=$?
check "a full disk on a 1,000-row export: exit 3, a write failure, audited with no count (exit $st, $(last_audit))" \
	sh -c '[ "$2" -eq 3 ] && grep -q "^export: writing the CSV failed" "$1" && [ "$3" = "failed null" ]' sh "$tmp/full1.err" $st "$(last_audit)"
# a row longer than to-csv's 16M (a name PostgreSQL took): said as the row's, not as a failed
# write; no file; audited as failed (audit-CSV 3: "writing the CSV failed")
q -c "INSERT INTO customers (project_id, provider, customer_id, name, first_event_at) VALUES ('huge', 'stripe', 'cus_h', repeat('x', 17000000), now())"
pipelines/export customers --project huge --actor tester -o "$tmp/huge.csv" 2>"$tmp/huge.err"
st=$?
check "a row over 16M: exit 3, the row's fault said, no file, audited as failed (exit $st, $(last_audit): $(head -c 300 "$tmp/huge.err"))" \
	sh -c '[ "$2" -eq 3 ] && grep -q "line_too_long" "$1" && grep -q "^export: a row of customers could not be written as CSV (said above): the export failed" "$1" &&
	       ! grep -q "writing the CSV failed" "$1" && [ ! -e "$3" ] && [ "$4" = "failed null" ]' sh "$tmp/huge.err" $st "$tmp/huge.csv" "$(last_audit)"
# stdout closed (>&-): as a FILE that cannot be made, exit 3, said, audited as failed with
# 0 rows (it was exit 1, "1: Bad file descriptor", and no audit row)
before=$(q -c "SELECT count(*) FROM audit_logs")
pipelines/export payments --project small --actor tester >&- 2>"$tmp/closed.err"
st=$?
check "stdout closed: exit 3, one line: export: cannot write to stdout: Bad file descriptor (exit $st: $(head -c 300 "$tmp/closed.err"))" \
	sh -c '[ "$2" -eq 3 ] && [ "$(cat "$1")" = "export: cannot write to stdout: Bad file descriptor" ]' sh "$tmp/closed.err" $st
check "stdout closed: one audit row, failed, 0 rows ($(last_audit))" \
	[ "$(q -c "SELECT count(*) FROM audit_logs")-$(last_audit)" = "$((before + 1))-failed 0" ]
pipelines/export payments --project big --actor tester 2>"$tmp/head.err" | head -n 1 >"$tmp/head.csv"
st=${PIPESTATUS[0]}
check "| head -n 1: the header read, export ends quietly, exit 3 (exit $st: $(head -c 300 "$tmp/head.err"))" \
	sh -c '[ "$2" -eq 3 ] && [ ! -s "$1" ] && grep -q "^provider,payment_id" "$3"' sh "$tmp/head.err" $st "$tmp/head.csv"
check "| head -n 1: audited as failed, its row count unknown ($(last_audit))" [ "$(last_audit)" = "failed null" ]
# the same with SIGPIPE ignored (a parent's trap '' PIPE): to-csv's EPIPE is its quiet exit 3,
# and awk's "write failure" behind it no news (audit-E 2: three lines of awk and export)
(trap '' PIPE; pipelines/export payments --project big --actor tester 2>"$tmp/headi.err" | head -n 1 >"$tmp/headi.csv"
	echo "${PIPESTATUS[0]}" >"$tmp/headi.st")
st=$(cat "$tmp/headi.st")
check "| head -n 1, SIGPIPE ignored: the header read, exit 3, nothing said (exit $st: $(head -c 300 "$tmp/headi.err"))" \
	sh -c '[ "$2" -eq 3 ] && [ ! -s "$1" ] && grep -q "^provider,payment_id" "$3"' sh "$tmp/headi.err" $st "$tmp/headi.csv"
check "| head -n 1, SIGPIPE ignored: audited as failed, its row count unknown ($(last_audit))" [ "$(last_audit)" = "failed null" ]
# stderr closed (2>&-), with stdout or without: the export is made and audited, exit 0
# (audit-E 1: mawk aborted on its closed stderr, and the summary's echo ended the run
# under set -e: exit 1, no file, no audit row). Eight runs each: with stdout closed too,
# stderr was taken for open when the check's sed ran before the shell closed the pipe
# that held descriptor 2 (stop 56: one run in four on a loaded machine, exit 1, to-csv
# never run)
for closed in '2>&-' '>&- 2>&-'; do
	got="" was=$(audits)
	for i in 1 2 3 4 5 6 7 8; do
		rm -f "$tmp/ce.csv"
		eval "pipelines/export payments --project small --actor tester -o '$tmp/ce.csv' $closed"
		got="$got $?:$(wc -l <"$tmp/ce.csv" 2>/dev/null):$(last_audit | tr ' ' :)"
	done
	got="$got; audit rows $(($(audits) - was))"
	check "-o FILE with $closed, eight runs: each exit 0, the file whole, audited ok (exit:lines:audit$got)" \
		[ "$got" = "$(printf ' 0:1001:ok:1000%.0s' 1 2 3 4 5 6 7 8); audit rows 8" ]
done

# a full TMPDIR: refused before it starts, said, as one that does not exist (audit-E 3: the
# statuses unwritable, a CSV written was audited as failed, "to-csv exit 143")
if [ "$(id -u)" -ne 0 ]; then
	ok "a full TMPDIR # SKIP a tmpfs is mounted as root only"
elif mkdir -p "$tmp/fulltmp" && mount -t tmpfs -o size=64k tmpfs "$tmp/fulltmp"; then
	head -c 1M /dev/zero >"$tmp/fulltmp/fill" 2>/dev/null
	TMPDIR=$tmp/fulltmp pipelines/export payments --project small --actor tester -o "$tmp/ft.csv" 2>"$tmp/ft.err"
	st=$?
	check "a full TMPDIR: exit 3 ($st), said ($(head -c 200 "$tmp/ft.err")), no file, nothing left in it ($(ls "$tmp/fulltmp" | tr '\n' ' '))" \
		sh -c '[ "$1" -eq 3 ] && [ "$(cat "$2")" = "export: cannot write under $3 (TMPDIR): is it full?" ] && [ ! -e "$4" ] &&
			[ "$(ls "$3")" = fill ]' sh $st "$tmp/ft.err" "$tmp/fulltmp" "$tmp/ft.csv"
	# the CSV fills the disk TMPDIR is on: said, not taken for a reader gone (review R11 1:
	# to-csv's message went to a file that could not be written, and nothing was said)
	rm "$tmp/fulltmp/fill"
	TMPDIR=$tmp/fulltmp pipelines/export payments --project big --actor tester >"$tmp/fulltmp/big.csv" 2>"$tmp/ft2.err"
	st=$?
	check "a CSV that fills TMPDIR's disk: exit 3 ($st), the write failure said ($(head -c 200 "$tmp/ft2.err"))" \
		sh -c '[ "$1" -eq 3 ] && grep -q "No space left on device" "$2" && grep -q "^export: writing the CSV failed" "$2"' \
		sh $st "$tmp/ft2.err"
	umount "$tmp/fulltmp"
else
	notok "a full TMPDIR: a 64k tmpfs could not be mounted"
fi

# 9. a signal to export (a watchdog's kill) mid-stream: psql, awk and to-csv stopped with it,
# the export audited as failed (audit-P 1: no audit row, and its three streamed on)
mkdir -p "$tmp/sigtmp"
TMPDIR=$tmp/sigtmp pipelines/export payments --project big --actor tester 2>"$tmp/sig.err" \
	> >(head -c 100 >/dev/null; sleep 4) &
pid=$!
sleep 2
kill -TERM $pid
wait $pid
st=$?
sleep 1
check "SIGTERM mid-export: exit 143, said (exit $st: $(head -c 300 "$tmp/sig.err"))" \
	sh -c '[ "$2" -eq 143 ] && grep -q "^export: stopped by a signal" "$1" && ! grep -q "awk\|to-csv" "$1"' sh "$tmp/sig.err" $st
check "SIGTERM mid-export: audited as failed, no count ($(last_audit))" [ "$(last_audit)" = "failed null" ]
check "SIGTERM mid-export: its temporary directory removed, nothing left running in it" \
	sh -c '[ -z "$(ls -A "$1")" ]' sh "$tmp/sigtmp"

# ... and a SIGKILL, which no trap sees (timeout -s KILL, kill -9): a guard in the three's job
# stops them a second or two later and removes the part file of -o and the temporary
# directory (they streamed on unaudited, and the part file of customers' data stayed: audit-K 1)
mkdir -p "$tmp/killtmp" "$tmp/killout"
TMPDIR=$tmp/killtmp pipelines/export payments --project big --actor tester -o "$tmp/killout/p.csv" 2>/dev/null &
pid=$!
# the three started: the script's children in a process group of their own (200,000 rows
# take them longer than this poll)
for _ in $(seq 1 500); do
	job=$(ps -o pgid= --ppid "$pid" | awk -v me="$(ps -o pgid= -p "$pid")" '$1 != me { print $1; exit }')
	[ -n "$job" ] && break
	sleep 0.01
done
before=$(audits)
kill -KILL $pid
wait $pid
st=$?
group_gone "$job"
check "SIGKILL mid-export (exit $st): psql, awk and to-csv stopped 5 s later (group ${job:-none}: ${left:-none})" \
	sh -c '[ "$1" -eq 137 ] && [ -n "$2" ] && [ -z "$3" ]' sh $st "$job" "$left"
check "SIGKILL mid-export: no part file, no file, no temporary directory ($(ls -A "$tmp/killout" "$tmp/killtmp" | tr '\n' ' '))" \
	sh -c '[ -z "$(ls -A "$1")" ] && [ -z "$(ls -A "$2")" ]' sh "$tmp/killout" "$tmp/killtmp"
check "SIGKILL mid-export: no audit row (none can be written)" [ "$(audits)" = "$before" ]

# ... and the guard holds none of the caller's descriptors: a flock(1) lock around a run
# was held a second after it (review R13 1)
flock -n -E 99 "$tmp/fl.lock" pipelines/export payments --project small --actor tester -o "$tmp/fl.csv" 2>/dev/null
flock -n -E 99 "$tmp/fl.lock" true
st=$?
check "a flock(1) around export is free as soon as it ends (exit $st)" [ "$st" -eq 0 ]

# 10. a server that asks for a password, export run on a terminal without one: it never
# prompts (a prompt from the rows' psql, a background job, stopped it for good, Ctrl-C too:
# audit-K 2); the refusal is said with where to give it, exit 3. A role of its own, which
# the cluster asks a password of (the other tests' roles are trusted as before).
pwrole=ro_pw_$$
q -c "CREATE ROLE $pwrole LOGIN PASSWORD 'Pw1x'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO $pwrole"
hba=$(q -c "SHOW hba_file")
cp "$hba" "$tmp/hba.orig"
{ echo "local all $pwrole scram-sha-256"; cat "$tmp/hba.orig"; } >"$hba"
q -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
python3 - "$tmp/pty.out" pipelines/export payments --project big --dsn "dbname=ro_export_test user=$pwrole" -o "$tmp/pw.csv" <<'PY'
import os, pty, select, signal, sys, time
out, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
data, t0, st = b"", time.time(), None
while time.time() - t0 < 20:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        data += chunk
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        st = os.waitstatus_to_exitcode(status)
        break
if st is None:  # still waiting, at a prompt: stop it whole
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    os.waitpid(pid, 0)
    st = "hung"
open(out, "w").write("%s\n%s" % (st, data.decode("utf-8", "replace")))
PY
cp "$tmp/hba.orig" "$hba"
q -c "SELECT pg_reload_conf()" >/dev/null
check "a password asked, export on a terminal: no prompt, exit 3, where to give it said ($(head -c 400 "$tmp/pty.out" | tr '\r\n' '  '))" \
	sh -c '[ "$(head -n 1 "$1")" = 3 ] && ! grep -q "Password for user" "$1" && grep -q "never asks for a password" "$1"' sh "$tmp/pty.out"
q -c "DROP OWNED BY $pwrole; DROP ROLE $pwrole" >/dev/null

# 11. to-csv killed by a signal mid-export (the OOM killer's KILL): said once, by export,
# with its status, and audited as failed; not also by bash, with the script's own text
# ("line 396: 1234 Killed   "$to_csv" --money ..."). Installed as make install lays it out,
# with a to-csv that is killed after its first 1000 bytes.
mkdir -p "$tmp/inst/bin" "$tmp/inst/share/revenueos/pipelines"
cp pipelines/export "$tmp/inst/share/revenueos/pipelines/"
cp -r pipelines/lib "$tmp/inst/share/revenueos/pipelines/"
ln -s "$BIN/load" "$tmp/inst/bin/load"
printf '#!/bin/bash\ncase "$*" in *-c*) head -c 1000 >/dev/null; kill -KILL $$ ;; esac\nexec %q "$@"\n' "$BIN/to-csv" \
	>"$tmp/inst/bin/to-csv"
chmod +x "$tmp/inst/bin/to-csv"
"$tmp/inst/share/revenueos/pipelines/export" payments --project big --actor tester -o "$tmp/k.csv" 2>"$tmp/k.err"
st=$?
check "to-csv killed: exit 3 ($st), said by export alone ($(tr '\n' ' ' <"$tmp/k.err" | head -c 300)), audited failed ($(last_audit))" \
	sh -c '[ "$1" -eq 3 ] && grep -q "^export: writing the CSV failed (to-csv exit 137" "$2" && ! grep -qv "^export: " "$2" &&
		[ "$3" = "failed null" ] && [ ! -e "$4" ]' sh $st "$tmp/k.err" "$(last_audit)" "$tmp/k.csv"

psql -X -q -d postgres -c "DROP DATABASE ro_export_test" >/dev/null 2>&1
echo "1..$n"
