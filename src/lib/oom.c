/*
 * oom.c: an allocation that fails ends the program, said, exit 3 (I/O or
 * system failure), in our code and in the libraries' alike.
 *
 * json-c 0.16 goes on when an allocation fails: the tokener makes the string
 * it could not copy a null, or leaves it empty, and returns success, and the
 * printer may leave a value out. Under a tight memory limit (ulimit -v, a
 * systemd unit's LimitAS=) normalize wrote a 12 MB customer name as null and
 * to-csv a cell as "", exit 0, or called the line not_object, exit 1
 * (audit-LOC 1). So malloc, calloc and realloc are glibc's own, checked: the
 * program's definitions come before libc's for every library it loads
 * (glibc's manual, "Replacing malloc"). Their memory is glibc's, which
 * glibc's free takes as it is: free is not wrapped (one call less, on the
 * hot path: json-c allocates every value of every line).
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
#include <string.h>
#include <unistd.h>

#include "diag.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

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

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	if (__builtin_expect(!p && n, 0))
		out_of_memory();
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);
	if (__builtin_expect(!p && n && size, 0))
		out_of_memory();
	return p;
}

void *realloc(void *q, size_t n)
{
	void *p = __libc_realloc(q, n);
	if (__builtin_expect(!p && n, 0))
		out_of_memory();
	return p;
}
#else
/* ISO C wants a translation unit to hold a declaration */
typedef int ro_oom_unused;
#endif
