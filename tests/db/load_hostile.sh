#!/usr/bin/env bash
# Hostile records through fetch-events | normalize --emit-raw | load: each one the database
# cannot take is rejected with its line and a code while the rest of its batch lands, and a
# re-run changes nothing. Text with quotes, backslashes and control characters arrives byte
# for byte; no secret is stored.
. "$(dirname "$0")/lib/db.sh"

rej_codes() { # FILE: the --rejects file's "line:code" pairs
	python3 -c 'import json,sys; print(" ".join("%d:%s" % (r["line"], r["code"]) for r in map(json.loads, open(sys.argv[1]))))' "$1"
}
ev() { # ID OBJECT-MEMBERS: a Stripe customer.created event
	printf '{"id":"%s","object":"event","type":"customer.created","created":1795000000,"data":{"object":{"object":"customer",%s}}}\n' "$1" "$2"
}
# 3000 bytes that do not compress: past what a btree index entry holds (2704)
long=$(python3 -c 'import hashlib; print("".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range(47))[:3000])')
{
	ev evt_ok1 '"id":"cus_ok1","email":"ok1@x"'
	ev "evt_$long" '"id":"cus_long"'
	ev evt_idx '"id":"cus_'"$long"'"'
	ev evt_sur '"id":"cus_sur","email":"a\ud800b"'
	ev evt_nul '"id":"cus_nul","description":"a\u0000b"'
	ev evt_txt '"id":"cus_\t\n\r\\\"'"'"'\u0001\u007f,;|\\N\\.","name":"Ünï 🎉 \\. end"'
	ev evt_ok2 '"id":"cus_ok2","email":"ok2@x"'
} >"$T/dump.ndjson"
fetch-events --project acme --received-at 2026-11-25T00:00:00Z "$T/dump.ndjson" 2>"$T/err1" |
	normalize --emit-raw >"$T/stream" 2>"$T/err2"
check "fetch-events and normalize take every line" test ! -s "$T/err1" -a ! -s "$T/err2"

db=$(newdb hostile)
load --dsn "dbname=$db" --batch 100 --rejects "$T/rej" "$T/stream" 2>"$T/err"
check "exit 1: some records rejected" test $? -eq 1
got=$(rej_codes "$T/rej")
# lines 3-4: the long event id (raw and event); 6: the event naming cus_<long> (its raw has
# no such index); 7: the lone surrogate's raw (its event holds U+FFFD); 9: the \u0000's raw
check "a value too large for an index and text jsonb refuses: db_rejected at their lines ($got)" \
	test "$got" = "3:db_rejected 4:db_rejected 6:db_rejected 7:db_rejected 9:db_rejected"
check "the message names the index" grep -q ":3: stripe raw event 'evt_[0-9a-f]*' (.*): postgres: index row size" "$T/err"
check "the rest of the batch landed" \
	test "$(q "$db" "SELECT string_agg(external_event_id, ',' ORDER BY external_event_id) FROM external_events_raw")" = \
	evt_idx,evt_ok1,evt_ok2,evt_txt
check "quotes, backslashes and control characters arrive byte for byte" \
	test "$(q "$db" "SELECT count(*) FROM customers WHERE customer_id = E'cus_\\t\\n\\r\\\\\"''\\x01\\x7f,;|\\\\N\\\\.' AND name = 'Ünï 🎉 \\. end'")" = 1
check "and in the raw payload" \
	test "$(q "$db" "SELECT payload #>> '{data,object,id}' = (SELECT customer_id FROM customers WHERE name LIKE 'Ün%') FROM external_events_raw WHERE external_event_id = 'evt_txt'")" = t
state "$db" >"$T/before"
load --dsn "dbname=$db" --batch 100 "$T/stream" 2>"$T/err"
check "a re-run: exit 1 again, the same rejects" \
	test $? -eq 1 -a "$(grep -c db_rejected "$T/err")" -eq 5
state "$db" >"$T/after"
check "and it changes nothing" diff -q "$T/before" "$T/after"

# A later copy of a stored event, its content other (a corrected resend) and its payload one
# jsonb refuses: its raw row is refused, and so is its event, which no stored raw row holds;
# the stored copy is kept (docs/schema.md), whichever copy is loaded first, and a re-run of
# both settles. Before, the event was loaded alone and replaced the stored one's: the
# customer's e-mail flipped on every run.
ev evt_ok1 '"id":"cus_ok1","email":"changed@x","description":"a\u0000b"' >"$T/later.ndjson"
fetch-events --project acme --received-at 2026-11-26T00:00:00Z "$T/later.ndjson" 2>/dev/null |
	normalize --emit-raw >"$T/later" 2>/dev/null
load --dsn "dbname=$db" --rejects "$T/rej" "$T/later" 2>"$T/err"
got=$(rej_codes "$T/rej")
check "a later copy with a payload jsonb refuses: its raw and its event rejected ($got)" \
	test "$got" = "1:db_rejected 2:db_rejected"
check "the event's message says the stored copy is kept" \
	grep -q ":2: stripe event 'evt_ok1' (.*): its raw envelope was refused, and another copy of the event is stored: that one is kept (db_rejected)" "$T/err"
check "the stored copy's e-mail stays" test "$(q "$db" "SELECT email FROM customers WHERE customer_id = 'cus_ok1'")" = ok1@x
db2=$(newdb hostile_later_first)
load --dsn "dbname=$db2" "$T/later" 2>/dev/null
load --dsn "dbname=$db2" --batch 100 "$T/stream" 2>/dev/null
load --dsn "dbname=$db2" "$T/later" 2>/dev/null
check "loaded first, that copy's event gives way to the stored copy's" \
	test "$(q "$db2" "SELECT email FROM customers WHERE customer_id = 'cus_ok1'")" = ok1@x
state "$db" >"$T/before"
load --dsn "dbname=$db" --batch 100 "$T/stream" "$T/later" 2>/dev/null
load --dsn "dbname=$db" --batch 100 "$T/stream" "$T/later" 2>"$T/err"
state "$db" >"$T/after"
check "a re-run of both changes nothing" diff -q "$T/before" "$T/after"
check "and counts every loaded record unchanged" grep -q "updated 0, unchanged" "$T/err"

