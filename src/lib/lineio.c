/*
 * lineio.c: lines from plain or gzip input. The gzip stream is read with
 * zlib's inflate, member by member, rather than gzread: gzread skips whatever
 * follows the last member when it is not gzip, so lines appended to a .gz file
 * (cat a.gz b.ndjson) vanished without a word. Zero padding after a member is
 * skipped; anything else is an error. A gzip file is checked whole before its
 * first line is given (gz_verify).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "diag.h"
#include "jsonutil.h"
#include "lineio.h"

#define CHUNK (256 * 1024)

enum mode { UNKNOWN, PLAIN, GZIP_MEMBER, GZIP_BETWEEN };

struct line_reader {
	int fd;
	char *name;
	size_t max_line;
	char *buf;          /* buf[start..end) is unread (decompressed) input */
	size_t cap, start, end;
	long lineno;
	size_t bytes;
	int eof;
	int truncated;
	int system;     /* exit 3: the system's error (read(2) failed), or a file not read at all */
	int bom_checked;
	char err[256];
	enum mode mode;     /* plain or gzip: told by the first two bytes */
	unsigned char *raw; /* input as read; zs.next_in/avail_in: the unused part */
	int raw_eof;
	off_t pos;          /* positioned (>= 0): the file is read from there with pread */
	z_stream zs;
	const char *zerr;   /* zlib's error, said once the bytes inflated before it are read */
};

struct line_reader *lr_open(const char *path, size_t max_line)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
		/* stdin was closed: diag_init holds it with a write-only /dev/null */
		close(fd);
		errno = EBADF;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* open() takes a directory; read() would fail later, as if the data were bad. */
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	struct line_reader *lr = xmalloc(sizeof *lr);
	memset(lr, 0, sizeof *lr);
	lr->fd = fd;
	lr->name = utf8_said(strcmp(path, "-") == 0 ? "<stdin>" : path);
	lr->max_line = max_line ? max_line : LINE_MAX_DEFAULT;
	if (lr->max_line > SIZE_MAX / 4)
		lr->max_line = SIZE_MAX / 4; /* no limit, and max_line + 1 never wraps */
	lr->cap = CHUNK * 2;
	lr->buf = xmalloc(lr->cap + 1);
	lr->raw = xmalloc(CHUNK);
	lr->zs.next_in = lr->raw;
	lr->pos = -1;
	return lr;
}

/* The input cannot be read on (lr_error says why): -1. */
static int fail(struct line_reader *lr, int truncated, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct line_reader *lr, int truncated, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lr->err, sizeof lr->err, fmt, ap);
	va_end(ap);
	lr->truncated = truncated;
	lr->eof = 1;
	return -1;
}

/* Read more input after what is unused in raw: 0, or -1 on error (raw_eof at the end). */
static int read_raw(struct line_reader *lr)
{
	memmove(lr->raw, lr->zs.next_in, lr->zs.avail_in);
	lr->zs.next_in = lr->raw;
	ssize_t n;
	do
		n = lr->pos < 0 ? read(lr->fd, lr->raw + lr->zs.avail_in, CHUNK - lr->zs.avail_in)
				: pread(lr->fd, lr->raw + lr->zs.avail_in, CHUNK - lr->zs.avail_in, lr->pos);
	while (n < 0 && errno == EINTR);
	if (n > 0 && lr->pos >= 0)
		lr->pos += n;
	if (n < 0) {
		lr->system = 1;
		return fail(lr, 0, "read error: %s", strerror(errno));
	}
	if (n == 0)
		lr->raw_eof = 1;
	lr->zs.avail_in += (unsigned)n;
	return 0;
}

