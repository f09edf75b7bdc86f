/* secret.c: find, drop and redact provider secrets. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "diag.h"
#include "jsonutil.h"
#include "secret.h"
#include "strbuf.h"

/* The payload's secrets: Hotmart's hottok (any key that contains it, in any
 * case, so the X-Hotmart-Hottok header too) and Stripe's client_secret (the
 * key, the whole name, as Stripe writes it, of a PaymentIntent, SetupIntent,
 * Checkout Session, Source or identity VerificationSession, with which a
 * browser completes a payment or a verification: Stripe says it is not to be
 * stored nor logged). */
#define PAYLOAD_SECRET "hottok"
#define CLIENT_SECRET "client_secret"

/* The names whose value rejected text must not show: the payload's secrets,
 * and the credentials a captured webhook's headers carry (API Gateway's key,
 * as the X-Api-Key header and requestContext.identity.apiKey, too; cookies,
 * session tokens, a webhook token header, X-Amz-Security-Token, a password):
 * a name that contains one of these, in any case. */
static const char *const text_secrets[] = { PAYLOAD_SECRET, CLIENT_SECRET, "authorization", "signature",
					    "api-key", "api_key", "apikey", "token", "secret", "password", "cookie",
					    NULL };

int secret_key(const char *key)
{
	return key && (strcasestr(key, PAYLOAD_SECRET) != NULL || strcmp(key, CLIENT_SECRET) == 0);
}

/* Stripe's bearer URLs: an identity VerificationSession's url ("Don't store
 * it, log it ..."), a billing portal Session's (it signs the visitor in as the
 * customer). Found by their hosts, which only they use, as Stripe writes them. */
static const char *const bearer_urls[] = { "https://verify.stripe.com/", "https://billing.stripe.com/p/session/",
					   NULL };

/* What a secret's value is written as. */
static const char mask[] = "[redacted]";

static int holds_token(const char *s, size_t n);
static int holds_hottok(const char *text, size_t len);
static int holds_hottok_pair(const char *s, size_t n);

/* 1 when a string value holds a secret: a credential known by its value, or
 * a hottok with its value (holds_hottok_pair; holds_hottok, quick, first) */
static int value_secret(const char *s, size_t n)
{
	return holds_token(s, n) || (holds_hottok(s, n) && holds_hottok_pair(s, n));
}

int secret_member(const char *key, const char *val, size_t vlen)
{
	if (secret_key(key))
		return 1;
	if (val && value_secret(val, vlen))
		return 1;
	/* a credential as a member's name (metadata keyed by an API key) */
	if (key && holds_token(key, strlen(key)))
		return 1;
	if (!val || !key || strcmp(key, "url") != 0)
		return 0;
	for (const char *const *u = bearer_urls; *u; u++)
		if (vlen >= strlen(*u) && strncmp(val, *u, strlen(*u)) == 0)
			return 1;
	return 0;
}

/* 1 when text[0..len) holds hottok in any case: memchr for each case of its
 * last letter, the rarest in JSON text (a tenth as many stops as the first),
 * then the rest compared. */
static int holds_hottok(const char *text, size_t len)
{
	const size_t n = sizeof PAYLOAD_SECRET - 1;

	for (int c = 0; c < 2; c++) {
		const char *p = text + n - 1, *end = text + len;
		while (p < end && (p = memchr(p, "kK"[c], (size_t)(end - p)))) {
			if (strncasecmp(p - (n - 1), PAYLOAD_SECRET, n) == 0)
				return 1;
			p++;
		}
	}
	return 0;
}

/* The length of a pair's separator at t[j..len): ':' or '=' as they are, or
 * written as a form or URL encodes them ("%3D", a link's query kept encoded in
 * a tracking field), a JSON escape read as text ("\\u003d", its backslash
 * skipped as a blank) or an HTML entity ("&#61;"); 0 when none is there
 * (audit-H3 2). */
static size_t pair_sep(const char *t, size_t len, size_t j)
{
	static const char *const seps[] = { "%3d", "%3a", "u003d", "u003a", "&#61;", "&#58;", NULL };

	if (t[j] == ':' || t[j] == '=')
		return 1;
	for (const char *const *s = seps; *s; s++) {
		size_t n = strlen(*s);
		if (len - j >= n && strncasecmp(t + j, *s, n) == 0 && (**s != 'u' || (j > 0 && t[j - 1] == '\\')))
			return n;
	}
	return 0;
}

/*
 * Where text[0..len) holds hottok (any case) as a pair's name with a value, or
 * len: after it blanks (a no-break space too), quotes, backslashes or ']', then
 * a separator (pair_sep: ':' or '=', maybe encoded), then blanks, quotes or
 * backslashes, then a byte that is none of "&,;}]" (the next pair, the end of
 * an object): a query string's "hottok=S", JSON or a dict quoted in a string
 * ({"hottok":"S"}, escaped or not), a header's "X-Hotmart-Hottok: S", PHP's
 * [hottok] => S (audit-H2 1: a tracking field "sck":"hottok=S" was stored), an
 * encoded link's "hottok%3DS". The name alone, or with an empty value, is no
 * secret. sql/034's regular expression is this one: change both. encoded:
 * only a pair whose separator is encoded or has a no-break space before it
 * (the forms secret_redact does not read: left_at).
 */
static size_t hottok_pair_at(const char *text, size_t len, int encoded)
{
	const size_t n = sizeof PAYLOAD_SECRET - 1;

	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(text + i, PAYLOAD_SECRET, n) != 0)
			continue;
		size_t j = i + n, k;
		int plain = 1;
		for (;;) {
			if (j < len && text[j] && strchr(" \t\n\r\f\v\"'\\]", text[j]))
				j++;
			else if (j + 1 < len && (unsigned char)text[j] == 0xc2 && (unsigned char)text[j + 1] == 0xa0)
				j += 2, plain = 0;
			else
				break;
		}
		if (j >= len || !(k = pair_sep(text, len, j)) || (encoded && plain && k == 1))
			continue;
		for (j += k; j < len && text[j] && strchr(" \t\n\r\f\v\"'\\", text[j]); j++)
			;
		if (j < len && (!text[j] || !strchr("&,;}]", text[j])))
			return i;
	}
	return len;
}

static int holds_hottok_pair(const char *text, size_t len)
{
	return hottok_pair_at(text, len, 0) < len;
}

/*
 * 1 when text[0..len) holds word (n >= 2 bytes): sixteen places at a time,
 * those where both its first and its last byte sit (SSE2, x86-64's baseline),
 * then the rest compared; elsewhere, and for the last places, one at a time.
 * It runs on every payload, where glibc's memmem cost a twelfth of
 * fetch-events' time for three words.
 */
static int holds_word(const char *t, size_t len, const char *word, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i first = _mm_set1_epi8(word[0]), last = _mm_set1_epi8(word[n - 1]);

	for (; i + n - 1 + 16 <= len; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(t + i + n - 1));
		unsigned hits = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
		for (; hits; hits &= hits - 1)
			if (memcmp(t + i + (unsigned)__builtin_ctz(hits) + 1, word + 1, n - 2) == 0)
				return 1;
	}
#endif
	for (; i + n <= len; i++) /* the last places, one at a time */
		if (t[i] == word[0] && memcmp(t + i + 1, word + 1, n - 1) == 0)
			return 1;
	return 0;
}

/*
 * 1 when t[0..len) holds one of the words a credential known by its value
 * holds (token_len): "k_live_", "k_test_" (sk_, rk_, ek_ keys), "_secret_"
 * (a client secret) or "whsec_". One pass for the four, as holds_word makes
 * for one: three (first, last) byte pairs at a time, "k" then "_" serving
 * both key words; the last places one at a time.
 */
