/* capture.c: captured webhooks in the shapes teams keep, their bodies made payloads (capture.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <zlib.h>

#include "base64.h"
#include "capture.h"
#include "secret.h"
#include "timeutil.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

/* s and t the same, any case, but for the blanks around them */
static int same_value(const char *s, const char *t)
{
	size_t m, n;

	s += strspn(s, " \t");
	t += strspn(t, " \t");
	for (m = strlen(s); m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'); m--)
		;
	for (n = strlen(t); n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'); n--)
		;
	return m == n && strncasecmp(s, t, n) == 0;
}

/* A header's value v (a string, or a list of them: multiValueHeaders, request-bin
 * exports) met again: each string into *val, the first kept; -1 when one differs. */
static int header_value(json_object *v, const char **val)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
		if (!json_object_is_type(e, json_type_string))
			continue;
		if (!*val)
			*val = json_object_get_string(e);
		else if (!same_value(*val, json_object_get_string(e)))
			return -1;
	}
	return 0;
}

/* name's value in headers (any case): an object, or a list of {"name", "value"}
 * objects or [name, value] pairs; every time it is met, into *val; -1 when two differ. */
static int header_in(json_object *headers, const char *name, const char **val)
{
	if (json_object_is_type(headers, json_type_object)) {
		json_object_object_foreach(headers, k, v) {
			if (strcasecmp(k, name) == 0 && header_value(v, val) < 0)
				return -1;
		}
		return 0;
	}
	size_t n = json_object_is_type(headers, json_type_array) ? json_object_array_length(headers) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *h = json_object_array_get_idx(headers, i), *k = NULL, *v = NULL;
		if (json_object_is_type(h, json_type_object)) {
			json_object_object_get_ex(h, "name", &k);
			json_object_object_get_ex(h, "value", &v);
		} else if (json_object_is_type(h, json_type_array) && json_object_array_length(h) == 2) {
			k = json_object_array_get_idx(h, 0);
			v = json_object_array_get_idx(h, 1);
		}
		if (json_object_is_type(k, json_type_string) && strcasecmp(json_object_get_string(k), name) == 0 &&
		    header_value(v, val) < 0)
			return -1;
	}
	return 0;
}

int capture_header(json_object *cap, const char *name, const char **value)
{
	*value = NULL;
	if (header_in(jpath(cap, "headers"), name, value) < 0 ||
	    header_in(jpath(cap, "multiValueHeaders"), name, value) < 0) {
		*value = NULL;
		return -1;
	}
	return 0;
}

int capture_is(json_object *o)
{
	json_object *h = jpath(o, "headers");
	int headers = json_object_is_type(h, json_type_object) || json_object_is_type(h, json_type_array) ||
		      json_object_is_type(jpath(o, "multiValueHeaders"), json_type_object);
	/* API Gateway leaves "body" out (v2) or null when there is none: still a capture, of nothing */
	int request = json_object_object_get_ex(o, "body", NULL) ||
		      json_object_is_type(jpath(o, "requestContext"), json_type_object);
	return headers && request && !jpath(o, "object") && !jpath(o, "event");
}

const char *cloud_event_member(json_object *o)
{
	const char *member, *obj;
	json_object *in;

	if (!json_object_is_type(jpath(o, "source"), json_type_string))
		return NULL;
	if (json_object_is_type(jpath(o, "detail-type"), json_type_string))
		member = "detail"; /* EventBridge */
	else if (json_object_is_type(jpath(o, "specversion"), json_type_string))
		member = "data"; /* a CloudEvent */
	else
		return NULL;
	in = jpath(o, member);
	obj = json_object_is_type(in, json_type_object) ? jstr(in, "object") : NULL;
	return obj && (strcmp(obj, "event") == 0 || strcmp(obj, "v2.core.event") == 0) ? member : NULL;
}