/* Decompress into buf[end..cap): 1 when bytes came, 0 at the end, -1 on error. */
static int inflate_some(struct line_reader *lr)
{
	z_stream *zs = &lr->zs;

	for (;;) {
		/* a pipe, read once (a file is checked whole first): the lines given
		 * before may be altered, as gzip checks its data at the end of a
		 * member; a failed run (exit 3), not a rejected line */
		if (lr->zerr) {
			lr->system = 1;
			return fail(lr, 0, "read error: corrupt gzip data: %s (the lines before it may be altered: "
					   "give the file, which is checked whole first)", lr->zerr);
		}
		if (lr->mode == GZIP_BETWEEN) {
			while (zs->avail_in > 0 && *zs->next_in == 0) {
				zs->next_in++; /* zero padding (tape blocks): no data */
				zs->avail_in--;
			}
			if (zs->avail_in < 2 && !lr->raw_eof) {
				if (read_raw(lr) < 0)
					return -1;
				continue;
			}
			if (zs->avail_in == 0)
				return 0;
			if (zs->avail_in < 2 || zs->next_in[0] != 0x1f || zs->next_in[1] != 0x8b) {
				/* lines appended to a .gz file, say: there, unread, so
				 * the file was not read whole (exit 3), not a bad line */
				lr->system = 1;
				return fail(lr, 0, "data after the end of the gzip stream is not gzip (not read)");
			}
			inflateReset(zs);
			lr->mode = GZIP_MEMBER;
		}
		if (zs->avail_in == 0) {
			if (lr->raw_eof)
				return fail(lr, 1, "gzip data ends early (truncated file)");
			if (read_raw(lr) < 0)
				return -1;
			continue;
		}
		zs->next_out = (unsigned char *)lr->buf + lr->end;
		zs->avail_out = (unsigned)(lr->cap - lr->end);
		int r = inflate(zs, Z_NO_FLUSH);
		size_t got = lr->cap - lr->end - zs->avail_out;
		if (r == Z_STREAM_END)
			lr->mode = GZIP_BETWEEN;
		else if (r != Z_OK && r != Z_BUF_ERROR) {
			/* said once the bytes inflated before the bad data are read
			 * (zlib's messages are static strings) */
			lr->zerr = zs->msg ? zs->msg : "unknown error";
		}
		if (got) {
			lr->end += got;
			lr->bytes += got;
			return 1;
		}
	}
}

/*
 * A gzip file (a regular file: it can be read twice) is checked whole before its
 * first line is given. gzip checks its data (CRC-32 and length) only at the end of
 * each member, and corrupt data can inflate to lines that still parse, an id with a
 * letter changed: those lines were given, and loaded, before the error was seen.
 * 0: not corrupt (whole, or cut short, or followed by other data: the reading says
 * which, as for a stream); -1: corrupt, and no line of it is given.
 */