static int holds_token_word(const char *t, size_t len)
{
	size_t i = 0;
#define TOKEN_WORD_AT(p)                                                                               \
	((t[p] == 'k' && (p) + 7 <= len && (memcmp(t + (p), "k_live_", 7) == 0 || memcmp(t + (p), "k_test_", 7) == 0)) || \
	 (t[p] == '_' && (p) + 8 <= len && memcmp(t + (p), "_secret_", 8) == 0) ||                        \
	 (t[p] == 'w' && (p) + 6 <= len && memcmp(t + (p), "whsec_", 6) == 0))
#if defined(__SSE2__)
	const __m128i k = _mm_set1_epi8('k'), u = _mm_set1_epi8('_'), w = _mm_set1_epi8('w');

	for (; i + 7 + 16 <= len; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i b5 = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 5));
		__m128i b6 = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 6));
		__m128i b7 = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 7));
		__m128i m = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, k), _mm_cmpeq_epi8(b6, u)),
					 _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, u), _mm_cmpeq_epi8(b7, u)),
						      _mm_and_si128(_mm_cmpeq_epi8(a, w), _mm_cmpeq_epi8(b5, u))));
		for (unsigned hits = (unsigned)_mm_movemask_epi8(m); hits; hits &= hits - 1) {
			size_t p = i + (unsigned)__builtin_ctz(hits);
			if (TOKEN_WORD_AT(p))
				return 1;
		}
	}
#endif
	for (; i < len; i++)
		if (TOKEN_WORD_AT(i))
			return 1;
	return 0;
#undef TOKEN_WORD_AT
}

int secret_in_text(const char *text, size_t len)
{
	if (len < sizeof PAYLOAD_SECRET - 1)
		return 0;
	if (find_u_escape(text, len))
		return 1;
	/* Stripe's, as it writes them (the hosts without a '/', which JSON may
	 * write "\/"); and a credential known by its value, under any key
	 * (token_len: sk_, rk_ and ek_ keys, whsec_, a ..._secret_...): the
	 * stripper drops its member (fuzz-F 1: "note":"sk_live_..." was kept) */
	return holds_hottok(text, len) || holds_word(text, len, CLIENT_SECRET, sizeof CLIENT_SECRET - 1) ||
	       holds_word(text, len, "verify.stripe.com", 17) || holds_word(text, len, "billing.stripe.com", 18) ||
	       holds_token_word(text, len);
}

static const char *string_of(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* jdel_members' test: the member is a payload secret */
static int secret_drops(const char *key, json_object *v, void *ctx)
{
	(void)ctx;
	return secret_member(key, string_of(v), (size_t)json_object_get_string_len(v));
}

/* A record's member read for credentials, not for a hottok's pair: an
 * envelope's or a canonical event's source, a dump's path, may name hottok
 * ("account=hottok=x/..."). Every other member, its own or not, for both. */
static int record_own(const char *key)
{
	return strcmp(key, "source") == 0;
}

int secret_record_member(const char *key, const char *val, size_t vlen)
{
	if (!record_own(key))
		return secret_member(key, val, vlen);
	return secret_member(key, NULL, 0) || (val && holds_token(val, vlen));
}

const char *secret_record_names(json_object *o, const char *const *keys)
{
	json_object *v;

	for (; *keys; keys++)
		if (json_object_object_get_ex(o, *keys, &v) && string_of(v) &&
		    secret_record_member(*keys, string_of(v), (size_t)json_object_get_string_len(v)))
			return *keys;
	return NULL;
}

/* secret_drop_record's test */
static int record_drops(const char *key, json_object *v, void *ctx)
{
	(void)ctx;
	return secret_record_member(key, string_of(v), (size_t)json_object_get_string_len(v));
}

int secret_drop_record(json_object *o)
{
	int n = 0;

	if (!json_object_is_type(o, json_type_object))
		return secret_drop(o);
	json_object_object_foreach(o, k, v) {
		if (!record_drops(k, v, NULL))
			n += secret_drop(v);
	}
	return n + jdel_members(o, record_drops, NULL);
}

int secret_drop(json_object *o)
{
	int n = 0;

	if (json_object_is_type(o, json_type_array)) {
		/* a string element holding a secret leaves its array (strip_value) */
		for (size_t i = json_object_array_length(o); i-- > 0;) {
			json_object *v = json_object_array_get_idx(o, i);
			if (string_of(v) && value_secret(string_of(v), (size_t)json_object_get_string_len(v))) {
				json_object_array_del_idx(o, i, 1);
				n++;
			} else {
				n += secret_drop(v);
			}
		}
		return n;
	}
	if (!json_object_is_type(o, json_type_object))
		return 0;
	json_object_object_foreach(o, k, v) {
		if (!secret_drops(k, v, NULL))
			n += secret_drop(v);
	}
	return n + jdel_members(o, secret_drops, NULL);
}

/* The length of a secret name at s (any case), or 0. */
static size_t secret_name_at(const char *s, size_t n)
{
	for (const char *const *name = text_secrets; *name; name++) {
		size_t len = strlen(*name);
		if ((*s | 0x20) == **name && len <= n && strncasecmp(s, *name, len) == 0)
			return len;
	}
	return 0;
}

/* The backslashes in a row at raw[j..]. */
static size_t backslashes(const char *raw, size_t len, size_t j)
{
	size_t n = 0;
	while (j + n < len && raw[j + n] == '\\')
		n++;
	return n;
}

/*
 * A JSON text inside a string (a captured body) writes its quotes \", and one
 * inside a string inside a string (a body wrapped again: an SNS message in an
 * SQS one) \\\": a quote of depth d has 2^d - 1 backslashes before it. The
 * length of such a quote at raw[j] (its backslashes and '"'), depth at most
 * QUOTE_DEPTH_MAX, or 0 when none starts there.
 */
#define QUOTE_DEPTH_MAX 6
static size_t quote_len(const char *raw, size_t len, size_t j)
{
	size_t n = backslashes(raw, len, j);
	if (j + n >= len || raw[j + n] != '"' || (n & (n + 1)) != 0 || n >= (1u << QUOTE_DEPTH_MAX))
		return 0;
	return n + 1;
}

/* 1 when raw[j..] is "u0009", "u000a" ... "u0020" (after its backslashes): a
 * blank's \u escape, as holds_hottok_pair reads it decoded around a hottok's
 * ':' or '=' */
static int blank_escape(const char *raw, size_t len, size_t j)
{
	static const char *const blanks[] = { "u0009", "u000a", "u000b", "u000c", "u000d", "u0020", NULL };

	for (const char *const *b = blanks; *b; b++)
		if (j + 5 <= len && strncasecmp(raw + j, *b, 5) == 0)
			return 1;
	return 0;
}

/* Past white space: JSON's (CR and LF too, "hottok":\r"v" is valid JSON; FF and
 * VT, which a string's value may hold) and, in a JSON text inside a string (a
 * captured body), its escapes \r \n \t \f and a blank's \u00XX, at any depth
 * (\\n). A header line's value then may run into the next line's: more is
 * redacted, never less. */
static size_t skip_blanks(const char *raw, size_t len, size_t j)
{
	for (;;) {
		size_t n;
		if (j < len && raw[j] && strchr(" \t\r\n\f\v", raw[j]))
			j++;
		else if ((n = backslashes(raw, len, j)) && j + n < len && strchr("rntf", raw[j + n]) && raw[j + n])
			j += n + 1;
		else if (n && blank_escape(raw, len, j + n))
			j += n + 5;
		else
			return j;
	}
}

/* 1 and *end past the JSON string at raw[j] (its quote escaped inside a body:
 * \", at any depth: quote_len), up to its closing quote, its text starting at
 * *v; 0 when no quote is at j. */
static int quoted_at(const char *raw, size_t len, size_t j, size_t *v, size_t *end)
{
	size_t q = quote_len(raw, len, j);

	if (!q)
		return 0;
	size_t esc = q - 1; /* the quote's backslashes: 0, 1 in a body, 3 in a body's body */
	*v = j += q;
	/* The closing quote: one with as many backslashes before it, modulo twice
	 * its depth's one more: an even number in plain text, 4k + 1 in a string
	 * within a string (\" closes; \\\" is a quote inside). */
	for (; j < len; j++) {
		if (raw[j] != '"')
			continue;
		size_t n = 0;
		while (j - n > *v && raw[j - n - 1] == '\\')
			n++;
		if (n % (2 * (esc + 1)) == esc) {
			*end = j - esc;
			return 1;
		}
	}
	*end = len;
	return 1;
}

/* Past the closing quote at raw[end] of a string quoted_at read (its
 * backslashes too when the string is escaped in a body: \"). */
static size_t past_quote(const char *raw, size_t len, size_t end)
{
	return end + backslashes(raw, len, end) + 1;
}

/* 1 when the string raw[k..end) is "value": a header object's value member. */
static int value_key(const char *raw, size_t k, size_t end)
{
	return end - k == 5 && memcmp(raw + k, "value", 5) == 0;
}

/* Past the JSON value at raw[j], in plain text or escaped inside a string (a
 * captured body: \"...\"): a string; an object or a list, the strings in it
 * skipped whole (a brace in one is text); or a scalar, to what ends it. */
static size_t value_past(const char *raw, size_t len, size_t j)
{
	size_t v, end;
	int depth = 0;

	while (j < len) {
		if (quoted_at(raw, len, j, &v, &end)) {
			j = past_quote(raw, len, end);
			if (depth == 0)
				break;
			continue;
		}
		/* a quote's backslashes are at most 2^QUOTE_DEPTH_MAX - 1: a longer
		 * run's first bytes start none (each read to the run's end took its
		 * length squared: audit-A 1) */
		size_t r = depth ? backslashes(raw, len, j) : 0; /* (at depth 0 one ends a scalar) */
		if (r >= 1u << QUOTE_DEPTH_MAX) {
			j += r - ((1u << QUOTE_DEPTH_MAX) - 1);
			continue;
		}
		char c = raw[j];
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return j; /* the end of the object a scalar ends */
			if (--depth == 0)
				return j + 1;
		} else if (depth == 0 && strchr(", \t\r\n\\", c)) {
			return j;
		}
		j++;
	}
	return j < len ? j : len;
}

