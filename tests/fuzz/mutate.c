/*
 * mutate.c: a structure-aware mutator for the connector targets (libFuzzer's
 * LLVMFuzzerCustomMutator). Byte mutations of JSON text mostly make invalid
 * JSON, which a connector never sees; this one parses the input and changes
 * one node: a value of another type or out of range, a key removed or added
 * (names from the target's dictionary), a subtree copied elsewhere, a string's
 * bytes mutated. Built only by `make fuzz` (RO_FUZZ).
 */
#ifdef RO_FUZZ
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

struct node {
	json_object *parent, *self;
	const char *key; /* in an object */
	size_t idx;      /* in an array */
};

static struct node *nodes;
static size_t nnodes, capnodes;
static char **words;
static size_t nwords;

static void collect(json_object *parent, const char *key, size_t idx, json_object *o, int depth)
{
	if (parent) {
		if (nnodes == capnodes) {
			nodes = realloc(nodes, (capnodes = capnodes ? capnodes * 2 : 256) * sizeof *nodes);
			if (!nodes)
				abort();
		}
		nodes[nnodes++] = (struct node){ parent, o, key, idx };
	}
	if (depth > 60)
		return;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
			collect(o, k, 0, v, depth + 1);
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect(o, NULL, i, json_object_array_get_idx(o, i), depth + 1);
	}
}

/* The dictionary's entries, unquoted: "\"customer\":" gives customer. */
static void load_words(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *s = strchr(line, '"'), *e = strrchr(line, '"');
		if (!s || e <= s + 1 || line[0] == '#')
			continue;
		*e = '\0';
		s++;
		char w[512];
		size_t n = 0;
		for (; *s && n < sizeof w - 1; s++) {
			if (*s == '\\' && s[1])
				s++;
			if (*s == '"' || *s == ':')
				continue;
			w[n++] = *s;
		}
		w[n] = '\0';
		if (!n)
			continue;
		words = realloc(words, (nwords + 1) * sizeof *words);
		if (!words || !(words[nwords] = strdup(w)))
			abort();
		nwords++;
	}
	fclose(f);
}

static json_object *random_value(unsigned *seed)
{
	static const int64_t ints[] = { 0, 1, -1, 100, 1999, INT64_MAX, INT64_MIN, INT64_MAX - 1,
		1795543200, 1795543200000, 253402300800, -62135596800, 4294967296 };
	static const char *const strs[] = { "", " ", "x", "usd", "BRL", "jpy", "XXX", "2026-11-25T08:49:44Z",
		"2026-02-30", "0", "-1", "19.90", "1e3", "=1+1", "@x", "\xc3\xa9", "null", "true",
		"9999999999999999999999", "1.005", "-0.00" };
	switch (rand_r(seed) % 9) {
	case 0: return NULL;
	case 1: return json_object_new_int64(ints[rand_r(seed) % (sizeof ints / sizeof *ints)]);
	case 2: return json_object_new_double(rand_r(seed) % 2 ? 1.5 : -0.25);
	case 3: return json_object_new_boolean(rand_r(seed) % 2);
	case 4: return json_object_new_object();
	case 5: return json_object_new_array();
	case 6:
	case 7:
		if (nwords)
			return json_object_new_string(words[rand_r(seed) % nwords]);
		/* fall through */
	default: return json_object_new_string(strs[rand_r(seed) % (sizeof strs / sizeof *strs)]);
	}
}

static void put_at(const struct node *n, json_object *v)
{
	if (n->key)
		json_object_object_add(n->parent, n->key, v);
	else
		json_object_array_put_idx(n->parent, n->idx, v);
}

size_t fuzz_json_mutate(const char *dict, uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	static int loaded;
	if (!loaded) {
		load_words(dict);
		loaded = 1;
	}
	if (rand_r(&seed) % 8 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	json_tokener *tok = json_tokener_new();
	json_object *root = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (!root)
		return LLVMFuzzerMutate(data, size, max_size);
	nnodes = 0;
	collect(NULL, NULL, 0, root, 0);
	int rounds = 1 + (int)(rand_r(&seed) % 3);
	for (int r = 0; r < rounds && nnodes; r++) {
		struct node n = nodes[rand_r(&seed) % nnodes];
		json_object *v, *copy = NULL;
		switch (rand_r(&seed) % 6) {
		case 0: /* delete */
			if (n.key)
				json_object_object_del(n.parent, n.key);
			else
				json_object_array_del_idx(n.parent, n.idx, 1);
			break;
		case 1: /* add a key from the dictionary beside it, or an element */
			v = random_value(&seed);
			if (n.key && nwords)
				json_object_object_add(n.parent, words[rand_r(&seed) % nwords], v);
			else if (!n.key)
				json_object_array_add(n.parent, v);
			else
				json_object_put(v);
			break;
		case 2: /* a copy of another subtree */
			if (json_object_deep_copy(nodes[rand_r(&seed) % nnodes].self, &copy, NULL) == 0)
				put_at(&n, copy);
			break;
		case 3: /* mutate a string's bytes, or a number's text */
			if (json_object_is_type(n.self, json_type_string) || json_object_is_type(n.self, json_type_int)) {
				char buf[256];
				size_t len = (size_t)snprintf(buf, sizeof buf, "%s", json_object_get_string(n.self));
				if (len >= sizeof buf)
					len = sizeof buf - 1;
				len = LLVMFuzzerMutate((uint8_t *)buf, len, sizeof buf - 1);
				put_at(&n, json_object_new_string_len(buf, (int)len));
				break;
			}
			/* fall through */
		default:
			put_at(&n, random_value(&seed));
			break;
		}
		/* The tree changed under the list: collect again. */
		nnodes = 0;
		collect(NULL, NULL, 0, root, 0);
	}
	size_t len;
	const char *text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (len > max_size) {
		json_object_put(root);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memcpy(data, text, len);
	json_object_put(root);
	return len;
}
#endif
