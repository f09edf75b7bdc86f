/* rawhttp.c: raw HTTP/1.x requests, one after another, streamed (rawhttp.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rawhttp.h"
#include "strbuf.h"

#define LINE_KEEP 4096 /* bytes of a request line (or what stands in its place) kept for a reject */

struct http_reader {
	struct line_reader *lr;
	size_t max;
	struct line pending; /* a request line read ahead: the line reader's, valid until its next call */
	int have_pending;
	long error_line;     /* > 0: the input failed there, told at the next call */
	struct strbuf line, body;
};

/* What the head says of the body. */
struct head {
	long long length; /* Content-Length, -1 when absent */
	int chunked;
	size_t bytes;
	unsigned seen; /* the SEEN_* headers met so far */
};
enum { SEEN_TYPE = 1, SEEN_ENCODING = 2, SEEN_DATE = 4 };

int http_request_line(const char *text, size_t len)
{
	size_t m = 0, t, e;

	while (m < len && m < 20 && text[m] >= 'A' && text[m] <= 'Z')
		m++;
	if (m == 0 || m >= len || text[m] != ' ')
		return 0;
	for (t = e = m + 1; e < len && (unsigned char)text[e] > ' ' && text[e] != 0x7f;)
		e++;
	if (e == t || len - e != 9 || text[e] != ' ')
		return 0;
	return memcmp(text + e + 1, "HTTP/1.", 7) == 0 && (text[len - 1] == '0' || text[len - 1] == '1');
}

struct http_reader *http_open(struct line_reader *lr, const struct line *first, size_t max)
{
	struct http_reader *hr = xmalloc(sizeof *hr);

	memset(hr, 0, sizeof *hr);
	hr->lr = lr;
	hr->max = max;
	hr->pending = *first;
	hr->have_pending = 1;
	return hr;
}

void http_close(struct http_reader *hr)
{
	if (!hr)
		return;
	sb_free(&hr->line);
	sb_free(&hr->body);
	free(hr);
}

static int bad(struct http_request *rq, enum reject_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct http_request *rq, enum reject_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->msg, sizeof rq->msg, fmt, ap);
	va_end(ap);
	rq->code = code;
	return HTTP_BAD;
}

static int failed(struct http_request *rq, long lineno)
{
	rq->lineno = lineno;
	return HTTP_ERROR;
}

static int next_line(struct http_reader *hr, struct line *l)
{
	if (hr->have_pending) {
		*l = hr->pending;
		hr->have_pending = 0;
		return LR_LINE;
	}
	return lr_next(hr->lr, l);
}

/*
 * Where a request line starts in l when l ends with one: 0 when l is one, more
 * when bytes before it ended something written without a line end (a body
 * whose request was cut or skipped, the next request glued to it); -1 when
 * none. Back from " HTTP/1.x" over the target, one space, the method.
 */
static long request_at_end(const char *t, size_t len)
{
	size_t e, p, m;

	if (http_request_line(t, len))
		return 0;
	if (len < 14 || t[(e = len - 9)] != ' ')
		return -1;
	for (m = e; m > 0 && (unsigned char)t[m - 1] > ' ' && t[m - 1] != 0x7f;)
		m--;
	if (m == e || m < 2 || t[--m] != ' ')
		return -1;
	for (p = m; p > 0 && m - p < 20 && t[p - 1] >= 'A' && t[p - 1] <= 'Z';)
		p--;
	return p < m && http_request_line(t + p, len - p) ? (long)p : -1;
}

static long request_start(const struct line *l)
{
	return l->too_long ? -1 : request_at_end(l->text, l->len);
}

/* A request line met while reading another request, alone on its line or at
 * its end: held for the next call (the bytes before it cut off). 1, or 0 when
 * l ends with none. */
static int hold_request(struct http_reader *hr, const struct line *l)
{
	long at = request_start(l);
	if (at < 0)
		return 0;
	hr->pending = *l;
	hr->pending.text += at;
	hr->pending.len -= (size_t)at;
	hr->have_pending = 1;
	return 1;
}

static int blank(const struct line *l)
{
	return strspn(l->text, " \t") == l->len;
}

/* Past what cannot be read as a request, to the next request line (held) or
 * the end: the lines skipped. A read error is told at the next call. */
