/*
 * jsonc-parse: the ceiling for a json-c filter. Read NDJSON from stdin (or the
 * files named), parse each line with one reused json_tokener and print it back
 * with json_object_to_json_string_ext(PLAIN): the bare parse-and-print cost
 * that normalize pays at the least.
 *
 * Build: cc -O2 -o build/bench/jsonc-parse bench/jsonc-parse.c $(pkg-config --cflags --libs json-c)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static int
filter(FILE *in, const char *name, json_tokener *tok)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int status = 0;

	while ((len = getline(&line, &cap, in)) != -1) {
		json_object *obj;
		const char *out;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, line, (int)len);
		if (obj == NULL || json_tokener_get_parse_end(tok) != (size_t)len) {
			fprintf(stderr, "jsonc-parse: %s:%ld: %s\n", name, lineno, obj == NULL ?
			    json_tokener_error_desc(json_tokener_get_error(tok)) : "trailing characters after the value");
			json_object_put(obj);
			status = 1;
			continue;
		}
		out = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
		if (fputs(out, stdout) == EOF || putchar('\n') == EOF) {
			json_object_put(obj);
			free(line);
			fprintf(stderr, "jsonc-parse: write error: %s\n", strerror(errno));
			exit(1);
		}
		json_object_put(obj);
	}
	if (ferror(in)) {
		fprintf(stderr, "jsonc-parse: %s: %s\n", name, strerror(errno));
		status = 1;
	}
	free(line);
	return status;
}

int
main(int argc, char **argv)
{
	json_tokener *tok;
	int status = 0, i;

	if ((tok = json_tokener_new()) == NULL) {
		fprintf(stderr, "jsonc-parse: out of memory\n");
		return 1;
	}
	if (argc < 2) {
		status = filter(stdin, "<stdin>", tok);
	} else {
		for (i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "r");

			if (f == NULL) {
				fprintf(stderr, "jsonc-parse: %s: %s\n", argv[i], strerror(errno));
				status = 1;
				continue;
			}
			status |= filter(f, argv[i], tok);
			fclose(f);
		}
	}
	json_tokener_free(tok);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		fprintf(stderr, "jsonc-parse: write error: %s\n", strerror(errno));
		return 1;
	}
	return status;
}