# An id holding U+FFFD (an escaped lone surrogate: "evt_\ud800" and "evt_\udbff" both read
# as evt_U+FFFD) is refused as invalid_field, in an envelope and in an event written by
# another tool; normalize fails such events itself (golden/normalize-surrogate-ids).
db=$(newdb fffd)
{
	grep '"evt_ok1"' "$T/stream" | sed 's/"evt_ok1"/"evt_\\ud800"/'
	grep '"evt_ok2"' "$T/stream" | sed '/"record":"event"/s/"cus_ok2"/"cus_\\udc00"/'
} >"$T/fffd.ndjson"
load --dsn "dbname=$db" --rejects "$T/rej" "$T/fffd.ndjson" 2>"$T/err"
check "exit 1: ids with U+FFFD rejected" test $? -eq 1
got=$(rej_codes "$T/rej")
check "invalid_field at the lines of both records of evt_\\ud800 and of the event naming cus_\\udc00 ($got)" \
	test "$got" = "1:invalid_field 2:invalid_field 4:invalid_field"
check "the message says why" grep -q ":1: .*field 'external_event_id' contains U+FFFD" "$T/err"
check "the good raw row landed, nothing else" \
	test "$(q "$db" "SELECT string_agg(external_event_id, ',') FROM external_events_raw")/$(q "$db" "SELECT count(*) FROM external_events_normalized")/$(q "$db" "SELECT count(*) FROM customers")" = evt_ok2/0/0

# Blank lines carry no record here either; a file that cannot be opened is named, the
# others load, exit 3.
db=$(newdb blank)
{ printf ' \n\t\r\n'; head -n 2 "$T/stream"; printf '   \n'; } >"$T/blank.ndjson"
load --dsn "dbname=$db" "$T/blank.ndjson" "$T/no-such-file" 2>"$T/err"
st=$?
check "a missing input file: exit 3, named (exit $st)" \
	test $st -eq 3 -a "$(grep -c "cannot open '$T/no-such-file'" "$T/err")" -eq 1
check "and blank lines are not rejected, the records beside them loaded" \
	grep -q 'read 2 (raw 1, events 1), inserted 2, .* rejected 0' "$T/err"
check "the run is recorded with exit status 3" \
	test "$(q "$db" "SELECT exit_status FROM pipeline_runs")" = 3

# A payload's hottok is never stored, even in an envelope fetch-events did not write; bare
# payloads through normalize --emit-raw load (they have a received_at).
db=$(newdb secret)
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
	"$ROOT/fixtures/hotmart/purchase_approved.json" >"$T/bare.ndjson"
fetch-events --received-at 2026-11-25T00:00:00Z "$T/bare.ndjson" |
	sed 's/"payload":{/"payload":{"hottok":"FAKE-HOTTOK-X",/' >"$T/env.ndjson"
load --dsn "dbname=$db" "$T/env.ndjson" 2>"$T/err"
check "an envelope with a hottok in its payload loads (exit $?)" grep -q 'inserted 1,' "$T/err"
check "without the hottok" test "$(q "$db" "SELECT count(*) FROM external_events_raw WHERE payload ? 'hottok' OR payload::text LIKE '%FAKE-HOTTOK%'")" = 0
db=$(newdb bare)
normalize --emit-raw "$T/bare.ndjson" | load --dsn "dbname=$db" 2>"$T/err"
check "bare payloads through normalize --emit-raw load (exit $?)" grep -q 'inserted 2, .* rejected 0' "$T/err"
check "without the hottok" test "$(q "$db" "SELECT count(*) FROM external_events_raw WHERE payload::text LIKE '%HOTTOK%'")" = 0

# Nor in a canonical event another tool wrote (audit-load): a hottok member, at the top and
# in a section, and a client_secret, whether the event's text is stored as it came or
# written out again (a section's time in another zone)
db=$(newdb secret_event)
normalize --emit-raw "$T/bare.ndjson" |
	sed -e '/"record":"event"/s/"customer":{/"hottok":"FAKE-HOTTOK-E","customer":{"client_secret":"pi_1_secret_FAKECSEVENT1","X-Hotmart-Hottok":"FAKE-HOTTOK-F",/' >"$T/ev_secret.ndjson"
sed -e '/"record":"event"/s/"\(paid_at\)":"\([0-9-]*\)T\([0-9:]*\)Z"/"\1":"\2T\3+00:00"/' "$T/ev_secret.ndjson" >"$T/ev_secret2.ndjson"
load --dsn "dbname=$db" "$T/ev_secret.ndjson" 2>"$T/err"
check "an event with secret members loads (exit $?)" grep -q 'inserted 2, .* rejected 0' "$T/err"
db2=$(newdb secret_event2)
load --dsn "dbname=$db2" "$T/ev_secret2.ndjson" 2>"$T/err"
check "and one written out again (a time at +00:00: $(grep -c '+00:00' "$T/ev_secret2.ndjson") line)" grep -q 'inserted 2, .* rejected 0' "$T/err"
check "the stored events hold none of them, the rest kept" test "$(q "$db" "SELECT count(*) FROM external_events_normalized WHERE event::text ~ 'FAKE|hottok|client_secret'") $(q "$db2" "SELECT count(*) FROM external_events_normalized WHERE event::text ~ 'FAKE|hottok|client_secret'") $(q "$db" "SELECT count(*) FROM customers WHERE email IS NOT NULL")" = "0 0 1"

# An escaped lone surrogate in an event's text another tool wrote (audit-load 3): refused
# (invalid_field), whether the text would go to PostgreSQL as it came (whose jsonb refuses
# it) or be written out again (a section's time in another zone: json-c made it U+FFFD)
normalize --emit-raw "$T/bare.ndjson" | sed -e '/"record":"event"/s/"name":"\([^"]*\)"/"name":"\1\\ud800"/' >"$T/sur.ndjson"
sed -e '/"record":"event"/s/"\(paid_at\)":"\([0-9-]*\)T\([0-9:]*\)Z"/"\1":"\2T\3+00:00"/' "$T/sur.ndjson" >"$T/sur2.ndjson"
for f in sur sur2; do
	db=$(newdb $f)
	load --dsn "dbname=$db" "$T/$f.ndjson" 2>"$T/err"
	st=$?
	check "$f: the event refused at its line, its raw row stored (exit $st)" sh -c "test $st = 1 &&
		grep -q ':2: a string holds an escaped lone UTF-16 surrogate (\\\\ud800): not text PostgreSQL stores (invalid_field)\$' '$T/err' &&
		test \"\$(psql -qXAt -d $db -c 'SELECT (SELECT count(*) FROM external_events_raw)::text || (SELECT count(*) FROM external_events)')\" = 10"