/* How far a header object's member value that is a list or an object is read
 * for its end: a header's values, a HAR comment's, are short; read to the
 * line's end for every name, a long line of names ("name": "hottok", "a": {...)
 * took its length squared. A string is read whole (to its closing quote). */
#define MEMBER_REACH 2048

/* Past the value at raw[j]: a string whole, a list or an object when it ends
 * within MEMBER_REACH; else 0. */
static size_t member_past(const char *raw, size_t len, size_t j)
{
	size_t v, end;

	if (quoted_at(raw, len, j, &v, &end))
		return past_quote(raw, len, end);
	size_t lim = len - j > MEMBER_REACH ? j + MEMBER_REACH : len;
	end = value_past(raw, lim, j);
	return end >= lim && lim < len ? 0 : end;
}

/* Where the value at raw[j] of a header object's "value" member sits:
 * *v..return, a string's text, or a list, an object or a scalar whole (a
 * header's values as a list, a key given as a number); one that does not end
 * within MEMBER_REACH, to the line's end (more masked, never less); 0 when
 * none is there. */
static size_t member_value(const char *raw, size_t len, size_t j, size_t *v)
{
	size_t end;

	if (quoted_at(raw, len, j, v, &end))
		return end;
	*v = j;
	if (!(end = member_past(raw, len, j)))
		return len;
	return end > j ? end : 0;
}

/* A byte of a field or header name: X-Hotmart-Hottok, client_secret. */
static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Where the name holding the secret word at raw[i] starts (X-Hotmart-Hottok's
 * X, not its Hottok), no further back than from. */
static size_t name_start(const char *raw, size_t i, size_t from)
{
	while (i > from && name_char(raw[i - 1]))
		i--;
	return i;
}

/* Back from raw[k] over blanks, real or escaped in a JSON string (a body's
 * pretty text: \n, \r, \t), no further than from. */
static size_t blanks_back(const char *raw, size_t k, size_t from)
{
	for (;;) {
		if (k > from && (raw[k - 1] == ' ' || raw[k - 1] == '\t' || raw[k - 1] == '\r' || raw[k - 1] == '\n'))
			k--;
		else if (k > from + 1 && raw[k - 2] == '\\' && (raw[k - 1] == 'n' || raw[k - 1] == 'r' || raw[k - 1] == 't')) {
			k -= 2;
			while (k > from && raw[k - 1] == '\\')
				k--; /* at any depth: \\n */
		} else {
			return k;
		}
	}
}

/* Where the quote ending at raw[k - 1] starts (its backslashes when it is
 * escaped in a body: \", \\\"), no further back than from; NO_QUOTE when none
 * ends there. Of n backslashes before it, the quote's are the run of n's low
 * one bits (quoted_at's rule): \\" is a backslash then a plain quote. */
#define NO_QUOTE ((size_t)-1)
static size_t quote_back(const char *raw, size_t k, size_t from)
{
	if (k <= from || raw[k - 1] != '"')
		return NO_QUOTE;
	size_t n = 0;
	while (k - 1 - n > from && raw[k - 2 - n] == '\\')
		n++;
	return k - 1 - ((n ^ (n + 1)) >> 1);
}

/* 1 when the name at raw[k] (from name_start) is a whole string that is no
 * member's value: a list's element, ["Authorization", "v"] or flat, or a
 * line's first string, whose next string is its value. 0 for a member's
 * value ("value": "my_secret_plan", "name": "x"), and for a word inside a
 * string ("description": "API token", "amount": 1). */
static int pair_name(const char *raw, size_t k, size_t from)
{
	if ((k = quote_back(raw, k, from)) == NO_QUOTE)
		return 0;
	k = blanks_back(raw, k, from);
	return !(k > from && raw[k - 1] == ':');
}

/* A header object's members read, at most (a header list's objects have two
 * or three: a longer one is no header's, and reading it for every secret word
 * made a long line's redaction quadratic). */
#define OBJECT_MEMBERS_MAX 16
/* and how far before its name a value-first one's '{' is looked for: a long
 * cookie's 4 KB and more */
#define OBJECT_REACH 16384

/* What the string holding a secret name is (pair_name): a pair's name, or a
 * member's whole value ("name": "X-Api-Key"). */
enum { PAIR = 1, NAMED };

/*
 * Where the value of the secret name ending at raw[j] sits: *v..return, or 0
 * when nothing after the name is its value. JSON ("hottok": "v", a number, the
 * first string of a list: multiValueHeaders), a header list (HAR's "name":
 * "X-Hotmart-Hottok", "value": "v", or a pair ["X-Hotmart-Hottok", "v"]), an
 * HTTP header line (Authorization: Bearer v, to the line end, or to a JSON
 * string's escaped \r\n) or a form field (hottok=v, to what ends a token).
 */
