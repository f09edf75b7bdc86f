/* stripe.c: the stripe connector's identify and normalize on arbitrary JSON (see fuzz_connector). */
#include "fuzz.h"

const char fuzz_name[] = "stripe";
const char *const fuzz_seeds[] = { "fixtures/stripe", "tests/fuzz/seeds/stripe", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_connector("stripe", data, size);
}

#ifdef RO_FUZZ
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	return fuzz_json_mutate("build/fuzz/stripe.dict", data, size, max_size, seed);
}
#endif
