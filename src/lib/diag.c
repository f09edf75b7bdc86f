/* diag.c: messages, exit status, rejects stream, checked allocation and output. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "diag.h"
#include "jsonutil.h"
#include "secret.h"
#include "strbuf.h"

const char *prog_name = "revenueos";

#define REJECTS_SHOWN 100

static int data_error, system_error;
static long n_rejects;
static FILE *rejects;
static const char *rejects_path;

static const char *const code_names[] = {
#define X(sym, name, doc) name,
	REJECT_CODES(X)
#undef X
};

void diag_init(const char *name)
{
	const char *slash = strrchr(name, '/');
	prog_name = slash ? slash + 1 : name;
	/* A standard descriptor closed at start (2>&-, >&-) would be the next file
	 * opened, the rejects file say, which would then get the data or the
	 * messages. Hold each one with /dev/null, opened so that using it fails
	 * as the closed one would: no input, writes refused (exit 3); stderr's
	 * messages are dropped. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd == 0 ? O_WRONLY : fd == 1 ? O_RDONLY : O_WRONLY);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	/* Past a file-size limit (ulimit -f) a write fails with EFBIG, said and
	 * exit 3 as any write that fails, where SIGXFSZ killed the program
	 * without a word, its output cut (audit-E 5) */
	signal(SIGXFSZ, SIG_IGN);
}

const char *reject_code_name(enum reject_code code)
{
	return (unsigned)code < REJ__COUNT ? code_names[code] : "unknown";
}

/* Text from input (a key, a file name) on stderr: control characters as \xNN, so
 * a message stays one line and no input can forge another program's line or
 * drive the terminal; the C1 ones too (U+0080..U+009F, \xc2\x9b a CSI); and
 * a byte that is not UTF-8 (a file's name), as its source says it (utf8_said). */
