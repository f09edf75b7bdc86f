/*
 * lineio.h: a line reader over plain or gzip files (gzip told by its magic
 * bytes; concatenated members read as one stream, zero padding after them
 * skipped, anything else after them an error), which knows the file name and
 * the line number and refuses lines longer than a maximum. A UTF-8 byte-order
 * mark opening the input is skipped.
 *
 * The returned line is owned by the reader and valid until the next call.
 */
#ifndef RO_LINEIO_H
#define RO_LINEIO_H

#include <stddef.h>
#include <sys/types.h>

#define LINE_MAX_DEFAULT ((size_t)16 << 20) /* 16 MiB */
#define LINE_MAX_LIMIT ((size_t)1 << 30)   /* 1 GiB: --max-line's largest (max_line_opt) */

struct line_reader;

struct line {
	char *text;    /* NUL-terminated, without the "\n" or "\r\n" */
	size_t len;    /* bytes in text; may contain NUL bytes */
	long lineno;   /* 1-based */
	int too_long;  /* 1: the line exceeded the maximum; text holds its first bytes */
};

enum lr_status {
	LR_LINE = 1,   /* a line is in *out */
	LR_EOF = 0,    /* clean end of input */
	LR_ERROR = -1, /* read error or truncated gzip: see lr_error() */
};

/* path "-" is stdin. Returns NULL with errno set when the file cannot be opened. */
struct line_reader *lr_open(const char *path, size_t max_line);
int lr_next(struct line_reader *lr, struct line *out);
/*
 * Bytes, not lines, for what no line end bounds (an HTTP body of
 * Content-Length bytes): the next n bytes after the last line or bytes read,
 * line ends and all, copied to dst (NULL: skipped). The line count moves on by
 * the newlines among them, so that the line after them has its number in the
 * file. Returns n, fewer at the end of the input, or -1 on error (lr_error).
 */
ssize_t lr_read(struct line_reader *lr, void *dst, size_t n);
/*
 * Give back the last n bytes read with lr_read (bytes, a copy of them): the
 * next line or bytes read start with them, and the line count goes back by
 * the newlines among them. Invalidates the last line returned.
 */
void lr_unread(struct line_reader *lr, const void *bytes, size_t n);
/* The lines read so far (the next line's number is one more). */
long lr_lineno(const struct line_reader *lr);
const char *lr_name(const struct line_reader *lr);
/* After LR_ERROR: a message, and 1 when the cause is a truncated gzip stream. */
const char *lr_error(const struct line_reader *lr, int *truncated);
/*
 * After LR_ERROR: the reject for it at file:lineno (truncated_gzip or
 * read_error). When read(2) itself failed (an I/O error, not bad data) the
 * run also ends with exit status 3.
 */
void lr_reject_error(struct line_reader *lr, const char *file, long lineno);
/* Bytes of (decompressed) input consumed so far. */
size_t lr_bytes(const struct line_reader *lr);
void lr_close(struct line_reader *lr);

#endif