static long skip_to_request(struct http_reader *hr)
{
	struct line l;
	long n = 0;
	int r;

	while ((r = lr_next(hr->lr, &l)) == LR_LINE) {
		if (hold_request(hr, &l))
			return n;
		n++;
	}
	if (r == LR_ERROR)
		hr->error_line = l.lineno;
	return n;
}

/* Past a request that cannot be read on, from its line l: to the request line l
 * ends with, or the next one. */
static void resync(struct http_reader *hr, const struct line *l)
{
	if (!hold_request(hr, l))
		skip_to_request(hr);
}

/* The next line inside a request: HTTP_REQUEST, else HTTP_ERROR or, at the end
 * of the input, truncated_request ("the input ends inside <where>"). */
static int line_in(struct http_reader *hr, struct http_request *rq, struct line *l, const char *where)
{
	int r = lr_next(hr->lr, l);

	if (r == LR_ERROR)
		return failed(rq, l->lineno);
	if (r == LR_EOF)
		return bad(rq, REJ_TRUNCATED_REQUEST, "the input ends inside %s", where);
	return HTTP_REQUEST;
}

/* value[0..len) without the spaces around it, into dst (cut to fit): 0 when cut. */
static int copy_value(char *dst, size_t cap, const char *value, size_t len)
{
	int whole = 1;

	while (len > 0 && (*value == ' ' || *value == '\t'))
		value++, len--;
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len >= cap) {
		len = cap - 1;
		whole = 0;
	}
	memcpy(dst, value, len);
	dst[len] = '\0';
	return whole;
}

static int named(const char *text, size_t len, const char *name)
{
	return len == strlen(name) && strncasecmp(text, name, len) == 0;
}

/*
 * A header the body is read by (or its arrival told by), value[0..len) into
 * dst: a repeat of the same value (any case) is that value; one that differs
 * leaves none to trust (a server would have taken the first, or the last, or
 * both as a list): HTTP_BAD.
 */
static int keep_once(struct http_request *rq, struct head *h, unsigned bit, const char *name, char *dst,
		     size_t cap, const char *value, size_t len)
{
	char v[sizeof rq->content_type];
	size_t room = cap < sizeof v ? cap : sizeof v;

	/* cut, its end would be lost: a charset, a second coding */
	if (!copy_value(v, room, value, len))
		return bad(rq, REJ_INVALID_REQUEST, "a '%s' header longer than %zu bytes", name, room - 1);
	if ((h->seen & bit) && strcasecmp(v, dst) != 0)
		return bad(rq, REJ_INVALID_REQUEST, "two '%s' headers that differ", name);
	h->seen |= bit;
	memcpy(dst, v, strlen(v) + 1);
	return HTTP_REQUEST;
}

/* One header line: the ones a body is framed or read by are kept. HTTP_BAD when it is no header. */
static int header(struct http_request *rq, struct head *h, const struct line *l)
{
	const char *colon = memchr(l->text, ':', l->len);
	size_t n = colon ? (size_t)(colon - l->text) : 0;
	char v[64];

	if (!colon || n == 0 || memchr(l->text, ' ', n) || memchr(l->text, '\t', n))
		return bad(rq, REJ_INVALID_REQUEST, "line %ld of the request's headers is not 'Name: value'", l->lineno);
	const char *value = colon + 1;
	size_t vlen = l->len - n - 1;
	if (named(l->text, n, "Content-Length")) {
		copy_value(v, sizeof v, value, vlen);
		/* a list of one value repeated ("5, 5": headers a proxy merged) is that
		 * value (RFC 9110, 8.6; blanks around its commas and empty elements
		 * allowed); values that differ are no framing to trust */
		int values = 0;
		for (const char *p = v; *p;) {
			p += strspn(p, " \t,");
			if (!*p)
				break;
			long long len = 0;
			size_t digits = strspn(p, "0123456789");
			const char *after = p + digits + strspn(p + digits, " \t");
			if (digits == 0 || digits > 15 || (*after && *after != ','))
				return bad(rq, REJ_INVALID_REQUEST, "Content-Length '%.40s' is not a number of bytes", v);
			for (size_t i = 0; i < digits; i++)
				len = len * 10 + (p[i] - '0');
			if (h->length >= 0 && h->length != len)
				return bad(rq, REJ_INVALID_REQUEST, "two Content-Length values that differ");
			h->length = len;
			values++;
			p = after;
		}
		if (values == 0)
			return bad(rq, REJ_INVALID_REQUEST, "Content-Length '%.40s' is not a number of bytes", v);
	} else if (named(l->text, n, "Transfer-Encoding")) {
		copy_value(v, sizeof v, value, vlen);
		if (strcasecmp(v, "chunked") != 0)
			return bad(rq, REJ_INVALID_REQUEST, "Transfer-Encoding '%.40s' is not read (only chunked)", v);
		h->chunked = 1;
	} else if (named(l->text, n, "Content-Type")) {
		return keep_once(rq, h, SEEN_TYPE, "Content-Type", rq->content_type, sizeof rq->content_type,
				 value, vlen);
	} else if (named(l->text, n, "Content-Encoding")) {
		return keep_once(rq, h, SEEN_ENCODING, "Content-Encoding", rq->content_encoding,
				 sizeof rq->content_encoding, value, vlen);
	} else if (named(l->text, n, "Date")) {
		return keep_once(rq, h, SEEN_DATE, "Date", rq->date, sizeof rq->date, value, vlen);
	}
	return HTTP_REQUEST;
}