done

# Stripe's client_secret and bearer URLs (a VerificationSession's, a portal Session's url)
# are not stored either, at any depth, whatever wrote the envelope; sql/021 takes them out
# of the payloads an older release stored, as this loader stores them.
db=$(newdb client_secret)
fetch-events --received-at 2026-11-25T00:00:00Z "$ROOT/fixtures/stripe/payment_intent.succeeded.json" \
	"$ROOT/fixtures/stripe/checkout.session.completed.json" | normalize --emit-raw >"$T/cs.ndjson"
# load_with MEMBERS NAME: $T/cs.ndjson's envelopes, MEMBERS first in each payload, as $T/NAME.ndjson
load_with() {
	sed "s|\"payload\":{|\"payload\":{$1|" "$T/cs.ndjson" >"$T/$2.ndjson"
	load --dsn "dbname=$db" "$T/$2.ndjson" 2>"$T/err"
}
load_with '"client_secret":"pi_1_secret_FAKE-CS-X","x":[{"client_secret":"FAKE-CS-Y","url":"https://verify.stripe.com/start/FAKE-CS-Z"}],' cs_env
check "envelopes with client_secret and a bearer url in their payloads load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without it" test "$(q "$db" "SELECT count(*) FROM external_events_raw
	WHERE payload::text ILIKE '%client_secret%' OR payload::text LIKE '%FAKE-CS%'")" = 0
check "the rest of the payload kept" test "$(q "$db" "SELECT string_agg(payload #>> '{data,object,id}', ' '
	ORDER BY payload #>> '{data,object,id}') || ' ' || count(*) FILTER (WHERE payload->'x' = '[{}]')
	FROM external_events_raw")" = "cs_test_FakeSub0001 pi_Fake2023001 2"
check_backfill "$db" 021 "UPDATE external_events_raw SET payload = jsonb_set(jsonb_set(jsonb_set(payload,
	'{data,object,client_secret}', '\"pi_1_secret_FAKE\"'), '{x,0,client_secret}', '\"FAKE\"'),
	'{x,0,url}', '\"https://billing.stripe.com/p/session/FAKE\"')" '^UPDATE'
old=$(db_before cs_old 021)
q "$old" "INSERT INTO external_events_raw VALUES ('stripe', 'evt_1', 'default', 'payment_intent.succeeded',
	NULL, now(), 'f:1', '{\"id\":\"evt_1\",\"data\":{\"object\":{\"id\":\"pi_1\",\"client_secret\":\"pi_1_secret_S\"}}}'),
	('stripe', 'evt_2', 'default', 'billing_portal.session.created', NULL, now(), 'f:2',
	'{\"id\":\"evt_2\",\"data\":{\"object\":{\"id\":\"bps_1\",\"url\":\"https://billing.stripe.com/p/session/S\",\"return_url\":\"https://a.example/\"}}}'),
	('stripe', 'evt_3', 'default', 'checkout.session.completed', NULL, now(), 'f:3',
	'{\"id\":\"evt_3\",\"data\":{\"object\":{\"id\":\"cs_1\",\"url\":\"https://checkout.stripe.com/c/pay/cs_1\"}}}')"
load --migrate --dsn "dbname=$old" 2>"$T/mig"
check "an older release's stored client_secret and portal url are gone once migrated, the rest kept" \
	test "$(q "$old" "SELECT string_agg(payload::text, ' ' ORDER BY external_event_id) FROM external_events_raw")" = \
	'{"id": "evt_1", "data": {"object": {"id": "pi_1"}}} {"id": "evt_2", "data": {"object": {"id": "bps_1", "return_url": "https://a.example/"}}} {"id": "evt_3", "data": {"object": {"id": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1"}}}'

# A string holding a client secret under any key (a PaymentIntent's 3-D Secure URLs in its
# next_action) is left out too, whatever wrote the envelope; sql/024 takes it out of the
# payloads stored before (audit-S2 1).
db=$(newdb token_secret)
load_with '"next_action":{"type":"redirect_to_url","redirect_to_url":{"return_url":"https://a.example/","url":"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent_client_secret=pi_1_secret_FAKECSURL1"}},"x":[{"stripe_js":"https://hooks.stripe.com/redirect/authenticate/src_1?client_secret=src_client_secret_FAKECSURL2"}],' tok_env
check "envelopes with client secrets in URLs in their payloads load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, the rest kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKECSURL%')
	|| ' ' || count(*) FILTER (WHERE payload #>> '{next_action,redirect_to_url,return_url}' = 'https://a.example/'
	AND payload->'x' = '[{}]') FROM external_events_raw")" = "0 2"
jq -c 'select(.record == "raw") | .payload' "$T/tok_env.ndjson" >"$T/tok_payloads.ndjson"
fetch-events --received-at 2026-11-25T00:00:00Z "$T/tok_payloads.ndjson" >"$T/tok_f" 2>/dev/null
normalize --emit-raw "$T/tok_payloads.ndjson" >"$T/tok_n" 2>/dev/null
check "fetch-events and normalize --emit-raw write them out neither ($(grep -c '"pi_Fake\|"cs_test' "$T/tok_f") and $(grep -c '"record":"raw"' "$T/tok_n") envelopes)" \
	sh -c "test \$(grep -c '\"record\":\"raw\"' '$T/tok_f') = 2 && test \$(grep -c '\"record\":\"raw\"' '$T/tok_n') = 2 &&
		! grep -q FAKECSURL '$T/tok_f' '$T/tok_n'"
check_backfill "$db" 024 "UPDATE external_events_raw SET payload = jsonb_set(payload, '{next_action,redirect_to_url,url}',
	'\"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent_client_secret=pi_1_secret_FAKECSURL3\"')" '^UPDATE'
old=$(db_before tok_old 024)
q "$old" "INSERT INTO external_events_raw VALUES ('stripe', 'evt_1', 'default', 'payment_intent.requires_action',
	NULL, now(), 'f:1', '{\"id\":\"evt_1\",\"data\":{\"object\":{\"id\":\"pi_1\",\"next_action\":{\"use_stripe_sdk\":{\"stripe_js\":\"https://hooks.stripe.com/a?client_secret=src_client_secret_Abcdefgh12\",\"type\":\"x\"}},\"d\":\"my_secret_words\"}}}')"
