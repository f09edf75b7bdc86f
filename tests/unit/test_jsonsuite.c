/*
 * JSONTestSuite (../shared/data/JSONTestSuite/test_parsing): every y_ document
 * is accepted, every n_ document rejected, and the i_ documents behave as
 * docs/json.md says. Skipped (never passed) when the suite is not there.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonutil.h"

#define SUITE "../shared/data/JSONTestSuite/test_parsing"

/* i_ documents we accept; every other i_ one is rejected (docs/json.md). */
static const char *const i_accepted[] = {
	"i_number_double_huge_neg_exp.json", "i_number_huge_exp.json",
	"i_number_neg_int_huge_exp.json", "i_number_pos_double_huge_exp.json",
	"i_number_real_neg_overflow.json", "i_number_real_pos_overflow.json",
	"i_number_real_underflow.json", "i_number_too_big_neg_int.json",
	"i_number_too_big_pos_int.json", "i_number_very_big_negative_int.json",
	"i_object_key_lone_2nd_surrogate.json", "i_string_1st_surrogate_but_2nd_missing.json",
	"i_string_1st_valid_surrogate_2nd_invalid.json", "i_string_incomplete_surrogate_and_escape_valid.json",
	"i_string_incomplete_surrogate_pair.json", "i_string_incomplete_surrogates_escape_valid.json",
	"i_string_invalid_lonely_surrogate.json", "i_string_invalid_surrogate.json",
	"i_string_inverted_surrogates_U+1D11E.json", "i_string_lone_second_surrogate.json",
	NULL,
};

/* i_ documents rejected with a code other than invalid_json: the one docs/json.md names. */
static const struct {
	const char *name;
	enum reject_code code;
} i_codes[] = {
	{ "i_string_utf16LE_no_BOM.json", REJ_NUL_BYTE },
	{ "i_string_utf16BE_no_BOM.json", REJ_NUL_BYTE },
	{ "i_string_UTF-16LE_with_BOM.json", REJ_NUL_BYTE },
	{ "i_string_iso_latin_1.json", REJ_INVALID_UTF8 },
	{ "i_string_overlong_sequence_2_bytes.json", REJ_INVALID_UTF8 },
	{ "i_string_UTF8_surrogate_U+D800.json", REJ_INVALID_UTF8 },
	{ "i_string_not_in_unicode_range.json", REJ_INVALID_UTF8 },
};

static int verdict(struct jparser *p, const char *name, int *accepted, enum reject_code *codep)
{
	char path[512], msg[256];
	enum reject_code code = REJ_INVALID_JSON;
	snprintf(path, sizeof path, "%s/%s", SUITE, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	json_object *o = jparse(p, buf, n, &code, msg, sizeof msg);
	/* The text `null` is valid JSON; jparse says so with REJ_NOT_OBJECT. */
	*accepted = o != NULL || code == REJ_NOT_OBJECT;
	*codep = code;
	json_object_put(o);
	return 0;
}

static void test_suite(void **state)
{
	DIR *d = opendir(SUITE);
	if (!d)
		skip();
	struct jparser *p = jparser_new();
	struct dirent *de;
	int checked = 0, wrong = 0, coded = 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		int accepted, want;
		enum reject_code code;
		if (n[0] != 'y' && n[0] != 'n' && n[0] != 'i')
			continue;
		if (n[1] != '_' || verdict(p, n, &accepted, &code) < 0)
			continue;
		for (size_t i = 0; i < sizeof i_codes / sizeof *i_codes; i++) {
			if (strcmp(i_codes[i].name, n) != 0)
				continue;
			coded++;
			if (accepted || code != i_codes[i].code) {
				wrong++;
				print_error("%s: %s, expected %s\n", n, accepted ? "accepted" : reject_code_name(code),
					    reject_code_name(i_codes[i].code));
			}
		}
		if (n[0] == 'i') {
			want = 0;
			for (const char *const *a = i_accepted; *a; a++)
				want |= strcmp(*a, n) == 0;
		} else {
			want = n[0] == 'y';
		}
		checked++;
		if (accepted != want) {
			wrong++;
			print_error("%s: %s, expected %s\n", n, accepted ? "accepted" : "rejected",
				    want ? "accepted" : "rejected");
		}
	}
	closedir(d);
	jparser_free(p);
	assert_true(checked > 300);
	assert_int_equal(coded, sizeof i_codes / sizeof *i_codes);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_suite) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