int http_date(const char *s, int64_t *ms)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char day[16], mon[4], zone[8] = "GMT", iso[48];
	int d, y, h, mi, se, end = -1;

	/* RFC 9110's three forms, which a recipient must all read: IMF-fixdate
	 * "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
	 * asctime "Sun Nov  6 08:49:37 1994"; and, for senders that write RFC 5322
	 * dates, a numeric offset or UTC in GMT's place (the same instant either way) */
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %7s%n", day, &d, mon, &y, &h, &mi, &se, zone,
		   &end) == 8) {
		if (y < 1000)
			return -1;
	} else if (sscanf(s, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %7s%n", day, &d, mon, &y, &h, &mi, &se,
			  zone, &end) == 8) {
		/* a two-digit year more than 50 years ahead is the last one past (RFC 9110) */
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		y += 2000;
		if (y > tm.tm_year + 1900 + 50)
			y -= 100;
	} else if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", day, mon, &d, &h, &mi, &se, &y, &end) != 7 ||
		   y < 1000) {
		return -1;
	}
	/* sscanf checks no literal after the last field: the rest must be blank */
	if (end < 0 || s[end + strspn(s + end, " \t")] != '\0')
		return -1;
	const char *m = strcasestr(months, mon);
	if (!m || (m - months) % 3 || strlen(mon) != 3)
		return -1;
	/* GMT, or its names; another zone ("PST", "CET") is not taken for GMT */
	char off[8] = "Z";
	if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0 && strcmp(zone, "UT") != 0) {
		if (!(zone[0] == '+' || zone[0] == '-') || strlen(zone) != 5 || strspn(zone + 1, "0123456789") != 4)
			return -1;
		snprintf(off, sizeof off, "%.3s:%.2s", zone, zone + 3);
	}
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, (int)(m - months) / 3 + 1, d, h, mi, se, off);
	return parse_rfc3339_strict(iso, ms);
}

/* An epoch number (seconds or ms) in 1970..9999. */
static int epoch_time(json_object *v, int64_t *ms)
{
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*ms = epoch_to_ms(json_object_get_int64(v));
	return time_in_range(*ms) ? 0 : -1;
}

/* 0, or -2 with why when ms is an arrival more than a day ahead (from what) */
static int arrival(int64_t ms, const char *future, const char **why)
{
	if (!arrival_in_future(ms))
		return 0;
	*why = future;
	return -2;
}

int cloud_event_time(json_object *o, int64_t *ms, const char **why)
{
	json_object *v = jpath(o, "time");

	if (!v)
		return -1;
	if (!json_object_is_type(v, json_type_string) || parse_rfc3339_strict(json_object_get_string(v), ms) < 0 ||
	    !time_in_range(*ms)) {
		*why = "field 'time' is not an RFC 3339 time with seconds and a zone in 1970..9999";
		return -2;
	}
	return arrival(*ms, "field 'time' is more than a day in the future", why);
}

int date_header_time(const char *date, int64_t *ms, const char **why)
{
	/* an empty one, as a tool exporting every header it knows writes it, says nothing */
	if (!date || !date[strspn(date, " \t")])
		return -1;
	if (http_date(date, ms) == 0 && time_in_range(*ms))
		return arrival(*ms, "header 'Date' is more than a day in the future", why);
	*why = "header 'Date' is not an HTTP date (RFC 9110: \"Fri, 20 Nov 2026 14:40:00 GMT\")";
	return -2;
}

