/*
 * rawhttp.h: raw HTTP/1.x requests as something wrote them down: `nc -l`, a
 * reverse proxy's request dump, tcpflow or a small receiver appending every
 * request it gets to a file. Each is a request line ("POST /webhooks/stripe
 * HTTP/1.1"), header lines, a blank line (CRLF or LF), then its body:
 * Content-Length bytes, Transfer-Encoding: chunked chunks, or, with neither,
 * the lines up to the next request line or the end of the input. Requests
 * follow one another, with or without blank lines between them. A
 * Content-Length body or a chunk that holds a request line (at the start of one of its
 * lines, or begun at its end) ran into the next request: it is refused, and
 * that request read next.
 *
 * The reader streams over a line reader (lineio.h, so gzip too) and holds one
 * request at a time: its head and its body at most max bytes each (a longer
 * one is skipped, not kept). What http_next returns is owned by the reader
 * and valid until the next call; the line reader stays the caller's.
 */
#ifndef RO_RAWHTTP_H
#define RO_RAWHTTP_H

#include <stddef.h>

#include "diag.h"
#include "lineio.h"

struct http_reader;

struct http_request {
	long lineno;                  /* of its request line (HTTP_BAD: of what was found) */
	const char *line;             /* that line (its first 4096 bytes), for a rejects record;
				       * NULL when what was found is no request line */
	size_t line_len;
	/* the headers a body is read by, "" when absent (a longer value: HTTP_BAD) */
	char content_type[256], content_encoding[64], date[64];
	const char *body;             /* the body, chunks joined; may hold any byte */
	size_t body_len;
	enum reject_code code;        /* HTTP_BAD: why */
	char msg[256];
};

enum http_status {
	HTTP_REQUEST = 1, /* a request is in *rq */
	HTTP_BAD = 2,     /* what was read is no request: rq has its line, code and msg; go on */
	HTTP_EOF = 0,     /* end of input */
	HTTP_ERROR = -1,  /* the input cannot be read on (lr_error); rq->lineno says where */
};

/* 1 when text[0..len) is an HTTP/1.x request line: METHOD SP target SP HTTP/1.0 or 1.1. */
int http_request_line(const char *text, size_t len);

/* A reader whose first request line, first, the caller has just read from lr. */
struct http_reader *http_open(struct line_reader *lr, const struct line *first, size_t max);
int http_next(struct http_reader *hr, struct http_request *rq);
void http_close(struct http_reader *hr);

#endif
