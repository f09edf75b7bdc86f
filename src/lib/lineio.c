/* lineio.c: lines from plain or gzip input through zlib's gzread. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "diag.h"
#include "jsonutil.h"
#include "lineio.h"

#define CHUNK (256 * 1024)

struct line_reader {
	gzFile gz;
	char *name;
	size_t max_line;
	char *buf;          /* buf[start..end) is unread input */
	size_t cap, start, end;
	long lineno;
	size_t bytes;
	int eof;
	int truncated;
	char err[256];
};

struct line_reader *lr_open(const char *path, size_t max_line)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* open() takes a directory; read() would fail later, as if the data were bad. */
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(gz, CHUNK);
	struct line_reader *lr = xmalloc(sizeof *lr);
	memset(lr, 0, sizeof *lr);
	lr->gz = gz;
	lr->name = xstrdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
	utf8_repair(lr->name);
	lr->max_line = max_line ? max_line : LINE_MAX_DEFAULT;
	lr->cap = CHUNK * 2;
	lr->buf = xmalloc(lr->cap + 1);
	return lr;
}

/* Read more input after buf[end]; 0 at end of input, -1 on error. */
static int fill(struct line_reader *lr)
{
	if (lr->eof)
		return 0;
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->cap - lr->end < CHUNK) {
		lr->cap *= 2;
		lr->buf = xrealloc(lr->buf, lr->cap + 1);
	}
	int n = gzread(lr->gz, lr->buf + lr->end, (unsigned)(lr->cap - lr->end));
	int zerr;
	const char *zmsg = gzerror(lr->gz, &zerr);
	if (n < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
		snprintf(lr->err, sizeof lr->err, "read error: %s",
			 zerr == Z_ERRNO ? strerror(errno) : zmsg);
		lr->eof = 1;
		return -1;
	}
	if (n == 0) {
		lr->eof = 1;
		if (zerr == Z_BUF_ERROR) {
			/* zlib reports a stream that stops before its end this way. */
			lr->truncated = 1;
			snprintf(lr->err, sizeof lr->err, "gzip data ends early (truncated file)");
			return -1;
		}
		return 0;
	}
	lr->end += (size_t)n;
	lr->bytes += (size_t)n;
	return 1;
}

static void emit(struct line_reader *lr, struct line *out, size_t len, size_t consumed, int too_long)
{
	char *text = lr->buf + lr->start;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	text[len] = '\0'; /* overwrites the '\n' (or the spare byte past end) */
	out->text = text;
	out->len = len;
	out->lineno = ++lr->lineno;
	out->too_long = too_long;
	lr->start += consumed;
}

int lr_next(struct line_reader *lr, struct line *out)
{
	size_t scanned = 0;

	for (;;) {
		char *base = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = memchr(base + scanned, '\n', avail - scanned);
		if (nl) {
			size_t len = (size_t)(nl - base);
			if (len > lr->max_line) {
				emit(lr, out, lr->max_line, len + 1, 1);
				return LR_LINE;
			}
			emit(lr, out, len, len + 1, 0);
			return LR_LINE;
		}
		scanned = avail;
		if (avail > lr->max_line) {
			/* Keep the head for the rejects record, skip to the next newline. */
			size_t keep = lr->max_line;
			memmove(lr->buf, lr->buf + lr->start, keep);
			lr->start = 0;
			lr->end = keep;
			for (;;) {
				int r = fill(lr); /* start is 0: fill appends at end */
				if (r < 0) {
					out->lineno = lr->lineno + 1;
					return LR_ERROR;
				}
				if (r == 0) {
					emit(lr, out, keep, keep, 1);
					return LR_LINE;
				}
				char *p = memchr(lr->buf + keep, '\n', lr->end - keep);
				if (p) {
					size_t rest = lr->end - (size_t)(p + 1 - lr->buf);
					memmove(lr->buf + keep + 1, p + 1, rest);
					lr->end = keep + 1 + rest;
					emit(lr, out, keep, keep + 1, 1);
					return LR_LINE;
				}
				lr->end = keep; /* drop what was read: still inside the long line */
			}
		}
		int r = fill(lr);
		if (r < 0) {
			out->lineno = lr->lineno + 1;
			return LR_ERROR;
		}
		if (r == 0) {
			avail = lr->end - lr->start;
			if (avail == 0)
				return LR_EOF;
			emit(lr, out, avail, avail, 0); /* a last line without '\n' */
			return LR_LINE;
		}
	}
}

const char *lr_name(const struct line_reader *lr)
{
	return lr->name;
}

const char *lr_error(const struct line_reader *lr, int *truncated)
{
	if (truncated)
		*truncated = lr->truncated;
	return lr->err;
}

size_t lr_bytes(const struct line_reader *lr)
{
	return lr->bytes;
}

void lr_close(struct line_reader *lr)
{
	if (!lr)
		return;
	gzclose_r(lr->gz);
	free(lr->buf);
	free(lr->name);
	free(lr);
}