int capture_time(json_object *cap, int64_t *ms, const char **why)
{
	json_object *v = jpath(cap, "received_at");

	/* The capture's own word: one it gives that cannot be read is refused, not
	 * taken for UTC nor passed over for the Date header (it decides the copy kept). */
	if (json_object_is_type(v, json_type_string)) {
		if (parse_rfc3339_strict(json_object_get_string(v), ms) < 0) {
			*why = "field 'received_at' is not an RFC 3339 time with seconds and a zone (Z or +hh:mm)";
			return -2;
		}
		if (!time_in_range(*ms)) {
			*why = "field 'received_at' is not in 1970..9999";
			return -2;
		}
		return arrival(*ms, "field 'received_at' is more than a day in the future", why);
	}
	if (v) {
		if (epoch_time(v, ms) == 0)
			return arrival(*ms, "field 'received_at' is more than a day in the future", why);
		*why = json_object_is_type(v, json_type_int)
			       ? "field 'received_at' is not in 1970..9999 (epoch seconds or ms)"
			       : "field 'received_at' is neither an RFC 3339 time nor epoch seconds or ms";
		return -2;
	}
	/* API Gateway's own arrival time, in ms: REST API (v1), HTTP API and Function URLs (v2);
	 * one there that cannot be read is refused too, not passed over */
	static const char *const epochs[][2] = {
		{ "requestContext.requestTimeEpoch",
		  "field 'requestContext.requestTimeEpoch' is not epoch ms in 1970..9999" },
		{ "requestContext.timeEpoch", "field 'requestContext.timeEpoch' is not epoch ms in 1970..9999" },
	};
	for (size_t i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
		json_object *e = jpath(cap, epochs[i][0]);
		if (!e)
			continue;
		if (epoch_time(e, ms) < 0) {
			*why = epochs[i][1];
			return -2;
		}
		return arrival(*ms, "field 'requestContext' gives a time more than a day in the future", why);
	}
	/* its Date header: one it has that cannot be read is refused too */
	const char *date;
	if (capture_header(cap, "date", &date) < 0) {
		*why = "two 'Date' headers that differ";
		return -3;
	}
	return date_header_time(date, ms, why);
}

/* The windows-1252 characters of 0x80..0x9F (WHATWG's table; the five it
 * leaves undefined are the C1 controls of the same number). */