load --migrate --dsn "dbname=$old" 2>"$T/mig"
check "an older release's stored client secret in a URL is gone once migrated, the rest kept" \
	test "$(q "$old" "SELECT payload::text FROM external_events_raw")" = \
	'{"id": "evt_1", "data": {"object": {"d": "my_secret_words", "id": "pi_1", "next_action": {"use_stripe_sdk": {"type": "x"}}}}}'

# ... and with no other word that would call the stripper: a bare key or client secret, or
# one spelled with escapes, under any key (fuzz-F 1, 2: stored as they came); sql/026 takes
# them out of the payloads stored since sql/024.
db=$(newdb bare_token)
load_with '"note":"sk_live_FAKEBARE12345","cs":"\\u0070i_1Ab_secret_FAKEBARE67890","keep":"pk_live_abcdefgh12",' bare_env
check "envelopes with bare and escaped credentials load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, the publishable key kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKEBARE%')
	|| ' ' || count(*) FILTER (WHERE payload->>'keep' = 'pk_live_abcdefgh12') FROM external_events_raw")" = "0 2"
check_backfill "$db" 026 "UPDATE external_events_raw SET payload = jsonb_set(payload, '{note}', '\"key sk_test_FAKEBARE000\"')" '^UPDATE'

# a Checkout Session's client secret (cs_live_ID_secret_...), and a key as a member's name
# (audit-SEC 3: stored as they came); sql/030 takes them out of the payloads stored before
db=$(newdb checkout_secret)
load_with '"cs":"cs_live_a1B2c3D4e5F6_secret_fidFAKECS1234","metadata":{"sk_live_FAKEKEY123456":"x","k":1},' checkout_env
check "envelopes with a Checkout client secret and a key as a name load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, the rest of the metadata kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKE%')
	|| ' ' || count(*) FILTER (WHERE payload->'metadata' = '{\"k\": 1}') FROM external_events_raw")" = "0 2"
check_backfill "$db" 030 "UPDATE external_events_raw SET payload = payload || '{\"cs\": \"cs_test_a1B2c3D4e5F6_secret_fidFAKECS9999\", \"metadata\": {\"rk_test_FAKEKEY98765\": 2, \"k\": 1}}'" '^CREATE OR REPLACE'

# a hottok with its value inside a string, under any key: a tracking field a link filled
# with it, a header or a dict quoted (audit-H2 1: stored as they came); the name alone or
# with an empty value stays; sql/032 takes them out of the payloads stored before
db=$(newdb hottok_value)
load_with '"sck":"hottok=FAKEHOT1","x":[{"b":"X-Hotmart-HotTok: FAKEHOT2"},{"c":"[hottok] => FAKEHOT3"}],"e":"hottok=\&y=1","f":"hottok",' hot_env
check "envelopes with a hottok in their strings load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, the name alone and an empty value kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKEHOT%')
	|| ' ' || count(*) FILTER (WHERE payload->'x' = '[{}, {}]' AND payload->>'e' = 'hottok=&y=1' AND payload->>'f' = 'hottok')
	FROM external_events_raw")" = "0 2"
# written_neither NAME KEPT: fetch-events and normalize --emit-raw, given $T/NAME.ndjson's
# payloads, write both events and no FAKEHOT, and KEPT (an empty value) in fetch-events'
written_neither() {
	jq -c 'select(.record == "raw") | .payload' "$T/$1.ndjson" >"$T/$1_payloads.ndjson"
	fetch-events --received-at 2026-11-25T00:00:00Z "$T/$1_payloads.ndjson" >"$T/$1_f" 2>/dev/null
	normalize --emit-raw "$T/$1_payloads.ndjson" >"$T/$1_n" 2>/dev/null
	check "fetch-events and normalize --emit-raw write them out neither" \
		sh -c "test \$(grep -c '\"record\":\"raw\"' '$T/$1_f') = 2 && test \$(grep -c '\"record\":\"raw\"' '$T/$1_n') = 2 &&
			! grep -q FAKEHOT '$T/$1_f' '$T/$1_n' && grep -qF '$2' '$T/$1_f'"
}
written_neither hot_env 'hottok=&y=1'
check_backfill "$db" 032 "UPDATE external_events_raw SET payload = payload || '{\"sck\": \"a=1&HOTTOK = \\\"FAKEHOT9\\\"\", \"x\": [{\"b\": \"{\\\"hottok\\\": \\\"S\\\"}\"}, {}]}'" '^CREATE OR REPLACE'
# ... and in more spellings: its '=' encoded as a link keeps it in a tracking field, a JSON
# escape read as text, an HTML entity, a no-break space before it (audit-H3 2: stored as
# they came); sql/034 takes them out of the payloads stored before
db=$(newdb hottok_encoded)
load_with '"sck":"cb%3Fhottok%3DFAKEHOT4","x":[{"b":"hottok\\\\u003dFAKEHOT5"},{"c":"hottok\&#61;FAKEHOT6"}],"d":"hottok\\u00a0=FAKEHOT7","e":"hottok%3D\&y=1",' enc_env
check "envelopes with a hottok's pair encoded load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, an empty encoded value kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKEHOT%')
	|| ' ' || count(*) FILTER (WHERE payload->'x' = '[{}, {}]' AND payload->>'e' = 'hottok%3D&y=1' AND NOT payload ? 'd')
	FROM external_events_raw")" = "0 2"
written_neither enc_env 'hottok%3D&y=1'
check_backfill "$db" 034 "UPDATE external_events_raw SET payload = payload || '{\"sck\": \"u=https%3A%2F%2Fx%2Fcb%3FHOTTOK%3aFAKEHOT9\", \"x\": [{\"b\": \"hottok\\\\u003dS\"}, {}]}'" '^CREATE OR REPLACE'
# ... and a string in an array holding a credential or a hottok's pair: an element has no
# name, and was stored as it came (stop-47 leftover); the array keeps its other elements, and
# a name alone stays; sql/035 takes them out of the payloads stored before
db=$(newdb array_secrets)
load_with '"l":["sk_live_FAKEARR12345","a",["cb?hottok=FAKEHOT8",{"k":["x","\\u0070i_1Ab_secret_FAKEARR6789"]}],"hottok"],' arr_env
check "envelopes with secrets in their arrays load (exit $?)" grep -q 'inserted 4,' "$T/err"
check "without them, the other elements kept" test "$(q "$db" "SELECT count(*) FILTER (WHERE payload::text LIKE '%FAKE%')
	|| ' ' || count(*) FILTER (WHERE payload->'l' = '[\"a\", [{\"k\": [\"x\"]}], \"hottok\"]') FROM external_events_raw")" = "0 2"
