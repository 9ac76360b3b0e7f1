#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *tu_load_vectors(const char *name)
{
	char path[1024];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/%s", VECTOR_DIR, name);
	json_t *j = json_load_file(path, 0, &err);
	if (!j) {
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path, err.text, err.line);
		abort();
	}
	return j;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *tu_hex(const char *hex, size_t *ret_len)
{
	*ret_len = 0;
	if (!hex)
		return NULL;
	size_t n = strlen(hex);
	if (n % 2) {
		fprintf(stderr, "odd-length hex string\n");
		abort();
	}
	uint8_t *out = malloc(n / 2 + 1);
	if (!out)
		abort();
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "bad hex digit in '%s'\n", hex);
			abort();
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = n / 2;
	return out;
}

uint8_t *tu_hex_member(json_t *obj, const char *key, size_t *ret_len)
{
	json_t *v = json_object_get(obj, key);
	if (!v || !json_is_string(v)) {
		fprintf(stderr, "vector member '%s' missing or not a string\n", key);
		abort();
	}
	return tu_hex(json_string_value(v), ret_len);
}

const char *tu_to_hex(const uint8_t *p, size_t len)
{
	static char buf[8192];
	size_t i;
	for (i = 0; i < len && 2 * i + 2 < sizeof(buf); i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * i] = '\0';
	return buf;
}