static size_t secret_value(const char *raw, size_t len, size_t j, size_t *v, int *list, int objects,
			   int pair)
{
	size_t end;
	int closed = 0; /* the name ends a JSON string */

	*list = 0;
	size_t q = quote_len(raw, len, j);
	if (q)
		closed = 1, j += q;
	else if (j < len && raw[j] == '\\' && skip_blanks(raw, len, j) == j)
		j++; /* (not a blank's escape: skip_blanks reads it) */
	j = skip_blanks(raw, len, j);
	if (closed && j < len && raw[j] == ',') {
		/* the object's members after the name, up to its "value" (HAR's
		 * optional "comment" may come between), a header object's few */
		for (int members = 0;; members++) {
			if (members == OBJECT_MEMBERS_MAX)
				return 0;
			j = skip_blanks(raw, len, j + 1);
			if (!quoted_at(raw, len, j, v, &end))
				return 0;
			int value = value_key(raw, *v, end);
			if (!value && pair == PAIR)
				return end; /* a pair: the next string is the value */
			j = skip_blanks(raw, len, past_quote(raw, len, end));
			if (j >= len || raw[j] != ':')
				return 0;
			j = skip_blanks(raw, len, j + 1);
			if (value)
				return member_value(raw, len, j, v);
			if (pair != NAMED)
				return 0;
			/* past another member's value */
			if (!(j = member_past(raw, len, j)))
				return 0;
			j = skip_blanks(raw, len, j);
			if (j >= len || raw[j] != ',')
				return 0;
		}
	}
	if (j == len || (raw[j] != ':' && raw[j] != '='))
		return 0;
	int header_line = !closed && raw[j] == ':';
	j = skip_blanks(raw, len, j + 1);
	/* objects 2, a cookie's: its object, or a list of objects, whole; a list
	 * of strings each (below) */
	size_t first = j < len && raw[j] == '[' ? skip_blanks(raw, len, j + 1) : j; /* a list's first value */
	if (objects && closed && j < len && (raw[j] == '{' || raw[j] == '[') &&
	    (objects == 1 || (first < len && raw[first] == '{'))) {
		*v = j; /* a payload secret's object or list (its parts): all of it,
			 * read as value_past reads it, also escaped in a body */
		return value_past(raw, len, j);
	}
	if (j < len && raw[j] == '[' && closed) {
		j = skip_blanks(raw, len, j + 1); /* a list of values: each (secret_redact) */
		*list = 1;
	}
	if (quoted_at(raw, len, j, v, &end))
		return end;
	/* a bare value: a header's runs to the line end, real or escaped at any
	 * depth (\r\n, \\\r\\\n), quotes and backslashes in it (a cookie's
	 * sid=\"v\") part of it; a number's or a form field's to what ends a token */
	*v = j;
	if (header_line) {
		for (size_t n; j < len && raw[j] != '\r' && raw[j] != '\n'; j += n ? n : 1)
			if ((n = backslashes(raw, len, j)) && j + n < len && (raw[j + n] == 'r' || raw[j + n] == 'n'))
				break;
		return j;
	}
	while (j < len && !strchr("\"\\&,{}[] \t\r\n", raw[j]))
		j++;
	return j;
}

/* 1 when the string opening at raw[q] (its quote, maybe escaped: \") is the
 * value of a member named "name" or "key" ("name": "X-Api-Key"), as header
 * lists write a header's name (HAR; Postman's "key"). */
static int name_member(const char *raw, size_t q, size_t from)
{
	size_t k = blanks_back(raw, q, from), kv, kend;

	if (k <= from || raw[k - 1] != ':')
		return 0;
	if ((k = quote_back(raw, blanks_back(raw, k - 1, from), from)) == NO_QUOTE)
		return 0;
	size_t n = k >= from + 5 && memcmp(raw + k - 4, "name", 4) == 0 ? 4
		   : k >= from + 4 && memcmp(raw + k - 3, "key", 3) == 0 ? 3 : 0;
	if (!n)
		return 0;
	if ((k = quote_back(raw, k - n, from)) == NO_QUOTE)
		return 0;
	return quoted_at(raw, q, k, &kv, &kend) && kend - kv == n;
}

/*
 * The members of the object opening at raw[open] ('{'), read forward (their
 * values skipped whole: a brace in a string or a nested object is no object's
 * start), up to the one whose ':' is at colon, the name's member: -1 when none
 * is (the object is not the name's); else 1 with the string value of a
 * "value" member before it at *v..*end, or 0.
 */
static int object_reaches(const char *raw, size_t open, size_t colon, size_t *v, size_t *end)
{
	size_t j = open + 1, kv, kend, vv, ve;
	int found = 0;

	for (int members = 0; members < OBJECT_MEMBERS_MAX; members++) {
		j = skip_blanks(raw, colon, j);
		if (!quoted_at(raw, colon, j, &kv, &kend) || kend >= colon)
			return -1;
		int value = value_key(raw, kv, kend);
		j = skip_blanks(raw, colon + 1, past_quote(raw, colon, kend));
		if (j == colon)
			return found;
		if (j > colon || raw[j] != ':')
			return -1;
		j = skip_blanks(raw, colon, j + 1);
		/* a string's text, or a list, an object or a scalar whole: read no
		 * further than the name, at most OBJECT_REACH back */
		if (value && quoted_at(raw, colon, j, &vv, &ve)) {
			if (ve < colon)
				*v = vv, *end = ve, found = 1;
		} else if (value && (ve = value_past(raw, colon, j)) > j && ve < colon) {
			*v = j, *end = ve, found = 1;
		}
		j = skip_blanks(raw, colon, value_past(raw, colon, j));
		if (j >= colon || raw[j] != ',')
			return -1;
		j++;
	}
	return -1;
}

/*
 * The name whose string opens at raw[k] (its quote: quote_back) is the value
 * of a "name" member ("name": "Authorization") whose object gave its "value" first, maybe with
 * other members between: where that value sits (*v..return), or 0. The
 * object is the one whose members reach the name's (of the 32 nearest '{'
 * before it within OBJECT_REACH, each tried).
 */
static size_t value_before_name(const char *raw, size_t k, size_t *v)
{
	size_t end = 0;

	if (!name_member(raw, k, 0))
		return 0;
	k = blanks_back(raw, k, 0);
	size_t colon = k - 1, open = colon;
	/* no further back than a header object's reach: a long line of names
	 * would be read back to its start for each */
	size_t lo = colon > OBJECT_REACH ? colon - OBJECT_REACH : 0;
	for (int tries = 0; tries < 32; tries++) {
		const char *o = open > lo ? memrchr(raw + lo, '{', open - lo) : NULL;
		if (!o)
			return 0;
		open = (size_t)(o - raw);
		int r = object_reaches(raw, open, colon, v, &end);
		if (r >= 0)
			return r > 0 ? end : 0;
	}
	return 0;
}

/*
 * The length of the '/' or ':' c written at s[0..n) as JSON or a form may
 * write it: itself, after any backslashes ("\\/"), as \u002f / \u003a (any
 * case, any backslashes), or %2F / %3A; 0 when it is not there.
 */
static size_t sep_len(const char *s, size_t n, char c)
{
	size_t i = 0;

	if (n >= 3 && s[0] == '%' && s[1] == (c == '/' ? '2' : '3') && (s[2] | 0x20) == (c == '/' ? 'f' : 'a'))
		return 3;
	while (i < n && s[i] == '\\')
		i++;
	if (i < n && s[i] == c)
		return i + 1;
	if (i > 0 && n - i >= 5 && strncasecmp(s + i, c == '/' ? "u002f" : "u003a", 5) == 0)
		return i + 5;
	return 0;
}

