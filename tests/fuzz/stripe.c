/* stripe.c: the stripe connector's identify and normalize on arbitrary JSON (see fuzz_connector). */
#include "fuzz.h"

const char fuzz_name[] = "stripe";
const char *const fuzz_seeds[] = { "fixtures/stripe", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_connector("stripe", data, size);
}