static const unsigned short cp1252[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* s[0..len) read as windows-1252, as UTF-8 in a new string. */
static char *from_cp1252(const char *s, size_t len, size_t *outlen)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		if (c >= 0x80 && c <= 0x9f)
			c = cp1252[c - 0x80];
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Whether a Content-Type's charset parameter names Latin-1, which WHATWG reads
 * as windows-1252 (as browsers send a form of such a page), under any of its
 * labels (ASCII's too). The parameters are walked as RFC 9110 writes them,
 * name=token or name="quoted string", so a ';' or "charset=" inside another
 * parameter's quoted value is no parameter. */
static int latin1_charset(const char *content_type)
{
	static const char *const labels[] = {
		"windows-1252", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987",
		"latin1", "l1", "cp1252", "x-cp1252", "cp819", "ibm819", "csisolatin1", "iso-ir-100",
		"us-ascii", "ascii", "ansi_x3.4-1968",
	};
	const char *c = content_type ? strchr(content_type, ';') : NULL;
	char v[24];

	while (c && *c == ';') {
		c += 1 + strspn(c + 1, " \t");
		size_t nlen = strcspn(c, "=; \t");
		int is_charset = nlen == 7 && strncasecmp(c, "charset", 7) == 0;
		c += nlen;
		if (*c != '=') { /* a parameter without a value: skip to the next */
			c = strchr(c, ';');
			continue;
		}
		c++;
		size_t n = 0;
		const char *val = c;
		if (*c == '"') { /* a quoted string: to its closing quote, escapes skipped */
			val = ++c;
			while (*c && *c != '"')
				c += (*c == '\\' && c[1]) ? 2 : 1;
			if (*c != '"')
				return 0; /* never closed */
			n = (size_t)(c - val);
			c++;
		} else {
			n = strcspn(c, "; \t");
			c += n;
		}
		if (is_charset) {
			if (n == 0 || n >= sizeof v || memchr(val, '\\', n))
				return 0;
			memcpy(v, val, n);
			v[n] = '\0';
			for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
				if (strcasecmp(v, labels[i]) == 0)
					return 1;
			return 0;
		}
		c += strspn(c, " \t");
	}
	return 0;
}

/* Whether a form field's name can be said in a message: short, of the
 * characters names are made of, and no secret's. Anything else (a JSON body
 * posted as a form, an '=' or '&' written %3D, %26, that made a whole pair,
 * secret and all, one name) is said by its place. */
static int sayable_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 40 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-[]") != n)
		return 0;
	return !secret_key(name);
}

/* One decoded part of a form (a name or a value) as UTF-8 in a new string:
 * with a Latin-1 charset, read as windows-1252 unless its bytes are valid
 * UTF-8 beyond ASCII (a sender that says Latin-1 and sends UTF-8, as many do:
 * Latin-1 text is almost never valid UTF-8); else what is not valid UTF-8 as
 * U+FFFD, one a lone byte or character cut short (*bad set). */
static char *form_text(const char *u, size_t n, int latin1, int *bad)
{
	size_t out;

	if (utf8_valid(u, n))
		return xstrdup(u);
	if (latin1)
		return from_cp1252(u, n, &out);
	*bad = 1;
	return utf8_replace(u, n, &out);
}

/*
 * "a=1&b=x+y" -> {"a":"1","b":"x y"}: every value a string, as posted (a name
 * posted more than once: the list of its values; an empty name is ""). As
 * WHATWG's urlencoded parser reads a form, '+' is a space, %XX a byte and a
 * '%' not followed by two hex digits itself; the bytes are UTF-8, or with a
 * charset naming Latin-1 windows-1252 (form_text); what is not valid UTF-8 is
 * U+FFFD, one a lone byte or character cut short (a product name mis-encoded by the sender is no
 * reason to lose the sale), and note names the first such field and how many
 * more (else note is ""). NULL when the body holds a NUL (none decodes to
 * U+0000 either: a field's name could be cut there).
 */
static json_object *form_to_json(const char *body, size_t len, int latin1, char *note, size_t notesz)
{
	char first[64];
	int bad = 0, pairs = 0; /* fields whose name or value was not UTF-8; fields read */

	*note = '\0';
	if (memchr(body, '\0', len))
		return NULL;
	json_object *o = json_object_new_object();
	char *copy = xmalloc(len + 1), *save, *pair;
	memcpy(copy, body, len);
	copy[len] = '\0';

	for (pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		char *parts[2] = { pair, eq ? eq + 1 : (char *)"" }, *dec[2] = { NULL, NULL };
		int invalid = 0;
		pairs++;
		if (eq)
			*eq = '\0';
		for (int i = 0; i < 2; i++) {
			for (char *c = parts[i]; *c; c++)
				if (*c == '+')
					*c = ' ';
			int n;
			char *u = curl_easy_unescape(NULL, parts[i], 0, &n);
			if (!u || memchr(u, '\0', (size_t)n)) {
				curl_free(u);
				free(dec[0]);
				free(copy);
				json_object_put(o);
				return NULL;
			}
			dec[i] = form_text(u, (size_t)n, latin1, &invalid);
			curl_free(u);
		}
		if (invalid && !bad++) {
			if (sayable_name(dec[0]))
				snprintf(first, sizeof first, "'%s'", dec[0]);
			else
				snprintf(first, sizeof first, "#%d", pairs);
		}
		/* a name given twice (a=1&a=2, PHP's items[]=x&items[]=y) holds the list
		 * of its values, in order: none is dropped, and a connector that reads
		 * one text there fails the event, naming the field */
		json_object *prev, *v = json_object_new_string(dec[1]);
		if (!json_object_object_get_ex(o, dec[0], &prev)) {
			json_object_object_add(o, dec[0], v);
		} else if (json_object_is_type(prev, json_type_array)) {
			json_object_array_add(prev, v);
		} else {
			json_object *list = json_object_new_array();
			json_object_array_add(list, json_object_get(prev));
			json_object_array_add(list, v);
			json_object_object_add(o, dec[0], list);
		}
		free(dec[0]);
		free(dec[1]);
	}
	free(copy);
	if (bad == 1)
		snprintf(note, notesz, "form field %s is not UTF-8: its invalid bytes read as U+FFFD", first);
	else if (bad)
		snprintf(note, notesz, "form fields %s and %d more are not UTF-8: their invalid bytes read as U+FFFD",
			 first, bad - 1);
	return o;
}

/* The zlib window bits to undo the body's Content-Encoding with, or 0: only when
 * its bytes are compressed (a capture that kept the header over a body it
 * stored decoded is read as it is). */
static int compressed(const char *encoding, const char *b, size_t len)
{
	const unsigned char *u = (const unsigned char *)b;

	if (!encoding || len < 2)
		return 0;
	/* the value with the blanks around it, as a header's is read */
	if ((same_value(encoding, "gzip") || same_value(encoding, "x-gzip")) && u[0] == 0x1f && u[1] == 0x8b)
		return 15 + 16;
	if (!same_value(encoding, "deflate"))
		return 0;
	if ((u[0] & 0x0f) == 8 && (u[0] << 8 | u[1]) % 31 == 0)
		return 15; /* zlib, as RFC 9110 defines "deflate" */
	/* Raw deflate, as some clients send it (and browsers accept); unless the
	 * body is text, the JSON object or the form it was, stored decoded: valid
	 * UTF-8 ("João") without control characters but TAB, CR and LF. Deflated
	 * bytes are neither. */
	for (size_t i = 0; i < len; i++)
		if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\r' && u[i] != '\n') || u[i] == 0x7f)
			return -15;
	return utf8_valid(b, len) ? 0 : -15;
}

int capture_body_compressed(const char *content_encoding, const char *body, size_t len)
{
	return compressed(content_encoding, body, len) != 0;
}

/* in[0..len) inflated into a new buffer of at most max bytes; NULL with *code and msg. */
static char *inflate_body(const char *in, size_t len, int window, size_t max, size_t *outlen,
			  enum reject_code *code, char *msg, size_t msgsz)
{
	z_stream zs = { 0 };
	size_t cap = len * 4 < max ? len * 4 + 256 : max + 1, got = 0;
	char *out = xmalloc(cap + 1);
	int r = Z_OK;

	if (inflateInit2(&zs, window) != Z_OK)
		die_sys(ENOMEM, "out of memory");
	zs.next_in = (unsigned char *)in;
	while (r != Z_STREAM_END) {
		if (got == cap) {
			if (cap > max) {
				*code = REJ_LINE_TOO_LONG;
				snprintf(msg, msgsz, "captured body decompressed is longer than %zu bytes", max);
				goto fail;
			}
			cap = cap * 2 < max ? cap * 2 : max + 1;
			out = xrealloc(out, cap + 1);
		}
		size_t in_left = len - (size_t)(zs.next_in - (unsigned char *)in);
		zs.avail_in = in_left < UINT_MAX ? (unsigned)in_left : UINT_MAX;
		zs.next_out = (unsigned char *)out + got;
		zs.avail_out = cap - got < UINT_MAX ? (unsigned)(cap - got) : UINT_MAX;
		unsigned before = zs.avail_out;
		r = inflate(&zs, Z_NO_FLUSH);
		got += before - zs.avail_out;
		/* gzip allows members one after another (gzip a; gzip b; cat): one body */
		if (r == Z_STREAM_END && window > 15 && zs.avail_in >= 2 && zs.next_in[0] == 0x1f &&
		    zs.next_in[1] == 0x8b) {
			inflateReset(&zs);
			r = Z_OK;
		}
		if (r == Z_BUF_ERROR && in_left == 0) {
			*code = REJ_INVALID_BODY;
			snprintf(msg, msgsz, "captured body: compressed data ends early");
			goto fail;
		}
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			*code = REJ_INVALID_BODY;
			snprintf(msg, msgsz, "captured body: corrupt compressed data: %s", zs.msg ? zs.msg : "unknown error");
			goto fail;
		}
	}
	if (zs.next_in != (unsigned char *)in + len) {
		*code = REJ_INVALID_BODY;
		snprintf(msg, msgsz, "captured body: data after the compressed body");
		goto fail;
	}
	if (got > max) {
		*code = REJ_LINE_TOO_LONG;
		snprintf(msg, msgsz, "captured body decompressed is longer than %zu bytes", max);
		goto fail;
	}
	inflateEnd(&zs);
	*outlen = got;
	return out;
fail:
	inflateEnd(&zs);
	free(out);
	return NULL;
}

