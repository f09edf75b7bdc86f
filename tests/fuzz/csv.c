/*
 * csv.c: to-csv's CSV writer over arbitrary NDJSON. Its code is static, so
 * the program's source is included here with main renamed; each input runs
 * through the shared record loop into process_record() as a file, with
 * options picked by the input's length. The output must be RFC 4180 CSV that
 * a strict reader splits into exactly one row per written record (plus the
 * header), each of the column count, with no text cell a spreadsheet would
 * run as a formula unless --no-sanitize.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int to_csv_main(int argc, char **argv);
#define main to_csv_main
#include "../../src/to-csv.c"
#undef main

static size_t rows_written;

/* A record makes a row unless it is rejected. */
static void counting_record(const struct record_input *in, void *ctx)
{
	long before = rejects_count();
	process_record(in, ctx);
	if (rejects_count() == before)
		rows_written++;
}

static void fail(const char *why, const char *csv, size_t len, size_t at)
{
	fuzz_loud();
	fprintf(stderr, "fuzz: bad CSV (%s) at byte %zu: %.*s\n", why, at, (int)(len > 2000 ? 2000 : len), csv);
	abort();
}

/* Split csv[0..len) as RFC 4180 with delimiter d and row end eol; check each row. */
static void check_csv(const char *csv, size_t len, size_t want_rows)
{
	size_t i = 0, rows = 0;

	if (opt_bom && len > 0) {
		if (len < 3 || memcmp(csv, "\xef\xbb\xbf", 3) != 0)
			fail("no BOM", csv, len, 0);
		i = 3;
	}
	while (i < len) {
		size_t fields = 0;
		for (;;) {
			int first_char = -1;
			if (i < len && csv[i] == '"') {
				i++;
				for (;;) {
					if (i >= len)
						fail("unterminated quote", csv, len, i);
					if (csv[i] == '"') {
						if (i + 1 < len && csv[i + 1] == '"') {
							if (first_char < 0)
								first_char = '"';
							i += 2;
							continue;
						}
						i++;
						break;
					}
					if (first_char < 0)
						first_char = (unsigned char)csv[i];
					i++;
				}
			} else {
				size_t start = i;
				while (i < len && csv[i] != delim && csv[i] != '\r' && csv[i] != '\n') {
					if (csv[i] == '"')
						fail("quote inside an unquoted field", csv, len, i);
					i++;
				}
				if (i > start)
					first_char = (unsigned char)csv[start];
			}
			fields++;
			if (opt_sanitize && (first_char == '=' || first_char == '+' || first_char == '@' ||
					     first_char == '\t' || first_char == '\r' || first_char == '\n'))
				fail("a cell a spreadsheet would run", csv, len, i);
			if (i < len && csv[i] == delim) {
				i++;
				continue;
			}
			if (len - i >= eol_len && memcmp(csv + i, eol, eol_len) == 0) {
				i += eol_len;
				break;
			}
			fail(i >= len ? "last row without its line end" : "junk after a field", csv, len, i);
		}
		if (fields != ncols)
			fail("row with the wrong number of fields", csv, len, i);
		rows++;
	}
	if (rows != want_rows)
		fail("row count", csv, len, i);
}

static void reset(void)
{
	free_columns();
	warned_full = 0;
	bom_done = 0;
	out.len = 0;
	delim = ',';
	eol = "\r\n";
	eol_len = 2;
	opt_header = 1;
	opt_bom = opt_money = opt_strict = 0;
	opt_sanitize = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	const char *columns = NULL;
	char *csv = NULL;
	size_t csvlen = 0;

	fuzz_quiet();
	if (!inited) {
		rejects_open("/dev/null");
		inited = 1;
	}
	reset();
	switch (size % 6) {
	case 1:
		opt_money = 1;
		columns = "external_event_id:id,customer.email,payment.amount_minor,payment.currency,"
			  "subscription,a\\,b:x\\:y";
		break;
	case 2: eol = "\n"; eol_len = 1; delim = ';'; opt_strict = 1; break;
	case 3: delim = '\t'; opt_sanitize = 0; opt_bom = 1; break;
	case 4: columns = "a,b.c,items.0.price,amount_minor"; opt_header = 0; opt_money = 1; break;
	case 5: opt_money = 1; break;
	}
	snprintf(specials, sizeof specials, "\"\r\n%c", delim);
	if (columns) {
		parse_columns(columns);
		for (size_t i = 0; i < nspecs; i++) {
			check_path(specs[i].path);
			add_column(specs[i].path, specs[i].header, 0);
		}
		free(specs);
		specs = NULL;
		nspecs = 0;
	}

	FILE *real_stdout = stdout;
	stdout = open_memstream(&csv, &csvlen);
	if (!stdout)
		abort();
	rows_written = 0;
	if (ncols)
		write_header();
	char *path = (char *)fuzz_file(data, size);
	for_each_record(&path, 1, 4096, counting_record, NULL);
	flush_out();
	if (fclose(stdout) != 0)
		abort();
	stdout = real_stdout;
	check_csv(csv, csvlen, rows_written + (size_t)(opt_header && ncols > 0));
	free(csv);
	fuzz_loud();
	return 0;
}

const char fuzz_name[] = "csv";
const char *const fuzz_seeds[] = { "tests/fuzz/seeds/csv", NULL };