static int gz_verify(struct line_reader *lr)
{
	struct stat st;
	if (fstat(lr->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* a pipe: read once, as it comes */
	/* a reader of its own, inflating as this one will (inflate_some) from where
	 * it starts (stdin may be a file read partly before), its lines dropped */
	struct line_reader v;
	memset(&v, 0, sizeof v);
	v.fd = lr->fd;
	off_t at = lseek(lr->fd, 0, SEEK_CUR);
	v.pos = at < (off_t)lr->zs.avail_in ? 0 : at - (off_t)lr->zs.avail_in;
	v.cap = CHUNK;
	v.buf = xmalloc(v.cap + 1);
	v.raw = xmalloc(CHUNK);
	v.zs.next_in = v.raw;
	if (inflateInit2(&v.zs, 15 + 16) != Z_OK)
		die_sys(ENOMEM, "out of memory");
	v.mode = GZIP_MEMBER;
	int r;
	do
		v.end = 0;
	while ((r = inflate_some(&v)) > 0);
	/* corrupt: zlib's error; cut short, other data after it, an I/O error: the reading says so */
	off_t near = v.pos - (off_t)v.zs.avail_in;
	inflateEnd(&v.zs);
	free(v.buf);
	free(v.raw);
	if (r == 0 || !v.zerr)
		return 0;
	lr->system = 1; /* the file could not be read: exit 3, as for one that cannot be opened */
	return fail(lr, 0, "read error: corrupt gzip data (%s) near byte %lld of %lld: no line of the file "
		    "read, as lines before it could be altered (gzip checks its data at the end)",
		    v.zerr, (long long)near, (long long)st.st_size);
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
	if (lr->mode == UNKNOWN) {
		while (lr->zs.avail_in < 2 && !lr->raw_eof)
			if (read_raw(lr) < 0)
				return -1;
		if (lr->zs.avail_in >= 2 && lr->raw[0] == 0x1f && lr->raw[1] == 0x8b) {
			if (inflateInit2(&lr->zs, 15 + 16) != Z_OK) /* gzip only */
				die_sys(ENOMEM, "out of memory");
			lr->mode = GZIP_MEMBER;
			if (gz_verify(lr) < 0)
				return -1;
		} else {
			/* plain: what was read to tell is the first input */
			lr->mode = PLAIN;
			memcpy(lr->buf + lr->end, lr->raw, lr->zs.avail_in);
			lr->end += lr->zs.avail_in;
			lr->bytes += lr->zs.avail_in;
			lr->zs.avail_in = 0;
			if (lr->end > lr->start)
				return 1;
		}
	}
	int r;
	if (lr->mode == PLAIN) {
		ssize_t n;
		do
			n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			lr->system = 1; /* the system failed, not the data: exit 3 */
			return fail(lr, 0, "read error: %s", strerror(errno));
		}
		lr->end += (size_t)n;
		lr->bytes += (size_t)n;
		r = n > 0;
	} else {
		r = inflate_some(lr);
	}
	if (r == 0)
		lr->eof = 1;
	return r;
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

/* The format another compressor or archiver wrote at b[0..n), told by its
 * first bytes, or NULL: such a file read as text is no line of ours, and its
 * bytes would be rejected as NUL bytes and bad JSON, many a file, with exit 1
 * as if the rest went through (audit-F2 2). gzip inside gzip too. */
static const char *other_format(const unsigned char *b, size_t n)
{
	static const struct { const char *name; const char *magic; size_t len; } f[] = {
		{ "a zstd file", "\x28\xb5\x2f\xfd", 4 }, { "an xz file", "\xfd" "7zXZ\x00", 6 },
		{ "a zip archive", "PK\x03\x04", 4 }, { "a 7-Zip archive", "7z\xbc\xaf\x27\x1c", 6 },
		{ "gzip inside gzip", "\x1f\x8b", 2 }, { "an lz4 file", "\x04\x22\x4d\x18", 4 },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (n >= f[i].len && memcmp(b, f[i].magic, f[i].len) == 0)
			return f[i].name;
	if (n >= 4 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9')
		return "a bzip2 file";
	/* a tar header: its name NUL-padded (no text line holds a NUL), "ustar"
	 * then NUL (POSIX) or blanks (GNU) at 257 */
	if (n >= 263 && memcmp(b + 257, "ustar", 5) == 0 && (b[262] == '\0' || b[262] == ' ') && memchr(b, '\0', 100))
		return "a tar archive";
	return NULL;
}

/* A UTF-8 byte-order mark opening the file is an encoding mark (Windows
 * tools write one), not a byte of its first line: skipped. A file another
 * compressor or archiver made is not read (other_format). -1 on error. */
static int skip_bom(struct line_reader *lr)
{
	lr->bom_checked = 1;
	/* as many bytes as tell (a tar header's "ustar" ends at 263), but a
	 * first one of JSON text tells at once: a pipe that trickles short lines
	 * is not held back for more */
	size_t want = 3;
	for (;;) {
		size_t have = lr->end - lr->start;
		if (have >= 1 && want == 3 && !strchr("{[ \t\r\n\xef", lr->buf[lr->start]))
			want = 263;
		if (have >= want)
			break;
		int r = fill(lr);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	const char *other = other_format((const unsigned char *)lr->buf + lr->start, lr->end - lr->start);
	if (other) {
		lr->system = 1; /* no line of it read: a file not read, exit 3 */
		return fail(lr, 0, "%s, not read (only plain text and gzip are): decompress it first", other);
	}
	if (lr->end - lr->start >= 3 && memcmp(lr->buf + lr->start, "\xef\xbb\xbf", 3) == 0)
		lr->start += 3;
	return 0;
}

int lr_next(struct line_reader *lr, struct line *out)
{
	size_t scanned = 0;

	if (!lr->bom_checked && skip_bom(lr) < 0) {
		out->lineno = 1;
		return LR_ERROR;
	}

	for (;;) {
		char *base = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = memchr(base + scanned, '\n', avail - scanned);
		if (nl) {
			size_t len = (size_t)(nl - base);
			/* the maximum is the line's, without its "\r\n" or "\n" */
			if (len - (len > 0 && base[len - 1] == '\r') > lr->max_line) {
				emit(lr, out, lr->max_line, len + 1, 1);
				return LR_LINE;
			}
			emit(lr, out, len, len + 1, 0);
			return LR_LINE;
		}
		scanned = avail;
		if (avail > lr->max_line + 1) { /* + 1: a '\r' before the '\n' to come */
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
			if (avail - (lr->buf[lr->start + avail - 1] == '\r') > lr->max_line) {
				emit(lr, out, lr->max_line, avail, 1);
				return LR_LINE;
			}
			emit(lr, out, avail, avail, 0); /* a last line without '\n' */
			return LR_LINE;
		}
	}
}

ssize_t lr_read(struct line_reader *lr, void *dst, size_t n)
{
	size_t got = 0;

	if (!lr->bom_checked && skip_bom(lr) < 0)
		return -1;
	while (got < n) {
		if (lr->start == lr->end) {
			int r = fill(lr);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
			continue;
		}
		size_t take = lr->end - lr->start < n - got ? lr->end - lr->start : n - got;
		const char *p = lr->buf + lr->start, *nl = p;
		while ((nl = memchr(nl, '\n', take - (size_t)(nl - p)))) {
			lr->lineno++;
			nl++;
		}
		if (dst)
			memcpy((char *)dst + got, p, take);
		lr->start += take;
		got += take;
	}
	return (ssize_t)got;
}

void lr_unread(struct line_reader *lr, const void *bytes, size_t n)
{
	const char *b = bytes;

	if (n == 0)
		return;
	if (lr->start < n) {
		size_t unread = lr->end - lr->start;
		while (lr->cap < n + unread) {
			lr->cap *= 2;
			lr->buf = xrealloc(lr->buf, lr->cap + 1);
		}
		memmove(lr->buf + n, lr->buf + lr->start, unread);
		lr->start = n;
		lr->end = n + unread;
	}
	lr->start -= n;
	memcpy(lr->buf + lr->start, b, n);
	for (const char *nl = b; (nl = memchr(nl, '\n', n - (size_t)(nl - b))); nl++)
		lr->lineno--;
}

long lr_lineno(const struct line_reader *lr)
{
	return lr->lineno;
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

void lr_reject_error(struct line_reader *lr, const char *file, long lineno)
{
	reject(file, lineno, lr->truncated ? REJ_TRUNCATED_GZIP : REJ_READ_ERROR, NULL, 0, "%s", lr->err);
	if (lr->system)
		diag_system_error();
}

size_t lr_bytes(const struct line_reader *lr)
{
	return lr->bytes;
}

void lr_close(struct line_reader *lr)
{
	if (!lr)
		return;
	if (lr->mode == GZIP_MEMBER || lr->mode == GZIP_BETWEEN)
		inflateEnd(&lr->zs);
	close(lr->fd);
	free(lr->raw);
	free(lr->buf);
	free(lr->name);
	free(lr);
}