static int is_form(const char *content_type)
{
	return content_type && strncasecmp(content_type + strspn(content_type, " \t"), FORM_TYPE,
					   sizeof FORM_TYPE - 1) == 0;
}

/* A new NUL-terminated copy of o's JSON text. */
static char *json_text(json_object *o, size_t *len)
{
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
							  len);
	char *copy = xmalloc(*len + 1);
	memcpy(copy, t, *len + 1);
	return copy;
}

json_object *capture_payload(struct jparser *p, const char *content_type, const char *content_encoding,
			     const char *body, size_t len, size_t max, char **text, size_t *textlen,
			     enum reject_code *code, char *msg, size_t msgsz)
{
	char *inflated = NULL, jmsg[256];
	json_object *o = NULL;
	int window = compressed(content_encoding, body, len);

	*text = NULL;
	*code = REJ_INVALID_BODY;
	*msg = '\0';
	if (window) {
		if (!(inflated = inflate_body(body, len, window, max, &len, code, msg, msgsz)))
			return NULL;
		body = inflated;
	}
	if (len == 0) {
		snprintf(msg, msgsz, "captured request has no body");
	} else if (is_form(content_type)) {
		/* a field is a member of the payload made of it, and its value (a
		 * name given twice: its list), which the envelope holds and the next
		 * program reads whole; so many cost memory as JSON's do (audit-A 4:
		 * 16.5 MB of short fields took 859 MB). A member and its text take 9
		 * of the tree's units (jsonutil.h); a field is counted 16, an
		 * object's, for a margin */
		size_t fields = 1;
		for (const char *a = body; (a = memchr(a, '&', len - (size_t)(a - body))); a++)
			fields++;
		if (fields > PAYLOAD_MAX_UNITS / JSON_UNITS_OBJECT) {
			*code = REJ_TOO_MANY_VALUES;
			snprintf(msg, msgsz, "captured form body holds more than %d fields", PAYLOAD_MAX_UNITS / JSON_UNITS_OBJECT);
		} else if (!(o = form_to_json(body, len, latin1_charset(content_type), msg, msgsz)))
			snprintf(msg, msgsz, "captured form body holds a NUL byte (or %%00)");
		else
			*text = json_text(o, textlen);
	} else {
		char *b = xmalloc(len + 1);
		memcpy(b, body, len);
		enum reject_code jcode;
		long off;
		/* checked as sent, white space and all: squeezed, "1 2" would be 12 */
		int bad = jvalidate_text(b, len, &off, &jcode, jmsg, sizeof jmsg) < 0;
		size_t blen = jsqueeze(b, len);
		if (bad && off > 0) {
			snprintf(msg, msgsz, "captured body: line %ld of it: %s", off + 1, jmsg);
		} else if (bad || !(o = jparse(p, b, blen, &jcode, jmsg, sizeof jmsg))) {
			snprintf(msg, msgsz, "captured body: %s", jmsg);
		} else if (!json_object_is_type(o, json_type_object) && !json_object_is_type(o, json_type_array)) {
			snprintf(msg, msgsz, "captured body is not a JSON object nor an array of them");
			json_object_put(o);
			o = NULL;
		}
		if (o) {
			*text = b;
			*textlen = blen;
		} else {
			free(b);
		}
	}
	free(inflated);
	return o;
}

