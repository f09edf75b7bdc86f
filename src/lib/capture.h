/*
 * capture.h: captured webhooks, whatever kept them: what a capture says of
 * its request (a header, when it arrived) and the provider's payload its body
 * carries. Raw HTTP/1.x requests are read by rawhttp.h and end here too.
 *
 * A JSON capture is an object with headers and a body (or an API Gateway
 * requestContext), and no "object" or "event" member (those are Stripe's and
 * Hotmart's payloads): our own {"headers", "body", "received_at"?}, API Gateway
 * / Lambda proxy events (REST v1 "headers" and "multiValueHeaders", HTTP API
 * v2; "isBase64Encoded"; requestContext times) and request-bin exports. Its
 * "headers" is an object (values strings, or lists of strings), a list of
 * {"name": ..., "value": ...} objects (HAR) or a list of [name, value] pairs.
 *
 * Ownership: capture_header borrows from the capture; the payload functions
 * return a new object and a new text (malloc), both the caller's.
 */
#ifndef RO_CAPTURE_H
#define RO_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "diag.h"
#include "jsonutil.h"

/* 1 when o is a JSON capture (above). */
int capture_is(json_object *o);

/*
 * A Stripe event delivered through a cloud event destination instead of a
 * webhook: Amazon EventBridge ({"version", "id", "detail-type", "source":
 * "aws.partner/stripe.com/...", "time", ..., "detail": EVENT}) or Azure Event
 * Grid, a CloudEvent ({"specversion", "type", "source", "id", "time", "data":
 * EVENT}). The name of the member that holds the event ("detail", "data"),
 * told by its "object" ("event", or "v2.core.event" for a thin one), or NULL.
 */
const char *cloud_event_member(json_object *o);

/* When the destination received it, its "time": 0 ok, -1 when absent, -2 when
 * it is no RFC 3339 time in 1970..9999 or more than a day ahead (*why says). */
int cloud_event_time(json_object *o, int64_t *ms, const char **why);

/*
 * The value of header name (any case), whatever the headers' shape, into
 * *value (NULL when absent): 0, or -1 (and NULL) when it is there twice, in
 * "headers", a list or "multiValueHeaders", with values that differ (blanks
 * around them and case aside): which a server took cannot be told.
 */
int capture_header(json_object *cap, const char *name, const char **value);

/* An HTTP Date header -> ms: RFC 9110's three forms ("Wed, 25 Nov 2026 08:49:44 GMT",
 * "Wednesday, 25-Nov-26 08:49:44 GMT", "Wed Nov 25 08:49:44 2026"), GMT also written UTC
 * or as a numeric offset (+hhmm, RFC 5322). 0 ok, -1 not one (another zone included). */
int http_date(const char *s, int64_t *ms);

/*
 * A request's arrival from its Date header (NULL or blank: none): 0 ok, -1
 * when it does not say, -2 when it is no HTTP date, or one more than a day
 * ahead: *why then says so, naming the header.
 */
int date_header_time(const char *date, int64_t *ms, const char **why);

/*
 * When the capture says its request arrived, in 1970..9999: its "received_at"
 * (RFC 3339 with seconds and a zone, or epoch seconds or ms), else API Gateway's
 * requestContext.requestTimeEpoch (v1) or requestContext.timeEpoch (v2), else
 * its Date header. 0 ok, -1 when it does not say, -2 when its "received_at"
 * (not null) is no such time or its Date header no HTTP date: *why then says
 * which and what it is ("field 'received_at' is not in 1970..9999"); -3 when
 * it has two Date headers that differ (*why says so).
 */
int capture_time(json_object *cap, int64_t *ms, const char **why);

/*
 * The payload a request body carries: its bytes as the request sent them
 * (Content-Encoding gzip or deflate undone when the bytes are compressed),
 * a form post (Hotmart's old postbacks) made a flat object of strings, JSON
 * squeezed onto one line and parsed strictly. Returns the object (or an array:
 * a batch, an Event Grid push's) and its text (*text, *textlen); NULL with *code
 * (invalid_body, line_too_long when the decompressed body is longer than max)
 * and msg when there is no JSON object nor array.
 * With an object, msg is "" or a note for stderr (a form field whose invalid
 * UTF-8 was read as U+FFFD).
 */
json_object *capture_payload(struct jparser *p, const char *content_type, const char *content_encoding,
			     const char *body, size_t len, size_t max, char **text, size_t *textlen,
			     enum reject_code *code, char *msg, size_t msgsz);

/* 1 when the body's bytes are compressed as its Content-Encoding says (capture_payload
 * undoes it): text redaction cannot see a secret inside them. */
int capture_body_compressed(const char *content_encoding, const char *body, size_t len);

/* The payload of a JSON capture: its "body" object, or its string (base64
 * decoded when "isBase64Encoded" is true) through capture_payload (msg as there). */
json_object *capture_json_payload(struct jparser *p, json_object *cap, size_t max, char **text, size_t *textlen,
				  enum reject_code *code, char *msg, size_t msgsz);

/*
 * The capture as a rejects record's text: its body and received_at only. The
 * rest is the request's transport, which rejected text must not show: a
 * header list's secret ({"name": "X-Hotmart-Hottok", "value": ...}) escapes
 * the name-then-value redaction of secret.h, an API key hides in
 * requestContext, a token in a query string (rawQueryString, url,
 * queryStringParameters), stageVariables or the path; nor a base64 body, which
 * hides its text from that redaction too. Removes the others from cap; the
 * text lives as long as cap.
 */
const char *capture_reject_text(json_object *cap, size_t *len);

#endif
