#!/usr/bin/env bash
# Copies of one event with different content (a provider resending a corrected event,
# Stripe's pending_webhooks counting down between retries): the copy received first is
# the one kept, in every table, whatever the order, the batches and the runs they come in.
. "$(dirname "$0")/lib/db.sh"

# One Hotmart purchase, sent twice: A at 10:00 with price 19.90, B at 11:00 with 24.90
# and another name (a resent, corrected notification).
hot() { # price name
	printf '{"id":"h-dup","creation_date":1795185005000,"event":"PURCHASE_APPROVED","version":"2.0.0","data":{"product":{"id":4112233},"buyer":{"email":"maria@example.com","name":"%s"},"purchase":{"transaction":"HPDUP","status":"APPROVED","price":{"value":%s,"currency_value":"BRL"}}}}\n' "$2" "$1"
}
hot 19.9 "Maria Silva" >"$T/a.json"
hot 24.9 "Maria S. Silva" >"$T/b.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$T/a.json" | normalize --emit-raw >"$T/A.ndjson"
fetch-events --project acme --received-at 2026-12-01T11:00:00Z "$T/b.json" | normalize --emit-raw >"$T/B.ndjson"

run() { # db files...: each file one run
	local db=$1 f
	shift
	for f in "$@"; do load --dsn "dbname=$db" $f 2>>"$T/load.err" || return 1; done
}
a=$(newdb copies_ab) && run "$a" "$T/A.ndjson" "$T/B.ndjson"
b=$(newdb copies_ba) && run "$b" "$T/B.ndjson" "$T/A.ndjson"
c=$(newdb copies_one) && run "$c" "$T/A.ndjson $T/B.ndjson"
d=$(newdb copies_sup) && run "$d" "$T/A.ndjson" "$T/B.ndjson $T/A.ndjson"
e=$(newdb copies_b1) && load --batch 1 --dsn "dbname=$e" "$T/B.ndjson" "$T/A.ndjson" 2>>"$T/load.err"
all_same() { same_state "$a" "$b" && same_state "$a" "$c" && same_state "$a" "$d" && same_state "$a" "$e"; }
check "A then B, B then A, both in one run, A then both, one record a batch: the same rows" all_same
for db in "$a" "$b" "$c" "$d"; do
	check "$db: the payment, the stored event and the raw payload are copy A's (19.90, received first)" \
		test "$(q "$db" "SELECT p.amount_minor || ' ' || (n.event #>> '{payment,amount_minor}') || ' '
			|| (r.payload #>> '{data,purchase,price,value}') || ' ' || regexp_replace(r.source, '.*/', '') || ' ' || c.name
			FROM payments p, external_events_normalized n, external_events_raw r, customers c
			WHERE n.external_event_id = 'h-dup' AND r.external_event_id = 'h-dup' AND c.customer_id = n.customer_id")" = \
		"1990 1990 19.9 a.json:1 Maria Silva"
done

# A later copy with other content is not kept, and says so (audit-RB 2): a notice with its
# line and the copy kept, counted in the summary; the exit status stays 0 (no error). An
# earlier copy replacing a stored one of other content says so too (review-R 1): whatever
# the order, each copy whose content is lost is said once.
NOT_KEPT='with other content: that copy is kept, not this one or its event'
NOT_KEPT_SUM='^load: [0-9]* of the unchanged records \(is a later copy\|are later copies\) of'
REPLACED='with other content: this copy replaces it and its event'
REPLACED_SUM='^load: [0-9]* of the updated records \(is an earlier copy\|are earlier copies\) that replaced'
said() { # db load-args...: load's stderr, the input's directory left out, and its exit status
	local db=$1
	shift
	load --dsn "dbname=$db" "$@" 2>&1 | sed "s#$T/##g"
	echo "exit ${PIPESTATUS[0]}"
}
notice="load: B.ndjson:1: hotmart raw event 'h-dup' (b.json:1): received after the copy from a.json:1, $NOT_KEPT"
n1=$(newdb copies_said_ab) && said "$n1" "$T/A.ndjson" >/dev/null
check "B after A, another run: said not kept, with its line and the copy kept; counted; exit 0" \
	test "$(said "$n1" "$T/B.ndjson")" = "$notice
load: read 2 (raw 1, events 1), inserted 0, updated 0, unchanged 2, failed 0, ignored 0, rejected 0
load: 1 of the unchanged records is a later copy of a stored event with other content (said above): the copy received first is kept
exit 0"
n2=$(newdb copies_said_one) && n3=$(newdb copies_said_rev) && n4=$(newdb copies_said_b1)
check "A and B in one batch, in either order, and a record a batch: B said not kept" \
	test "$(said "$n2" "$T/A.ndjson" "$T/B.ndjson" | head -1)|$(said "$n3" "$T/B.ndjson" "$T/A.ndjson" | head -1)|$(said "$n4" --batch 1 "$T/A.ndjson" "$T/B.ndjson" | head -1)" = "$notice|$notice|$notice"
n5=$(newdb copies_said_ba) && said "$n5" "$T/B.ndjson" >/dev/null
check "B then A in two runs: A, received first, replaces B (updated), said so" \
	test "$(said "$n5" "$T/A.ndjson")" = "load: A.ndjson:1: hotmart raw event 'h-dup' (a.json:1): received before the copy stored from b.json:1, $REPLACED
load: read 2 (raw 1, events 1), inserted 0, updated 2, unchanged 0, failed 0, ignored 0, rejected 0
load: 1 of the updated records is an earlier copy that replaced a stored one with other content (said above)
exit 0"
check "and its pipeline_runs row counts it" \
	test "$(q "$n5" "SELECT string_agg((detail->>'not_kept') || ' ' || (detail->>'replaced'), ', ' ORDER BY id) FROM pipeline_runs")" = "0 0, 0 1"
grep '"record":"raw"' "$T/B.ndjson" >"$T/B_raw.ndjson"
hot 29.9 "Maria Silva" >"$T/d.json"
fetch-events --project acme --received-at 2026-12-01T12:00:00Z "$T/d.json" | normalize --emit-raw >"$T/D.ndjson"
n6=$(newdb copies_said_q) && said "$n6" "$T/A.ndjson" >/dev/null
check "quiet (cron re-reading the same dumps every few minutes): nothing said" \
	test "$(said "$n6" -q "$T/B_raw.ndjson" "$T/D.ndjson")" = "exit 0"
check "not quiet: B's raw record alone and D, other content too, each said, and counted" \
	test "$(said "$n6" "$T/B_raw.ndjson" "$T/D.ndjson" | grep -v '^load: read')" = "load: B_raw.ndjson:1: hotmart raw event 'h-dup' (b.json:1): received after the copy from a.json:1, $NOT_KEPT
load: D.ndjson:1: hotmart raw event 'h-dup' (d.json:1): received after the copy from a.json:1, $NOT_KEPT
load: 2 of the unchanged records are later copies of stored events with other content (said above): the copies received first are kept
exit 0"
check "and each run's pipeline_runs row: A 0, then 2 and 2 (quiet or not), its files still named" \
	test "$(q "$n6" "SELECT string_agg((detail->>'not_kept') || ':' || jsonb_array_length(detail->'files'), ' ' ORDER BY id) FROM pipeline_runs")" = "0:1 2:2 2:2"

# A Hotmart v1 cancellation (callback_type 2) is dated at its arrival: a retry of the same
# bytes differs only in that, which is no news (review-S 1), in either order or one batch
printf '{"transaction":"HPCB1","status":"approved","prod":"4112233","off":"k2x9mq7t","price":"19.90","currency":"BRL","email":"ana@example.com","payment_engine":"hotmart","callback_type":"2","subscriber_code":"SUBCB","subscription_status":"canceled","recurrency_period":"30","confirmation_purchase_date":"2026-11-20T14:29:58Z","subscription_date_next_charge":"2026-12-20T00:00:00Z","recurrency":"3"}\n' >"$T/cb.json"
cp "$T/cb.json" "$T/cb_retry.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$T/cb.json" | normalize --emit-raw >"$T/CB1.ndjson"
fetch-events --project acme --received-at 2026-12-01T10:00:30Z "$T/cb_retry.json" | normalize --emit-raw >"$T/CB2.ndjson"
cb1=$(newdb copies_cb_12) && said "$cb1" -q "$T/CB1.ndjson" >/dev/null
cb2=$(newdb copies_cb_21) && said "$cb2" -q "$T/CB2.ndjson" >/dev/null
cb3=$(newdb copies_cb_one)
check "a v1 cancellation and its retry, in two runs either way or one batch: nothing said" \
	test "$(said "$cb1" "$T/CB2.ndjson" | grep -c -e "$NOT_KEPT" -e "$REPLACED") $(said "$cb2" "$T/CB1.ndjson" | grep -c -e "$NOT_KEPT" -e "$REPLACED") $(said "$cb3" "$T/CB1.ndjson" "$T/CB2.ndjson" | grep -c -e "$NOT_KEPT" -e "$REPLACED")" = "0 0 0"
check "and nothing counted" test "$(q "$cb1" "SELECT sum((detail->>'not_kept')::int + (detail->>'replaced')::int) FROM pipeline_runs")" = 0

# Copies tied on received_at and source (the runbook's replace, fed twice in one input): the
# last read is stored, and it is the one said to replace the stored copy (review-S 2)
hot 49.9 "Maria Silva" >"$T/a49.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z --source "$T/a.json:1" <"$T/a49.json" | normalize --emit-raw >"$T/A49.ndjson"
tie=$(newdb copies_said_tie) && said "$tie" -q "$T/B.ndjson" >/dev/null
check "a tie: the copy read last is stored and named" \
	test "$(said "$tie" "$T/A.ndjson" "$T/A49.ndjson" | grep -e "$REPLACED")|$(q "$tie" "SELECT payload #>> '{data,purchase,price,value}' FROM external_events_raw")" = \
	"load: A49.ndjson:1: hotmart raw event 'h-dup' (a.json:1): received before the copy stored from b.json:1, $REPLACED|49.9"

# A copy under another project is refused, raw row and event, in one batch with the
# event's first copy as in two runs; no notice (review-S 3: in one batch its raw row was
# counted unchanged before)
fetch-events --project other --received-at 2026-12-01T11:00:00Z "$T/b.json" | normalize --emit-raw >"$T/Y.ndjson"
pj=$(newdb copies_said_project)
check "another project's later copy in the batch: both its records refused (db_rejected), nothing said, exit 1" \
	test "$(said "$pj" "$T/A.ndjson" "$T/Y.ndjson" | grep -c -e db_rejected -e "$NOT_KEPT" -e '^exit 1$')|$(said "$pj" "$T/A.ndjson" "$T/Y.ndjson" | grep -c "$NOT_KEPT")" = "3|0"

# Stripe retries: the same event, pending_webhooks 2 then 1. The raw row holds the first.
stripe() { # pending_webhooks
	printf '{"id":"evt_pw","object":"event","api_version":"2024-06-20","created":1795185005,"livemode":false,"pending_webhooks":%s,"type":"customer.created","data":{"object":{"id":"cus_pw","object":"customer","email":"pw@example.com"}}}\n' "$1"
}
stripe 2 >"$T/p2.json"
stripe 1 >"$T/p1.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$T/p2.json" | normalize --emit-raw >"$T/P2.ndjson"
fetch-events --project acme --received-at 2026-12-01T10:05:00Z "$T/p1.json" | normalize --emit-raw >"$T/P1.ndjson"
f=$(newdb copies_pw1) && run "$f" "$T/P1.ndjson" "$T/P2.ndjson"
g=$(newdb copies_pw2) && run "$g" "$T/P2.ndjson $T/P1.ndjson"
h=$(newdb copies_pw3) && run "$h" "$T/P2.ndjson" "$T/P1.ndjson"
for db in "$f" "$g" "$h"; do
	check "$db: the raw row is the first retry's (pending_webhooks 2)" \
		test "$(q "$db" "SELECT payload->>'pending_webhooks' FROM external_events_raw WHERE external_event_id = 'evt_pw'")" = 2
done
check "a later retry is no other content: nothing said" test "$(said "$h" "$T/P1.ndjson" | grep -c "$NOT_KEPT")" = 0

# A retry or a dashboard replay differs only in pending_webhooks, which says how it was
# delivered: it brings what a fixed normalizer makes of it, as a same-payload copy does
# (it was dropped as other content: a replay after a fix, or after a plan mapping was
# added, changed nothing)
fetch-events --project acme --received-at 2026-12-01T10:05:00Z "$T/p1.json" | normalize --emit-raw \
	| jq -c 'if .record == "event" then .customer.name = "Fixed Name" else . end' >"$T/P1fix.ndjson"
k=$(newdb copies_pwfix) && run "$k" "$T/P2.ndjson" "$T/P1fix.ndjson"
check "a later retry (pending_webhooks only) applies its event, the raw row stays the first's" \
	test "$(q "$k" "SELECT (n.event #>> '{customer,name}') || ' ' || (r.payload->>'pending_webhooks') || ' ' || c.name
		FROM external_events_normalized n, external_events_raw r, customers c WHERE n.external_event_id = 'evt_pw'
		AND r.external_event_id = 'evt_pw' AND c.customer_id = 'cus_pw'")" = "Fixed Name 2 Fixed Name"

# A later copy with the same payload still brings what a fixed normalizer makes of it
# (a re-run over the dumps from stdin: received now): here a plan mapping that appeared.
i=$(newdb copies_rerun) && run "$i" "$T/A.ndjson"
fetch-events --project acme --received-at 2026-12-02T00:00:00Z "$T/a.json" | normalize --emit-raw \
	| jq -c 'if .record == "event" then .customer.name = "Maria Renamed" else . end' >"$T/A2.ndjson"
run "$i" "$T/A2.ndjson"
check "a later copy with the same payload updates the canonical event (a normalizer fix), keeping the first copy's source" \
	test "$(q "$i" "SELECT n.event #>> '{customer,name}' || ' ' || regexp_replace(n.source, '.*/', '') || ' ' || c.name FROM external_events_normalized n, customers c
		WHERE n.external_event_id = 'h-dup' AND c.customer_id = n.customer_id")" = "Maria Renamed a.json:1 Maria Renamed"
# The same when the batch is replayed a record at a time (PostgreSQL refused a row of it):
# each event goes with its raw row again.
j=$(newdb copies_replay) && run "$j" "$T/A.ndjson"
cat "$T/B.ndjson" <(sed -n 7p "$ROOT/fixtures/db/malformed.ndjson") | load --dsn "dbname=$j" 2>"$T/replay.err"
check "a later copy in a replayed batch: the refused row is rejected, the copy not kept" \
	sh -c "grep -q db_rejected '$T/replay.err' && test \"\$(psql -qXAt -d $j -c \"SELECT amount_minor FROM payments WHERE payment_id = 'HPDUP'\")\" = 1990"
check "and said not kept once the batch is committed, as the whole batch would" \
	test "$(grep -c "^load: <stdin>:1: hotmart raw event 'h-dup' (${T}/b.json:1): received after the copy from ${T}/a.json:1, $NOT_KEPT\$" "$T/replay.err")" = 1
# Replayed in halves (a row refused), B then A in one input: the halves load as two runs
# would, and B's content, replaced by A's, is still said once (review-R 1)
k2=$(newdb copies_replay_ba)
cat "$T/B.ndjson" "$T/A.ndjson" <(sed -n 7p "$ROOT/fixtures/db/malformed.ndjson") | load --dsn "dbname=$k2" 2>"$T/replay2.err"
check "B then A in a replayed batch: B's loss said once, the raw row A's" \
	test "$(grep -c -e "(${T}/b.json:1): received after the copy from ${T}/a.json:1, $NOT_KEPT\$" \
		-e "(${T}/a.json:1): received before the copy stored from ${T}/b.json:1, $REPLACED\$" "$T/replay2.err") $(q "$k2" "SELECT regexp_replace(source, '.*/', '') FROM external_events_raw WHERE external_event_id = 'h-dup'")" = "1 a.json:1"
# Dumps deep in a directory tree: a source is said by its end, both copies' files and lines
# (review-R 2: the first 80 bytes of each were the same directory)
L=$T/srv/webhooks/2026-12-01/hotmart-endpoint-production-acme-sa-east-1-with-a-longer-name
mkdir -p "$L" && cp "$T/a.json" "$L/hotmart-2026-12-01T10.json" && cp "$T/b.json" "$L/hotmart-2026-12-01T11.json"
long=$(newdb copies_long)
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$L/hotmart-2026-12-01T10.json" | normalize --emit-raw | load -q --dsn "dbname=$long"
fetch-events --project acme --received-at 2026-12-01T11:00:00Z "$L/hotmart-2026-12-01T11.json" | normalize --emit-raw |
	load --dsn "dbname=$long" 2>"$T/long.err"
check "long dump paths: cut at the front, each file and line said" grep -q \
	"^load: <stdin>:1: hotmart raw event 'h-dup' (\.\.\..*-longer-name/hotmart-2026-12-01T11\.json:1): received after the copy from \.\.\..*-longer-name/hotmart-2026-12-01T10\.json:1, $NOT_KEPT\$" "$T/long.err"
# An event that failed in a first run (a normalizer since fixed) and is processed in a
# re-run over the same dump read later (from stdin, or after its mtime changed): its
# canonical event takes the first copy's received_at and source, as its raw row and its
# log row keep them and as a clean load of both copies would. So does a log row whose
# raw envelope came alone before (fetch-events | load, then the whole pipeline).
fetch-events --project acme --received-at 2026-12-02T00:00:00Z "$T/a.json" | normalize --emit-raw >"$T/A3.ndjson"
jq -c 'if .record == "event" then .status = "failed" | .reason = "a bug since fixed" | .event_type = null
	| .customer = null | .payment = null | .subscription = null else . end' "$T/A.ndjson" >"$T/A_failed.ndjson"
f1=$(newdb copies_fixed) && run "$f1" "$T/A_failed.ndjson" "$T/A3.ndjson"
f2=$(newdb copies_fixed_clean) && run "$f2" "$T/A.ndjson $T/A3.ndjson"
when() { q "$1" "SELECT string_agg(to_char(received_at AT TIME ZONE 'UTC', 'DD HH24') || ' ' || regexp_replace(source, '.*/', ''), ' | ' ORDER BY t)
	FROM (SELECT 'r' t, received_at, source FROM external_events_raw UNION ALL SELECT 'n', received_at, source FROM external_events_normalized
	UNION ALL SELECT 'e', received_at, source FROM external_events) x"; }
check "failed, then processed in a later copy: every table keeps the first copy's received_at and source ($(when "$f1"))" \
	test "$(when "$f1")" = "01 10 a.json:1 | 01 10 a.json:1 | 01 10 a.json:1"
# (attempts counts the loads that changed the event's outcome: 2 here, by design)
check "the log counts two outcomes" test "$(q "$f1" "SELECT attempts FROM external_events")" = 2
# (and its last_processed_at is the run that changed the outcome, after the first run's)
check "the changed outcome moves last_processed_at past first_processed_at" \
	test "$(q "$f1" "SELECT last_processed_at > first_processed_at FROM external_events")" = t
psql -qXAt -d "$f1" -c "UPDATE external_events SET attempts = 1" >/dev/null
check "and the database is a clean load's" same_state "$f1" "$f2"
grep '"record":"raw"' "$T/A.ndjson" >"$T/A_raw.ndjson"
f3=$(newdb copies_raw_alone) && run "$f3" "$T/A_raw.ndjson" "$T/A3.ndjson"
check "a raw envelope alone, then a later copy with its event: the first copy's in every table ($(when "$f3"))" \
	test "$(when "$f3")" = "01 10 a.json:1 | 01 10 a.json:1 | 01 10 a.json:1"
check "and the database is a clean load's" same_state "$f3" "$f2"

# The replay of docs/load.md: the payload the database holds, fed back under its stored
# received_at and source (fetch-events --source), is the stored copy itself: nothing moves,
# and a canonical event gone wrong is made again from it. Read as '<stdin>:1', the least
# source at the same time, it took the raw row's and the log's source from a dump named
# as a cron job in its directory names it ("a.json": '<' sorts before it, not before '/').
(cd "$T" && fetch-events --project acme --received-at 2026-12-01T10:00:00Z a.json | normalize --emit-raw) >"$T/A_rel.ndjson"
r1=$(newdb copies_replayed) && run "$r1" "$T/A_rel.ndjson"
psql -qXAt -d "$r1" -c "UPDATE external_events_normalized SET event = jsonb_set(event, '{provider_event_type}', '\"X\"')" >/dev/null
replay() {
	local at src
	at=$(q "$r1" "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM external_events_raw")
	src=$(q "$r1" "SELECT source FROM external_events_raw")
	q "$r1" "SELECT payload FROM external_events_raw" |
		fetch-events --project acme --received-at "$at" --source "$src" | normalize --emit-raw |
		load --dsn "dbname=$r1" 2>>"$T/load.err"
}
replay
check "a replay keeps the stored copy's received_at and source in every table ($(when "$r1"))" \
	test "$(when "$r1")" = "01 10 a.json:1 | 01 10 a.json:1 | 01 10 a.json:1"
r2=$(newdb copies_replayed_clean) && run "$r2" "$T/A_rel.ndjson"
check "and makes its event again: the database is a clean load's" same_state "$r1" "$r2"
# (B's copies not kept are said, as notices: counted below)
check "the loads reported no error" test -z "$(grep -v -e '^load: read' -e "$NOT_KEPT\$" -e "$NOT_KEPT_SUM" -e "$REPLACED\$" -e "$REPLACED_SUM" "$T/load.err")"

# A database whose collation is not C (ICU's en-US sorts 'a' before 'B'): two copies
# received at the same instant are still told apart by their sources' bytes, as stream
# reconcile tells them ('B' is 0x42, 'a' 0x61): the copy from B.json is kept, in every
# order and batching, as in a C database.
hot 24.9 "Maria S. Silva" >"$T/B.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$T/B.json" | normalize --emit-raw >"$T/Bt.ndjson"
icu_db() {
	local db=ro_$1_$$
	dbs="$dbs $db"
	createdb -T template0 --locale-provider=icu --icu-locale=en-US "$db" &&
		load --migrate --dsn "dbname=$db" 2>/dev/null &&
		q "$db" "INSERT INTO plan_prices VALUES ('stripe', 'price_starter_m', 'starter'), ('stripe', 'price_pro_m', 'pro')" &&
		echo "$db"
}
kept() { q "$1" "SELECT (SELECT amount_minor FROM payments WHERE payment_id = 'HPDUP') || ' ' || string_agg(regexp_replace(source, '.*/', ''), ' ' ORDER BY t)
	FROM (SELECT 'r' t, source FROM external_events_raw UNION ALL SELECT 'n', source FROM external_events_normalized
	UNION ALL SELECT 'e', source FROM external_events) x"; }
ti=$(icu_db copies_icu_ab) && run "$ti" "$T/A.ndjson" "$T/Bt.ndjson"
check "en-US database: a tie of received_at keeps B.json's copy, the least source byte by byte ($(kept "$ti"))" \
	test "$(kept "$ti")" = "2490 B.json:1 B.json:1 B.json:1"
tj=$(icu_db copies_icu_ba) && run "$tj" "$T/Bt.ndjson" "$T/A.ndjson"
tk=$(icu_db copies_icu_one) && run "$tk" "$T/A.ndjson $T/Bt.ndjson"
tl=$(icu_db copies_icu_b1) && load --batch 1 --dsn "dbname=$tl" "$T/A.ndjson" "$T/Bt.ndjson" 2>>"$T/load.err"
tc=$(newdb copies_c_ab) && run "$tc" "$T/A.ndjson" "$T/Bt.ndjson"
all_tie() { same_state "$tc" "$ti" && same_state "$tc" "$tj" && same_state "$tc" "$tk" && same_state "$tc" "$tl"; }
check "and in every order and batching, the same rows as in a C database" all_tie

# The copy received first comes without its event, after a later copy loaded whole: alone
# (fetch-events | load), or with an event load refuses (audit-load 1). The later copy's
# canonical event, log row and what they gave the state tables are not kept when its
# content is other (B); with the same content (A3) they take the first copy's received_at
# and source. Every order, run and batching ends as loading the first copy first does.
jq -c 'if .record == "event" then .payment.currency = "brl" else . end' "$T/A.ndjson" >"$T/A_bad.ndjson"
: >"$T/load2.err"
runs() { # db files...: each file one run, whatever its exit status (A_bad's is 1)
	local db=$1 f
	shift
	for f in "$@"; do load --dsn "dbname=$db" $f 2>>"$T/load2.err"; [ $? -le 1 ] || return 1; done
}
for first in A_raw A_bad; do
	for later in B A3; do
		ref=$(newdb copies_${first}_$later) && runs "$ref" "$T/$first.ndjson" "$T/$later.ndjson"
		o1=$(newdb copies_${first}_${later}_o1) && runs "$o1" "$T/$later.ndjson" "$T/$first.ndjson" "$T/$later.ndjson"
		o2=$(newdb copies_${first}_${later}_o2) && runs "$o2" "$T/$later.ndjson $T/$first.ndjson"
		o3=$(newdb copies_${first}_${later}_o3) &&
			load --batch 1 --dsn "dbname=$o3" "$T/$first.ndjson" "$T/$later.ndjson" 2>>"$T/load2.err"
		o4=$(newdb copies_${first}_${later}_o4) &&
			load --batch 1 --dsn "dbname=$o4" "$T/$later.ndjson" "$T/$first.ndjson" 2>>"$T/load2.err"
		check "$first, $later: later first, in one run, a record a batch: the tables of $first first" \
			sh -c "$(declare -f state same_state q); STATE_TABLES='$STATE_TABLES' T='$T'; same_state $ref $o1 && same_state $ref $o2 && same_state $ref $o3 && same_state $ref $o4"
		if [ "$later" = B ]; then
			check "$first, B: the raw row is A's (19.9), and nothing else holds the event" test \
				"$(q "$o1" "SELECT (SELECT string_agg(payload #>> '{data,purchase,price,value}', ' ') FROM external_events_raw)
					|| ' ' || (SELECT count(*) FROM external_events_normalized) || (SELECT count(*) FROM external_events)
					|| (SELECT count(*) FROM payments) || (SELECT count(*) FROM customers)")" = "19.9 0000"
		else
			check "$first, A3: every row holds the first copy's time and source ($(when "$o1"))" \
				test "$(when "$o1")" = "01 10 a.json:1 | 01 10 a.json:1 | 01 10 a.json:1"
		fi
	done
done
# B after A's raw row (stored, or in the batch) is said not kept each time: ref, o1's last
# run, o2, o3; not o4, whose B was stored first and then replaced by A (updated). A3 never.
notices() { grep -c -e "(${T}/$1:1): received after the copy from ${T}/a.json:1, $NOT_KEPT\$" "$2"; }
replaced() { grep -c -e "(${T}/a.json:1): received before the copy stored from ${T}/b.json:1, $REPLACED\$" "$1"; }
check "each of the 8 loads of B after A was said not kept, A3 never ($(notices b.json "$T/load2.err") $(notices a.json "$T/load2.err"))" \
	test "$(notices b.json "$T/load2.err") $(notices a.json "$T/load2.err")" = "8 0"
# and A replacing B stored before: o1 (B, A, B) and o4 (B, then A, a record a batch), for each first
check "each of the 4 loads of A after B stored was said to replace it ($(replaced "$T/load2.err"))" \
	test "$(replaced "$T/load2.err")" = 4
# Three copies, the second's content other and the third's the first's (review 1): in one
# batch the third's event is the one kept (not the second's, gone with it), as in three runs
cp "$T/a.json" "$T/c.json"
fetch-events --project acme --received-at 2026-12-01T12:00:00Z "$T/c.json" | normalize --emit-raw >"$T/C.ndjson"
for first in A_raw A_bad; do
	ref=$(newdb copies3_$first) && runs "$ref" "$T/$first.ndjson" "$T/B.ndjson" "$T/C.ndjson"
	o1=$(newdb copies3_${first}_one) && runs "$o1" "$T/$first.ndjson $T/B.ndjson $T/C.ndjson"
	o2=$(newdb copies3_${first}_b1) && load --batch 1 --dsn "dbname=$o2" "$T/$first.ndjson" "$T/B.ndjson" "$T/C.ndjson" 2>>"$T/load2.err"
	o3=$(newdb copies3_${first}_rev) && runs "$o3" "$T/C.ndjson $T/B.ndjson $T/$first.ndjson"
	check "$first, B, C: in three runs, one, a record a batch, one run in reverse: the same tables, the payment 19.90 ($(q "$ref" "SELECT string_agg(amount_minor::text, ' ') FROM payments"))" \
		sh -c "$(declare -f state same_state q); STATE_TABLES='$STATE_TABLES' T='$T'; same_state $ref $o1 && same_state $ref $o2 && same_state $ref $o3 && test \"\$(q $ref 'SELECT string_agg(amount_minor::text, chr(32)) FROM payments')\" = 1990"
done
refused=$(grep -c "invalid_field" "$T/load2.err") other=$(grep -v -e '^load: read' -e 'not an ISO 4217 code' -e 'input line rejected' \
	-e "(${T}/b.json:1): received after the copy from ${T}/a.json:1, $NOT_KEPT\$" -e "$NOT_KEPT_SUM" \
	-e "(${T}/a.json:1): received before the copy stored from ${T}/b.json:1, $REPLACED\$" -e "$REPLACED_SUM" "$T/load2.err" | wc -l)
check "those loads refused A_bad's event alone, each of the 14 times ($refused; $other other lines)" test "$refused $other" = "14 0"
check "and said B not kept in each of the 16 loads of B after A, C (A's content) never ($(notices b.json "$T/load2.err") $(notices c.json "$T/load2.err"))" \
	test "$(notices b.json "$T/load2.err") $(notices c.json "$T/load2.err")" = "16 0"

# Re-injecting a corrected payload (audit-RB 2, the runbook's "re-inject"): as a new copy it is
# not kept, the first received is; given the stored copy's received_at and source, as
# docs/load.md says, it replaces it: the event processed, its payment there, one more attempt.
bad=$(newdb reinject)
sed 's/"currency_value":"BRL"/"currency_value":"ZZZZ"/' "$T/a.json" >"$T/bad.json"
fetch-events --project acme --received-at 2026-12-01T10:00:00Z "$T/bad.json" | normalize --emit-raw |
	load --dsn "dbname=$bad" 2>/dev/null
check "a payload normalize fails is stored failed, no payment" \
	test "$(q "$bad" "SELECT status || ' ' || attempts || ' ' || (SELECT count(*) FROM payments) FROM external_events WHERE external_event_id = 'h-dup'")" = "failed 1 0"
fetch-events --project acme <"$T/a.json" 2>/dev/null | normalize --emit-raw | load --dsn "dbname=$bad" 2>/dev/null
check "the corrected payload as a new copy: not kept, the event still failed" \
	test "$(q "$bad" "SELECT status || ' ' || (SELECT count(*) FROM payments) FROM external_events WHERE external_event_id = 'h-dup'")" = "failed 0"
at=$(q "$bad" "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM external_events_raw WHERE external_event_id = 'h-dup'")
src=$(q "$bad" "SELECT source FROM external_events_raw WHERE external_event_id = 'h-dup'")
fetch-events --project acme --received-at "$at" --source "$src" <"$T/a.json" | normalize --emit-raw |
	load --dsn "dbname=$bad" 2>/dev/null
check "under the stored copy's received_at and source: processed, its payment, one more attempt, the source kept" \
	test "$(q "$bad" "SELECT l.status || ' ' || l.attempts || ' ' || p.amount_minor || ' ' || (r.source = '$src') || ' ' || (r.payload #>> '{data,purchase,price,currency_value}')
		FROM external_events l, payments p, external_events_raw r WHERE l.external_event_id = 'h-dup' AND r.external_event_id = 'h-dup'")" = "processed 2 1990 true BRL"

# Of copies in one dump (one received_at), the earlier line is received first: line 9
# before line 10 (audit-LR 1: as text, "d.json:10" sorted before "d.json:9", and the
# later copy was kept, its other amount booked). Eight other events, then copy A at
# line 9 and copy B at line 10; in one run, line by line in reverse, and a batch each.
{
	for i in 1 2 3 4 5 6 7 8; do
		printf '{"id":"h-fill-%s","creation_date":1795185005000,"event":"PURCHASE_APPROVED","version":"2.0.0","data":{"product":{"id":4112233},"buyer":{"email":"f%s@example.com","name":"F"},"purchase":{"transaction":"HPF%s","status":"APPROVED","price":{"value":5,"currency_value":"BRL"}}}}\n' "$i" "$i" "$i"
	done
	hot 19.9 "Maria Silva"
	hot 24.9 "Maria S. Silva"
} >"$T/d.json"
ingest_stream "$T/d.json" >"$T/D.ndjson"
kept() { q "$1" "SELECT regexp_replace(r.source, '.*/', '') || ' ' || p.amount_minor || ' ' || regexp_replace(n.source, '.*/', '')
	|| ' ' || regexp_replace(e.source, '.*/', '') FROM external_events_raw r, payments p, external_events_normalized n, external_events e
	WHERE r.external_event_id = 'h-dup' AND n.external_event_id = 'h-dup' AND e.external_event_id = 'h-dup' AND p.payment_id = 'HPDUP'"; }
l1=$(newdb copies_line_one) && load --dsn "dbname=$l1" "$T/D.ndjson" 2>"$T/err"
check "copies at lines 9 and 10 of one dump: line 9's kept, in every table (got $(kept "$l1"))" \
	test "$(kept "$l1")" = "d.json:9 1990 d.json:9 d.json:9"
check "and line 10's said as not kept" grep -q "d.json:10).*received after the copy from .*d.json:9" "$T/err"
l2=$(newdb copies_line_rev) && load_reversed "$l2" "$T/D.ndjson"
l3=$(newdb copies_line_b1) && load --batch 1 --dsn "dbname=$l3" "$T/D.ndjson" 2>/dev/null
line_same() { same_state "$l1" "$l2" && same_state "$l1" "$l3"; }
check "the same line by line in reverse, and a record a batch" line_same
# identical copies at lines 5, 21 and 40: the source is line 5's
{
	for i in $(seq 1 40); do
		case $i in 5 | 21 | 40) hot 19.9 "Maria Silva" ;; *) printf '{"id":"h-fill-%s","creation_date":1795185005000,"event":"PURCHASE_APPROVED","version":"2.0.0","data":{"product":{"id":4112233},"buyer":{"email":"f%s@example.com","name":"F"},"purchase":{"transaction":"HPF%s","status":"APPROVED","price":{"value":5,"currency_value":"BRL"}}}}\n' "$i" "$i" "$i" ;; esac
	done
} >"$T/s.json"
l4=$(newdb copies_line_same) && ingest_stream "$T/s.json" | load --dsn "dbname=$l4" 2>/dev/null
check "identical copies at lines 5, 21 and 40: every table says line 5 (got $(kept "$l4"))" \
	test "$(kept "$l4")" = "s.json:5 1990 s.json:5 s.json:5"

# Copies of one event without their raw envelopes (canonical events loaded alone), or a later
# such copy of an event stored with its envelope: the first copy's is kept whatever the
# batches and runs, as in one batch. Across batches the later copy's content and outcome
# replaced the stored one's under the first copy's time and source (audit-B 1, 2): a failed
# event became ignored, a payment of 19.90 became 24.90, and an event was lost over three runs.
grep '"record":"event"' "$T/A.ndjson" >"$T/Aev.ndjson"
grep '"record":"event"' "$T/B.ndjson" >"$T/Bev.ndjson"
grep '"record":"raw"' "$T/A.ndjson" >"$T/Araw.ndjson"
x1=$(newdb copies_ev_one) && load --dsn "dbname=$x1" "$T/Aev.ndjson" "$T/Bev.ndjson" 2>>"$T/load.err"
x2=$(newdb copies_ev_b1) && load --batch 1 --dsn "dbname=$x2" "$T/Aev.ndjson" "$T/Bev.ndjson" 2>>"$T/load.err"
x3=$(newdb copies_ev_runs) && run "$x3" "$T/Aev.ndjson" "$T/Bev.ndjson"
check "two copies' events alone, in one batch or a record a batch: the same rows" same_state "$x1" "$x2"
check "and in two runs" same_state "$x1" "$x3"
check "and copy A's payment (19.90, received first)" \
	test "$(q "$x2" "SELECT amount_minor FROM payments WHERE payment_id = 'HPDUP'")-$(q "$x3" "SELECT amount_minor FROM payments WHERE payment_id = 'HPDUP'")" = "1990-1990"
x4=$(newdb copies_pair_then_ev) && run "$x4" "$T/A.ndjson" "$T/Bev.ndjson"
check "A with its envelope, then B's event alone in another run: A's payment kept" \
	test "$(q "$x4" "SELECT p.amount_minor || ' ' || (n.event #>> '{payment,amount_minor}') FROM payments p, external_events_normalized n
		WHERE p.payment_id = 'HPDUP' AND n.external_event_id = 'h-dup'")" = "1990 1990"
grep '"record":"raw"' "$T/B.ndjson" >"$T/Braw.ndjson"
x5=$(newdb copies_three_runs) && run "$x5" "$T/Aev.ndjson" "$T/Braw.ndjson" "$T/Araw.ndjson"
x6=$(newdb copies_three_one) && run "$x6" "$T/Aev.ndjson $T/Braw.ndjson $T/Araw.ndjson"
check "A's event alone, B's envelope alone, A's envelope alone, as three runs: A's event kept (it went with B's raw row)" \
	test "$(q "$x5" "SELECT amount_minor FROM payments WHERE payment_id = 'HPDUP'")" = 1990
check "(three runs and one run agree)" same_state "$x5" "$x6"