written_neither arr_env '"hottok"]'
check "nor FAKEARR" sh -c "! grep -q FAKEARR '$T/arr_env_f' '$T/arr_env_n'"
check_backfill "$db" 035 "UPDATE external_events_raw SET payload = payload || '{\"l\": [\"whsec_FAKEARR00000\", \"a\", [\"HOTTOK%3DS\", {\"k\": [\"x\"]}], \"hottok\"]}'" '^CREATE OR REPLACE'

# More input files than the descriptor limit: each is closed once read (they stayed open to
# the end, and the files past the limit could not be opened); a record PostgreSQL refuses
# at the batch's end still names its file, long closed.
db=$(newdb files)
mkdir "$T/many"
python3 "$ROOT/tests/db/lib/gen_events.py" 150 5 2000 >"$T/gen.ndjson"
split -l 2 -a 3 "$T/gen.ndjson" "$T/many/f_"
sed -n 3p "$T/stream" >"$T/many/a_long_id" # the raw envelope of the 3 KB event id
(ulimit -n 48 && load --dsn "dbname=$db" "$T/many"/* 2>"$T/err")
st=$?
check "300 input files under a limit of 48 descriptors: exit 1 for the one refused (exit $st)" \
	test $st -eq 1 -a "$(grep -c "cannot open" "$T/err")" -eq 0
check "every other record loaded" grep -q 'read 301 (raw 151, events 150), inserted 300, .* rejected 1' "$T/err"
check "the refused record names its file" grep -q "^load: $T/many/a_long_id:1: .*(db_rejected)" "$T/err"

# Duplicate member names (RFC 8259 leaves them to the reader): the last copy is the one
# read everywhere, as PostgreSQL's jsonb keeps it, so what normalize mapped is what the raw
# table shows. A payload saying customer.created first and customer.deleted last, with
# two e-mails, is a deletion in the raw table, the normalized row and the processing log.
db=$(newdb dupkeys)
printf '%s\n' '{"id":"evt_dup","object":"event","type":"customer.created","created":1795000000,"data":{"object":{"object":"customer","id":"cus_dup","email":"first@x","email":"last@x"}},"type":"customer.deleted"}' \
	'{"id":"evt_dup2","object":"event","type":"customer.created","created":1795000001,"data":{"object":{"object":"customer","id":"cus_dup2","email":"first@x","email":"last@x"}}}' >"$T/dup.ndjson"
fetch-events --received-at 2026-11-25T00:00:00Z "$T/dup.ndjson" | normalize --emit-raw |
	load --dsn "dbname=$db" 2>"$T/err"
check "payloads with duplicate names load (exit $?)" grep -q 'inserted 4, .* rejected 0' "$T/err"
check "the last type is read: raw, normalized and log agree" \
	test "$(q "$db" "SELECT r.payload->>'type', r.event_type, n.provider_event_type, n.event_type, e.status FROM external_events_raw r JOIN external_events_normalized n USING (provider, external_event_id) JOIN external_events e USING (provider, external_event_id) WHERE external_event_id = 'evt_dup'")" = \
	"customer.deleted|customer.deleted|customer.deleted|customer.deleted|processed"
check "the last e-mail is read: raw and customers agree" \
	test "$(q "$db" "SELECT r.payload #>> '{data,object,email}', c.email FROM external_events_raw r, customers c WHERE r.external_event_id = 'evt_dup2' AND c.customer_id = 'cus_dup2'")" = "last@x|last@x"

# Records written by hand (not by normalize): a key holding U+0000 (json-c would read
# "provider\u0000" as a second provider) is refused; a top-level key written with an escape
# keeps every level of the event below it (the line is rebuilt from all of it); a payment
# section without its id, which would land nowhere, is refused (missing_field).
db=$(newdb handmade)
fetch-events --project acme --received-at 2026-11-25T00:00:00Z "$ROOT/fixtures/stripe/invoice.paid.json" |
	normalize --emit-raw >"$T/inv.ndjson"
python3 - "$T/inv.ndjson" >"$T/hand.ndjson" <<'PY'
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1])]
def out(o, fix=None):
    t = json.dumps(o, separators=(",", ":"))
    print(fix(t) if fix else t)
out(raw, lambda t: t.replace('"provider":"stripe"', '"provider":"stripe","provider\\u0000":"hotmart"', 1))
e = json.loads(json.dumps(ev)); e["external_event_id"] = "evt_esc"; e["extra"] = {"a": {"b": {"c": [1, {"d": "x"}]}}}
out(e, lambda t: t.replace('"livemode"', '"l\\u0069vemode"', 1))
e = json.loads(json.dumps(ev)); e["external_event_id"] = "evt_noid"; del e["payment"]["id"]
out(e)
out(raw); out(ev)
PY
load --dsn "dbname=$db" "$T/hand.ndjson" 2>"$T/err"
st=$?
check "hand-written records: exit 1 for the two refused (exit $st)" test $st -eq 1
check "a key holding U+0000 is refused at its line" grep -q ":1: a key holds U+0000.*(invalid_field)$" "$T/err"
check "a payment section without an id is refused at its line" grep -q ":3: missing field 'payment.id' (missing_field)$" "$T/err"
check "an escaped top-level key keeps the levels below it" \
	test "$(q "$db" "SELECT event->'extra' FROM external_events_normalized WHERE external_event_id = 'evt_esc'")" = \
	'{"a": {"b": {"c": [1, {"d": "x"}]}}}'
check "the others loaded ($(grep "^load: read" "$T/err"))" grep -q 'read 5 (raw 1, events 2), inserted 3, .* rejected 2' "$T/err"

# More written by hand: an empty or blank id would merge every event that has it into one
# row ('' the customer of them all); a time in a section is one of 1970..9999, and is stored
# as it is checked (the event's text too, not only its columns: PostgreSQL reads the text);
# a project id holding U+FFFD ("ac\ud800me" and "ac\udbffme") is no tenant's.
db=$(newdb handmade2)
python3 - "$T/inv.ndjson" >"$T/hand2.ndjson" <<'PY'
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1])]
def one(i, f, fix=None):
    e = json.loads(json.dumps(ev)); e["external_event_id"] = "evt_h%d" % i; e["payment"]["id"] = "in_h%d" % i
    f(e)
    t = json.dumps(e, separators=(",", ":"))
    print(fix(t) if fix else t)
one(1, lambda e: e["customer"].update(id=""))
one(2, lambda e: e["payment"].update(id="  "))
one(3, lambda e: e["payment"].update(paid_at="1969-12-31T23:59:59Z"))
one(4, lambda e: e["payment"].update(paid_at="9999-12-31T23:59:59-01:00"))
one(5, lambda e: e["payment"].update(paid_at="2026-11-01T11:00:00.9996+01:00"))
one(6, lambda e: e["payment"].update(paid_at="2026-11-01T10:00:00,5Z"))
one(7, lambda e: e.update(project_id="PROJ"), lambda t: t.replace("PROJ", "ac\\ud800me"))
one(8, lambda e: e.update(occurred_at="2026-11-01T12:00:00.9996+02:00"))
one(9, lambda e: e["payment"].update(id="\u00a0\u3000\u200b"))
PY
load --dsn "dbname=$db" "$T/hand2.ndjson" 2>"$T/err"
st=$?
check "hand-written records: exit 1 ($st)" test $st -eq 1
check "an empty id, a blank one, one of Unicode's blanks (audit-SCH 2): refused at their lines" sh -c \
	"grep -q \":1: field 'customer.id' is empty (invalid_field)\$\" '$T/err' && grep -q \":2: field 'payment.id' is blank (invalid_field)\$\" '$T/err' &&
	grep -q \":9: field 'payment.id' is blank (invalid_field)\$\" '$T/err'"
check "a section's time out of 1970..9999 (before, and after once in UTC): refused at its line" sh -c \
	"grep -q \":3: field 'payment.paid_at' is not an RFC 3339 time in 1970..9999\" '$T/err' && grep -q \":4: field 'payment.paid_at' is not an RFC 3339 time in 1970..9999\" '$T/err'"
check "a project id holding U+FFFD: refused" grep -q ":7: field 'project_id' contains U+FFFD" "$T/err"
check "the others loaded ($(grep "^load: read" "$T/err"))" grep -q 'read 9 (raw 0, events 3), inserted 3, .* rejected 6' "$T/err"
check "a section's time in another form: stored as checked, in the columns and the event's text" test \
	"$(q "$db" "SET timezone = UTC; SELECT string_agg(p.payment_id || ' ' || p.paid_at || ' ' || (n.event #>> '{payment,paid_at}'), ', ' ORDER BY 1)
	FROM payments p JOIN external_events_normalized n USING (payment_id) WHERE p.payment_id <> 'in_h8'")" = \
	"in_h5 2026-11-01 10:00:00.999+00 2026-11-01T10:00:00.999Z, in_h6 2026-11-01 10:00:00.5+00 2026-11-01T10:00:00.500Z"
check "the event's occurred_at in another form: stored as checked, in the column and the event's text" test \
	"$(q "$db" "SET timezone = UTC; SELECT occurred_at || ' ' || (event->>'occurred_at') FROM external_events_normalized WHERE external_event_id = 'evt_h8'")" = \
	"2026-11-01 10:00:00.999+00 2026-11-01T10:00:00.999Z"
grep '"evt_h8"' "$T/hand2.ndjson" | sed 's/2026-11-01T12:00:00.9996+02:00/2026-11-01T10:00:00.999Z/' >"$T/hand3.ndjson"
load --dsn "dbname=$db" "$T/hand3.ndjson" 2>"$T/err"
check "the same instant as normalize writes it: unchanged ($(grep "^load: read" "$T/err"))" \
	grep -q 'read 1 (raw 0, events 1), inserted 0, updated 0, unchanged 1' "$T/err"

# docs/events.md: a time is kept to the millisecond, the digits past it dropped, not rounded:
# a raw envelope's received_at .9996 is stored .999, as normalize writes it
db=$(newdb hostile_ms)
printf '{"record":"raw","provider":"stripe","external_event_id":"evt_ms","project_id":"acme","received_at":"2026-01-01T00:00:00.9996Z","source":"a:1","payload":%s}\n' \
	"$(ev evt_ms '"id":"cus_ms"')" >"$T/ms.ndjson"
normalize --emit-raw "$T/ms.ndjson" 2>/dev/null | load --dsn "dbname=$db" 2>/dev/null
got=$(q "$db" "SELECT string_agg(to_char(received_at AT TIME ZONE 'UTC', 'SS.US'), ' ' ORDER BY t) FROM (SELECT 1 AS t, received_at FROM external_events_raw UNION ALL SELECT 2, received_at FROM external_events) s")
check "a received_at of .9996 s is stored .999 in the raw and the event row (got $got)" test "$got" = "00.999000 00.999000"

# normalize and load agree on ids: a Hotmart subscriber code of blanks (which load refuses as
# an id) leaves normalize as no subscription, so the sale loads with its payment
db=$(newdb blank_code)
python3 - "$ROOT/fixtures/hotmart/purchase_approved.json" >"$T/blank.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["data"]["subscription"]["subscriber"]["code"] = " "
print(json.dumps(p))
PY
fetch-events --project acme --received-at 2026-11-25T00:00:00Z "$T/blank.json" 2>/dev/null |
	normalize --emit-raw 2>/dev/null | load --dsn "dbname=$db" 2>"$T/err"
st=$?
check "a subscriber code of blanks: loaded (exit $st), the payment stored, no subscription ' '" test \
	"$st $(q "$db" "SELECT count(*) FROM payments") $(q "$db" "SELECT count(*) FROM subscriptions")" = "0 1 0"

# A payload is stored as it came whatever spells its envelope: more than 48 top-level members,
# or a top-level key written with escapes ("s\u006furce"), took a path that wrote the payload
# out again through json-c, which clamps a number past 64 bits and reads a lone surrogate as
# U+FFFD (so a payload PostgreSQL refuses was stored, altered).
db=$(newdb spelled)
python3 - "$T/inv.ndjson" >"$T/spelled.ndjson" <<'PY'
import json, sys
raw = json.loads(open(sys.argv[1]).readline())
raw["payload"]["data"]["object"]["big"] = 10**20 - 1
raw["payload"]["data"]["object"]["note"] = "NOTE"
def out(i, note, many=False, fix=None):
    r = dict(raw, external_event_id="evt_sp%d" % i)
    if many:
        r = dict(r, **{"x%d" % k: k for k in range(50)})
    t = json.dumps(r, separators=(",", ":")).replace("NOTE", note)
    print(fix(t) if fix else t)
out(1, "a\\u00e9b")
out(2, "a\\u00e9b", many=True)
out(3, "a\\u00e9b", fix=lambda t: t.replace('"source"', '"s\\u006furce"', 1))
out(4, "a\\u00e9b", fix=lambda t: t.replace('"payload"', '"p\\u0061yload"', 1))
out(5, "a\\ud800b", many=True)
out(6, "a\\ud800b", fix=lambda t: t.replace('"payload"', '"p\\u0061yload"', 1))
PY
load --dsn "dbname=$db" "$T/spelled.ndjson" 2>"$T/err"
st=$?
check "envelopes with many members or escaped keys: the two with a lone surrogate refused (exit $st)" \
	sh -c "test $st = 1 && grep -q ':5: .*(db_rejected)' '$T/err' && grep -q ':6: .*(db_rejected)' '$T/err'"
check "the four others stored with one payload, its number past 64 bits as it came" test \
	"$(q "$db" "SELECT count(*), count(DISTINCT payload), min(payload #>> '{data,object,big}'),
		min(payload #>> '{data,object,note}') FROM external_events_raw")" = "4|1|99999999999999999999|aéb"

# The vocabulary no constraint holds, from another writer: an event type outside
# docs/events.md's table (or none, processed) and a method in capitals are refused (invalid_field), not stored
# to be counted apart from "card" and the real types; a plan code the plans table refuses
# is said so by load (invalid_field), not by PostgreSQL (db_rejected).
db=$(newdb vocab)
python3 - "$T/inv.ndjson" >"$T/vocab.ndjson" <<'PY'
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1])]
def one(i, f):
    e = json.loads(json.dumps(ev)); e["external_event_id"] = "evt_v%d" % i; e["payment"]["id"] = "in_v%d" % i
    f(e)
    print(json.dumps(e, separators=(",", ":")))
one(1, lambda e: e.update(event_type="payment.bogus"))
one(2, lambda e: e["payment"].update(method="CARD"))
one(3, lambda e: e["payment"].update(method="us_bank_account"))
one(4, lambda e: e.update(event_type=None, status="ignored", reason="unsupported event type 'x'", customer=None, payment=None, subscription=None))
one(5, lambda e: e.update(subscription={"id": "sub_v5", "plan_code": ""}))
one(6, lambda e: e.update(subscription={"id": "sub_v6", "plan_code": "Pro Plan"}))
one(7, lambda e: e.update(subscription={"id": "sub_v7", "plan_code": "pro-2.v_1"}))
one(8, lambda e: e.update(event_type=None))
one(9, lambda e: e.update(event_type=None, status="ignored", reason="a key sk_live_FAKEREASON12345 quoted", customer=None, payment=None, subscription=None))
PY
load --dsn "dbname=$db" "$T/vocab.ndjson" 2>"$T/err"
st=$?
check "an unknown event type and a method in capitals: refused at their lines (exit $st)" sh -c \
	"test $st = 1 && grep -q \":1: field 'event_type' is not a canonical event type: 'payment.bogus' (invalid_field)\$\" '$T/err' &&
	 grep -q \":2: field 'payment.method' is not lower case: 'CARD' (invalid_field)\$\" '$T/err' &&
	 grep -q \":5: field 'subscription.plan_code' is not a plan code .*: '' (invalid_field)\$\" '$T/err' &&
	 grep -q \":6: field 'subscription.plan_code' is not a plan code .*: 'Pro Plan' (invalid_field)\$\" '$T/err' &&
	 grep -q \":8: a processed event has no 'event_type' (invalid_field)\$\" '$T/err' &&
	 ! grep -q db_rejected '$T/err'"
check "the others stored" test "$(q "$db" "SELECT string_agg(payment_id || ':' || coalesce(method, '-'), ' ' ORDER BY payment_id) FROM payments") $(q "$db" "SELECT count(*) FROM external_events") $(q "$db" "SELECT string_agg(code, ' ' ORDER BY code) FROM plans")" = \
	"in_v3:us_bank_account in_v7:- 4 pro pro-2.v_1 starter"
check "a Stripe key a reason quotes is stored as [redacted], in the log and the event (audit-R7 A)" test \
	"$(q "$db" "SELECT e.reason || ' ' || (n.event::text LIKE '%FAKEREASON%') FROM external_events e
		JOIN external_events_normalized n USING (provider, external_event_id) WHERE e.external_event_id = 'evt_v9'")" = \
	"a key [redacted] quoted false"

# A member holding a hottok with its value, from another writer: left out of every column as
# of the stored JSON (audit-R7 B: an envelope's event_type, an event's provider_event_type
# and a customer's id reached the tables); a reason keeps its text, the pair masked; a
# record whose id or project is one is refused (invalid_field), saying which.
db=$(newdb hottok_columns)
python3 - "$T/inv.ndjson" >"$T/r7b.ndjson" <<'PY'
import json, sys
raw, ev = [json.loads(l) for l in open(sys.argv[1])]
def pair(i, fr, fe):
    r = json.loads(json.dumps(raw)); e = json.loads(json.dumps(ev))
    for x in (r, e):
        x["external_event_id"] = "evt_h%d" % i
    r["payload"]["id"] = "evt_h%d" % i; e["payment"]["id"] = "in_h%d" % i
    fr(r); fe(e)
    print(json.dumps(r, separators=(",", ":"))); print(json.dumps(e, separators=(",", ":")))
nothing = lambda x: None
pair(1, lambda r: r.update(event_type="X hottok=LEAKH1"),
     lambda e: e.update(event_type=None, provider_event_type="X hottok=LEAKH2", status="ignored",
                        reason="unsupported event type 'X hottok=LEAKH3'", customer=None, payment=None, subscription=None))
pair(2, nothing, lambda e: e["customer"].update(id="hottok=LEAKH4"))
pair(3, lambda r: r.update(external_event_id="evt_hottok=LEAKH5"), nothing)
pair(4, lambda r: r.update(project_id="hottok:LEAKH6"), nothing)
pair(5, nothing, lambda e: e.update(event_type=None, status="ignored", reason="type {'hottok': 'LEAKH7'} seen",
                                    customer=None, payment=None, subscription=None))
PY
load --dsn "dbname=$db" --rejects "$T/r7b.rej" "$T/r7b.ndjson" 2>"$T/err"
st=$?
check "a record whose id or project holds a hottok's pair: refused, saying which (exit $st)" sh -c \
	"test $st = 1 && grep -q \":5: field 'external_event_id' holds a secret (docs/load.md) (invalid_field)\$\" '$T/err' &&
	 grep -q \":7: field 'project_id' holds a secret (docs/load.md) (invalid_field)\$\" '$T/err'"
check "the others stored, the pairs nowhere in the database, the rejects or the messages (audit-R7 B)" sh -c \
	"test '$(q "$db" "SELECT string_agg(external_event_id || ':' || coalesce(event_type, '-'), ' ' ORDER BY 1) FROM external_events_raw")' = 'evt_h1:- evt_h2:invoice.paid evt_h5:invoice.paid' &&
	 ! pg_dump -a '$db' | grep -q LEAKH && ! grep -q LEAKH '$T/r7b.rej' '$T/err'"
check "the log's reason masks the pair (cut at a form not read), the type is left out; the customer's id too" test \
	"$(q "$db" "SELECT string_agg(reason || ' ' || coalesce(provider_event_type, '-'), ' | ' ORDER BY external_event_id) FROM external_events WHERE external_event_id IN ('evt_h1', 'evt_h5')") $(q "$db" "SELECT coalesce(customer_id, '-') FROM external_events_normalized WHERE external_event_id = 'evt_h2'")" = \
	"unsupported event type 'X hottok=[redacted] - | type {'[redacted] invoice.paid -"

# A session in another client encoding (PGCLIENTENCODING, the DSN's client_encoding, the
# role's): the records are UTF-8 and stored as such. Before, a LATIN1 session took each
# byte of "Ünï 🎉" for a character and stored "Ã\x9cnÃ¯ ð\x9f\x8e\x89" without an error.
db=$(newdb encoding)
q "$db" "ALTER ROLE CURRENT_USER IN DATABASE $db SET client_encoding = 'LATIN1'" >/dev/null
PGCLIENTENCODING=LATIN1 load --dsn "dbname=$db client_encoding=LATIN1" --batch 100 "$T/stream" 2>/dev/null
check "a LATIN1 session: the text stored as UTF-8, in the row and the payload" \
	test "$(PGCLIENTENCODING=UTF8 q "$db" "SELECT count(*) FROM customers c JOIN external_events_raw r ON r.external_event_id = 'evt_txt' WHERE c.name = 'Ünï 🎉 \\. end' AND r.payload #>> '{data,object,name}' = c.name")" = 1
fetch-events --project ação fixtures/stripe/charge.failed.json 2>/dev/null | normalize --emit-raw 2>/dev/null |
	PGCLIENTENCODING=UTF8 load --dsn "dbname=$db client_encoding=UTF8" 2>/dev/null
PGCLIENTENCODING=LATIN1 reconcile --db --dsn "dbname=$db" --project ação >"$T/enc.rec" 2>/dev/null
check "and reconcile --db, in a LATIN1 session, finds project ação and writes its name as UTF-8 (exit $?)" \
	grep -q '"project_id":"ação",.*"raw":1,"normalized":1' "$T/enc.rec"
q "$db" "ALTER ROLE CURRENT_USER IN DATABASE $db RESET client_encoding" >/dev/null

# A batch is also cut at 12 MiB of lines: --batch counts records, and 5000 raw rows of 100 KB
# held 1 GB (audit-MEM 3: the memory was twice the input until the batch filled). 300 and
# 1200 such events: the same peak, under 64 MB (not checked under sanitizers, whose shadow
# memory is not ours).
db=$(newdb batch_bytes)
python3 - "$T/b" <<'PY'
import json, sys
for n in (300, 1200):
    with open("%s%d.ndjson" % (sys.argv[1], n), "w") as f:
        for i in range(n):
            p = {"id": "evt_b%d" % i, "object": "event", "type": "customer.created", "created": 1794096060,
                 "api_version": "2024-06-20", "livemode": False,
                 "data": {"object": {"id": "cus_b%d" % i, "object": "customer", "description": "x" * 100000}}}
            f.write(json.dumps(p) + "\n")
PY
rss=()
for n in 300 1200; do
	fetch-events --project big "$T/b$n.ndjson" 2>/dev/null | normalize --emit-raw 2>/dev/null >"$T/b$n.env"
	/usr/bin/time -f '%M' -o "$T/time" load --dsn "dbname=$db" "$T/b$n.env" 2>/dev/null
	rss+=("$(cat "$T/time")")
done
san=0; grep -q __asan_init "$(command -v load)" && san=1
check "100 KB events: 300 and 1200 loaded at one peak RSS under 64 MB (${rss[*]} KB)" sh -c \
	"test $(q "$db" "SELECT count(*) FROM external_events_raw") = 1200 &&
	 { test $san = 1 || { test ${rss[1]} -lt 65536 && test ${rss[1]} -lt \$(( ${rss[0]} * 5 / 4 )); }; }"
rm -f "$T"/b*.ndjson "$T"/b*.env

# A FILE named with a byte that is not UTF-8: the run's row names it as the messages do
# (\xe9), where the raw byte made PostgreSQL refuse the row and the run end, exit 3 (review)
db=$(newdb latin1_name)
fetch-events --project acme fixtures/stripe/charge.failed.json 2>/dev/null | normalize --emit-raw 2>/dev/null >"$T/$(printf 'env\xe9').ndjson"
load --dsn "dbname=$db" "$T/$(printf 'env\xe9').ndjson" 2>"$T/err"
st=$?
named=$(q "$db" "SELECT detail->'files'->>0 LIKE '%/env' || chr(92) || chr(92) || 'xe9.ndjson' FROM pipeline_runs WHERE program = 'load'")
check "a FILE name not UTF-8: loaded (exit $st), the run's row naming it env\\xe9.ndjson ($named)" \
	test "$st $named" = "0 t"
