/*
 * oom.c: an allocation that fails ends the program, said, exit 3 (I/O or
 * system failure), in our code and in the libraries' alike.
 *
 * json-c 0.16 goes on when an allocation fails: the tokener makes the string
 * it could not copy a null, or leaves it empty, and returns success, and the
 * printer may leave a value out. Under a tight memory limit (ulimit -v, a
 * systemd unit's LimitAS=) normalize wrote a 12 MB customer name as null and
 * to-csv a cell as "", exit 0, or called the line not_object, exit 1
 * (audit-LOC 1). So malloc, calloc and realloc are checked: the program's
 * definitions come before every library's (glibc's manual, "Replacing
 * malloc"), and each calls the allocator's own, the next definition after
 * the program's (dlsym RTLD_NEXT): glibc's, or one a user preloads
 * (LD_PRELOAD of jemalloc, tcmalloc, heaptrack), whose free, not wrapped,
 * takes its memory back. Calling glibc's own (__libc_malloc) gave a preloaded
 * allocator's free glibc's memory: every program died at its first free
 * (review R15 1). free itself is not wrapped: one call less on the hot path
 * (json-c allocates every value of every line).
 *
 * Not in a sanitizer's build: AddressSanitizer replaces malloc itself.
 */
#include <stdlib.h> /* and __GLIBC__ */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RO_ASAN 1
#endif

#if defined(__GLIBC__) && !defined(RO_ASAN)
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

/* glibc's, while the next ones are looked up (dlsym allocates on an error) */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

typedef void *malloc_fn(size_t);
typedef void *calloc_fn(size_t, size_t);
typedef void *realloc_fn(void *, size_t);
static malloc_fn *next_malloc;
static calloc_fn *next_calloc;
static realloc_fn *next_realloc;
static int looking;

/* No allocation, no stdio (whose buffers may be what failed): write(2), _exit.
 * What other threads write meanwhile is cut where it stands: a reader sees a
 * last line cut, and this program's status, 3. */
static void __attribute__((noreturn)) out_of_memory(void)
{
	static const char msg[] = ": out of memory: Cannot allocate memory\n";
	const char *name = prog_name ? prog_name : "revenueos";
	ssize_t w = write(2, name, strlen(name));
	w = write(2, msg, sizeof msg - 1);
	(void)w;
	_exit(EXIT_SYSTEM);
}

/* The next allocator's three, once: at start (below), or at the first call,
 * before any thread. None found (a static link): glibc's. next_malloc, stored
 * last, says all three are there. */
static void look_up(void)
{
	looking = 1;
	void *m = dlsym(RTLD_NEXT, "malloc"), *c = dlsym(RTLD_NEXT, "calloc"), *r = dlsym(RTLD_NEXT, "realloc");
	/* all three from one allocator, or glibc's three */
	if (!m || !c || !r)
		m = (void *)__libc_malloc, c = (void *)__libc_calloc, r = (void *)__libc_realloc;
	__atomic_store_n(&next_calloc, (calloc_fn *)c, __ATOMIC_RELEASE);
	__atomic_store_n(&next_realloc, (realloc_fn *)r, __ATOMIC_RELEASE);
	__atomic_store_n(&next_malloc, (malloc_fn *)m, __ATOMIC_RELEASE);
	looking = 0;
}

/* 1 when the next allocator's three are known, looked up now if need be; 0
 * while they are being looked up (dlsym's own allocations take glibc's) */
static inline int found(void)
{
	if (__builtin_expect(__atomic_load_n(&next_malloc, __ATOMIC_ACQUIRE) != NULL, 1))
		return 1;
	if (looking)
		return 0;
	look_up();
	return 1;
}

static void __attribute__((constructor)) oom_init(void)
{
	found();
}

void *malloc(size_t n)
{
	void *p = found() ? next_malloc(n) : __libc_malloc(n);
	if (__builtin_expect(!p && n, 0))
		out_of_memory();
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = found() ? next_calloc(n, size) : __libc_calloc(n, size);
	if (__builtin_expect(!p && n && size, 0))
		out_of_memory();
	return p;
}

void *realloc(void *q, size_t n)
{
	void *p = found() ? next_realloc(q, n) : __libc_realloc(q, n);
	if (__builtin_expect(!p && n, 0))
		out_of_memory();
	return p;
}
#else
/* ISO C wants a translation unit to hold a declaration */
typedef int ro_oom_unused;
#endif