/*
 * The header lines, to the blank line that ends them. A header is read once
 * the line after it shows it whole: a line that begins with a blank continues
 * the one before (obsolete line folding, RFC 9112, 5.2: the fold is read as
 * one space, so "Content-Type: application/x-www-form-urlencoded;" folded
 * before its " charset=ISO-8859-1" keeps its charset).
 */
static int read_head(struct http_reader *hr, struct http_request *rq, struct head *h)
{
	struct strbuf cur = { 0 }; /* the header being read, its folds joined */
	struct line l, whole;
	long cur_line = 0;
	int r, end;

	for (;;) {
		if ((r = line_in(hr, rq, &l, "the request's headers")) != HTTP_REQUEST)
			break;
		end = blank(&l);
		if (!end) {
			h->bytes += l.len + 1;
			if (l.too_long || h->bytes > hr->max) {
				skip_to_request(hr);
				r = bad(rq, REJ_LINE_TOO_LONG, "request headers longer than %zu bytes", hr->max);
				break;
			}
			if (hold_request(hr, &l)) { /* this request was cut before its body: the next one is whole */
				r = bad(rq, REJ_TRUNCATED_REQUEST,
					"the request's headers end at another request, line %ld", l.lineno);
				break;
			}
			if (l.text[0] == ' ' || l.text[0] == '\t') {
				if (!cur.len) {
					skip_to_request(hr);
					r = bad(rq, REJ_INVALID_REQUEST,
						"line %ld of the request's headers continues no header", l.lineno);
					break;
				}
				size_t lead = strspn(l.text, " \t");
				SB_LIT(&cur, " ");
				sb_add(&cur, l.text + lead, l.len - lead);
				continue;
			}
		}
		if (cur.len) {
			whole = (struct line){ .text = cur.buf, .len = cur.len, .lineno = cur_line };
			if (header(rq, h, &whole) == HTTP_BAD) {
				skip_to_request(hr);
				r = HTTP_BAD;
				break;
			}
			cur.len = 0;
		}
		if (end) {
			r = HTTP_REQUEST;
			break;
		}
		sb_add(&cur, l.text, l.len);
		cur_line = l.lineno;
	}
	sb_free(&cur);
	return r;
}

/* 1 when t[0..n), a line cut short, may begin a request line: METHOD SP target SP HTTP/1.x
 * as far as it goes. */
static int request_prefix(const char *t, size_t n)
{
	static const char version[] = "HTTP/1.";
	size_t i = 0, j;

	if (n > 0 && t[n - 1] == '\r')
		n--; /* the '\n' of a CRLF still to come */
	while (i < n && i < 20 && t[i] >= 'A' && t[i] <= 'Z')
		i++;
	if (i == 0 || i == n)
		return i > 0;
	if (t[i++] != ' ')
		return 0;
	while (i < n && (unsigned char)t[i] > ' ' && t[i] != 0x7f)
		i++;
	if (i == n)
		return 1;
	if (t[i++] != ' ')
		return 0;
	for (j = 0; i < n && j < sizeof version - 1; i++, j++)
		if (t[i] != version[j])
			return 0;
	return i == n || (i + 1 == n && (t[i] == '0' || t[i] == '1'));
}

