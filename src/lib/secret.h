/*
 * secret.h: provider secrets that must never be written anywhere: not in an
 * envelope, an event, a message nor a rejects file. Today that is Hotmart's
 * hottok, sent in the body, in the X-Hotmart-Hottok header or in a form post.
 * A key is a secret when its name contains "hottok" in any case.
 *
 * Ownership: secret_drop changes the object it is given; secret_redact
 * returns a new buffer the caller frees.
 */
#ifndef RO_SECRET_H
#define RO_SECRET_H

#include <stddef.h>
#include <json-c/json.h>

/* 1 when a key (a JSON member, a header, a form field) names a secret. */
int secret_key(const char *key);

/* 1 when text[0..len) mentions a secret anywhere: a cheap scan to decide
 * whether the slower work below is needed. */
int secret_in_text(const char *text, size_t len);

/* Delete every secret member of o and of the objects and arrays inside it;
 * returns how many were deleted. */
int secret_drop(json_object *o);

/*
 * A copy of text[0..len) where the value after each secret key reads
 * "REDACTED": JSON ("hottok": "v"), JSON escaped inside a string
 * (\"hottok\": \"v\"), a header ("X-Hotmart-Hottok": "v") or a form field
 * (hottok=v). NULL when the text mentions no secret; *outlen is set otherwise.
 * For raw input that is passed on as text: rejected lines.
 */
char *secret_redact(const char *text, size_t len, size_t *outlen);

#endif
