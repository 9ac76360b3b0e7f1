/* Strict CBOR reading and writing for EDHOC/OSCORE/COSE structures.
 *
 * The reader is a zero-copy cursor over untrusted bytes, built on libcbor's
 * streaming decoder (cbor_stream_decode) one header at a time: every declared
 * length is checked against the bytes actually present, and only
 * deterministic encodings are accepted (shortest-form heads, no
 * indefinite lengths).  A failed read leaves the cursor where it was.
 *
 * The writer encodes into a caller buffer with libcbor's cbor_encode_*
 * functions; an overflow is sticky and reported once by cose_writer_result. */
#ifndef EDHOC_CBOR_H
#define EDHOC_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/result.h"

enum {
	COSE_CBOR_UINT = 0,
	COSE_CBOR_NEGINT = 1,
	COSE_CBOR_BSTR = 2,
	COSE_CBOR_TSTR = 3,
	COSE_CBOR_ARRAY = 4,
	COSE_CBOR_MAP = 5,
	COSE_CBOR_TAG = 6,
	COSE_CBOR_SIMPLE = 7, /* false, true, null, undefined, floats */
};

typedef struct cose_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
} cose_reader;

void cose_reader_init(cose_reader *r, const uint8_t *buf, size_t len);

/* True when every byte has been consumed. */
bool cose_reader_done(const cose_reader *r);

/* Bytes not yet consumed. */
size_t cose_reader_remaining(const cose_reader *r);

/* Major type (COSE_CBOR_*) of the next item without consuming it;
 * EDHOC_E_CBOR_TRUNCATED at the end of input. */
int cose_peek_type(const cose_reader *r, int *ret_major);

/* Unsigned integer (major 0). */
int cose_read_uint(cose_reader *r, uint64_t *ret);

/* Integer of major type 0 or 1 that fits in int64_t
 * (EDHOC_E_VALUE_RANGE otherwise). */
int cose_read_int(cose_reader *r, int64_t *ret);

/* Byte string: *ret_ptr points into the input buffer. */
int cose_read_bstr(cose_reader *r, const uint8_t **ret_ptr, size_t *ret_len);

/* Text string (not checked for UTF-8): *ret_ptr points into the input. */
int cose_read_tstr(cose_reader *r, const char **ret_ptr, size_t *ret_len);

/* Array / map head with a definite count (pairs for maps). */
int cose_read_array(cose_reader *r, size_t *ret_count);
int cose_read_map(cose_reader *r, size_t *ret_pairs);

/* Tag number. */
int cose_read_tag(cose_reader *r, uint64_t *ret_tag);

/* true/false (EDHOC_E_CBOR_TYPE for anything else). */
int cose_read_bool(cose_reader *r, bool *ret);

/* null. */
int cose_read_null(cose_reader *r);

/* Consumes one complete data item of any type (nested up to max_depth) and
 * returns its encoded bytes, which point into the input. */
int cose_read_item(cose_reader *r, unsigned max_depth, const uint8_t **ret_ptr, size_t *ret_len);

/* Length of the first complete data item of buf (deterministic encoding
 * required), e.g. to split message_3 from the OSCORE part of a combined
 * request. */
int cose_item_len(const uint8_t *buf, size_t len, unsigned max_depth, size_t *ret_len);

/* Writes CBOR diagnostic notation of a CBOR sequence into out (always
 * NUL-terminated, truncated with "..." when it does not fit).  Returns 0, or
 * a negative code when the input is not well-formed (what was decoded so far
 * is still written). */
int cose_diag(const uint8_t *buf, size_t len, char *out, size_t out_size);

typedef struct cose_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
} cose_writer;

void cose_writer_init(cose_writer *w, uint8_t *buf, size_t cap);

void cose_write_uint(cose_writer *w, uint64_t v);
void cose_write_int(cose_writer *w, int64_t v);
void cose_write_bstr(cose_writer *w, const uint8_t *p, size_t len);
/* Only the head of a byte string; the caller writes len bytes after it. */
void cose_write_bstr_head(cose_writer *w, size_t len);
void cose_write_tstr(cose_writer *w, const char *p, size_t len);
void cose_write_array(cose_writer *w, size_t count);
void cose_write_map(cose_writer *w, size_t pairs);
void cose_write_tag(cose_writer *w, uint64_t tag);
void cose_write_bool(cose_writer *w, bool v);
void cose_write_null(cose_writer *w);
/* Already-encoded CBOR (or plain bytes) copied as is. */
void cose_write_raw(cose_writer *w, const uint8_t *p, size_t len);

/* 0, or EDHOC_E_BUFFER_TOO_SMALL if any write did not fit. */
int cose_writer_result(const cose_writer *w);

/* Encoded length of a head for a value (1, 2, 3, 5 or 9). */
size_t cose_head_len(uint64_t v);

#endif
