/*
 * diag.h: diagnostics, the exit-status policy and the rejects stream.
 *
 * Every program calls diag_init(name) first. Messages go to stderr as
 *     prog: file:line: message
 * Data problems are remembered and turn into exit status 1 at the end;
 * system problems (I/O, memory) exit at once with status 3.
 */
#ifndef RO_DIAG_H
#define RO_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum exit_status {
	EXIT_OK = 0,     /* every record went through */
	EXIT_DATA = 1,   /* some records were rejected or failed; the rest went through */
	EXIT_USAGE = 2,  /* bad options or arguments */
	EXIT_SYSTEM = 3, /* I/O, memory or database failure */
	EXIT_UNBALANCED = 4, /* reconcile only: some provider/project/day has a delta */
};

/*
 * The stable reject codes: the `code` of a rejects record. Documented in
 * docs/rejects.md; never rename one, only add.
 */
#define REJECT_CODES(X)                                                              \
	X(REJ_INVALID_JSON, "invalid_json", "the line is not one valid JSON value")      \
	X(REJ_INVALID_UTF8, "invalid_utf8", "the line is not valid UTF-8")               \
	X(REJ_NUL_BYTE, "nul_byte", "the line contains a NUL byte")                      \
	X(REJ_LINE_TOO_LONG, "line_too_long", "the line is longer than --max-line")      \
	X(REJ_TOO_DEEP, "too_deep", "JSON nested deeper than the documented limit")      \
	X(REJ_NOT_OBJECT, "not_object", "the JSON value is not an object")               \
	X(REJ_TRUNCATED_GZIP, "truncated_gzip", "a gzip file ends before its trailer")   \
	X(REJ_READ_ERROR, "read_error", "the input could not be read or decompressed")   \
	X(REJ_UNKNOWN_PROVIDER, "unknown_provider", "no connector recognises the payload") \
	X(REJ_MISSING_EVENT_ID, "missing_event_id", "the payload has no usable event id") \
	X(REJ_MISSING_FIELD, "missing_field", "a required envelope field is missing")    \
	X(REJ_INVALID_FIELD, "invalid_field", "an envelope field has the wrong type or form") \
	X(REJ_INVALID_BODY, "invalid_body", "a captured webhook's body is not JSON")     \
	X(REJ_DB_REJECTED, "db_rejected", "PostgreSQL refused the row")                 \
	X(REJ_INVALID_REQUEST, "invalid_request", "a captured HTTP request is malformed") \
	X(REJ_TRUNCATED_REQUEST, "truncated_request", "the input ends inside a captured HTTP request") \
	X(REJ_TOO_MANY_VALUES, "too_many_values", "JSON holding more values than the documented limit")

enum reject_code {
#define X(sym, name, doc) sym,
	REJECT_CODES(X)
#undef X
	REJ__COUNT
};

extern const char *prog_name;

void diag_init(const char *name);
const char *reject_code_name(enum reject_code code);

/* prog: message (errno text when errnum != 0). */
void warn_msg(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prog: file:line: message, and remember a data error (exit 1). */
void warn_at(const char *file, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same said as a notice: no data error, the exit status as it would be. */
void note_at(const char *file, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* note_at for a notice of something the program decided on its own (a file
 * skipped, a time it does not use) that needs no look: not said after
 * diag_quiet() (file NULL: no place) */
void notice_at(const char *file, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* --quiet: notice_at says nothing */
void diag_quiet(void);
struct option;
/* getopt_long, whose complaints are said here, as glibc words them but
 * without any option's value: glibc prints an unknown or ambiguous long
 * option whole, and --dns=postgresql://u:PASSWORD@h/db is a typo for --dsn.
 * '?' after such a complaint (the caller prints its usage, exit 2). */
int getopt_said(int argc, char *const argv[], const char *shortopts, const struct option *longopts);
/* prog: message: strerror(errnum); exit 3. */
void die_sys(int errnum, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* prog: message, then the usage synopsis; exit 2. */
void die_usage(const char *synopsis, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* Remember a data error without printing. */
void diag_data_error(void);
/* Remember a system error (an unreadable file) to exit 3 at the end, and go on. */
void diag_system_error(void);
/* 1 once a system error was remembered (a program whose output needs every input checks it). */
int diag_system_failed(void);

/* Open the rejects stream (--rejects FILE; "-" is not allowed, stdout carries data). */
/* Why --rejects PATH cannot be: "-", or the same file as one of the inputs;
 * NULL when it can. Programs check it once the inputs are known. */
const char *rejects_refused(const char *path, char *const *inputs, int ninputs);
/* Open it, emptied, and hold it (a lock) while the program runs; NULL, or why
 * not (another program holds it: fetch-events --rejects r | normalize --rejects
 * r lost records, and cut one). */
const char *rejects_open(const char *path);
/* --rejects PATH (NULL: none) once the inputs are known: refused as a usage
 * error (exit 2) when rejects_refused or rejects_open says why, else opened. */
void rejects_setup(const char *synopsis, const char *path, char *const *inputs, int ninputs);
/*
 * Report a rejected input record: a diagnostic on stderr, a JSON line in the
 * rejects stream ({file, line, code, message, raw}), a data error, a count.
 * raw may be NULL; it is written as text, invalid UTF-8 replaced and the
 * value of any secret (secret.h) redacted.
 */
void reject(const char *file, long line, enum reject_code code, const char *raw, size_t rawlen,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
long rejects_count(void);
/* Write out what the rejects stream holds; a failure (a full disk) is
 * die_sys's. For a program that records its outcome before it ends. */
void rejects_flush(void);

/* Checked stdio. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void xwrite(const void *buf, size_t len, FILE *f);
/* Flush and close stdout and the rejects stream; exit 3 on failure (disk full).
 * Returns the exit status the program should end with. */
int diag_finish(void);

/* Progress on stderr when it is a terminal: call per record; cheap. */
void progress_tick(size_t bytes);
void progress_done(void);

#endif