/*
 * The length of a Stripe bearer URL at s[0..n), as text, whatever key it sits
 * under (a rejected line may not parse, and "url" names many other things):
 * its scheme and host in any case, its '/' and ':' maybe escaped (sep_len),
 * on to its quote, blank, '&' (a form's next field; its token is in its path)
 * or another escape; 0 when none starts there.
 */
static size_t bearer_url_len(const char *s, size_t n)
{
	if ((*s | 0x20) != 'h')
		return 0;
	for (const char *const *u = bearer_urls; *u; u++) {
		const char *q = *u;
		size_t i = 0, k;
		while (*q && i < n) {
			if (*q == '/' || *q == ':') {
				if (!(k = sep_len(s + i, n - i, *q)))
					break;
				i += k, q++;
				continue;
			}
			if (tolower((unsigned char)s[i]) != *q)
				break;
			i++, q++;
		}
		if (*q)
			continue;
		while (i < n && s[i] != '"' && s[i] != '\'' && s[i] != '<' && s[i] != '>' && s[i] != '&' &&
		       !isspace((unsigned char)s[i])) {
			if (s[i] == '\\') {
				if (!(k = sep_len(s + i, n - i, '/')))
					break;
				i += k;
				continue;
			}
			i++;
		}
		return i;
	}
	return 0;
}

/*
 * Credentials known by their value, whatever name they sit under (a header
 * "X-Stripe-Key", a message quoting a field): Stripe's secret and restricted
 * API keys, ephemeral keys and webhook signing secrets, and the client secret
 * of a PaymentIntent, SetupIntent or Source (pi_..._secret_...), as Stripe
 * makes them: a prefix, then at least 8 of [A-Za-z0-9]. Publishable keys
 * (pk_) are not secrets.
 */
static const char *const token_prefixes[] = { "sk_live_", "sk_test_", "rk_live_", "rk_test_", "ek_live_",
					      "ek_test_", "whsec_", NULL };
#define TOKEN_TAIL_MIN 8

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static size_t alnum_run(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isalnum((unsigned char)s[i]))
		i++;
	return i;
}

/* 1 when s[i] starts a word: the text's start, after a byte that is no word's,
 * or after an escape of JSON text (a captured body's "\nsk_live_..."). */
static int word_start(const char *s, size_t i)
{
	return i == 0 || !word_char(s[i - 1]) || (i >= 2 && s[i - 2] == '\\' && strchr("bfnrt", s[i - 1]));
}

/* 1 when the word s[0..w) goes on at k as a client secret's ID_secret_ then
 * at least tail letters or digits. */
static int secret_tail(const char *s, size_t w, size_t k, size_t tail)
{
	size_t id = alnum_run(s + k, w - k);
	if (id == 0)
		return 0;
	k += id;
	if (w - k < 8 + tail || memcmp(s + k, "_secret_", 8) != 0)
		return 0;
	k += 8;
	return alnum_run(s + k, w - k) >= tail;
}

/* The length of such a credential at s[0..n), s at a word's start
 * (word_start), or 0; its tail at least tail letters or digits (a message's
 * text cut short, by a width or its buffer, may end a key early: 1). */
static size_t token_len_tail(const char *s, size_t n, size_t tail)
{
	size_t w = 0, k;

	while (w < n && word_char(s[w]))
		w++;
	if (w < tail + 6)
		return 0;
	for (const char *const *p = token_prefixes; *p; p++) {
		size_t pl = strlen(*p);
		if (w > pl && memcmp(s, *p, pl) == 0 && alnum_run(s + pl, w - pl) >= tail)
			return w;
	}
	/* [a-z]+_(live_|test_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]{8,}: pi_1Ab_secret_Xy...,
	 * src_client_secret_..., a Checkout Session's cs_live_a1B..._secret_fid... */
	for (k = 0; k < w && islower((unsigned char)s[k]); k++)
		;
	if (k == 0 || k >= w || s[k] != '_')
		return 0;
	k++;
	/* with live_ or test_ read as that part, else as the id (abc_test_secret_...) */
	if (w - k > 5 && (memcmp(s + k, "live_", 5) == 0 || memcmp(s + k, "test_", 5) == 0) &&
	    secret_tail(s, w, k + 5, tail))
		return w;
	return secret_tail(s, w, k, tail) ? w : 0;
}

static size_t token_len(const char *s, size_t n)
{
	return token_len_tail(s, n, TOKEN_TAIL_MIN);
}

/* 1 when s[0..n) holds such a credential (a 3-D Secure URL's
 * "?client_secret=src_client_secret_..."), at a word's start. */
static int holds_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (word_start(s, i) && token_len(s + i, n - i))
			return 1;
	return 0;
}

/* 1 when raw[j..] goes on as a name's end does: its closing quote (maybe
 * escaped), blanks, then ':' (JSON) or '=' (a form, a header's parameter). */
static int names_at(const char *raw, size_t len, size_t j)
{
	j += backslashes(raw, len, j);
	if (j < len && (raw[j] == '"' || raw[j] == '\''))
		j++;
	while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
		j++;
	return j < len && (raw[j] == ':' || raw[j] == '=');
}


/* s[0..*n) with each credential masked, into b (when one is); how many were.
 * cut: also one whose tail is shorter than a key's where a message's text may
 * have been cut, at its end or a quote ('%.40s'), not in a name of its own
 * ("sk_test_q3.ndjson") */
static size_t mask_tokens(struct strbuf *b, const char *s, size_t n, int cut)
{
	size_t from = 0, masked = 0;

	for (size_t i = 0; i < n; i++) {
		size_t t = 0;
		if (word_start(s, i) && !(t = token_len(s + i, n - i)) && cut &&
		    (t = token_len_tail(s + i, n - i, 1)) && i + t < n && s[i + t] != '\'' && s[i + t] != '"')
			t = 0;
		if (!t)
			continue;
		sb_add(b, s + from, i - from);
		SB_LIT(b, mask);
		from = i + t;
		i = from - 1;
		masked++;
	}
	if (masked)
		sb_add(b, s + from, n - from);
	return masked;
}

size_t secret_mask_tokens(char *s)
{
	struct strbuf b = { 0 };
	/* read from s as it came, written back once (a token is longer than the
	 * mask: the text only shrinks) */
	size_t masked = mask_tokens(&b, s, strlen(s), 0);

	if (masked) {
		memcpy(s, b.buf, b.len);
		s[b.len] = '\0';
	}
	free(b.buf);
	return masked;
}

/* What secret_redact wrote so far: each mask's place in the input and the
 * output, so that a value found behind what was written (a header object
 * naming it after its value, a word in it masked already) is written again. */
struct masks {
	struct { size_t in, in_end, out; } *m;
	size_t n, cap;
	int rewinds;
};

static void mask_at(struct strbuf *b, struct masks *ms, const char *raw, size_t *from, size_t v, size_t end)
{
	sb_add(b, raw + *from, v - *from);
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 16;
		ms->m = xrealloc(ms->m, ms->cap * sizeof *ms->m);
	}
	ms->m[ms->n].in = v, ms->m[ms->n].in_end = end, ms->m[ms->n].out = b->len;
	ms->n++;
	SB_LIT(b, mask);
	*from = end;
}

/* Back to input place v (before *from): the masks from v on undone, the output
 * cut to where v's text went; *v the start of a mask v lay in. 0 when the
 * value lies in one mask already, or after too many rewinds (a line built to
 * make them: what is masked stays masked). */