/* Where in t[0..n), a line cut short, a request line may begin (request_prefix), at its
 * start or glued to bytes before it: a method (a run of capitals) ending at its end or at one
 * of its last two spaces, the earliest that goes on to the end. -1: nowhere. */
static long cut_request_start(const char *t, size_t n)
{
	size_t end[3], k = 0, m = n > 0 && t[n - 1] == '\r' ? n - 1 : n;
	long best = -1;

	end[k++] = m; /* the method itself cut short */
	for (size_t i = m; i > 0 && k < 3; i--)
		if (t[i - 1] == ' ')
			end[k++] = i - 1;
	for (size_t j = 0; j < k; j++) {
		size_t p = end[j];
		while (p > 0 && end[j] - p < 20 && t[p - 1] >= 'A' && t[p - 1] <= 'Z')
			p--;
		if (p < end[j] && request_prefix(t + p, n - p) && (best < 0 || (long)p < best))
			best = (long)p;
	}
	return best;
}

/* 1 when b[0..len) is text: no control bytes but tab, CR and LF (a JSON or form body, not a
 * compressed one, whose bytes may be anything). */
static int is_text(const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)b[i] < ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
			return 0;
	return 1;
}

/*
 * Where bytes read by a length (a body, a chunk) run into the next request:
 * the first of their lines (at their start or after a line end) that is or
 * ends with a request line (glued to the body's last bytes: a body whose line
 * ends were rewritten, CRLF to LF, and the next request right after it), or,
 * once the length is all read (last), their last line, cut short by it, when
 * bytes came before it, those are text and it may begin a request line, at
 * its start or glued (*cut set: the caller sees whether it does). -1:
 * nowhere yet. Scanning b[0..len) goes on from where the last call
 * left (*from: the start of the line not ended yet; *seen: how far it was
 * looked through for its end). A body that holds an HTTP request line of its
 * own is not a webhook's.
 */
static long request_in(const char *b, size_t len, int last, int *cut, size_t *from, size_t *seen)
{
	size_t s = *from;

	*cut = 0;
	while (s < len) {
		const char *nl = memchr(b + (*seen > s ? *seen : s), '\n', len - (*seen > s ? *seen : s));
		if (!nl) {
			*from = s;
			*seen = len;
			if (!last)
				return -1;
			*cut = 1;
			long p = cut_request_start(b + s, len - s);
			return p >= 0 && s + (size_t)p > 0 && is_text(b, s + (size_t)p) ? (long)s + p : -1;
		}
		size_t e = (size_t)(nl - b);
		long p = request_at_end(b + s, e - s - (e > s && b[e - 1] == '\r'));
		if (p >= 0)
			return (long)s + p;
		s = e + 1;
	}
	*from = *seen = s;
	return -1;
}

#define PEEK (16 * 1024) /* how far ahead a request line is looked for */

/* 1 when the input's next line, up to PEEK bytes of it, is a request line; the input as it
 * was (a read error is told at the next call). */
static int request_next(struct http_reader *hr)
{
	char *peek = xmalloc(PEEK);
	ssize_t got = lr_read(hr->lr, peek, PEEK);
	const char *nl;
	int yes = 0;

	if (got < 0)
		hr->error_line = lr_lineno(hr->lr) + 1; /* told at the next call */
	if (got > 0) {
		if ((nl = memchr(peek, '\n', (size_t)got))) {
			size_t e = (size_t)(nl - peek);
			yes = http_request_line(peek, e - (e > 0 && peek[e - 1] == '\r'));
		} else {
			yes = http_request_line(peek, (size_t)got); /* the input's last line */
		}
		lr_unread(hr->lr, peek, (size_t)got);
	}
	free(peek);
	return yes;
}

#define PIECE (64 * 1024) /* bytes read by a length at a time, looked through as they come */