/* API Gateway's flag for a body it base64-encoded (a binary media type, or any
 * body of a Function URL that is not application/json or text). */
static int base64_body(json_object *cap)
{
	json_object *b64 = jpath(cap, "isBase64Encoded");
	return json_object_is_type(b64, json_type_boolean) && json_object_get_boolean(b64);
}

json_object *capture_json_payload(struct jparser *p, json_object *cap, size_t max, char **text, size_t *textlen,
				  enum reject_code *code, char *msg, size_t msgsz)
{
	json_object *body = jpath(cap, "body");

	*text = NULL;
	*code = REJ_INVALID_BODY;
	*msg = '\0';
	if (json_object_is_type(body, json_type_object) || json_object_is_type(body, json_type_array)) {
		*text = json_text(body, textlen);
		return json_object_get(body);
	}
	if (!body) {
		snprintf(msg, msgsz, "captured request has no body");
		return NULL;
	}
	if (!json_object_is_type(body, json_type_string)) {
		snprintf(msg, msgsz, "captured webhook 'body' must be a string or object");
		return NULL;
	}
	const char *bytes = json_object_get_string(body);
	size_t len = (size_t)json_object_get_string_len(body);
	unsigned char *decoded = NULL;
	if (base64_body(cap)) {
		decoded = xmalloc(BASE64_DECODED_MAX(len));
		if (base64_decode(bytes, len, decoded, &len) < 0) {
			snprintf(msg, msgsz, "captured body is not valid base64 (isBase64Encoded is true)");
			free(decoded);
			return NULL;
		}
		bytes = (const char *)decoded;
	}
	const char *type, *encoding;
	json_object *o = NULL;
	const char *differ = capture_header(cap, "content-type", &type) < 0		? "Content-Type"
			     : capture_header(cap, "content-encoding", &encoding) < 0 ? "Content-Encoding"
										      : NULL;
	if (differ) {
		*code = REJ_INVALID_REQUEST;
		snprintf(msg, msgsz, "two '%s' headers that differ", differ);
	} else {
		o = capture_payload(p, type, encoding, bytes, len, max, text, textlen, code, msg, msgsz);
	}
	free(decoded);
	return o;
}