static int mask_rewind(struct strbuf *b, struct masks *ms, size_t *from, size_t *v, size_t end)
{
	for (size_t k = ms->n; k-- > 0 && ms->m[k].in_end > *v;) /* in input order */
		if (ms->m[k].in <= *v && ms->m[k].in_end >= end)
			return 0;
	if (++ms->rewinds > 64)
		return 0;
	size_t keep = ms->n;
	while (keep > 0 && ms->m[keep - 1].in_end > *v)
		keep--;
	if (keep < ms->n && ms->m[keep].in < *v)
		*v = ms->m[keep].in; /* a mask that held v's start: from its start */
	ms->n = keep;
	size_t out = keep ? ms->m[keep - 1].out + sizeof mask - 1 : 0;
	size_t in = keep ? ms->m[keep - 1].in_end : 0;
	b->len = out + (*v - in); /* the text between masks went as it came */
	*from = *v;
	return 1;
}

/* 1 when s[0..n) holds name, in any case */
static int word_holds(const char *s, size_t n, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(s + i, name, k) == 0)
			return 1;
	return 0;
}

char *secret_redact(const char *raw, size_t len, size_t *outlen)
{
	struct strbuf b = { 0 };
	struct masks ms = { 0 };
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		size_t n = bearer_url_len(raw + i, len - i), v, end;
		int list;
		if (!n && word_start(raw, i) && (n = token_len(raw + i, len - i)) && names_at(raw, len, i + n))
			n = 0; /* a name, "x_y_secret_production": (its own value is the names' pass's) */
		if (n) { /* a Stripe bearer URL or a credential known by its value, whole */
			if (i + n > from) /* (in a value masked already: what is past it) */
				mask_at(&b, &ms, raw, &from, i < from ? from : i, i + n);
			i = from - 1;
			continue;
		}
		if (!(n = secret_name_at(raw + i, len - i)))
			continue;
		/* a name that holds the word goes on to its end: cookies, secretKey,
		 * X-Hub-Signature-256, password_hash. The word is read once: its
		 * other names would read the same value (a word of names,
		 * "tokentoken...", read again from each took its length squared:
		 * audit-A 2) */
		size_t e = i + n;
		while (e < len && name_char(raw[e]))
			e++;
		/* a payload secret's value whatever its kind, when the word names one
		 * (X-Hotmart-Hottok), and cookies' (a HAR's "cookies": [{"name":
		 * "sid", "value": "v"}]: audit-W 2); a header's object (Stripe's
		 * issuing "authorization": {"id": ...}) is no credential */
		int objects = word_holds(raw + i, e - i, PAYLOAD_SECRET) || word_holds(raw + i, e - i, CLIENT_SECRET) ? 1
			      : word_holds(raw + i, e - i, "cookie") ? 2 : 0;
		/* read back no further than what was written; but a pair's value
		 * masked, read again as a name (below), back to before its quote */
		size_t lo = from;
		if (i < from)
			lo = ms.m[ms.n - 1].in > 64 ? ms.m[ms.n - 1].in - 64 : 0;
		size_t start = name_start(raw, i, lo), q = quote_back(raw, start, lo);
		/* the name a whole string: "X-Api-Key", not "Cookie box (12 units)" */
		int whole = q != NO_QUOTE && quote_len(raw, len, e);
		int pair = pair_name(raw, start, lo) ? PAIR : whole && name_member(raw, q, lo) ? NAMED : 0;
		if (!(end = secret_value(raw, len, e, &v, &list, objects, pair))) {
			/* a header list's object naming it after its value:
			 * {"value": "v", "name": "Authorization"}; its value written
			 * already, maybe with a word in it masked ("csrftoken=x"), is
			 * written again */
			if (!whole || !(end = value_before_name(raw, q, &v))) {
				i = e - 1;
				continue;
			}
			if (v < from) {
				if (!mask_rewind(&b, &ms, &from, &v, end)) {
					i = e - 1;
					continue;
				}
				mask_at(&b, &ms, raw, &from, v, end);
				i = end - 1; /* what followed the value is read again */
				continue;
			}
		}
		for (;;) {
			if (v < from)
				v = from; /* a value inside one masked already: on from its end */
			if (end > v)
				mask_at(&b, &ms, raw, &from, v, end);
			/* on past the value (one named after it lies behind); but a
			 * pair's value may itself be the next pair's name, where a flat
			 * list's pairing went one off (["Vary", "Cookie", "Cookie", "v"]):
			 * it is read again as a name */
			if (end > i + 1)
				i = pair == PAIR && !list && v > i ? v - 1 : end - 1;
			if (!list)
				break;
			/* the list's next string, if any */
			size_t j = skip_blanks(raw, len, past_quote(raw, len, end));
			if (j >= len || raw[j] != ',' || !quoted_at(raw, len, skip_blanks(raw, len, j + 1), &v, &end))
				break;
		}
	}
	free(ms.m);
	if (!b.buf)
		return NULL;
	sb_add(&b, raw + from, len - from);
	*outlen = b.len;
	return b.buf;
}

/* ---- dropping secret members from JSON text ---- */

struct strip {
	const char *t;
	size_t len;
	char *out;
	size_t o, copied; /* bytes written to out; t[0..copied) dealt with */
	int n;
	int record, depth; /* a record's (secret_strip_record), the objects open */
};

static size_t strip_ws(const struct strip *s, size_t i)
{
	while (i < s->len && (s->t[i] == ' ' || s->t[i] == '\t' || s->t[i] == '\r' || s->t[i] == '\n'))
		i++;
	return i;
}

/* Leave t[a..b) out of the copy. */
static void strip_cut(struct strip *s, size_t a, size_t b)
{
	memcpy(s->out + s->o, s->t + s->copied, a - s->copied);
	s->o += a - s->copied;
	s->copied = b;
	s->n++;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
}

/* Past the string at t[i] ('"'); with name, its text decoded as a reader
 * would (an escape that is not ASCII, or U+0000, as '?': neither spells a
 * secret's name). */
static size_t strip_string(const struct strip *s, size_t i, char *name)
{
	size_t k = 0;

	for (i++; i < s->len && s->t[i] != '"'; i++) {
		char c = s->t[i];
		if (c == '\\' && i + 1 < s->len) {
			c = s->t[++i];
			if (c == 'u') {
				int v = 0;
				for (int d = 1; d <= 4; d++) {
					int h = i + d < s->len ? hexval(s->t[i + d]) : -1;
					v = h < 0 || v < 0 ? -1 : v * 16 + h;
				}
				i += 4;
				/* a no-break space as its UTF-8, which hottok_pair_at reads */
				if (v == 0xa0 && name)
					name[k++] = (char)0xc2;
				c = v > 0 && v < 0x80 ? (char)v : v == 0xa0 ? (char)0xa0 : '?';
			} else if (c == 'n' || c == 't' || c == 'r' || c == 'b' || c == 'f') {
				/* as JSON readers do: a hottok's value is read so (review R6 2) */
				c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : '\f';
			}
		}
		if (name)
			name[k++] = c;
	}
	if (name)
		name[k] = '\0';
	return i + 1;
}

/* Whether the string at t[i] holds a secret as a value (value_secret, or with
 * pairs 0 a credential alone); *end past it. */