/*
 * n bytes read by a length (a body, a chunk; past the first max of them
 * skipped, not kept), onto hr->body, PIECE at a time, each looked through for a request line as it comes: the
 * length may be longer than the bytes and run into the next request. Found,
 * the bytes from there are given back to the input, to be read as that
 * request, and *at says where it starts among these bytes (else -1). Returns
 * the bytes read, up to there or the end of the input; -1 on a read error.
 * Bytes past max are not looked through.
 */
static ssize_t read_by_length(struct http_reader *hr, size_t n, long *at)
{
	size_t look = n < hr->max ? n : hr->max, base = hr->body.len, got = 0, from = 0, seen = 0;
	ssize_t more = 0;
	int cut;

	*at = -1;
	while (got < look) {
		size_t want = look - got < PIECE ? look - got : PIECE;
		ssize_t r = lr_read(hr->lr, sb_reserve(&hr->body, want), want);
		if (r < 0)
			return -1;
		hr->body.len += (size_t)r;
		got += (size_t)r;
		int last = (size_t)r < want || got == n; /* a line cut at max goes on in what is skipped */
		const char *b = hr->body.buf + base;
		long a = request_in(b, got, last, &cut, &from, &seen);
		if (a >= 0) {
			lr_unread(hr->lr, b + a, got - (size_t)a);
			if (!cut || request_next(hr)) {
				hr->body.len = base + (size_t)a;
				*at = a;
				return a;
			}
			lr_read(hr->lr, NULL, got - (size_t)a); /* the body's after all: read again, as it was */
		}
		if ((size_t)r < want)
			return (ssize_t)got; /* the end of the input */
	}
	if (n > got && (more = lr_read(hr->lr, NULL, n - got)) < 0)
		return -1;
	return (ssize_t)(got + (size_t)more);
}

static int read_sized(struct http_reader *hr, struct http_request *rq, size_t n)
{
	long at;
	ssize_t got = read_by_length(hr, n, &at);

	if (got < 0)
		return failed(rq, rq->lineno);
	if (at >= 0)
		return bad(rq, REJ_INVALID_REQUEST, "Content-Length %zu runs into the next request (line %ld) after %ld "
			   "bytes of body", n, lr_lineno(hr->lr) + 1, at);
	if ((size_t)got < n)
		return bad(rq, REJ_TRUNCATED_REQUEST, "the input ends after %zd of the body's %zu bytes", got, n);
	if (n > hr->max)
		return bad(rq, REJ_LINE_TOO_LONG, "request body of %zu bytes is longer than %zu bytes", n, hr->max);
	return HTTP_REQUEST;
}