static void put_text(const char *text)
{
	char *said = utf8_said(text);
	for (const char *s = said; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			fprintf(stderr, "\\x%02x\\x%02x", c, (unsigned char)*++s);
		else if (c < 0x20 || c == 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	free(said);
}

static void vmsg(const char *file, long line, int errnum, const char *fmt, va_list ap)
{
	char *text = NULL;

	progress_done();
	fprintf(stderr, "%s: ", prog_name);
	if (file) {
		put_text(file);
		if (line > 0)
			fprintf(stderr, ":%ld", line);
		fputs(": ", stderr);
	}
	if (vasprintf(&text, fmt, ap) >= 0) {
		/* a quoted value may be a key or a hottok's pair (docs/rejects.md) */
		size_t n;
		char *masked = secret_mask_text(text, strlen(text), &n);
		put_text(masked ? masked : text);
		free(masked);
		free(text);
	} else {
		fputs("(out of memory formatting a message)", stderr);
	}
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void warn_msg(int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(NULL, 0, errnum, fmt, ap);
	va_end(ap);
}

static int quiet;

void diag_quiet(void)
{
	quiet = 1;
}

void notice_at(const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	if (quiet)
		return;
	va_start(ap, fmt);
	vmsg(file, line, 0, fmt, ap);
	va_end(ap);
}

void warn_at(const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(file, line, 0, fmt, ap);
	va_end(ap);
	data_error = 1;
}

void note_at(const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(file, line, 0, fmt, ap);
	va_end(ap);
}

int getopt_said(int argc, char *const argv[], const char *shortopts, const struct option *longopts)
{
	char opts[64];

	opterr = 0;
	snprintf(opts, sizeof opts, ":%s", shortopts); /* ':' tells a missing argument */
	int c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	/* the element read last: a long option's (a short one's, in a cluster
	 * such as -qx, may be the one before: only optopt names it) */
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	int is_long = arg[0] == '-' && arg[1] == '-';
	int name = (int)strcspn(arg, "=");
	if (c == ':' && is_long)
		warn_msg(0, "option '%.*s' requires an argument", name, arg);
	else if (c == ':')
		warn_msg(0, "option requires an argument -- '%c'", optopt);
	else if (optopt == 0) /* an unknown or ambiguous long option */
		warn_msg(0, "unrecognized option '%.*s'%s", name, arg, arg[name] ? " (its value not shown)" : "");
	else if (is_long && arg[name])
		warn_msg(0, "option '%.*s' doesn't allow an argument", name, arg);
	else
		warn_msg(0, "invalid option -- '%c'", optopt);
	return '?';
}

void die_sys(int errnum, const char *fmt, ...)
{
	va_list ap;

	/* The reader went away (| head): end quietly, as SIGPIPE would have. */
	if (errnum == EPIPE)
		exit(EXIT_SYSTEM);
	va_start(ap, fmt);
	vmsg(NULL, 0, errnum, fmt, ap);
	va_end(ap);
	exit(EXIT_SYSTEM);
}

void die_usage(const char *synopsis, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(NULL, 0, 0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s", synopsis);
	exit(EXIT_USAGE);
}

void diag_data_error(void)
{
	data_error = 1;
}

void diag_system_error(void)
{
	system_error = 1;
}

int diag_system_failed(void)
{
	return system_error;
}

/* path is /dev/stdout, /dev/fd/1 or /proc/self/fd/1, or a symlink to one */
static int names_stdout(const char *path)
{
	static const char *const names[] = { "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1" };
	char link[64];
	ssize_t n = readlink(path, link, sizeof link - 1);

	if (n > 0)
		link[n] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(path, names[i]) == 0 || (n > 0 && strcmp(link, names[i]) == 0))
			return 1;
	return 0;
}

const char *rejects_refused(const char *path, char *const *inputs, int ninputs)
{
	struct stat r, in;

	if (strcmp(path, "-") == 0)
		return "'-' is not allowed (stdout carries the data)";
	if (!*path)
		return "an empty file name";
	if (stat(path, &r) != 0)
		return NULL; /* a new file: no input can be it */
	/* /dev/stdout, or the file stdout was sent to: the data's stream; a
	 * terminal named as stdout (audit-RJ 4), not /dev/stderr nor /dev/tty on
	 * the same one, nor /dev/null, which may take both */
	if (fstat(1, &in) == 0 && in.st_dev == r.st_dev && in.st_ino == r.st_ino &&
	    (!S_ISCHR(r.st_mode) || names_stdout(path)))
		return "it is the standard output (stdout carries the data)";
	if (S_ISCHR(r.st_mode))
		return NULL; /* /dev/null, a terminal */
	if (!S_ISREG(r.st_mode))
		return NULL;
	int read_stdin = ninputs == 0;
	for (int i = 0; i < ninputs; i++) {
		if (strcmp(inputs[i], "-") == 0)
			read_stdin = 1;
		else if (stat(inputs[i], &in) == 0 && in.st_dev == r.st_dev && in.st_ino == r.st_ino)
			return "it is one of the inputs (it would be emptied before it is read)";
	}
	/* < FILE: stdin is that file */
	if (read_stdin && fstat(0, &in) == 0 && in.st_dev == r.st_dev && in.st_ino == r.st_ino)
		return "it is the standard input (it would be emptied before it is read)";
	return NULL;
}

void rejects_setup(const char *synopsis, const char *path, char *const *inputs, int ninputs)
{
	const char *why;

	if (!path)
		return;
	if ((why = rejects_refused(path, inputs, ninputs)) || (why = rejects_open(path)))
		die_usage(synopsis, "--rejects: %s", why);
}

const char *rejects_open(const char *path)
{
	struct stat st;

	/* A symlink of another user's (planted by that name in a shared
	 * directory) is not followed: this run would empty, or create, the file
	 * it names. Ours or root's (/dev/stderr) is. The kernel's
	 * fs.protected_symlinks closes the race left for sticky directories. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid != geteuid() && st.st_uid != 0)
		die_sys(0, "cannot open rejects file '%s': a symlink of another user's, not followed", path);
	/* whole payload lines, customers' details among them: for the owner only
	 * when made (a file that is there keeps its mode, as with "w") */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die_sys(errno, "cannot open rejects file '%s'", path);
	/* a file: held while this program runs, and emptied once held; another
	 * program of the pipeline given it too is refused, where each emptied it
	 * and wrote over the other's records (audit-RJ 2) */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
			close(fd);
			return "another program running writes it (give each program its own file)";
		}
		if (ftruncate(fd, 0) != 0) {
			int e = errno;
			close(fd);
			die_sys(e, "cannot empty rejects file '%s'", path);
		}
	}
	if (!(rejects = fdopen(fd, "w"))) {
		int e = errno;
		close(fd);
		die_sys(e, "cannot open rejects file '%s'", path);
	}
	rejects_path = path;
	return NULL;
}

/* 1 when raw[0..len) holds a NUL and, its NULs taken out, a secret the
 * redaction would mask or withhold: UTF-16 text (a file PowerShell 5 wrote
 * with '>'), whose every other byte is NUL, hid "h\0o\0t\0t\0o\0k" from it
 * and reached the rejects file readable (audit-W 1). */
static int nul_hides_secret(const char *raw, size_t len)
{
	if (!memchr(raw, '\0', len))
		return 0;
	char *t = xmalloc(len + 1);
	size_t n = 0, m;
	for (size_t i = 0; i < len; i++)
		if (raw[i])
			t[n++] = raw[i];
	t[n] = '\0';
	char *r = secret_redact(t, n, &m);
	int hides = r || secret_left(t, n) || secret_name_escaped(t, n) || secret_in_multipart(t, n);
	free(r);
	free(t);
	return hides;
}

/* The raw text as a JSON string: invalid UTF-8 bytes become U+FFFD so the
 * rejects stream itself stays valid JSON. */
static json_object *raw_string(const char *raw, size_t len)
{
	if (utf8_valid(raw, len) && !memchr(raw, '\0', len))
		return json_object_new_string_len(raw, (int)len);
	size_t n;
	char *clean = utf8_replace(raw, len, &n);
	json_object *s = json_object_new_string_len(clean, (int)n);
	free(clean);
	return s;
}

void reject(const char *file, long line, enum reject_code code, const char *raw, size_t rawlen,
	    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* a quoted value may be a key or a hottok's pair (docs/rejects.md) */
	secret_mask_in(msg, sizeof msg);
	utf8_repair(msg); /* input quoted with a precision (%.40s) may end mid-character */
	/* A file that is not NDJSON at all would bury the terminal: past a
	 * hundred, a file's rejects go to the rejects stream and the count only. */
	static struct strbuf last_file; /* whole: deep paths share long prefixes */
	static long in_file, last_line;
	const char *name = file ? file : "-";
	/* a new reading: another file, or the same named again (a line before
	 * the last reported: rejects come in the order of their lines) */
	if (!last_file.buf || strcmp(last_file.buf, name) != 0 || (line > 0 && line < last_line)) {
		last_file.len = 0;
		sb_add(&last_file, name, strlen(name));
		in_file = 0;
		last_line = 0;
	}
	if (line > 0)
		last_line = line;
	/* but what ends a file's reading (it could not be read on, a gzip cut
	 * short) is always said: past the hundred, it alone tells why the rest of
	 * the file is not there */
	int ends_file = code == REJ_READ_ERROR || code == REJ_TRUNCATED_GZIP;
	if (++in_file <= REJECTS_SHOWN || ends_file)
		warn_at(file, line, "%s (%s)", msg, reject_code_name(code));
	else if (in_file == REJECTS_SHOWN + 1)
		warn_at(file, 0, "more than %d rejected lines: the rest are counted%s", REJECTS_SHOWN,
			rejects ? " and written to the rejects file only" : " only");
	n_rejects++;
	if (!rejects)
		return;
	json_object *r = json_object_new_object();
	json_object_object_add(r, "file", json_object_new_string(file ? file : "-"));
	json_object_object_add(r, "line", line > 0 ? json_object_new_int64(line) : NULL);
	json_object_object_add(r, "code", json_object_new_string(reject_code_name(code)));
	json_object_object_add(r, "message", json_object_new_string(msg));
	/* A rejected line is passed on as it came, but never with a secret in it. */
	size_t redacted_len = 0;
	if (raw && (secret_name_escaped(raw, rawlen) || secret_in_multipart(raw, rawlen) ||
		    nul_hides_secret(raw, rawlen)))
		raw = NULL; /* a name spelled with escapes, a form's part, UTF-16: no redaction reads it */
	char *redacted = raw ? secret_redact(raw, rawlen, &redacted_len) : NULL;
	if (redacted) {
		raw = redacted;
		rawlen = redacted_len;
	}
	if (raw && secret_left(raw, rawlen))
		raw = NULL; /* a secret's value in a form the redaction does not read */
	json_object_object_add(r, "raw", raw ? raw_string(raw, rawlen) : NULL);
	free(redacted);
	const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* each record whole in the file once said on stderr: a filter stopped by a
	 * signal (SIGPIPE when the load behind it failed, a watchdog's TERM) lost
	 * those in its buffer and cut the last (audit-JOB 2) */
	if (fputs(s, rejects) == EOF || fputc('\n', rejects) == EOF || fflush(rejects) == EOF)
		die_sys(errno, "cannot write rejects file '%s'", rejects_path);
	json_object_put(r);
}

long rejects_count(void)
{
	return n_rejects;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_sys(ENOMEM, "out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_sys(ENOMEM, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die_sys(ENOMEM, "out of memory");
	return d;
}

void xwrite(const void *buf, size_t len, FILE *f)
{
	if (len && fwrite(buf, 1, len, f) != len)
		die_sys(errno, "write error");
}

void rejects_flush(void)
{
	if (rejects && (fflush(rejects) != 0 || ferror(rejects)))
		die_sys(errno, "cannot write rejects file '%s'", rejects_path);
}

int diag_finish(void)
{
	progress_done();
	if (n_rejects > 0)
		fprintf(stderr, "%s: %ld input line%s rejected\n", prog_name, n_rejects, n_rejects == 1 ? "" : "s");
	if (rejects && fclose(rejects) != 0)
		die_sys(errno, "cannot write rejects file '%s'", rejects_path);
	rejects = NULL;
	/* A full disk shows up here, not at the last fwrite. */
	if (fflush(stdout) != 0 || ferror(stdout))
		die_sys(errno, "write error");
	if (fclose(stdout) != 0)
		die_sys(errno, "write error");
	return system_error ? EXIT_SYSTEM : data_error ? EXIT_DATA : EXIT_OK;
}

/* Progress: only when stderr is a terminal, at most twice a second, and only
 * from a pipeline's last stage (stdout not a pipe): the stages of one on a
 * terminal wrote their lines over each other's (audit-CLI). */
static int progress_on = -1;
static int progress_shown;
static size_t progress_n, progress_bytes;
static struct timespec progress_start, progress_last;

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void progress_tick(size_t bytes)
{
	struct timespec now;

	if (progress_on == 0)
		return;
	if (progress_on < 0) {
		struct stat out;
		progress_on = isatty(STDERR_FILENO) && !getenv("RO_NO_PROGRESS") &&
			      !(fstat(STDOUT_FILENO, &out) == 0 && S_ISFIFO(out.st_mode));
		clock_gettime(CLOCK_MONOTONIC, &progress_start);
		progress_last = progress_start;
		if (!progress_on)
			return;
	}
	progress_n++;
	progress_bytes += bytes;
	if ((progress_n & 1023) != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&progress_last, &now) < 0.5)
		return;
	progress_last = now;
	double secs = elapsed(&progress_start, &now);
	fprintf(stderr, "\r%s: %zu events, %.1f MB, %.0f events/s ", prog_name, progress_n,
		(double)progress_bytes / 1e6, secs > 0 ? (double)progress_n / secs : 0.0);
	progress_shown = 1;
}

void progress_done(void)
{
	if (progress_shown) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
}