static int string_secret(const struct strip *s, size_t i, size_t *end, int pairs)
{
	size_t send = *end = strip_string(s, i, NULL);

	if (!memchr(s->t + i, '\\', send - i))
		return pairs ? value_secret(s->t + i, send - i) : holds_token(s->t + i, send - i);
	/* as a reader decodes it: "\u0070i_..._secret_...", "key\u0020sk_live_..."
	 * (fuzz-F 2); a hottok's value too, where "hottok=\t" is empty (review R4 2) */
	char *val = xmalloc(send - i + 1);
	strip_string(s, i, val);
	int secret = holds_token(s->t + i, send - i) ||
		     (pairs ? value_secret(val, strlen(val)) : holds_token(val, strlen(val)));
	free(val);
	return secret;
}

static size_t strip_value(struct strip *s, size_t i);

/* Whether the value at t[i] is a bearer URL (decoded as a name is: escapes,
 * "https:\/\/..."). */
static int url_bearer(const struct strip *s, size_t i)
{
	if (i >= s->len || s->t[i] != '"')
		return 0;
	size_t end = strip_string(s, i, NULL);
	char *val = xmalloc(end - i + 1);
	strip_string(s, i, val);
	int bearer = secret_member("url", val, strlen(val));
	free(val);
	return bearer;
}

/* Whether the last "url" member of an object, from its member whose key is at
 * t[i] on, is a bearer URL. */
static int last_url_bearer(const struct strip *s, size_t i)
{
	int bearer = 0;

	for (;;) {
		size_t kend = strip_string(s, i, NULL);
		char *name = xmalloc(kend - i + 1);
		strip_string(s, i, name);
		size_t v = strip_ws(s, strip_ws(s, kend) + 1);
		if (strcmp(name, "url") == 0)
			bearer = url_bearer(s, v);
		free(name);
		size_t after = v < s->len ? strip_ws(s, v + json_value_end(s->t + v, s->len - v)) : s->len;
		if (after >= s->len || s->t[after] != ',')
			return bearer;
		i = strip_ws(s, after + 1);
		if (i >= s->len || s->t[i] != '"')
			return bearer;
	}
}

static size_t strip_members(struct strip *s, size_t i);

static size_t strip_object(struct strip *s, size_t i)
{
	s->depth++;
	i = strip_members(s, i);
	s->depth--;
	return i;
}

static size_t strip_members(struct strip *s, size_t i)
{
	size_t prev_end = i + 1;
	int kept = 0, url_last = -1; /* the last "url" a bearer URL; -1 not known yet */

	i = strip_ws(s, i + 1);
	if (i >= s->len || s->t[i] != '"')
		return i + 1; /* "}" */
	for (;;) {
		size_t key = i, vend;
		size_t kend = strip_string(s, i, NULL);
		char *name = xmalloc(kend - i + 1); /* the decoded name is no longer than its text */
		strip_string(s, i, name);
		i = kend;
		i = strip_ws(s, strip_ws(s, i) + 1); /* past the ':' */
		/* a payload secret's name, or a credential as the name (metadata
		 * keyed by an API key: audit-SEC 3) */
		int secret = secret_key(name) || holds_token(name, strlen(name));
		if (!secret && strcmp(name, "url") == 0) {
			/* a bearer URL; and every copy of "url" when the last one is,
			 * which is the one JSON readers keep (PostgreSQL, sql/021) */
			if (url_last < 0)
				url_last = last_url_bearer(s, key);
			secret = url_last || url_bearer(s, i);
		}
		/* a record's source, a dump's path, may name hottok with no secret
		 * (review R4 1): read for credentials alone */
		int pairs = !(s->record && s->depth == 1 && record_own(name));
		free(name);
		/* a string holding a credential known by its value, under any key:
		 * a PaymentIntent's next_action URLs carry its client secret
		 * (redirect_to_url.url, use_stripe_sdk.stripe_js) */
		size_t send = 0; /* past a string value, read once */
		if (!secret && i < s->len && s->t[i] == '"')
			secret = string_secret(s, i, &send, pairs);
		vend = secret ? i + json_value_end(s->t + i, s->len - i) : send ? send : strip_value(s, i);
		size_t after = strip_ws(s, vend);
		int comma = after < s->len && s->t[after] == ',';
		if (secret) {
			/* with the comma before it, or, first of its object, the one after */
			if (kept)
				strip_cut(s, prev_end, vend);
			else
				strip_cut(s, key, comma ? strip_ws(s, after + 1) : vend);
		} else {
			kept = 1;
		}
		prev_end = vend;
		if (!comma)
			return after + 1;
		i = strip_ws(s, after + 1);
		if (i >= s->len || s->t[i] != '"')
			return i + 1;
	}
}

static size_t strip_value(struct strip *s, size_t i)
{
	if (i >= s->len)
		return i;
	if (s->t[i] == '{')
		return strip_object(s, i);
	if (s->t[i] == '"')
		return strip_string(s, i, NULL);
	if (s->t[i] != '[')
		return i + json_value_end(s->t + i, s->len - i);
	i = strip_ws(s, i + 1);
	if (i < s->len && s->t[i] == ']')
		return i + 1;
	/* a string element holding a secret is left out as a member holding one
	 * is, with the comma before it (or, first, the one after): no name to
	 * drop, the whole string is the value ("scopes": ["sk_live_..."]) */
	size_t prev_end = i;
	int kept = 0;
	for (;;) {
		size_t vend;
		int secret = 0;
		if (i < s->len && s->t[i] == '"')
			secret = string_secret(s, i, &vend, 1); /* vend past it either way */
		else
			vend = strip_value(s, i);
		size_t after = strip_ws(s, vend);
		int comma = after < s->len && s->t[after] == ',';
		if (secret && kept)
			strip_cut(s, prev_end, vend);
		else if (secret)
			strip_cut(s, i, comma ? strip_ws(s, after + 1) : vend);
		else
			kept = 1;
		prev_end = vend;
		if (!comma)
			return after + 1;
		i = strip_ws(s, after + 1);
	}
}

static char *strip_text(const char *text, size_t len, size_t *outlen, int record)
{
	if (!secret_in_text(text, len))
		return NULL;
	struct strip s = { text, len, xmalloc(len + 1), 0, 0, 0, record, 0 };

	strip_value(&s, strip_ws(&s, 0));
	if (s.n == 0) {
		free(s.out);
		return NULL;
	}
	if (s.copied > len)
		s.copied = len;
	memcpy(s.out + s.o, text + s.copied, len - s.copied);
	*outlen = s.o + len - s.copied;
	return s.out;
}

char *secret_strip(const char *text, size_t len, size_t *outlen)
{
	return strip_text(text, len, outlen, 0);
}

char *secret_strip_record(const char *text, size_t len, size_t *outlen)
{
	return strip_text(text, len, outlen, 1);
}