/* "1a2b" or "1a2b;ext=x": the size of a chunk. -1 when the line is none. */
static int chunk_size(const struct line *l, size_t *size)
{
	size_t i = 0, v = 0;

	for (; i < l->len && i < 15 && strchr("0123456789abcdefABCDEF", l->text[i]) && l->text[i]; i++) {
		char c = l->text[i];
		v = v * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	if (i == 0)
		return -1;
	while (i < l->len && (l->text[i] == ' ' || l->text[i] == '\t'))
		i++;
	if (i < l->len && l->text[i] != ';')
		return -1;
	*size = v;
	return 0;
}

/* After the last chunk: trailer fields, to a blank line, the next request or the end. */
static int read_trailer(struct http_reader *hr, struct http_request *rq, int too_long)
{
	struct line l;
	int r;

	while ((r = lr_next(hr->lr, &l)) == LR_LINE && !blank(&l) && !hold_request(hr, &l))
		;
	if (r == LR_ERROR)
		return failed(rq, l.lineno);
	if (too_long)
		return bad(rq, REJ_LINE_TOO_LONG, "chunked request body longer than %zu bytes", hr->max);
	return HTTP_REQUEST;
}

/* Transfer-Encoding: chunked: size lines, data, a line end after each. */
static int read_chunked(struct http_reader *hr, struct http_request *rq)
{
	struct line l;
	int r, too_long = 0;
	size_t size;

	for (;;) {
		if ((r = line_in(hr, rq, &l, "the request's chunked body")) != HTTP_REQUEST)
			return r;
		if (l.too_long || chunk_size(&l, &size) < 0) {
			resync(hr, &l);
			return bad(rq, REJ_INVALID_REQUEST, "line %ld is not a chunk size", l.lineno);
		}
		if (size == 0)
			return read_trailer(hr, rq, too_long);
		if (size > hr->max - hr->body.len)
			too_long = 1;
		if (too_long)
			hr->body.len = 0; /* not kept: the buffer only looks through this chunk */
		long at;
		ssize_t got = read_by_length(hr, size, &at);
		if (got < 0)
			return failed(rq, rq->lineno);
		if (at >= 0)
			return bad(rq, REJ_INVALID_REQUEST, "a chunk of %zu bytes runs into the next request (line %ld)",
				   size, lr_lineno(hr->lr) + 1);
		if ((size_t)got < size)
			return bad(rq, REJ_TRUNCATED_REQUEST, "the input ends inside a chunk of %zu bytes", size);
		if ((r = line_in(hr, rq, &l, "the request's chunked body")) != HTTP_REQUEST)
			return r;
		if (l.len != 0) {
			resync(hr, &l);
			return bad(rq, REJ_INVALID_REQUEST, "a chunk's data does not end its line (line %ld)", l.lineno);
		}
	}
}

/* No length given: the lines up to the next request line or the end, trailing blank lines dropped. */
static int read_unsized(struct http_reader *hr, struct http_request *rq)
{
	struct line l;
	int r, too_long = 0;

	while ((r = lr_next(hr->lr, &l)) == LR_LINE) {
		int last = hold_request(hr, &l);
		if (last)
			l.len = (size_t)(hr->pending.text - l.text); /* the body's last bytes, before it */
		if (l.too_long || l.len + 1 > hr->max - hr->body.len)
			too_long = 1;
		if (!too_long) {
			sb_add(&hr->body, l.text, l.len);
			SB_LIT(&hr->body, "\n");
		}
		if (last)
			break;
	}
	if (r == LR_ERROR)
		return failed(rq, l.lineno);
	for (char c; hr->body.len > 0 && ((c = hr->body.buf[hr->body.len - 1]) == '\n' || c == '\r' || c == ' ' ||
					   c == '\t');)
		hr->body.len--;
	if (too_long)
		return bad(rq, REJ_LINE_TOO_LONG, "request body longer than %zu bytes", hr->max);
	return HTTP_REQUEST;
}

int http_next(struct http_reader *hr, struct http_request *rq)
{
	struct head h = { .length = -1 };
	struct line l;
	int r;

	memset(rq, 0, sizeof *rq);
	hr->body.len = 0;
	if (hr->error_line)
		return failed(rq, hr->error_line);
	do
		r = next_line(hr, &l);
	while (r == LR_LINE && blank(&l));
	if (r == LR_EOF)
		return HTTP_EOF;
	if (r == LR_ERROR)
		return failed(rq, l.lineno);
	rq->lineno = l.lineno;
	hr->line.len = 0;
	sb_add(&hr->line, l.text, l.len < LINE_KEEP ? l.len : LINE_KEEP);
	rq->line = hr->line.buf;
	rq->line_len = hr->line.len;
	long at = request_start(&l);
	if (at > 0) {
		/* a request line glued to bytes before it: what a body shorter than its
		 * Content-Length left over (its length counted in characters, not bytes) */
		/* no text: a body's end, where a secret's value may begin out of any redaction's reach */
		rq->line = NULL;
		rq->line_len = 0;
		hold_request(hr, &l);
		return bad(rq, REJ_INVALID_REQUEST, "%ld bytes before a request line (what a body longer than its "
			   "Content-Length left?)", at);
	}
	if (at < 0) {
		rq->line = NULL; /* the same: what is no request line may be a body's piece */
		rq->line_len = 0;
		long skipped = skip_to_request(hr);
		if (skipped == 0)
			return bad(rq, REJ_INVALID_REQUEST, "not an HTTP request line");
		return bad(rq, REJ_INVALID_REQUEST, "not an HTTP request line, nor the %ld after it", skipped);
	}
	if ((r = read_head(hr, rq, &h)) != HTTP_REQUEST)
		return r;
	if (h.chunked)
		r = read_chunked(hr, rq);
	else if (h.length >= 0)
		r = read_sized(hr, rq, (size_t)h.length);
	else
		r = read_unsized(hr, rq);
	rq->body = hr->body.buf ? hr->body.buf : "";
	rq->body_len = hr->body.len;
	return r;
}
