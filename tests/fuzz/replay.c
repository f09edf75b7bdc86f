/*
 * replay.c: a plain driver for a fuzz target, built by `make test` with the
 * normal compiler (and sanitizers under SAN=1). With no arguments it feeds the
 * target every file under tests/fuzz/regressions/NAME/ (crashes the fuzzers
 * found, kept as regression fixtures) and under the seed directories, printing
 * TAP; with arguments, those files. A crash, or a hang past 60 s, is a failed test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int n;

static void one(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		return;
	}
	do {
		if (cap - len < 65536)
			buf = realloc(buf, cap = cap * 2 + 65536);
		if (!buf)
			abort();
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		printf("not ok %d - %s: read error\n", ++n, path);
		free(buf);
		return;
	}
	/* An exact-size copy, as libFuzzer gives: a read past the end is caught under SAN=1. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact)
		abort();
	memcpy(exact, buf, len);
	fflush(stdout);
	alarm(60); /* a hang is a failure too (SIGALRM ends the run) */
	LLVMFuzzerTestOneInput(exact, len);
	alarm(0);
	free(exact);
	printf("ok %d - %s %s\n", ++n, fuzz_name, path);
	free(buf);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t cnt = 0;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (cnt + 1) * sizeof *names);
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		if (!names || !(names[cnt] = malloc(len)))
			abort();
		snprintf(names[cnt++], len, "%s/%s", path, de->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(names, cnt, sizeof *names, by_name);
	for (size_t i = 0; i < cnt; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			one(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			one(argv[i]);
		return 0;
	}
	char regressions[256];
	snprintf(regressions, sizeof regressions, "tests/fuzz/regressions/%s", fuzz_name);
	dir(regressions);
	for (const char *const *s = fuzz_seeds; *s; s++)
		dir(*s);
	if (n == 0)
		printf("ok 1 - %s: no inputs # SKIP\n", fuzz_name);
	return 0;
}