int secret_name_escaped(const char *text, size_t len)
{
	/* a \u anywhere, not only where JSON reads an escape: inside a body's
	 * string the body's own \u0074 is written \\u0074 (audit-hotmart 1) */
	if (!memmem(text, len, "\\u", 2) && !memchr(text, '%', len))
		return 0;
	/* the text with each \u00XX, and each %XX of a form ("hott%6Fk=", which
	 * a form's reader decodes), of a printable ASCII character decoded */
	char *d = xmalloc(len + 1), *esc = xmalloc(len + 1); /* esc[k]: d[k] was decoded */
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int h1, h2;
		esc[o] = 1;
		size_t r = backslashes(text, len, i); /* \\u0074 in a body's string: one 't' too */
		if (r && i + r + 4 < len && text[i + r] == 'u' && text[i + r + 1] == '0' && text[i + r + 2] == '0' &&
		    (h1 = hexval(text[i + r + 3])) >= 2 && h1 <= 7 && (h2 = hexval(text[i + r + 4])) >= 0) {
			d[o++] = (char)(h1 * 16 + h2);
			i += r + 4;
		} else if (text[i] == '%' && i + 2 < len && (h1 = hexval(text[i + 1])) >= 2 && h1 <= 7 &&
			   (h2 = hexval(text[i + 2])) >= 0) {
			d[o++] = (char)(h1 * 16 + h2);
			i += 2;
		} else if (r > 1) {
			/* a run that escapes no \u00XX: as it is, whole (counted again
			 * from each of its bytes, a long run took its length squared) */
			memset(esc + o, 0, r);
			memcpy(d + o, text + i, r);
			o += r;
			i += r - 1;
		} else {
			esc[o] = 0;
			d[o++] = text[i];
		}
	}
	/* hidden: a name in the decoded text with a decoded byte in it (or in the
	 * name-word it ends), or right before or after it (its quotes written
	 * \u0022, as .NET's serializer writes them in a body), which the
	 * redaction, reading the text as written, cannot see */
	int hidden = 0;
	for (size_t k = 0; k < o && !hidden; k++) {
		size_t n = secret_name_at(d + k, o - k), e = k + n;
		if (!n)
			continue;
		while (e < o && name_char(d[e]))
			e++;
		for (size_t m = k ? k - 1 : 0; m < e + (e < o) && !hidden; m++)
			hidden = esc[m];
		k = e - 1; /* the word's other names read a part of the same bytes (audit-A 2) */
	}
	/* and a credential known by its value with a decoded byte in it
	 * ("\u0073k_live_..."), which secret_mask_tokens cannot see (audit-SEC 2) */
	for (size_t k = 0; k < o && !hidden; k++) {
		size_t n = word_start(d, k) ? token_len(d + k, o - k) : 0;
		for (size_t m = k; m < k + n && !hidden; m++)
			hidden = esc[m];
		if (n)
			k += n - 1;
	}
	free(d);
	free(esc);
	return hidden;
}

/* c is one of set's bytes (not its NUL) */
static int one_of(char c, const char *set)
{
	return c && strchr(set, c);
}

/* secret_left's reading: the start of the first secret's name left with its
 * value (the name's word: X-Hotmart-Hottok), or len */
static size_t left_at(const char *t, size_t len, int message)
{
	for (size_t i = 0; i < len; i++) {
		size_t n = secret_name_at(t + i, len - i), j = i + n;
		if (!n)
			continue;
		/* in a message, another secret's name counts with a quoted value
		 * alone: a path or a type may name a token before a ':' and prose
		 * (review R8 2: "--plans 'stripe_token': 1 line not read"; R9 1:
		 * "{'api_key': 'v'}" is cut) */
		int prose_ok = message && strncasecmp(t + i, PAYLOAD_SECRET, n) != 0;
		while (j < len && name_char(t[j]))
			j++;
		i = j - 1;
		/* the name's end (its quotes, maybe escaped; a PHP key's ']'; blanks),
		 * then what makes it a pair's name: ':', '=' (or Ruby's "=>"), or ','
		 * (a tuple, a flat list: of a quoted name and a quoted value alone,
		 * not "Cookies, 12 units") */
		size_t w = name_start(t, i + 1 - n, 0); /* the word's start: X-Hotmart-Hottok */
		int named = w > 0 && one_of(t[w - 1], "\"'") && j < len && one_of(t[j], "\"'\\");
		while (j < len && one_of(t[j], "\"'\\] \t\r\n\f\v"))
			j++;
		if (j >= len || !one_of(t[j], ":=,"))
			continue; /* a word of prose */
		char sep = t[j];
		for (j++; j < len && one_of(t[j], " \t\r\n\f\v>"); j++)
			;
		int quoted = 0;
		for (; j < len && one_of(t[j], "\"'\\"); j++)
			quoted |= t[j] != '\\';
		/* after a ',', the next member's name is no tuple's value:
		 * {"name": "X-Hotmart-Hottok", "value": "[redacted]"} */
		if (sep == ',' && (!named || !quoted))
			continue;
		if (sep == ',') {
			size_t a = j;
			while (a < len && !one_of(t[a], "\"'\\,"))
				a++;
			while (a < len && one_of(t[a], "\"'\\ \t"))
				a++;
			if (a < len && t[a] == ':')
				continue;
		}
		if (len - j >= 10 && memcmp(t + j, "[redacted]", 10) == 0) {
			/* unquoted, nothing of a value after it: "=[redacted]\"v\"" (the
			 * '>' of "=>" masked), ": [redacted] v'" (a quote's first word);
			 * a form field's at a string's end ("hottok=[redacted]\"}") is whole */
			size_t a = j + 10;
			while (!quoted && a < len && (t[a] == ' ' || t[a] == '\t'))
				a++;
			size_t b = a; /* its quote maybe escaped, in a body's string (review R9 2) */
			while (!quoted && b < len && t[b] == '\\')
				b++;
			if (!quoted && b < len && (t[b] == '"' || t[b] == '\'') && b + 1 < len &&
			    isalnum((unsigned char)t[b + 1]))
				return w;
			if (!quoted && !prose_ok && a < len && a > j + 10 && isalnum((unsigned char)t[a]))
				return w;
			continue;
		}
		if (j < len && !one_of(t[j], ",;&)}]{[\r\n") && (quoted || !prose_ok))
			return w; /* not masked (none, an empty one, an object or a list: secret_redact's rules) */
	}
	/* a hottok's pair the payload rule reads where the above does not: its
	 * '=' encoded ("hottok%3DS"), a no-break space before it (audit-H3 2) */
	size_t h = holds_hottok(t, len) ? hottok_pair_at(t, len, 1) : len;
	return h < len ? name_start(t, h, 0) : len;
}

int secret_left(const char *t, size_t len)
{
	return left_at(t, len, 0) < len;
}

char *secret_mask_text(const char *text, size_t len, size_t *outlen)
{
	size_t n = len;
	char *r = secret_redact(text, len, &n);
	const char *t = r ? r : text;
	/* a format secret_redact does not read: the text from its name on
	 * (left_at's message reading) */
	size_t at = left_at(t, n, 1);

	if (at < n) {
		char *cut = xmalloc(at + sizeof mask);
		memcpy(cut, t, at);
		memcpy(cut + at, mask, sizeof mask);
		free(r);
		r = cut;
		n = at + sizeof mask - 1;
		t = r;
	}
	/* a key a message shows cut short ('%.40s', a reason's 255 bytes): its
	 * prefix and a letter are enough, where a payload's needs eight (a
	 * shorter one is no key Stripe makes, nor a piece of one) */
	struct strbuf b = { 0 };
	if (mask_tokens(&b, t, n, 1)) {
		free(r);
		r = b.buf;
		n = b.len;
	}
	if (r)
		*outlen = n;
	return r;
}

void secret_mask_in(char *s, size_t size)
{
	size_t n;
	char *masked = secret_mask_text(s, strlen(s), &n);

	if (masked) {
		snprintf(s, size, "%s", masked);
		free(masked);
	}
}

int secret_in_multipart(const char *text, size_t len)
{
	static const char fd[] = "form-data";
	const size_t n = sizeof fd - 1;

	for (size_t i = 0; i + n <= len; i++) {
		if ((text[i] | 0x20) != 'f' || strncasecmp(text + i, fd, n) != 0)
			continue;
		/* a part's header names it (name="hottok"), its value comes on a
		 * line of its own after a blank one: any secret's name after the
		 * first form-data is enough */
		for (size_t k = i + n; k < len; k++)
			if (secret_name_at(text + k, len - k))
				return 1;
		return 0;
	}
	return 0;
}
