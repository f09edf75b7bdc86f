#!/usr/bin/env bash
# Hostile input the stateless filters must take without losing, leaking or hanging (TAP):
# secrets in rejected lines, messages cut inside a UTF-8 character. The loader's share
# is tests/db/load_hostile.sh.
set -u
. "$(dirname "$0")/../lib/tap.sh"
tmp=$(mktemp -d /tmp/ro-hostile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export RO_NO_PROGRESS=1
# every line of a rejects file is JSON in valid UTF-8
valid_ndjson() {
	python3 -c 'import json, sys
for l in open(sys.argv[1], "rb").read().decode("utf-8").splitlines(): json.loads(l)' "$1" 2>/dev/null
}

# 1. Secrets never reach a rejects file: a captured webhook's headers, a form body's and a
# payload's hottok, whatever made the line rejected.
cat >"$tmp/secrets.ndjson" <<'EOF'
{"headers":{"X-Hotmart-Hottok":"SECRET-A","Authorization":"Bearer SECRET-B","Stripe-Signature":"t=1,v1=SECRET-C"},"body":"not json"}
{"headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":"hottok=SECRET-D&foo=bar"}
{"hottok":"SECRET-E","event":"PURCHASE_APPROVED","version":"2.0.0","data":{}}
{"hottok": "SECRET-F","event":"PURCHASE_APPROVED",
{"headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":"hottok=SECRET-I&name=%00"}
{"headers":{"authorization":"SECRET-G"},"body":"{\"hottok\":\"SECRET-H\",\"event\":\"PURCHASE_APPROVED\",\"data\":{}}"}
EOF
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/secrets.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: six lines rejected, exit 1 (exit $st)" '[ $st -eq 1 ] && [ "$(wc -l <"$tmp/rej")" -eq 6 ]'
check "fetch-events: no secret in the rejects file, stderr or stdout" \
	'! grep -q SECRET "$tmp/rej" "$tmp/err" "$tmp/out"'
check "fetch-events: the rejects keep the rest of the text" \
	'grep -q "name=%00" "$tmp/rej" && grep -q "foo" "$tmp/rej" && grep -q "PURCHASE_APPROVED" "$tmp/rej" && valid_ndjson "$tmp/rej"'
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/secrets.ndjson" >/dev/null 2>&1
check "normalize: no secret in the rejects file" '[ -s "$tmp/rej" ] && ! grep -q SECRET "$tmp/rej"'
"$BIN/to-csv" --strict --rejects "$tmp/rej" "$tmp/secrets.ndjson" >/dev/null 2>&1
check "to-csv: no secret in the rejects file" '[ -s "$tmp/rej" ] && ! grep -q SECRET "$tmp/rej"'

# The same for captures in the other shapes: header lists, API Gateway events with a base64
# body (a secret in it is text no redaction sees: the body is not written), raw HTTP requests
# whose headers carry the credentials (their lines are never written, nor the lines skipped
# after a malformed head).
b64=$(printf '{"id":"e1","hottok":"SECRET-J","event":' | base64 -w0)
{
	echo '{"headers":[{"name":"X-Hotmart-Hottok","value":"SECRET-K"},{"name":"Authorization","value":"Bearer SECRET-L"}],"body":"not json"}'
	echo '{"headers":[["Stripe-Signature","t=1,v1=SECRET-M"]],"body":"hottok=SECRET-N&name=%ff"}'
	echo '{"headers":{"content-type":"application/json"},"multiValueHeaders":{"X-Hotmart-Hottok":["SECRET-O"]},"requestContext":{"identity":{"apiKey":"SECRET-P"}},"isBase64Encoded":true,"body":"'"$b64"'"}'
	# a base64 body under a flag that is not the boolean true, or under none: not written either
	echo '{"headers":{"x":"y"},"isBase64Encoded":"true","body":"'"$b64"'"}'
	echo '{"headers":{"Content-Transfer-Encoding":"base64"},"body":"'"$b64"'"}'
} >"$tmp/captures.ndjson"
{
	printf 'POST /a HTTP/1.1\r\nAuthorization: Bearer SECRET-Q\r\nX-Hotmart-Hottok: SECRET-R\r\nContent-Length: 40x\r\n\r\n{}\r\n'
	printf 'Authorization: Bearer SECRET-S and more\r\n'
	printf 'POST /b HTTP/1.1\r\nStripe-Signature: t=1,v1=SECRET-T\r\nContent-Length: 30\r\n\r\n{"hottok": "SECRET-U", "id": 1'
} >"$tmp/captures.http"
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/captures.ndjson" "$tmp/captures.http" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: seven captures rejected, exit 1 (exit $st)" '[ $st -eq 1 ] && [ "$(wc -l <"$tmp/rej")" -eq 7 ]'
check "fetch-events: no secret of a header list, a base64 body or a raw request in the rejects file, stderr or stdout" \
	'! grep -q -e SECRET -e "${b64:0:12}" "$tmp/rej" "$tmp/err" "$tmp/out" && valid_ndjson "$tmp/rej"'
# A multipart/form-data body naming a secret part: its value is on a line of its own, where
# no redaction by name looks; captured or raw, the line is written with raw null (audit-S2 3)
mp='--XyZ\r\nContent-Disposition: form-data; name="hottok"\r\n\r\nSECRET-MP\r\n--XyZ--\r\n'
printf '{"headers":{"Content-Type":"multipart/form-data; boundary=XyZ"},"body":"%s"}\n' "$(printf '%s' "$mp" | sed 's/"/\\"/g')" >"$tmp/mp.ndjson"
body=$(printf %b "$mp")
printf 'POST /h HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body" >"$tmp/mp.http"
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/mp.ndjson" "$tmp/mp.http" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a multipart body's secret part reaches no rejects file (exit $st)" \
	'[ $st -eq 1 ] && [ "$(grep -c "\"raw\":null" "$tmp/rej")" -eq 2 ] && ! grep -q SECRET "$tmp/rej" "$tmp/err" "$tmp/out"'
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/captures.ndjson" "$tmp/captures.http" >/dev/null 2>&1
check "normalize: no secret of a header list, an API key or a raw request's header line in the rejects file" \
	'[ -s "$tmp/rej" ] && ! grep -q -e "SECRET-[K-Z]" "$tmp/rej"'
# Harder spellings: a list of values, a quote or an escape inside one, a header list naming
# the secret after its value, api_key, a name spelled with \u escapes (then the line is
# withheld: raw null), a payload's escaped hottok (cut out of the envelope as well).
cat >"$tmp/spell.ndjson" <<'EOF2'
{"headers":{"Authorization":["Bearer SECRET-1","Bearer SECRET-2"]},"body":"x"}
{"headers":{"authorization":"Bearer a\"SECRET-3","X":"b"},"body":"x"}
{"headers":{"Authorization":"Basic\u0020SECRET-4"},"body":"x"}
{"headers":[{"value":"SECRET-5","name":"Authorization"}],"body":"x"}
{"api_key":"SECRET-6","x":1}
{"hott\u006fk":"SECRET-7","x":1}
{"id":"e1","event":"PURCHASE_APPROVED","version":"2.0.0","creation_date":1795185005123,"hott\u006fk":"SECRET-8","data":{}}
EOF2
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/spell.ndjson" >"$tmp/out" 2>"$tmp/err"
check "fetch-events: no secret of lists, escaped quotes, late header names, api_key or escaped names anywhere" \
	'[ "$(wc -l <"$tmp/rej")" -eq 6 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && valid_ndjson "$tmp/rej" &&
	 ! grep -q SECRET "$tmp/rej" "$tmp/err" "$tmp/out" && grep -q "\"line\":6,.*\"raw\":null" "$tmp/rej"'

# Spellings the redaction missed: JSON's CR before a value, a form field's name written with
# %XX (a form's reader decodes it: the line is withheld, raw null), a hottok whose value is an
# object (all of it redacted).
{
	printf '{"event":"PURCHASE_APPROVED","version":"2.0.0","hottok":\r"SECRET-CR","data":{}}\n'
	printf '%s\n' '{"headers":{"content-type":"application/x-www-form-urlencoded"},"received_at":"2026-11-20T14:30:01Z","body":"hott%6Fk=SECRET-PCT&prod=1&x=%00"}'
	printf '%s\n' '{"id":"a2","hottok":{"v":"SECRET-OBJ"}} garbage'
} >"$tmp/spell2.ndjson"
for p in fetch-events normalize; do
	"$BIN/$p" --rejects "$tmp/rej" "$tmp/spell2.ndjson" >"$tmp/out" 2>"$tmp/err"
	check "$p: three lines rejected, no secret of theirs in the rejects file or stderr" \
		'[ "$(wc -l <"$tmp/rej")" -eq 3 ] && ! grep -q SECRET "$tmp/rej" "$tmp/err" && valid_ndjson "$tmp/rej"'
done

# A capture's rejected text is its body and received_at only: a token in its query string, its
# url or its stage variables is not written; nor a raw request line's query.
{
	printf '%s\n' '{"version":"2.0","routeKey":"POST /hook","rawPath":"/hook","rawQueryString":"token=SECRET-Q1","cookies":["session=SECRET-C"],"headers":{"content-type":"application/json"},"queryStringParameters":{"token":"SECRET-Q1"},"requestContext":{"timeEpoch":1795185401007},"body":"this is not json","isBase64Encoded":false}'
	printf '%s\n' '{"resource":"/hook","httpMethod":"POST","headers":{},"stageVariables":{"dbPassword":"SECRET-SV"},"multiValueQueryStringParameters":{"key":["SECRET-MQ"]},"requestContext":{"requestTimeEpoch":1795184991412},"body":"not json","isBase64Encoded":false}'
	printf '%s\n' '{"method":"POST","url":"https://hooks.example/hotmart?token=SECRET-URL","headers":[],"received_at":"2026-11-20T14:30:01Z","body":"{\"id\": broken"}'
	printf '%s\n' '{"headers":{"Cookie":"sid=SECRET-CK","X-Amz-Security-Token":"SECRET-AMZ","X-Webhook-Token":"SECRET-WT"},"received_at":"2026-11-20T14:30:01Z","body":"{\"id\":\"evt_1\"'
} >"$tmp/capq.ndjson"
printf 'POST /webhooks/hotmart?token=SECRET-RQ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{"id":"evt_1"}\r\n' >"$tmp/capq.http"
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/capq.ndjson" "$tmp/capq.http" >"$tmp/out" 2>"$tmp/err"
check "fetch-events: captures refused, no token of a query, url, stage variable, cookie or header in the rejects file" \
	'[ "$(wc -l <"$tmp/rej")" -eq 5 ] && ! grep -q SECRET "$tmp/rej" "$tmp/err" && valid_ndjson "$tmp/rej" &&
	 grep -q "\"raw\":\"POST /webhooks/hotmart\"" "$tmp/rej" && grep -q "not json" "$tmp/rej"'

# Stripe's client_secret (a PaymentIntent's, a Checkout Session's, at any depth) is
# a payload secret too: not written on by fetch-events nor normalize --emit-raw, and its value
# redacted in a rejects file.
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
o["data"]["object"]["client_secret"] = "pi_1_secret_SECRET-V"
o["data"]["previous_attributes"] = {"client_secret": "pi_1_secret_SECRET-W", "status": "requires_payment_method"}
print(json.dumps(o))
del o["id"]
print(json.dumps(o))
' "$ROOT/fixtures/stripe/payment_intent.succeeded.json" >"$tmp/cs.ndjson"
"$BIN/fetch-events" --received-at 2026-11-25T10:00:00Z --rejects "$tmp/rej" "$tmp/cs.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a PaymentIntent with client_secret written on, one without an id rejected (exit $st)" \
	'[ $st -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && [ "$(wc -l <"$tmp/rej")" -eq 1 ] && grep -q "\"pi_Fake2023001\"" "$tmp/out"'
check "fetch-events: no client_secret in the envelope, the rejects file or stderr" \
	'! grep -q -i -e client_secret -e SECRET "$tmp/out" "$tmp/err" && ! grep -q SECRET "$tmp/rej" && grep -q "\[redacted\]" "$tmp/rej"'
"$BIN/normalize" --emit-raw --received-at 2026-11-25T10:00:00Z "$tmp/cs.ndjson" >"$tmp/out" 2>/dev/null
check "normalize --emit-raw: the envelope and its event, no client_secret" \
	'[ "$(wc -l <"$tmp/out")" -eq 2 ] && ! grep -q -i -e client_secret -e SECRET "$tmp/out"'

# A Stripe key or signing secret is known by its value, under any name or none: in a
# rejected line's text and in a message that quotes input (stderr and the reject's message).
cat >"$tmp/keys.ndjson" <<'EOF'
{"headers":{"X-Stripe-Key":"sk_live_51HxSECRETKEY1"},"body":"key=whsec_SECRETKEY2abc not json"}
{"id":"evt_1","object":"event","type":"charge.succeeded","note":"rk_test_SECRETKEY3xyz", broken
EOF
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/keys.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: keys under other names redacted in the rejects file (exit $st)" \
	'[ $st -eq 1 ] && [ "$(wc -l <"$tmp/rej")" -eq 2 ] && ! grep -q SECRETKEY "$tmp/rej" "$tmp/err" &&
	 [ "$(grep -o "\[redacted\]" "$tmp/rej" | wc -l)" -eq 2 ] && valid_ndjson "$tmp/rej"'
printf '%s\n' '{"record":"raw","provider":"sk_live_51HxSECRETKEY4","external_event_id":"e","payload":{}}' >"$tmp/keyp.ndjson"
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/keyp.ndjson" >/dev/null 2>"$tmp/err"
check "normalize: a message quoting a key has it redacted, on stderr and in the rejects file" \
	'[ -s "$tmp/rej" ] && ! grep -q SECRETKEY "$tmp/rej" "$tmp/err" && grep -q "\[redacted\]" "$tmp/err"'
# and a message that is no reject's: each line a program says is masked where it is said
# (mutation audit MP: without the masking in diag.c's vmsg, "cannot open
# '.../sk_live_...'" was said whole)
for p in fetch-events normalize to-csv; do
	"$BIN/$p" "$tmp/none/sk_live_51HxSECRETKEY5.ndjson" >/dev/null 2>"$tmp/err"
	st=$?
	check "$p: a path holding a key is masked in 'cannot open' (exit $st)" \
		'[ $st -eq 3 ] && grep -q "cannot open .*\[redacted\]" "$tmp/err" && ! grep -q SECRETKEY "$tmp/err"'
done

# 2. A message that quotes input cut short (%.40s) is still valid UTF-8 in the rejects file.
e=$(printf 'é%.0s' $(seq 1 300))
printf '{"record":"raw","provider":"x%s","external_event_id":"e","payload":{}}\n' "$e" >"$tmp/utf8.ndjson"
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/utf8.ndjson" >/dev/null 2>&1
check "normalize: a reject message cut inside a character is valid UTF-8" 'valid_ndjson "$tmp/rej"'

# 3. normalize --emit-raw writes envelopes the loader takes: a bare payload's hottok is not
# written on (nor an envelope's), and a bare payload gets a received_at, as fetch-events
# gives one: --received-at, else the file's modification time.
fx=$ROOT/fixtures/hotmart
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$fx/purchase_approved.json" >"$tmp/bare.ndjson"
"$BIN/normalize" --emit-raw --received-at 2026-11-25T10:00:00+01:00 "$tmp/bare.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize --emit-raw of a bare payload with a hottok: exit 0, an envelope and an event (exit $st)" \
	'[ $st -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
check "and the hottok is not written on" '! grep -q -i hottok "$tmp/out"'
check "and both records have the --received-at time" \
	'[ "$(grep -c "\"received_at\":\"2026-11-25T09:00:00Z\"" "$tmp/out")" -eq 2 ]'
touch -d 2026-11-20T08:00:00Z "$tmp/bare.ndjson"
"$BIN/normalize" --emit-raw "$tmp/bare.ndjson" >"$tmp/out" 2>"$tmp/err"
check "without --received-at: the file's modification time" \
	'[ "$(grep -c "\"received_at\":\"2026-11-20T08:00:00Z\"" "$tmp/out")" -eq 2 ]'
for p in normalize fetch-events; do
	"$BIN/$p" --received-at 0000-01-01T00:00:00Z </dev/null >"$tmp/out" 2>/dev/null
	check "$p --received-at outside 1970..9999 is a usage error" '[ $? -eq 2 ] && [ ! -s "$tmp/out" ]'
done
"$BIN/fetch-events" --received-at 2026-11-25T00:00:00Z "$tmp/bare.ndjson" |
	sed 's/"payload":{/"payload":{"hottok":"FAKE-HOTTOK-2",/' >"$tmp/env.ndjson"
"$BIN/normalize" --emit-raw "$tmp/env.ndjson" >"$tmp/out" 2>"$tmp/err"
check "an envelope whose payload has a hottok: written on without it" \
	'[ "$(wc -l <"$tmp/out")" -eq 2 ] && ! grep -q -i hottok "$tmp/out" && grep -q "\"record\":\"raw\"" "$tmp/out"'

# A payload's member holding a hottok with its value is left out of what is stored; the
# envelope's type, the event's type and reason and the messages were read from it before
# (audit-R7 B: "unsupported event type 'X hottok=S'" in the log). The connector reads the
# payload without it, as the envelope fetch-events writes holds it: a Stripe event of no type.
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["type"] = "X hottok=LEAKR7B"; print(json.dumps(d))' \
	"$ROOT/fixtures/stripe/charge.failed.json" >"$tmp/r7b.ndjson"
"$BIN/fetch-events" "$tmp/r7b.ndjson" >"$tmp/r7b.env" 2>"$tmp/err"
st=$?
check "fetch-events, a type holding a hottok: an envelope of no type, exit 0 (exit $st)" \
	'[ $st -eq 0 ] && grep -q "\"event_type\":null" "$tmp/r7b.env" && ! grep -q LEAKR7B "$tmp/r7b.env" "$tmp/err"'
for input in r7b.ndjson r7b.env; do
	"$BIN/normalize" --emit-raw "$tmp/$input" >"$tmp/out" 2>"$tmp/err"
	st=$?
	check "normalize --emit-raw of it ($input): failed for its missing type, the secret nowhere (exit $st)" \
		'[ $st -eq 1 ] && grep -q "\"reason\":\"missing field .type.\"" "$tmp/out" && ! grep -q LEAKR7B "$tmp/out" "$tmp/err"'
done
# a message quoting such a value: masked, as a Stripe key is
printf '%s\n' '{"record":"raw","provider":"x hottok=LEAKR7C","payload":{}}' \
	"{\"record\":\"raw\",\"provider\":\"x {'hottok': 'LEAKR7D'}\",\"payload\":{}}" >"$tmp/r7c.ndjson"
"$BIN/normalize" --rejects "$tmp/rej" "$tmp/r7c.ndjson" >/dev/null 2>"$tmp/err"
check "a message quoting a hottok with its value masks it, on stderr and in the rejects file" \
	'grep -q ":1: no connector for provider .x hottok=\[redacted\] (unknown_provider)" "$tmp/err" &&
	 grep -q ":2: no connector for provider .x {.\[redacted\] (unknown_provider)" "$tmp/err" &&
	 ! grep -q "LEAKR7[CD]" "$tmp/err" "$tmp/rej"'

# Lines that took their length squared (audit-A): a rejected line is redacted for the
# rejects file, and a long run of backslashes inside a secret's object, or a word of
# secret names ("tokentoken..."), was read again from each of its bytes (a 1 MB line:
# minutes, a 16 MiB one: hours); to-csv looked each extra key up among the columns one by
# one. Each of these takes well under a second now: a hang guard of 30 s, not a timing.
python3 -c "print('{\"note\":\"\\\\\"hottok\\\\\":{' + '\\\\\\\\' * 500000 + '\"}')" >"$tmp/slow1.ndjson"
python3 -c "print('{\"a\":\"' + 'token' * 200000 + '\"}')" >"$tmp/slow2.ndjson"
for f in slow1 slow2; do
	timeout 30 "$BIN/fetch-events" --rejects "$tmp/$f.rej" "$tmp/$f.ndjson" >/dev/null 2>&1
	st=$?
	check "fetch-events --rejects, a $(wc -c <"$tmp/$f.ndjson")-byte line of one secret's object or name: rejected at once (exit $st)" \
		'[ $st -eq 1 ] && [ "$(wc -l <"$tmp/$f.rej")" -eq 1 ]'
done
python3 -c "
print('{' + ','.join('\"k%d\":1' % i for i in range(100000)) + '}')
print('{' + ','.join('\"j%d\":1' % i for i in range(100000)) + '}')" >"$tmp/slow3.ndjson"
timeout 30 "$BIN/to-csv" "$tmp/slow3.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "to-csv, a line of 100000 keys none a column: written at once, the extra keys said (exit $st)" \
	'[ $st -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] && grep -q "more than 256 extra keys" "$tmp/err"'

# 4. A FIFO or a socket in a dump directory is not a dump: named and skipped (exit 3), where a
# FIFO blocked the walk until someone wrote to it. Named on the command line, a FIFO is read.
mkdir -p "$tmp/dir"
cp "$ROOT/fixtures/stripe/charge.failed.json" "$tmp/dir/a.json"
mkfifo "$tmp/dir/fifo"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/dir/sock"
timeout 20 "$BIN/fetch-events" "$tmp/dir" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events DIR with a FIFO and a socket ends, exit 3 (exit $st)" '[ $st -eq 3 ]'
check "and names both, the dump beside them read" \
	'grep -q "fifo.: not a regular file" "$tmp/err" && grep -q "sock.: not a regular file" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'
timeout 20 "$BIN/fetch-events" <(cat "$tmp/dir/a.json") >"$tmp/out" 2>"$tmp/err"
check "a FIFO named on the command line is read" '[ $? -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ]'

# 5. A UTF-8 byte-order mark opening a file (Windows tools write one) is skipped, in NDJSON,
# gzip and pretty documents; inside a line it is still not JSON.
bom=$'\xef\xbb\xbf'
{ printf '%s' "$bom"; python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$ROOT/fixtures/stripe/charge.failed.json"; } >"$tmp/bom.ndjson"
gzip -c "$tmp/bom.ndjson" >"$tmp/bom.ndjson.gz"
{ printf '%s' "$bom"; cat "$ROOT/fixtures/stripe/charge.failed.json"; } >"$tmp/bom-pretty.json"
for f in bom.ndjson bom.ndjson.gz bom-pretty.json; do
	"$BIN/fetch-events" "$tmp/$f" >"$tmp/out" 2>"$tmp/err"
	check "fetch-events $f: the event is read (exit $?)" '[ "$(wc -l <"$tmp/out")" -eq 1 ] && [ ! -s "$tmp/err" ]'
done
# a key that is not a column is said clipped, and kept so: a run of lines each with a new
# 2 MiB key took 15 MB of memory and printed each whole (audit-M2 1)
python3 -c 'import json; print("{\"a\":1}"); [print(json.dumps({"a": 1, c * (2 << 20): 1})) for c in "xyz"]' \
	>"$tmp/bigkeys.ndjson"
"$BIN/to-csv" "$tmp/bigkeys.ndjson" >"$tmp/out" 2>"$tmp/err"
check "to-csv: three keys of 2 MiB, each warned about once, clipped ($(wc -c <"$tmp/err") bytes)" \
	'[ "$(grep -c "warning: key .xxxxxxxxxx*\.\.\.. is not a column" "$tmp/err")" -eq 1 ] &&
	 [ "$(wc -l <"$tmp/err")" -eq 3 ] && [ "$(wc -c <"$tmp/err")" -lt 1000 ] && [ "$(wc -l <"$tmp/out")" -eq 5 ]'
"$BIN/to-csv" "$tmp/bom.ndjson" >"$tmp/out" 2>"$tmp/err"
check "to-csv: the first key is the first column, without the mark" '[ ! -s "$tmp/err" ] && head -n 1 "$tmp/out" | grep -q "^id,"'
{ cat "$tmp/bom.ndjson"; cat "$tmp/bom.ndjson"; } >"$tmp/bom2.ndjson"
"$BIN/fetch-events" "$tmp/bom2.ndjson" >"$tmp/out" 2>"$tmp/err"
check "a mark inside the file is still refused" '[ $? -eq 1 ] && grep -q ":2: invalid JSON at column 1" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'

# 6. --plans: a byte-order mark (a spreadsheet saved the file) does not hide the first
# mapping, nor a header line naming the columns; blanks and one comma between fields, CRLF
# and comments are read. The file is a configuration: a mapping for an unknown provider, a
# code the plans table refuses (every event naming the price would be rejected by load), an
# empty or extra field, text that is not UTF-8, a price mapped to two plans, each is named
# at its line and the run does nothing (exit 2) rather than map some prices and not others.
printf '\xef\xbb\xbfprovider\tprice\tplan\r\nstripe ,  price_FakePro0001,pro  # the yearly one\r\n# a comment, with,, commas\n\nstripe\tprice_FakePro0001\tpro\n' >"$tmp/plans.tsv"
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
	"$ROOT/fixtures/stripe/customer.subscription.created.json" >"$tmp/sub.ndjson"
"$BIN/normalize" --plans "$tmp/plans.tsv" "$tmp/sub.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "a plans file with a byte-order mark, a header, CRLF, commas and comments maps (exit $st)" \
	'[ $st -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q "\"plan_code\":\"pro\"" "$tmp/out"'
printf 'strpe\tprice_x\tpro\nstripe\tprice_y\tPro\nstripe,,pro,monthly\nstripe\tprice_z\tpro\textra\nstripe\tprice_\xff\tpro\nstripe\tprice_w\tpro\nstripe\tprice_w\tstarter\nstripe\tprice_w\tpro\n' >"$tmp/plans.tsv"
"$BIN/normalize" --plans "$tmp/plans.tsv" "$tmp/sub.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "a plans file with bad lines: each named, nothing done, exit 2 (exit $st)" \
	'[ $st -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "plans.tsv:1: unknown provider .strpe." "$tmp/err" &&
	 grep -q "plans.tsv:2: plan code .Pro. must be" "$tmp/err" && grep -q "plans.tsv:3: expected PROVIDER PRICE_ID PLAN_CODE (a field is empty)" "$tmp/err" &&
	 grep -q "plans.tsv:4: expected PROVIDER PRICE_ID PLAN_CODE (more than three fields)" "$tmp/err" &&
	 grep -q "plans.tsv:5: not UTF-8 text" "$tmp/err" && grep -q "plans.tsv:7: stripe price .price_w. is mapped to .pro. by an earlier line" "$tmp/err" &&
	 ! grep -q "plans.tsv:[68]:" "$tmp/err" && grep -q "6 lines not read; nothing done" "$tmp/err" && ! LC_ALL=C grep -q "[^ -~]" "$tmp/err"'
# a code from '_' (the plans table's check wants a letter or digit first): the message says so
# (audit-normalize 3: it listed '_' as allowed); --rejects naming the plans file is a usage
# error, the file left whole (audit-normalize 2); a --plans not there does not stop --help
# (audit-normalize 4: it was read while the options were)
printf 'stripe\tprice_FakePro0001\t_legacy\n' >"$tmp/plans.tsv"
"$BIN/normalize" --plans "$tmp/plans.tsv" "$tmp/sub.ndjson" >/dev/null 2>"$tmp/err"
check "a plan code from '_': exit 2, the first character's rule said ($?)" \
	'grep -q "plans.tsv:1: plan code ._legacy. must be .*from a letter or digit" "$tmp/err"'
cp "$ROOT/fixtures/plans.tsv" "$tmp/plans.tsv"
"$BIN/normalize" --plans "$tmp/plans.tsv" --rejects "$tmp/plans.tsv" "$tmp/sub.ndjson" >/dev/null 2>"$tmp/err"
st=$?
check "--rejects naming the --plans file: exit 2 ($st), the plans file whole" \
	'[ $st -eq 2 ] && grep -q "^normalize: --rejects: it is the --plans file" "$tmp/err" && cmp -s "$ROOT/fixtures/plans.tsv" "$tmp/plans.tsv"'
"$BIN/normalize" --plans "$tmp/no-such-plans.tsv" --help >"$tmp/out" 2>"$tmp/err"
st=$?
check "--plans FILE-not-there --help: the help, exit 0 ($st)" \
	'[ $st -eq 0 ] && grep -q "^usage: normalize" "$tmp/out" && [ ! -s "$tmp/err" ]'
# a plan code longer than the plans table's btrees take (every event of the price would be
# refused by load): refused here; 255 bytes are taken
python3 -c 'print("stripe\tprice_FakePro0001\t" + "a" * 256)' >"$tmp/plans.tsv"
"$BIN/normalize" --plans "$tmp/plans.tsv" "$tmp/sub.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
python3 -c 'print("stripe\tprice_FakePro0001\t" + "a" * 255)' >"$tmp/plans.tsv"
"$BIN/normalize" --plans "$tmp/plans.tsv" "$tmp/sub.ndjson" >"$tmp/out2" 2>/dev/null
check "a plan code of 256 bytes: refused, exit 2 ($st); of 255: mapped" \
	'[ $st -eq 2 ] && grep -q "plans.tsv:1: plan code .a*. must be .*at most 255 bytes" "$tmp/err" &&
	 grep -q "\"plan_code\":\"aaaa*\"" "$tmp/out2"'
# --rejects naming another user's symlink (planted by that name in a shared directory) is
# not followed: the file it names is neither emptied nor made; one's own, or root's
# (/dev/stderr), is (audit-security 1)
echo keep >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/planted.rejects"
if chown -h nobody "$tmp/planted.rejects" 2>/dev/null; then
	for p in fetch-events normalize reconcile to-csv; do
		"$BIN/$p" --rejects "$tmp/planted.rejects" </dev/null >/dev/null 2>"$tmp/err"
		st=$?
		check "$p --rejects, another user's symlink: exit 3 ($st), said, not followed" \
			'[ $st -eq 3 ] && grep -q "a symlink of another user.s, not followed" "$tmp/err" && [ "$(cat "$tmp/victim")" = keep ]'
	done
else
	ok "# SKIP --rejects through another user's symlink: chown -h needs root"
fi
echo '{' | "$BIN/normalize" --rejects /dev/stderr >/dev/null 2>"$tmp/err"
check "normalize --rejects /dev/stderr (root's symlink): followed, the reject written there" \
	'grep -q "\"code\":\"invalid_json\"" "$tmp/err"'
for o in --plans --rejects; do
	"$BIN/normalize" "$o" "" "$tmp/sub.ndjson" >"$tmp/out" 2>"$tmp/err"
	st=$?
	check "normalize $o '': a usage error, nothing done (exit $st)" \
		'[ $st -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "^normalize: $o: an empty file name" "$tmp/err"'
done

# 7. reconcile: an id or project holding U+0000 is refused (invalid_field), not reported under
# the id it would be cut to ("evt_1\u0000x" is not evt_1, which balances).
cat >"$tmp/rc.ndjson" <<'IN'
{"record":"raw","provider":"stripe","external_event_id":"evt_1","project_id":"p","received_at":"2026-11-25T00:00:00Z","source":"a:1"}
{"record":"event","provider":"stripe","external_event_id":"evt_1","project_id":"p","status":"processed","received_at":"2026-11-25T00:00:00Z"}
{"record":"raw","provider":"stripe","external_event_id":"evt_1\u0000x","project_id":"p","received_at":"2026-11-25T00:00:00Z","source":"a:2"}
{"record":"raw","provider":"stripe","external_event_id":"evt_2","project_id":"p\u0000q","received_at":"2026-11-25T00:00:00Z","source":"a:3"}
IN
"$BIN/reconcile" --details "$tmp/rc.ndjson" /dev/null >"$tmp/out" 2>"$tmp/err"
st=$?
check "reconcile: lines holding U+0000 in a key are rejected, the rest balances (exit $st)" \
	'[ $st -eq 1 ] && [ "$(grep -c "(invalid_field)" "$tmp/err")" -eq 2 ] && ! grep -q reconcile_detail "$tmp/out"'

# 8. A file's first 100 rejects are shown on stderr, then one line says the rest are only
# counted; the rejects file has every one, and the exit status is 1 either way.
for k in 100 101; do
	{ echo '{"a":1}'; for i in $(seq $k); do echo "bad $i"; done; } >"$tmp/bad$k.ndjson"
	"$BIN/to-csv" --rejects "$tmp/bad$k.rej" "$tmp/bad$k.ndjson" >/dev/null 2>"$tmp/err"
	st=$?
	shown=$(grep -c '(invalid_json)$' "$tmp/err")
	notice=$(grep -c "^to-csv: $tmp/bad$k.ndjson: more than 100 rejected lines: the rest are counted and written to the rejects file only$" "$tmp/err")
	want=$([ $k -gt 100 ] && echo 1 || echo 0)
	check "$k rejects: 100 shown, the notice $want time(s), $k in the rejects file, exit 1 (exit $st, $shown shown, notice $notice)" \
		'[ $st -eq 1 ] && [ "$shown" -eq 100 ] && [ "$notice" -eq "$want" ] && [ "$(wc -l <"$tmp/bad$k.rej")" -eq $k ] &&
		 grep -q "^to-csv: $k input lines rejected$" "$tmp/err"'
done

# What ends a file's reading is said past the hundred too: a gzip cut short after 101 bad lines
# (audit-normalize 1: exit 1 and half the file gone without a word on stderr)
{ for i in $(seq 101); do echo "bad $i"; done; for i in $(seq 2000); do echo "{\"n\":$i,\"pad\":\"$(printf 'x%.0s' $(seq 40))\"}"; done; } | gzip -c >"$tmp/cut.gz"
head -c $(( $(wc -c <"$tmp/cut.gz") / 2 )) "$tmp/cut.gz" >"$tmp/cut-half.gz"
"$BIN/to-csv" "$tmp/cut-half.gz" >/dev/null 2>"$tmp/err"
st=$?
check "a cut gzip after 101 rejects: the cut said on stderr (exit $st)" \
	'[ $st -eq 1 ] && grep -q "^to-csv: $tmp/cut-half.gz:[0-9]*: .*(truncated_gzip)$" "$tmp/err" && grep -q "more than 100 rejected" "$tmp/err"'

# Two files whose paths share their first 255 bytes (a deep synced tree) are two files: each
# has its 60 rejects shown (audit-fetch 3: they shared one count of 100)
deep=$tmp/$(printf 'd%.0s' $(seq 250))
mkdir -p "$deep"
for k in 1 2; do for i in $(seq 60); do echo "bad $i"; done >"$deep/archive-$k.ndjson"; done
"$BIN/fetch-events" "$deep" >/dev/null 2>"$tmp/err"
check "two files with a 260-byte common prefix: 60 rejects shown for each, no notice" \
	'[ "$(grep -c "archive-2.ndjson:[0-9]*: .*(invalid_json)$" "$tmp/err")" -eq 60 ] && ! grep -q "more than 100" "$tmp/err"'

# The hundred is a reading's: a file named twice has its first 100 shown each time, and the
# notice each time (audit-U 4: the second reading showed none)
for p in normalize to-csv; do
	"$BIN/$p" "$tmp/bad101.ndjson" "$tmp/bad101.ndjson" >/dev/null 2>"$tmp/err"
	check "$p FILE FILE, over 100 rejects each: 100 shown each time, the notice twice ($(grep -c 'bad101.ndjson:[0-9]*: ' "$tmp/err") shown)" \
		'[ "$(grep -c "bad101.ndjson:[0-9]*: " "$tmp/err")" -eq 200 ] && [ "$(grep -c "more than 100 rejected" "$tmp/err")" -eq 2 ]'
done

# 9. Control characters from the input (a key, a file name) never reach stderr as they are:
# a key holding a newline and a message of its own, or a terminal escape, cannot forge a
# diagnostic line (scripts match on "prog: file:line: ... (code)") nor drive the terminal.
printf '%s\n' '{"a":1}' '{"a":2,"x\nto-csv: fake.ndjson:9: forged (invalid_json)\u001b[31m":1}' >"$tmp/forge.ndjson"
"$BIN/to-csv" "$tmp/forge.ndjson" >/dev/null 2>"$tmp/err"
check "a key's newline and escape are written as \\x0a and \\x1b, on one line" \
	'[ "$(wc -l <"$tmp/err")" -eq 1 ] && ! grep -q "^to-csv: fake" "$tmp/err" && ! grep -q "$(printf "\033")" "$tmp/err" &&
	 grep -q "key .x\\\\x0ato-csv: fake.ndjson:9: forged (invalid_json)\\\\x1b\[31m. is not a column" "$tmp/err"'
nl=$(printf 'a\nb.ndjson')
printf '{"a":1}\nnot json\n' >"$tmp/$nl"
"$BIN/normalize" "$tmp/$nl" >/dev/null 2>"$tmp/err"
check "a file name with a newline is one line per message" \
	'[ "$(wc -l <"$tmp/err")" -eq 3 ] && grep -q "^normalize: $tmp/a\\\\x0ab.ndjson:2: invalid JSON" "$tmp/err"'
# the C1 controls too (U+009B is a CSI, ESC [ in one character); U+00A0 past them is text
c1=$(printf 'c\302\2332Jd\302\240e.ndjson')
printf 'not json\n' >"$tmp/$c1"
"$BIN/normalize" "$tmp/$c1" >/dev/null 2>"$tmp/err"
check "a file name with a C1 control: written \\xc2\\x9b, the no-break space as itself" \
	'grep -q "^normalize: $tmp/c\\\\xc2\\\\x9b2Jd$(printf "\302\240")e.ndjson:1: invalid JSON" "$tmp/err" &&
	 ! grep -q "$(printf "\302\233")" "$tmp/err"'

# and DEL (0x7f), which some terminals act on: written \x7f (mutation audit MUT-P, D02)
del=$(printf 'bad\177name.ndjson')
printf 'not json\n' >"$tmp/$del"
"$BIN/fetch-events" "$tmp/$del" >/dev/null 2>"$tmp/err"
check "a file name with a DEL: written \\x7f" \
	'grep -q "^fetch-events: $tmp/bad\\\\x7fname.ndjson:1: " "$tmp/err" && ! grep -q "$(printf "\177")" "$tmp/err"'

# 10. --rejects naming one of the inputs would empty it before it is read; "-" is stdout,
# the data's: both are usage errors in every program, and the input is left whole.
echo '{"a":1}' >"$tmp/victim.ndjson"
for p in fetch-events normalize reconcile to-csv load; do
	"$BIN/$p" --rejects "$tmp/victim.ndjson" "$tmp/victim.ndjson" /dev/null >/dev/null 2>"$tmp/err"
	st=$?
	"$BIN/$p" --rejects - "$tmp/victim.ndjson" </dev/null >/dev/null 2>"$tmp/err2"
	st2=$?
	check "$p: --rejects an input or '-': exit 2 (exit $st, $st2), the input untouched" \
		'[ $st -eq 2 ] && [ $st2 -eq 2 ] && [ "$(cat "$tmp/victim.ndjson")" = "{\"a\":1}" ] &&
		 grep -q "^$p: --rejects: it is one of the inputs" "$tmp/err" && grep -q "^$p: --rejects: .-. is not allowed" "$tmp/err2"'
done
"$BIN/to-csv" --rejects /dev/null /dev/null >/dev/null 2>"$tmp/err"
check "--rejects /dev/null is still allowed beside an input /dev/null (exit $?)" '[ ! -s "$tmp/err" ]'
# The same when the input is stdin sent from that file (< FILE), and for the file stdout
# goes to (/dev/stdout, or > FILE): the data's stream.
for p in fetch-events normalize reconcile to-csv load; do
	"$BIN/$p" --rejects "$tmp/victim.ndjson" <"$tmp/victim.ndjson" >/dev/null 2>"$tmp/err"
	st=$?
	"$BIN/$p" --rejects "$tmp/out.ndjson" </dev/null >"$tmp/out.ndjson" 2>"$tmp/err2"
	st2=$?
	check "$p: --rejects FILE < FILE, or > FILE: exit 2 (exit $st, $st2), the input untouched" \
		'[ $st -eq 2 ] && [ $st2 -eq 2 ] && [ "$(cat "$tmp/victim.ndjson")" = "{\"a\":1}" ] &&
		 grep -q "^$p: --rejects: it is the standard input" "$tmp/err" &&
		 grep -q "^$p: --rejects: it is the standard output" "$tmp/err2"'
done
# and stdin named '-' among the inputs (mutation audit MP: '-' not read as stdin there
# survived; fetch-events emptied the file and exited 0)
for p in fetch-events normalize reconcile to-csv load; do
	"$BIN/$p" --rejects "$tmp/victim.ndjson" /dev/null - <"$tmp/victim.ndjson" >/dev/null 2>"$tmp/err"
	st=$?
	check "$p: --rejects FILE /dev/null - < FILE: exit 2 (exit $st), the input untouched" \
		'[ $st -eq 2 ] && [ "$(cat "$tmp/victim.ndjson")" = "{\"a\":1}" ] &&
		 grep -q "^$p: --rejects: it is the standard input" "$tmp/err"'
done

# 11. reconcile: a time outside 1970..9999 is refused (its day would not be YYYY-MM-DD: "999-06-01"
# sorted after 2026), and so is an empty project id; --project '' is a usage error.
cat >"$tmp/rc2.ndjson" <<'IN'
{"record":"raw","provider":"stripe","external_event_id":"evt_1","project_id":"p","occurred_at":"0999-06-01T00:00:00Z","received_at":null,"source":"a:1"}
{"record":"raw","provider":"stripe","external_event_id":"evt_2","project_id":"p","occurred_at":"9999-12-31T23:59:59-23:59","received_at":null,"source":"a:2"}
{"record":"raw","provider":"stripe","external_event_id":"evt_3","project_id":"","occurred_at":"2026-06-01T00:00:00Z","received_at":null,"source":"a:3"}
{"record":"raw","provider":"stripe","external_event_id":"evt_4","project_id":"p","occurred_at":"1970-01-01T00:00:00Z","received_at":null,"source":"a:4"}
IN
"$BIN/reconcile" "$tmp/rc2.ndjson" /dev/null >"$tmp/out" 2>"$tmp/err"
st=$?
check "reconcile: years past 1970..9999 and an empty project rejected, the rest counted (exit $st)" \
	'[ $st -eq 4 ] && grep -q ":1: .occurred_at. is not an RFC 3339 time in 1970..9999 (invalid_field)" "$tmp/err" &&
	 grep -q ":2: .occurred_at. is not an RFC 3339 time in 1970..9999 (invalid_field)" "$tmp/err" &&
	 grep -q ":3: envelope without a non-empty .project_id. string (invalid_field)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q "\"day\":\"1970-01-01\"" "$tmp/out"'
"$BIN/reconcile" --project '' "$tmp/rc2.ndjson" /dev/null >/dev/null 2>&1
st=$?
check "reconcile --project '': exit 2 (exit $st)" '[ $st -eq 2 ]'

# 12. to-csv: a key holding U+0000 (json-c cuts it there: two keys would merge, one value lost)
# rejects its line, at any depth; a value holding the text "\u0000" after a backslash does not.
printf '%s\n' '{"a":1,"b":2}' '{"a\u0000x":1,"a\u0000y":2}' '{"a":1,"b":{"c\u0000":3}}' '{"a":"\\u0000","b":4}' >"$tmp/keynul.ndjson"
"$BIN/to-csv" --lf "$tmp/keynul.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "to-csv: keys holding U+0000 rejected at lines 2 and 3, the rest written (exit $st)" \
	'[ $st -eq 1 ] && [ "$(grep -c "a key holds U+0000.*(invalid_field)" "$tmp/err")" -eq 2 ] &&
	 grep -q ":2: a key holds" "$tmp/err" && grep -q ":3: a key holds" "$tmp/err" &&
	 [ "$(cat "$tmp/out")" = "$(printf "a,b\n1,2\n\\\\u0000,4")" ]'

# 13. fetch-events, a pretty-printed array: each comma between elements is required and only
# one; a missing, doubled or trailing one is reported (invalid_json) at its line and the
# elements around it are still read, each with the line it starts on.
e1=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$ROOT/fixtures/stripe/invoice.paid.json")
e2=$(sed 's/"id": *"evt_[^"]*"/"id":"evt_Second0001"/' <<<"$e1")
arr() { printf '%s\n' "$@" >"$tmp/arr.json"; "$BIN/fetch-events" "$tmp/arr.json" >"$tmp/out" 2>"$tmp/err"; }
arr '[' "$e1" "$e2" ']'
check "an array without a comma between two events: reported at line 3, both read" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: no comma between two array elements (invalid_json)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ] &&
	 grep -q "\"source\":\"$tmp/arr.json:3\"" "$tmp/out"'
arr '[' "$e1," ",$e2" ']'
check "two commas in a row: reported at line 3, both read" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: two commas in a row in the array (invalid_json)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
arr '[' "$e1," "$e2," ']'
check "a trailing comma: reported, both read" \
	'[ $? -eq 1 ] && grep -q "arr.json:4: a comma after the array.s last element (invalid_json)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
arr '[' "$e1," "$e2" ']'
check "a well-formed array: both read, lines 2 and 3, exit 0" \
	'[ $? -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q "\"source\":\"$tmp/arr.json:2\"" "$tmp/out" && grep -q "\"source\":\"$tmp/arr.json:3\"" "$tmp/out"'
# An array never closed, a comma after its last element: said at the comma's line 3, not at
# line 4, past the file's end (its last line end was counted)
arr '[' "$e1," "$e2,"
check "a trailing comma in an array never closed: reported at its line 3, both read" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: a comma after the array.s last element (invalid_json)" "$tmp/err" &&
	 ! grep -q "arr.json:4:" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
# An element that starts on a line after another ("},{") and whose inner lines are indented
# less than its column but more than the line's first element is valid JSON, not cut short
# (it was, against its own column: it and the one before it lost); a line opening a value
# at the line's first element's column still starts a new one, on the array's '[' line too.
mid=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); e["id"]="evt_Mid0001"; d=e.pop("data")
print(json.dumps(e)[:-1] + ", \"data\":\n    " + json.dumps(d) + "\n  }")' "$ROOT/fixtures/stripe/invoice.paid.json")
arr '[' "  $e1,$mid," "  $e2" ']'
check "an element after another on its line, its inner lines indented less than it: all three read, exit 0" \
	'[ $? -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] && jq . "$tmp/arr.json" >/dev/null &&
	 [ "$(grep -c "\"source\":\"$tmp/arr.json:2\"" "$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:5\"" "$tmp/out"'
arr '[' "  $e1,{\"id\":\"evt_Cut0001\",\"object\":\"event\"," "  $e2" ']'
check "one cut after another on its line, the next at that line's indentation: cut short, the other two read" \
	'[ $? -eq 1 ] && grep -q "arr.json:2: an array element cut short: another starts at line 3" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
arr "[{\"id\":\"evt_Cut0001\",\"object\":\"event\"," " $e1," " $e2]"
check "one cut on the '[' line, the next at its column 2: cut short, the other two read" \
	'[ $? -eq 1 ] && grep -q "arr.json:1: an array element cut short: another starts at line 2" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
# An element of many short lines grown past --max-line is dropped, rejected at its first line
# (line_too_long), and the elements after it read at their own lines, however many lines it
# has (its lines are not held, even as line ends: 9000 of them once made the whole array
# "longer than 8192 bytes", every element after it lost). It counts as an element for the
# commas around it: one on its own line after it is no "comma before the first element",
# and one missing before it is reported at its line.
long=$(printf '1,\n%.0s' $(seq 9000))
arr() { printf '%s\n' "$@" >"$tmp/arr.json"; "$BIN/fetch-events" --max-line 8K "$tmp/arr.json" >"$tmp/out" 2>"$tmp/err"; }
arr '[' "$e1," '{"id":"evt_Long0001","x":[' "$long" '1]},' "$e2" ']'
check "an array element of 9000 lines past --max-line 8K: rejected at line 3, the next read at line 9005" \
	'[ $? -eq 1 ] && [ "$(grep -c "" "$tmp/err")" -eq 2 ] && grep -q "arr.json:3: array element longer than 8192 bytes (line_too_long)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:9005\"" "$tmp/out"'
arr '[' '{"id":"evt_Long0001","x":[' "$long" '1]}' ',' "$e1," '{"id":"evt_Long0002","x":[' "$long" '1]}' ',' "$e2" ']'
check "two such, the first first, each comma on its own line after: both rejected, the events read at lines 9005 and 18009" \
	'[ $? -eq 1 ] && [ "$(grep -c "" "$tmp/err")" -eq 3 ] && grep -q "arr.json:2: array element longer" "$tmp/err" &&
	 grep -q "arr.json:9006: array element longer" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ] &&
	 grep -q "\"source\":\"$tmp/arr.json:9005\"" "$tmp/out" && grep -q "\"source\":\"$tmp/arr.json:18009\"" "$tmp/out"'
arr '[' "$e1" '{"id":"evt_Long0001","x":[' "$long" '1]},' "$e2" ']'
check "no comma before such an element: reported at its line 3, both events read" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: no comma between two array elements (invalid_json)" "$tmp/err" &&
	 [ "$(grep -c "(invalid_json)" "$tmp/err")" -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
# A line itself longer than --max-line in an element, or opening one (an event on one line,
# a long text in a pretty one): that element is dropped, rejected at its first line, and the
# elements after it read, the next where a line opens an object at the elements' column
# (audit-F2 1: the whole array was refused at line 1, said once, every element after it lost)
big=$(head -c 9000 /dev/zero | tr '\0' x)
arr '[' "$e1," "{\"id\":\"evt_Long0003\",\"n\":\"$big\"}," "$e2" ']'
check "an element on one line longer than --max-line 8K: rejected at its line 3, both events read" \
	'[ $? -eq 1 ] && [ "$(grep -c "" "$tmp/err")" -eq 2 ] && grep -q "arr.json:3: array element longer than 8192 bytes (line_too_long)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:4\"" "$tmp/out"'
arr '[' "$e1," '  {' '    "id": "evt_Long0004",' "    \"n\": \"$big\"," '    "x": [1,' '2]' '  },' "  $e2" ']'
check "a pretty element holding such a line: rejected at its line 3, both events read" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: array element longer than 8192 bytes (line_too_long)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:9\"" "$tmp/out"'
# ... and when its brackets are not all seen, a ',' or ']' beginning a line at the elements'
# column ends it: the last element long, then the array's ']' and a second array; a comma
# leading the next element's line (review R12 1: "the array opened here is not closed", the
# second array swallowed as an element)
arr '[' "$e1," "{\"id\":\"evt_Long0006\",\"data\":{\"n\":\"$big\"}}" ']' '[' "$e2" ']'
check "the last element on such a line, then ']' and another array: both events read (exit $?)" \
	'[ "$(grep -c "" "$tmp/err")" -eq 2 ] && grep -q "arr.json:3: array element longer than 8192 bytes (line_too_long)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:6\"" "$tmp/out"'
arr '[' "  $e1" "  ,{\"id\":\"evt_Long0007\",\"data\":{\"n\":\"$big\"}}" "  ,$e2" ']'
check "commas leading the lines: the long element dropped, both events read (exit $?)" \
	'[ "$(grep -c "" "$tmp/err")" -eq 2 ] && grep -q "arr.json:3: array element longer than 8192 bytes (line_too_long)" "$tmp/err" &&
	 [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:4\"" "$tmp/out"'
printf '%s\n' "{\"id\":\"evt_Long0005\"," "\"n\":\"$big\"}" "$e1" >"$tmp/arr.json"
"$BIN/fetch-events" --max-line 8K "$tmp/arr.json" >"$tmp/out" 2>"$tmp/err"
check "outside an array, a document holding such a line is refused at its line 1, said once, the next read" \
	'[ $? -eq 1 ] && grep -q "arr.json:1: document longer than 8192 bytes (line_too_long)" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'
# An array of 9000 lines of scalars (no event, each its not_object) and an event after
# them: the scalars are handed over as whole elements are, so the array is not "longer than
# 8192 bytes" and the event is read at its line 9003 (review Y 1: it was lost)
arr '[' "$e1," "$long" "$e2" ']'
check "9000 lines of scalars past --max-line 8K: each not_object, the event after them read at line 9003" \
	'[ $? -eq 1 ] && grep -q "arr.json:3: expected a JSON object, got integer (not_object)" "$tmp/err" && grep -q "^fetch-events: 9000 input lines rejected" "$tmp/err" &&
	 ! grep -q "longer than" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "\"source\":\"$tmp/arr.json:9003\"" "$tmp/out"'

# 14. fetch-events small contracts: a CR between tokens (and a line ending CR CR LF) never
# reaches an envelope, whose line splits as one at CR too; --until 1970-01-01T00:00:00Z keeps
# nothing (the epoch is a bound, not "none"); a C1 control character in --project is refused.
printf '{"id":"evt_Cr0001","object":"event",\r"type":"customer.created","created":1700000000,"data":{"object":{"id":"cus_1","object":"customer"}}}\r\r\n' >"$tmp/cr.ndjson"
"$BIN/fetch-events" "$tmp/cr.ndjson" >"$tmp/out" 2>"$tmp/err"
check "a CR between tokens becomes a space in the envelope (exit $?)" \
	'[ ! -s "$tmp/err" ] && ! grep -q "$(printf "\r")" "$tmp/out" && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
	 "$BIN/normalize" --emit-raw "$tmp/cr.ndjson" | grep -vq "$(printf "\r")"'
"$BIN/fetch-events" --until 1970-01-01T00:00:00Z "$tmp/cr.ndjson" >"$tmp/out" 2>"$tmp/err"
check "--until the epoch keeps no event (exit $?)" '[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]'
"$BIN/fetch-events" --project "$(printf 'acme\xc2\x85x')" "$tmp/cr.ndjson" >/dev/null 2>"$tmp/err"
st=$?
check "--project with a C1 control character: exit 2 (exit $st)" '[ $st -eq 2 ] && grep -q "control character" "$tmp/err"'

# 15. Record times are RFC 3339 itself: an offset-less time (or a date alone) in an envelope
# or an event is refused (invalid_field) by normalize and reconcile, not taken for UTC, where
# a local time near midnight would land on the wrong day.
cat >"$tmp/tz.ndjson" <<'IN'
{"record":"raw","provider":"stripe","external_event_id":"evt_Tz0001","project_id":"p","occurred_at":"2026-11-02T23:30:00","received_at":"2026-11-03T00:00:00Z","source":"a:1","payload":{"id":"evt_Tz0001","object":"event","type":"customer.created","created":1793662200,"data":{"object":{"id":"cus_1","object":"customer"}}}}
{"record":"raw","provider":"stripe","external_event_id":"evt_Tz0002","project_id":"p","occurred_at":null,"received_at":"2026-11-03","source":"a:2","payload":{"id":"evt_Tz0002","object":"event","type":"customer.created","created":1793662200,"data":{"object":{"id":"cus_1","object":"customer"}}}}
{"record":"raw","provider":"stripe","external_event_id":"evt_Tz0003","project_id":"p","occurred_at":"2026-11-02T23:30:00-03:00","received_at":"2026-11-03T00:00:00Z","source":"a:3","payload":{"id":"evt_Tz0003","object":"event","type":"customer.created","created":1793662200,"data":{"object":{"id":"cus_1","object":"customer"}}}}
IN
"$BIN/normalize" "$tmp/tz.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize: offset-less and date-only times rejected at lines 1 and 2, the zoned one normalized (exit $st)" \
	'[ $st -eq 1 ] && [ "$(grep -c "(invalid_field)" "$tmp/err")" -eq 2 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
	 grep -q "\"external_event_id\":\"evt_Tz0003\"" "$tmp/out"'
"$BIN/reconcile" "$tmp/tz.ndjson" /dev/null >"$tmp/out" 2>"$tmp/err"
st=$?
check "reconcile: the same two rejected, the zoned one counted on its UTC day (exit $st)" \
	'[ "$(grep -c "is not an RFC 3339 time" "$tmp/err")" -eq 2 ] && grep -q "\"day\":\"2026-11-03\"" "$tmp/out"'

# 15. A key holding U+0000 in what fetch-events, normalize and load read: json-c would take
# "amount_paid\u0000x" for a second amount_paid, the last copy read, and book an amount the
# payload does not say (another reader sees both). The line is refused (invalid_field) in
# every program, the lines around it read.
inv=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$ROOT/fixtures/stripe/invoice.paid.json")
{ echo "$inv"; sed 's/"amount_paid":\([0-9]*\)/"amount_paid":\1,"amount_paid\\u0000x":1/; s/"id":"evt_[^"]*"/"id":"evt_NulKey0001"/' <<<"$inv"
  sed 's/"id":"evt_[^"]*"/"id":"evt_NulKey0002"/' <<<"$inv"; } >"$tmp/nulkey.ndjson"
"$BIN/fetch-events" --received-at 2026-11-25T00:00:00Z "$tmp/nulkey.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a payload with a key holding U+0000 is refused at its line (exit $st)" \
	'[ $st -eq 1 ] && grep -q ":2: a key holds U+0000.*(invalid_field)$" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
"$BIN/normalize" --received-at 2026-11-25T00:00:00Z "$tmp/nulkey.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize: a bare payload so is refused (exit $st)" \
	'[ $st -eq 1 ] && grep -q ":2: a key holds U+0000.*(invalid_field)$" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ] &&
	 ! grep -q "\"amount_minor\":1," "$tmp/out"'
# the same payloads as captured webhooks whose body is an object: its bytes sliced out of the
# capture's line, the cut key seen there; a top-level key written with escapes (where the body
# sits is then not known): the line's own check. Headers never reach the rejects.
while IFS= read -r p; do
	printf '{"headers":{"X-Hotmart-Hottok":"FAKE-HOTTOK-CAP"},"received_at":"2026-11-20T14:30:01Z","body":%s}\n' "$p"
	printf '{"he\\u0061ders":{"X-Hotmart-Hottok":"FAKE-HOTTOK-CAP"},"received_at":"2026-11-20T14:30:01Z","body":%s}\n' "$p"
done <"$tmp/nulkey.ndjson" >"$tmp/capnul.ndjson"
"$BIN/fetch-events" --rejects "$tmp/rej" "$tmp/capnul.ndjson" 2>"$tmp/err" | "$BIN/normalize" >"$tmp/out" 2>/dev/null
st=("${PIPESTATUS[@]}")
check "fetch-events: a captured object body with a key holding U+0000 is refused, plain or escaped keys (exit ${st[*]})" \
	'[ "${st[0]}" -eq 1 ] && grep -q ":3: a key holds U+0000.*(invalid_field)$" "$tmp/err" &&
	 grep -q ":4: a key holds U+0000.*(invalid_field)$" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 4 ] &&
	 ! grep -q "\"amount_minor\":1," "$tmp/out" && ! grep -q FAKE-HOTTOK-CAP "$tmp/rej"'
printf '%s\n' '{"headers":{},"received_at":"2026-11-20T14:30:01Z","body":{"id":"evt_Big0001","object":"event","type":"invoice.paid","created":1793000000,"data":{"object":{"id":"in_1","object":"invoice","n":123456789012345678901234567890,"z":-0,"k":1,"k":2,"s":"\u00e9\/"}}}}' |
	"$BIN/fetch-events" >"$tmp/out" 2>/dev/null
check "fetch-events: a captured object body is passed on as its bytes (a number past 64 bits, -0, a duplicate key, escapes)" \
	'grep -qF "\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\",\"n\":123456789012345678901234567890,\"z\":-0,\"k\":1,\"k\":2,\"s\":\"\\u00e9\\/\"}}" "$tmp/out"'
# the same when the capture's own keys are written with escapes, or it has many of them
# (json-c's text of the body was written then: the number clamped, the escapes decoded)
b='{"id":"evt_Big0002","object":"event","type":"invoice.paid","created":1793000000,"data":{"object":{"id":"in_1","n":123456789012345678901234567890,"s":"\u00e9\/"}}}'
{
	printf '{"he\\u0061ders":{},"received_at":"2026-11-20T14:30:01Z","b\\u006fdy":%s}\n' "$b"
	printf '{"headers":{},%s"received_at":"2026-11-20T14:30:01Z","body":%s}\n' "$(seq -f '"x%g":0,' 1 60 | tr -d '\n')" "$b"
} | "$BIN/fetch-events" >"$tmp/out" 2>/dev/null
check "fetch-events: so also under escaped keys, or among 60 other members" \
	'[ "$(grep -cF "\"data\":{\"object\":{\"id\":\"in_1\",\"n\":123456789012345678901234567890,\"s\":\"\\u00e9\\/\"}}" "$tmp/out")" -eq 2 ]'
"$BIN/fetch-events" --received-at 2026-11-25T00:00:00Z "$tmp/nulkey.ndjson" 2>/dev/null >"$tmp/env.ndjson"
sed -n 1p "$tmp/env.ndjson" | sed 's/"provider":"stripe"/"provider":"stripe","provider\\u0000":"hotmart"/' >"$tmp/envnul.ndjson"
cat "$tmp/env.ndjson" >>"$tmp/envnul.ndjson"
"$BIN/normalize" "$tmp/envnul.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "normalize: an envelope so is refused (exit $st)" \
	'[ $st -eq 1 ] && grep -q ":1: a key holds U+0000.*(invalid_field)$" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 2 ]'
"$BIN/reconcile" "$tmp/envnul.ndjson" /dev/null >/dev/null 2>"$tmp/err"
check "reconcile: so is refused" 'grep -q ":1: a key holds U+0000.*(invalid_field)$" "$tmp/err"'

# 16. Depth: a payload 63 deep makes an envelope 64 deep, which every reader takes; one 64
# deep would make an envelope the next program refuses, so fetch-events and normalize (a
# bare payload) refuse it (too_deep) and the stream balances.
python3 - "$ROOT/fixtures/stripe/invoice.paid.json" >"$tmp/deep.ndjson" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for depth in (63, 64):
    v = "x"
    for _ in range(depth - 3):
        v = {"a": v}
    e = json.loads(json.dumps(d)); e["id"] = "evt_deep%d" % depth; e["data"]["object"]["metadata"] = v
    print(json.dumps(e))
PY
"$BIN/fetch-events" "$tmp/deep.ndjson" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a payload 64 deep is too_deep, 63 is read (exit $st)" \
	'[ $st -eq 1 ] && grep -q ":2: JSON nested deeper than 63 levels.*(too_deep)$" "$tmp/err" && [ "$(wc -l <"$tmp/out")" -eq 1 ]'
"$BIN/normalize" "$tmp/out" >/dev/null 2>"$tmp/err"
check "normalize reads the envelope 64 deep (exit $?)" '[ ! -s "$tmp/err" ]'
# the limit is the payload's own: one 63 deep in an array of events or in a capture is read
python3 - "$tmp/deep.ndjson" >"$tmp/deepwrap.json" <<'PY'
import json, sys
e = json.loads(open(sys.argv[1]).readline())
print(json.dumps([e]))
print(json.dumps({"headers": {"Content-Type": "application/json"}, "received_at": "2026-11-20T14:30:01Z", "body": e}))
print(json.dumps({"headers": {"Content-Type": "application/json"}, "received_at": "2026-11-20T14:30:01Z", "body": json.dumps(e)}))
PY
"$BIN/fetch-events" "$tmp/deepwrap.json" >"$tmp/out" 2>"$tmp/err"
st=$?
check "fetch-events: a payload 63 deep in an array or a capture is read (exit $st)" '[ $st -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]'
"$BIN/normalize" --emit-raw "$tmp/deep.ndjson" 2>"$tmp/err" | "$BIN/reconcile" - >/dev/null 2>"$tmp/err2"
st=("${PIPESTATUS[@]}")
check "normalize --emit-raw of bare payloads: 64 deep is too_deep, and reconcile balances (exit ${st[*]})" \
	'[ "${st[0]}" -eq 1 ] && [ "${st[1]}" -eq 0 ] && grep -q ":2: JSON nested deeper than 63 levels.*(too_deep)$" "$tmp/err" && [ ! -s "$tmp/err2" ]'

# 17. A dump whose modification time is outside 1970..9999 (a restored archive, a device
# whose clock was never set): its events are received now, said once, and not given a
# received_at the next program refuses.
cp "$ROOT/fixtures/hotmart/purchase_approved.json" "$tmp/old.json"
touch -d '1960-01-01 UTC' "$tmp/old.json"
"$BIN/fetch-events" "$tmp/old.json" 2>"$tmp/err" | "$BIN/normalize" >"$tmp/out" 2>"$tmp/err2"
st=("${PIPESTATUS[@]}")
check "fetch-events: a file's time before 1970 says so and takes now (exit ${st[*]})" \
	'[ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ] && grep -q "modification time is not in 1970..9999" "$tmp/err" &&
	 [ ! -s "$tmp/err2" ] && grep -q "\"received_at\":\"$(date -u +%Y)-" "$tmp/out"'
# the epoch, or zip's 1980, a placeholder no webhook arrived at (before 2010): the same, said
# so (audit-F2 5: the arrival was dated 1970, 56 years before the event); 2015 is a time
for t in @0 '1980-01-01 UTC'; do
	touch -d "$t" "$tmp/old.json"
	"$BIN/fetch-events" "$tmp/old.json" 2>"$tmp/err" >"$tmp/out"
	check "fetch-events: a file's time $t is a placeholder: said, now taken" \
		'grep -q "modification time is before 2010" "$tmp/err" && grep -q "\"received_at\":\"$(date -u +%Y)-" "$tmp/out"'
done
touch -d '2015-03-01 UTC' "$tmp/old.json"
"$BIN/fetch-events" "$tmp/old.json" 2>"$tmp/err" >"$tmp/out"
check "fetch-events: a file's time in 2015 is its arrival" '[ ! -s "$tmp/err" ] && grep -q "\"received_at\":\"2015-03-01T00:00:00Z\"" "$tmp/out"'
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$ROOT/fixtures/hotmart/purchase_approved.json" >"$tmp/old.ndjson"
touch -d '1960-01-01 UTC' "$tmp/old.ndjson"
"$BIN/normalize" --emit-raw "$tmp/old.ndjson" 2>"$tmp/err" | "$BIN/reconcile" - >/dev/null 2>"$tmp/err2"
st=("${PIPESTATUS[@]}")
check "normalize --emit-raw: the same, and reconcile takes its envelopes (exit ${st[*]})" \
	'[ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ] && grep -q "modification time is not in 1970..9999" "$tmp/err" && [ ! -s "$tmp/err2" ]'

# 18. A failed event with a long id (an envelope's may be 100 KB): the warning quotes the id
# cut short, on a character's boundary, and still says why the event failed.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["id"]="evt_x"+"é"*300; d["type"]=5; print(json.dumps(d,ensure_ascii=False))' \
	"$ROOT/fixtures/stripe/invoice.paid.json" >"$tmp/longid.ndjson"
"$BIN/normalize" "$tmp/longid.ndjson" >/dev/null 2>"$tmp/err"
check "a failed event's warning with a 600-byte id says the reason, in valid UTF-8" \
	'grep -q "failed: field .type. must be a string" "$tmp/err" && iconv -f UTF-8 -t UTF-8 "$tmp/err" >/dev/null 2>&1'

# secrets in dumps no JSON reader reads (a receiver's Python, Ruby or PHP log of the request),
# spelled with escapes, or a Checkout Session's client secret: none reaches the rejects file
# (audit-SEC 1, 2, 3); the JSON ones' raw stays, redacted
cat >"$tmp/secrets.txt" <<'EOF'
{'hottok': 'LEAKA1', 'id': 'x'}
{"hottok"=>"LEAKA2", "id"=>"x"}
    [hottok] => LEAKE1
  'hottok' => 'LEAKE2',
[('hottok', 'LEAKE3'), ('prod', '1')]
{'headers': {'X-Hotmart-Hottok': 'LEAKE4'}, 'body': '{}'}
{"headers": {"Authorization": 'Bearer LEAKE5'}}
{'client_secret': 'LEAKE7'}
{"id":"evt_1","object":"event","data":{"object":{"note":"\u0073k_live_LEAKF1xxxxxxxx"}}, bad}
{"id":"evt_1","object":"event","data":{"object":{"note":"\u0070i_3Abc_secret_LEAKF2xxxxxx"}}, bad}
{"id":"evt_1","object":"event","data":{"object":{"k":"cs_live_a1B2c3D4e5F6_secret_fidLEAKG1xxx"}}, bad}
{"hottok": "LEAKH1", bad}
{"note":"{\"hottok\"=>\"LEAKR9A\"}"}
{"note":"{\"hottok\" => \"LEAKR9B\"}"}
EOF
"$BIN/fetch-events" --rejects "$tmp/secrets.rej" "$tmp/secrets.txt" >/dev/null 2>"$tmp/err"
check "rejected secrets in Python, Ruby (also inside a JSON string: review R9 2), PHP logs, escaped, a Checkout client secret: none in the rejects file or on stderr ($(grep -o 'LEAK[A-Z0-9]*' "$tmp/secrets.rej" "$tmp/err" | tr '\n' ' '))" \
	'[ "$(wc -l <"$tmp/secrets.rej")" -eq 14 ] && ! grep -q LEAK "$tmp/secrets.rej" "$tmp/err" &&
	 [ "$(jq -r "select(.line == 12) | .raw" "$tmp/secrets.rej")" = "{\"hottok\": \"[redacted]\", bad}" ]'

# A dump written as UTF-16 (PowerShell 5's '>'): every line a nul_byte reject, whose text
# no redaction reads, the NULs between a name's letters; withheld when it holds a secret,
# kept when it holds none (audit-W 1). A HAR's cookies list is masked whole (audit-W 2).
# A line holding a Stripe key under no secret's name is withheld too: the key is found by
# its value once the NULs are out (mutation audit MP: nul_hides_secret without the
# redaction's answer survived, and "s\ufffdk\ufffd_\ufffdl..." reached the rejects file).
printf '%s\n' '{"headers":{"Authorization":"Bearer LEAKW1"},"body":"{\"hottok\":\"LEAKW2\"}"}' \
	'{"note":"sk_live_51HxLEAKW4abcdefgh"}' |
	iconv -f utf-8 -t utf-16le >"$tmp/u16.ndjson"
printf '{"a":1,\0"b":2}\n' >"$tmp/nul.ndjson"
printf '%s\n' '{"log":{"entries":[{"request":{"cookies":[{"name":"sid","value":"LEAKW3"}],"content":{}}}]}}' >"$tmp/har.ndjson"
for p in fetch-events normalize; do
	"$BIN/$p" --rejects "$tmp/w.rej" "$tmp/u16.ndjson" "$tmp/nul.ndjson" "$tmp/har.ndjson" >/dev/null 2>"$tmp/err"
	check "$p: a UTF-16 line holding secrets is rejected with raw null, a NUL in a line without one keeps its raw, a HAR's cookies masked" \
		'! tr -d "\000" <"$tmp/w.rej" | grep -q LEAKW && ! grep -q LEAKW "$tmp/err" &&
		 grep -q "u16.ndjson\",\"line\":1,.*\"raw\":null" "$tmp/w.rej" &&
		 grep -q "u16.ndjson\",\"line\":2,.*\"raw\":null" "$tmp/w.rej" &&
		 grep -qF "\"raw\":\"{\\\"a\\\":1," "$tmp/w.rej" && grep -q "cookies.\":\[redacted\]" "$tmp/w.rej"'
done

# reconcile: two copies of an event, one with an empty source (load refuses it; stream mode
# reads it): compared without a NULL buffer going to memcmp (UBSan's runtime error, exit 1),
# and the one counted is the copy the loader keeps, with a source: its day, the 2nd (review Z 3)
printf '%s\n' '{"record":"raw","provider":"stripe","external_event_id":"evt_e","event_type":"x","project_id":"acme","occurred_at":"2026-11-01T10:00:00Z","received_at":"2026-11-06T10:00:00Z","source":"","payload":{}}' \
	'{"record":"raw","provider":"stripe","external_event_id":"evt_e","event_type":"x","project_id":"acme","occurred_at":"2026-11-02T10:00:00Z","received_at":"2026-11-06T10:00:00Z","source":"0","payload":{}}' >"$tmp/empty.ndjson"
"$BIN/reconcile" "$tmp/empty.ndjson" >"$tmp/out" 2>"$tmp/err"; st=$?
check "reconcile: copies with an empty source compared, the one with a source counted (exit $st: $(head -c 120 "$tmp/err"))" \
	'[ $st -eq 4 ] && ! grep -q "runtime error" "$tmp/err" && grep -q "\"day\":\"2026-11-02\",\"raw\":1," "$tmp/out"'
