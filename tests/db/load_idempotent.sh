#!/usr/bin/env bash
# Loading the same input twice, or overlapping dumps, leaves the database identical.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/db

a=$(newdb idem_a) && ok "migrate a fresh database" || not_ok "migrate a fresh database"
check "migrate again is a no-op" sh -c "load --migrate --dsn dbname=$a 2>&1 | grep -q 'schema up to date'"
# an older release's directory (a stale $RO_SQL_DIR) is not "up to date": it says what it lacks
mkdir "$T/oldsql" && cp "$ROOT"/sql/00[1-5]_*.sql "$T/oldsql/"
RO_SQL_DIR=$T/oldsql load --migrate --dsn "dbname=$a" 2>"$T/stale"
st=$?
n_new=$(($(ls "$ROOT"/sql/[0-9]*.sql | wc -l) - 5))
check "a stale migrations directory: exit $st, the migrations it does not hold named, not 'up to date'" \
	sh -c "test $st = 0 && grep -q \"the database has $n_new migrations that '$T/oldsql' does not hold (the last: $(basename "$(ls "$ROOT"/sql/[0-9]*.sql | tail -n 1)"))\" '$T/stale' && ! grep -q 'up to date' '$T/stale'"

# only NNN_*.sql files are migrations: a note, an editor's backup or a hidden file beside
# them is not applied (mutation audit MUT-P: L52 ran a 999_readme.md as SQL, exit 3)
mkdir "$T/sqlplus" && cp "$ROOT"/sql/* "$T/sqlplus/"
echo 'read me first' >"$T/sqlplus/999_readme.md"
echo 'DROP TABLE external_events_raw;' >"$T/sqlplus/999_drop.sql~"
echo 'DROP TABLE external_events_raw;' >"$T/sqlplus/.999_drop.sql"
p=$(newdb idem_plus)
load --migrate --dsn "dbname=$p" --sql-dir "$T/sqlplus" 2>"$T/plus"
st=$?
check "files beside the migrations are not migrations: exit $st, up to date ($(head -n 1 "$T/plus"))" \
	sh -c "test $st = 0 && grep -q 'schema up to date' '$T/plus' && test '$(q "$p" "SELECT to_regclass('external_events_raw') IS NOT NULL")' = t"

load --dsn "dbname=$a" "$fx/basic.ndjson" 2>"$T/err1"
check "first load exits 0" test $? -eq 0
check "first load summary" grep -q 'read 22 (raw 11, events 11), inserted 22, updated 0, unchanged 0, failed 1, ignored 1, rejected 0' "$T/err1"
state "$a" strict >"$T/first"
load --dsn "dbname=$a" "$fx/basic.ndjson" 2>"$T/err2"
check "second load exits 0" test $? -eq 0
check "second load finds everything unchanged" grep -q 'inserted 0, updated 0, unchanged 22' "$T/err2"
state "$a" strict >"$T/second"
check "loading twice leaves every table identical (timestamps too)" diff "$T/first" "$T/second"

# An overlapping dump: the same events copied into another file that arrived later,
# loaded before and after the original.
python3 -c '
import json, sys, datetime
for line in open(sys.argv[1]):
	o = json.loads(line)
	t = datetime.datetime.strptime(o["received_at"], "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(hours=1)
	o["received_at"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
	o["source"] = o["source"].replace("basic", "copy")
	print(json.dumps(o, separators=(",", ":"), ensure_ascii=False))
' "$fx/basic.ndjson" >"$T/copy.ndjson"
load --dsn "dbname=$a" "$T/copy.ndjson" "$fx/upgrade.ndjson" 2>/dev/null
state "$a" strict >"$T/third"
check "an overlapping later dump changes nothing" diff "$T/first" "$T/third"
b=$(newdb idem_b)
cat "$T/copy.ndjson" "$fx/basic.ndjson" "$T/copy.ndjson" | load --dsn "dbname=$b" 2>/dev/null
check "overlapping dumps in any order give the same rows (earliest copy kept)" same_state "$a" "$b"
check "the earliest received copy is the one kept" \
	test "$(q "$b" "SELECT source FROM external_events_raw WHERE external_event_id = 'evt_c1'")" = dumps/basic.ndjson:1

check "pipeline_runs records each run" \
	test "$(q "$a" "SELECT count(*) FROM pipeline_runs WHERE finished_at IS NOT NULL AND exit_status = 0")" = 3
check "failed and ignored events are one query away" \
	test "$(q "$a" "SELECT string_agg(external_event_id || ':' || status || ':' || reason, ',' ORDER BY external_event_id)
		FROM external_events WHERE status IN ('failed', 'ignored')")" = \
	"evt_f1:failed:missing field 'data.object.amount',evt_x1:ignored:unsupported event type 'invoice.upcoming'"
check "ignored events are normalized, failed ones are not" \
	test "$(q "$a" "SELECT string_agg(status, ',' ORDER BY status) FROM external_events_normalized
		WHERE external_event_id IN ('evt_f1', 'evt_x1')")" = ignored
check "a partial customer section never erases a known name" \
	test "$(q "$a" "SELECT name || ',' || email || ',' || country FROM customers WHERE customer_id = 'cus_1'")" = "Ann Lee,ann@example.com,US"
check "payments keep money as integer minor units and currency" \
	test "$(q "$a" "SELECT amount_minor || ' ' || currency FROM payments WHERE payment_id = 'HP17'")" = "19790 BRL"
check "raw payload survives tabs, newlines and backslashes" \
	test "$(q "$a" "SELECT payload->'data'->'object'->>'note' FROM external_events_raw WHERE external_event_id = 'evt_p1'")" = "$(printf 'tab\there, newline\\n and a backslash \\ ok')"
q "$a" "UPDATE integrations SET last_event_at = now() - interval '25 hours'"
check "freshness view says stale after 24 h" \
	test "$(q "$a" "SELECT string_agg(provider || ':' || state, ',' ORDER BY provider) FROM integration_freshness_view")" = "hotmart:stale,stripe:stale"
q "$a" "UPDATE integrations SET last_event_at = now() - interval '7 hours' WHERE provider = 'stripe';
	UPDATE integrations SET last_event_at = now() - interval '1 hour' WHERE provider = 'hotmart'"
check "freshness: slow after 6 h, fresh before" \
	test "$(q "$a" "SELECT string_agg(provider || ':' || state, ',' ORDER BY provider) FROM integration_freshness_view")" = "hotmart:fresh,stripe:slow"
q "$a" "UPDATE settings SET value = '8 hours' WHERE key = 'freshness.slow_after'"
check "freshness thresholds come from settings" \
	test "$(q "$a" "SELECT state FROM integration_freshness_view WHERE provider = 'stripe'")" = fresh
# sql/020: a threshold that is no interval, not above zero, or a slow_after past stale_after
# is refused where it is written (the view cast it, and failed for everyone after a typo)
for v in "'8 hourz'" "'0 hours'" "'30 hours'"; do
	err=$(q "$a" "UPDATE settings SET value = $v WHERE key = 'freshness.slow_after'" 2>&1) && st=0 || st=$?
	check "settings freshness.slow_after = $v: refused, said ($err)" sh -c "test $st != 0 && printf %s \"\$1\" | grep -q 'settings.*freshness.slow_after'" _ "$err"
done
check "the view still reads, with the value before" \
	test "$(q "$a" "SELECT slow_after FROM integration_freshness_view WHERE provider = 'stripe'")" = "08:00:00"
q "$a" "BEGIN; UPDATE settings SET value = '30 hours' WHERE key = 'freshness.slow_after';
	UPDATE settings SET value = '2 days' WHERE key = 'freshness.stale_after'; COMMIT"
check "both raised in one transaction, in either order" \
	test "$(q "$a" "SELECT slow_after || ' ' || stale_after FROM integration_freshness_view WHERE provider = 'stripe'")" = "30:00:00 2 days"
# sql/023: an integration's own thresholds too (they were taken as written: '-1 hour' made a
# feed heard from minutes ago 'stale'; a slow_after past stale_after never read 'slow')
for set in "stale_after = '-1 hour'" "slow_after = '0'" "slow_after = '3 days'" "stale_after = '1 hour'"; do
	err=$(q "$a" "UPDATE integrations SET $set WHERE provider = 'stripe'" 2>&1) && st=0 || st=$?
	check "integrations SET $set: refused, said ($err)" sh -c "test $st != 0 && printf %s \"\$1\" | grep -q 'integrations'" _ "$err"
done
check "the integration's thresholds are still the settings'" \
	test "$(q "$a" "SELECT slow_after || ' ' || stale_after || ' ' || state FROM integration_freshness_view WHERE provider = 'stripe'")" = "30:00:00 2 days fresh"
q "$a" "BEGIN; UPDATE integrations SET stale_after = '2 hours' WHERE provider = 'stripe';
	UPDATE integrations SET slow_after = '1 hour' WHERE provider = 'stripe'; COMMIT"
check "both set in one transaction, in either order" \
	test "$(q "$a" "SELECT slow_after || ' ' || stale_after FROM integration_freshness_view WHERE provider = 'stripe'")" = "01:00:00 02:00:00"
# sql/031: settings that would put an integration's slow_after past its own stale_after are
# refused, naming it (audit-RB 2: taken, the integration never read 'slow')
q "$a" "UPDATE settings SET value = '1 hour' WHERE key = 'freshness.slow_after'"
q "$a" "UPDATE integrations SET slow_after = NULL WHERE provider = 'stripe'"
err=$(q "$a" "UPDATE settings SET value = '3 hours' WHERE key = 'freshness.slow_after'" 2>&1) && st=0 || st=$?
check "settings whose slow_after passes an integration's own stale_after: refused, naming it ($err)" \
	sh -c "test $st != 0 && printf %s \"\$1\" | grep -q 'integrations (.*, stripe) would read slow_after 03:00:00 and stale_after 02:00:00'" _ "$err"
check "and nothing changed" \
	test "$(q "$a" "SELECT slow_after || ' ' || stale_after FROM integration_freshness_view WHERE provider = 'stripe'")" = "01:00:00 02:00:00"
# The state reads the integration's own stale_after before the setting's (docs/schema.md:
# NULL = the settings), and a row with no last_event_at (made by hand) is stale.
q "$a" "UPDATE integrations SET stale_after = '7 hours', last_event_at = now() - interval '8 hours' WHERE provider = 'stripe';
	UPDATE integrations SET last_event_at = NULL WHERE provider = 'hotmart'"
check "its own stale_after 7 h, the setting's 2 days, heard from 8 h ago: stale" \
	test "$(q "$a" "SELECT stale_after || ' ' || state FROM integration_freshness_view WHERE provider = 'stripe'")" = "07:00:00 stale"
check "no last_event_at: stale" \
	test "$(q "$a" "SELECT coalesce(last_event_at::text, '-') || ' ' || state FROM integration_freshness_view WHERE provider = 'hotmart'")" = "- stale"

# sql/028: a threshold not above zero stored before sql/023 (its checks NOT VALID) made every
# write of the row refused, the loader's last_event_at among them: every event of that
# integration rejected after the upgrade (audit-UP 1). Migrated, the row's thresholds are
# cleared, said, and the events load. A loader refuses the database until then.
check_needs_migration thr 028 "$ROOT/fixtures/db/basic.ndjson"
u=$(db_before thr_up 023)
dbs="$dbs $u"
q "$u" "INSERT INTO projects (id) VALUES ('acme');
	INSERT INTO integrations (project_id, provider, slow_after, stale_after) VALUES ('acme', 'stripe', '1 hour', '-1 hour'),
		('acme', 'hotmart', '0', '2 hours')" >/dev/null
load --migrate --dsn "dbname=$u" 2>"$T/mig"
check "a threshold below zero stored before sql/023: --migrate clears the row's, said" sh -c \
	"grep -q 'integrations (.*stripe): a threshold not above zero, stored before sql/023, cleared' '$T/mig' &&
	 test \"\$(psql -qXAt -d '$u' -c \"SELECT coalesce(slow_after::text, '-') || coalesce(stale_after::text, '-') FROM integrations WHERE provider = 'stripe'\")\" = --"
# (zero is not above zero either: a slow_after of 0 is cleared too, and said)
check "a slow_after of zero stored before sql/023: cleared as well, said" sh -c \
	"grep -q 'integrations (.*hotmart): a threshold not above zero, stored before sql/023, cleared' '$T/mig' &&
	 test \"\$(psql -qXAt -d '$u' -c \"SELECT coalesce(slow_after::text, '-') || coalesce(stale_after::text, '-') FROM integrations WHERE provider = 'hotmart'\")\" = --"
check "and its checks hold for every row (validated)" \
	test "$(q "$u" "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname LIKE 'integrations_%_above_zero'")" = t
sed 's/evt_/evt_up_/g' "$ROOT/fixtures/db/basic.ndjson" >"$T/basic_up.ndjson"
load --dsn "dbname=$u" "$T/basic_up.ndjson" 2>"$T/err"
check "then its events load (exit $?)" sh -c "test $? -eq 0 && ! grep -q db_rejected '$T/err'"

# The payload goes to COPY as its own bytes, escaped for COPY's text format a word
# at a time: every byte COPY escapes (backslash, and tab, CR as JSON whitespace),
# quotes and non-ASCII text, at each offset of a word, arrive as they were.
b=$(newdb idem_esc)
python3 -c '
import json
for k in range(41):
	pad = "x" * k
	texts = [pad + "\\\\a", pad + "\\\"q\\n\\t\\r", pad + "\\u00e9\u00e9\U0001F600", pad + "\\\\"]
	payload = "{\"id\":\"evt_esc%d\",\"object\":\"event\",\"type\":\"ping\",\"created\":1793527200,\t\"s\":[%s],\r\"t\":\t\"%s\"}" % (
		k, ",".join("\"%s\"" % t for t in texts), pad)
	json.loads(payload)
	print("{\"record\":\"raw\",\"provider\":\"stripe\",\"external_event_id\":\"evt_esc%d\",\"event_type\":\"ping\",\"project_id\":\"p\",\"occurred_at\":null,\"received_at\":\"2026-11-01T10:00:00Z\",\"source\":\"esc.ndjson:%d\",\"payload\":%s}" % (k, k + 1, payload))
' >"$T/esc.ndjson"
load --dsn "dbname=$b" "$T/esc.ndjson" 2>"$T/esc.err"
check "payloads with escapes at every offset load" grep -q 'inserted 41, .*rejected 0' "$T/esc.err"
q "$b" "SELECT payload FROM external_events_raw ORDER BY external_event_id" >"$T/esc.out"
check "and are stored as they were" python3 -c '
import json, sys
want = sorted((json.loads(l)["payload"] for l in open(sys.argv[1], newline="\n")), key=lambda p: p["id"])
got = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if want == got and len(got) == 41 else 1)
' "$T/esc.ndjson" "$T/esc.out"
# A payload key written twice, once with escapes: the last copy is the payload, as
# json-c and PostgreSQL read it (the loader builds it rather than copy the first one's bytes)
printf '%s\n' '{"record":"raw","provider":"stripe","external_event_id":"evt_dup","event_type":"ping","project_id":"p","occurred_at":null,"received_at":"2026-11-01T10:00:00Z","source":"dup.ndjson:1","payload":{"id":"evt_dup","v":1},"p\u0061yload":{"id":"evt_dup","v":2}}' >"$T/dup.ndjson"
load --dsn "dbname=$b" "$T/dup.ndjson" 2>/dev/null
check "a payload key written twice: the last copy is stored" \
	test "$(q "$b" "SELECT payload->>'v' FROM external_events_raw WHERE external_event_id = 'evt_dup'")" = 2
# A canonical event is stored from its line's bytes without received_at and source;
# a line that spells a top-level key with escapes is rebuilt by json-c: the same event
sed -n 2p "$fx/basic.ndjson" >"$T/ev_plain.ndjson"
sed 's/"source":/"sour\\u0063e":/; s/"livemode":/"l\\u0069vemode":/' "$T/ev_plain.ndjson" >"$T/ev_esc.ndjson"
c=$(newdb idem_evp) && e=$(newdb idem_eve)
load --dsn "dbname=$c" "$T/ev_plain.ndjson" 2>/dev/null
load --dsn "dbname=$e" "$T/ev_esc.ndjson" 2>/dev/null
check "an event line with escaped keys is stored as the plain one" \
	test "$(q "$c" "SELECT event FROM external_events_normalized")" = "$(q "$e" "SELECT event FROM external_events_normalized")"
check "and neither keeps received_at or source" \
	test "$(q "$c" "SELECT count(*) FROM external_events_normalized WHERE event ? 'received_at' OR event ? 'source'")" = 0

# A database a newer release migrated (a migration this loader does not know) is refused,
# said: a loader of an older release wrote what its schema knew, and the newer one's
# stamps, never set, made later events wrong without a word (audit-UP 2)
v=$(newdb newer)
q "$v" "INSERT INTO schema_migrations (version) VALUES ('999_from_a_newer_release.sql')" >/dev/null
load --dsn "dbname=$v" "$ROOT/fixtures/db/basic.ndjson" 2>"$T/err"
st=$?
check "a schema newer than the loader: exit 3, said ($(head -c 160 "$T/err"))" sh -c \
	"test $st = 3 && grep -q 'the database schema is newer than this loader (it has 999_from_a_newer_release.sql)' '$T/err' &&
	 test \"\$(psql -qXAt -d '$v' -c 'SELECT count(*) FROM external_events_raw')\" = 0"
