/* Helpers shared by the unit tests: vector files and hex strings. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Loads tests/vectors/<name> (VECTOR_DIR); fails the test run on error.
 * Caller owns the result (json_decref). */
json_t *tu_load_vectors(const char *name);

/* Decodes a hex string into a new buffer (caller frees); *ret_len = bytes.
 * NULL input (JSON null) gives NULL with *ret_len = 0. */
uint8_t *tu_hex(const char *hex, size_t *ret_len);

/* Object member as a hex-decoded buffer (caller frees); aborts when the
 * member is missing or not a string. */
uint8_t *tu_hex_member(json_t *obj, const char *key, size_t *ret_len);

/* Formats bytes as lowercase hex into a static buffer (for messages). */
const char *tu_to_hex(const uint8_t *p, size_t len);

#endif
