/*
 * secret.h: secrets that must never be written anywhere: not in an envelope,
 * an event, the database, a message nor a rejects file. In payloads that is
 * Hotmart's hottok (in the body, in the X-Hotmart-Hottok header, in a form
 * post) and Stripe's client_secret: a JSON key is a secret when its name
 * contains "hottok" in any case or is "client_secret"; a string value holding
 * hottok with its value ("hottok=S", "{\"hottok\":\"S\"}"); and Stripe's bearer
 * URLs, a "url" at https://verify.stripe.com/ or
 * https://billing.stripe.com/p/session/ (secret_member). In rejected text, the values named Authorization, Stripe-Signature and
 * X-Api-Key or apiKey (a captured webhook's headers, API Gateway's
 * requestContext) are secrets too, and so are Stripe's API keys, signing
 * secrets and client secrets known by their value (sk_live_..., whsec_...)
 * under any name or none.
 *
 * Ownership: secret_drop changes the object it is given; secret_redact
 * returns a new buffer the caller frees.
 */
#ifndef RO_SECRET_H
#define RO_SECRET_H

#include <stddef.h>
#include <json-c/json.h>

/* 1 when a JSON key names a payload secret. */
int secret_key(const char *key);
/* 1 when a member is a payload secret: its key one (secret_key), a string
 * value val[0..vlen) (NULL for another kind) holding a credential known by
 * its value (a client secret in a 3-D Secure URL: secret_mask_tokens's) or a
 * hottok with its value, or a
 * Stripe bearer URL (an identity VerificationSession's or a billing portal
 * Session's "url"). */
int secret_member(const char *key, const char *val, size_t vlen);

/* 1 when text[0..len) may hold a payload secret: its name anywhere, or a
 * \u escape (a name may be spelled with them). A cheap scan to decide whether
 * secret_strip or secret_drop is needed. */
int secret_in_text(const char *text, size_t len);

/*
 * JSON text (valid, as parsed) without its secret members, at any depth,
 * every other byte as it came: numbers past 64 bits, escapes, spacing, all
 * that json-c would re-write. A name counts with its escapes decoded
 * ("hott\u006fk" is hottok to every JSON reader). A new buffer (the caller
 * frees it) with *outlen set, or NULL when the text holds no secret member:
 * use it as it is.
 */
char *secret_strip(const char *text, size_t len, size_t *outlen);
/* The same for a record, an envelope or a canonical event: its source and
 * reason are secrets by their names alone, where a value may name hottok with
 * no secret (a dump's path "account=hottok=x/"); every other member, at any
 * depth, by its name and value. */
char *secret_strip_record(const char *text, size_t len, size_t *outlen);

/* Delete every secret member of o and of the objects and arrays inside it;
 * returns how many were deleted. */
int secret_drop(json_object *o);
/* secret_drop for a record (secret_strip_record's rule). */
int secret_drop_record(json_object *o);
/* secret_member for a record's top-level member (secret_strip_record's rule:
 * a source is read for credentials, not for a hottok's pair). */
int secret_record_member(const char *key, const char *val, size_t vlen);
/* The first of keys (NULL-terminated) whose member of record o is a string
 * that is a secret (secret_record_member), or NULL: a field the record cannot
 * do without, which secret_drop_record would leave out. */
const char *secret_record_names(json_object *o, const char *const *keys);

/*
 * A copy of text[0..len) where the value after each secret name reads
 * "[redacted]": JSON ("hottok": "v"), JSON escaped inside a string
 * (\"hottok\": \"v\"), a header ("Authorization": "Bearer v") or a form
 * field (hottok=v); and a Stripe bearer URL whole, wherever it is (its
 * slashes maybe escaped). Text, not JSON: a rejected line may not parse. A name
 * not followed by ':' or '=', an empty value, an object or an array stay as
 * they are. NULL when there is nothing to redact; *outlen is set otherwise.
 */
char *secret_redact(const char *text, size_t len, size_t *outlen);

/* Replace, in place, each credential known by its value in s (Stripe's
 * sk_live_/sk_test_/rk_/ek_ keys, whsec_ signing secrets, a pi_..._secret_...
 * client secret) by "[redacted]", whatever names it; the text only shrinks.
 * Returns how many were. secret_redact does this too. */
size_t secret_mask_tokens(char *s);

/* text[0..len) as a message or a reason may show it: secret_redact's, and
 * from a secret's name on, when its value is in a format that does not read
 * (secret_left's reading; a name other than hottok's only with a quoted
 * value, not a path's "'stripe_token': 1 line"), "[redacted]" (the text only
 * cut). NULL when nothing is masked; else a new buffer, *outlen set. */
char *secret_mask_text(const char *text, size_t len, size_t *outlen);
/* secret_mask_text of the string in buf[0..size), in place, cut to size. */
void secret_mask_in(char *buf, size_t size);

/* 1 when text spells a secret's name with \u escapes ("hott\u006fk") or a
 * form's %XX ("hott%6Fk"), which secret_redact does not read: such text is not
 * written on at all. */
int secret_name_escaped(const char *text, size_t len);

/* 1 when text, redacted by secret_redact, still has a secret's name as a
 * pair's name (followed by ':', '=', "=>" or ',') whose value is not masked
 * (nor empty, an object or a list): a format the redaction does not read, a
 * Python dict's 'hottok': 'v', Ruby's "hottok"=>"v", PHP's [hottok] => v, a
 * tuple's ('hottok', 'v') (audit-SEC 1). Such text is not written. */
int secret_left(const char *text, size_t len);

/* 1 when text is, or quotes, a multipart/form-data body ("form-data" in a
 * part's Content-Disposition) and a secret's name follows: a part's value
 * sits on its own line after a blank one, where secret_redact, which masks
 * a name's value after its ':' or '=', does not look (audit-S2 3: a hottok
 * part reached the rejects file). Such text is not written on either. */
int secret_in_multipart(const char *text, size_t len);

#endif
