/* hotmart.c: the hotmart connector's identify and normalize on arbitrary JSON (see fuzz_connector). */
#include "fuzz.h"

const char fuzz_name[] = "hotmart";
const char *const fuzz_seeds[] = { "fixtures/hotmart", "tests/fuzz/seeds/hotmart", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_connector("hotmart", data, size);
}

#ifdef RO_FUZZ
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	return fuzz_json_mutate("build/fuzz/hotmart.dict", data, size, max_size, seed);
}
#endif
