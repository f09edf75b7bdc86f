#!/usr/bin/env bash
# A subscription's scheduled end, cancel_at: stored whatever its date, followed as the
# subscription's events come (undone, in any order); and sql/011's backfill of what an
# older release stored gives what the loader writes now.
. "$(dirname "$0")/lib/db.sh"
fx=$ROOT/fixtures/stripe

# The contract end undone a minute later (cancel_at back to null).
python3 - "$fx/customer.subscription.updated.cancel_at.json" >"$T/undo.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
e["id"] = "evt_FakeSubCancelAt2"
e["created"] += 60
o = e["data"]["object"]
o["cancel_at"] = o["canceled_at"] = o["cancellation_details"] = None
print(json.dumps(e))
PY
ingest_stream "$fx/customer.subscription.updated.json" "$fx/customer.subscription.updated.flexible_cancel.json" \
	"$fx/customer.subscription.updated.cancel_at.json" >"$T/in.ndjson"
ingest_stream "$T/undo.json" >"$T/undo.ndjson"
sub() { q "$1" "SELECT coalesce(to_char(cancel_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-')
	|| ' ' || coalesce(cancel_at_period_end::text, '-') FROM subscriptions WHERE subscription_id = '$2'"; }

a=$(newdb cancel_at)
load --dsn "dbname=$a" "$T/in.ndjson" 2>/dev/null
check "classic: cancel_at beside cancel_at_period_end" test "$(sub "$a" sub_Fake2020001)" = "2020-12-12 12:26:40 true"
check "flexible, at the period's end: cancel_at, and so at period end" \
	test "$(sub "$a" sub_FakeFlex0001)" = "2026-10-21 14:13:20 true"
check "a contract's end on another date: cancel_at, not at period end" \
	test "$(sub "$a" sub_FakeCancelAt01)" = "2026-12-15 00:00:00 false"
load --dsn "dbname=$a" "$T/in.ndjson" 2>"$T/err"
check "a re-run changes nothing" grep -q 'inserted 0, updated 0, unchanged 6' "$T/err"
load --dsn "dbname=$a" "$T/undo.ndjson" 2>/dev/null
check "undone by a later event: null again" test "$(sub "$a" sub_FakeCancelAt01)" = "- false"

# The same events the other way round, in one batch: the later event still wins.
b=$(newdb cancel_at_rev)
cat "$T/undo.ndjson" "$T/in.ndjson" | load --dsn "dbname=$b" 2>/dev/null
check "in reverse order, one batch: the same" test "$(sub "$b" sub_FakeCancelAt01)" = "- false"
state "$a" >"$T/a"
state "$b" >"$T/b"
check "and the same database" diff -q "$T/a" "$T/b"

# sql/011 on what an older release stored: no cancel_at in the stored events, the
# subscriptions without it, 11 field stamps. Its backfill (from the raw payloads) gives
# the rows the loader writes, and re-running the input finds every event unchanged.
c=$(newdb cancel_at_old)
ingest_stream "$fx/invoice.paid.json" "$fx/invoice.payment_succeeded.2016.json" >"$T/inv.ndjson"
load --dsn "dbname=$c" "$T/in.ndjson" "$T/inv.ndjson" 2>/dev/null
check "a subscription only invoices set has the 12 field stamps" \
	test "$(q "$c" "SELECT string_agg(DISTINCT cardinality(fill_event_id)::text, ',') FROM subscriptions WHERE fill_event_id IS NOT NULL")" = 12
state "$c" strict >"$T/before"
q "$c" "UPDATE external_events_normalized SET event = event #- '{subscription,cancel_at}'
	WHERE event -> 'subscription' ? 'cancel_at';
	UPDATE subscriptions SET cancel_at = NULL, fill_occurred_at = fill_occurred_at[1:11],
	fill_event_id = fill_event_id[1:11]" >/dev/null
check "(the older state differs)" test "$(sub "$c" sub_FakeCancelAt01)" = "- false"
sed -n '/^WITH v AS/,$p' "$ROOT/sql/011_subscription_cancel_at.sql" | psql -qX -d "$c" -v ON_ERROR_STOP=1 >/dev/null
state "$c" strict >"$T/after"
check "sql/011's backfill gives what the loader writes" diff "$T/before" "$T/after"
load --dsn "dbname=$c" "$T/in.ndjson" "$T/inv.ndjson" 2>"$T/err"
check "and the input re-run finds it unchanged" grep -q 'inserted 0, updated 0,' "$T/err"

# A database before sql/011: this loader needs its column and says so; migrated, it loads.
d=$(db_before cancel_at_pre 011)
load --dsn "dbname=$d" "$T/in.ndjson" 2>"$T/err"
st=$?
check "before sql/011: exit 3, 'run load --migrate first' (exit $st)" \
	test $st -eq 3 -a "$(grep -c "older than this loader (it needs sql/ up to [0-9]*_[a-z_]*\.sql): run 'load --migrate' first" "$T/err")" -eq 1
load --migrate --dsn "dbname=$d" 2>/dev/null && load --dsn "dbname=$d" "$T/in.ndjson" 2>/dev/null
check "migrated, it loads the same" test "$(sub "$d" sub_FakeCancelAt01)" = "2026-12-15 00:00:00 false"