/* jdel_members' test: all but the body and received_at */
static int transport_member(const char *key, json_object *val, void *ctx)
{
	(void)val, (void)ctx;
	return strcmp(key, "body") != 0 && strcmp(key, "received_at") != 0;
}

/* A body string made only of base64's letters (either alphabet), a flag we
 * do not take (isBase64Encoded: "true", a Content-Transfer-Encoding header)
 * or none over it: bytes no redaction can see into. */
static int base64_letters(json_object *cap)
{
	json_object *body = jpath(cap, "body");
	if (!json_object_is_type(body, json_type_string))
		return 0;
	const char *b = json_object_get_string(body);
	size_t n = (size_t)json_object_get_string_len(body);
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(b[i] >= 'A' && b[i] <= 'Z') && !(b[i] >= 'a' && b[i] <= 'z') &&
		    !(b[i] >= '0' && b[i] <= '9') && !(b[i] && strchr("+/=-_\r\n", b[i])))
			return 0;
	return 1;
}

const char *capture_reject_text(json_object *cap, size_t *len)
{
	int b64 = base64_body(cap) || base64_letters(cap);

	/* what to keep, not what to drop: a sender's own members may carry a
	 * credential under any name (a ?token= in rawQueryString or url, API
	 * Gateway's stageVariables, a secret path) */
	jdel_members(cap, transport_member, NULL);
	if (b64)
		json_object_object_del(cap, "body");
	return json_object_to_json_string_length(cap, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}
