/* Connection identifiers and compact byte strings (RFC 9528 §3.3.2, §3.5.3.2). */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/edhoc.h"
#include "internal.h"

/* A one-byte string whose value is the encoding of a one-byte CBOR integer
 * (0..23 or -24..-1) travels as that integer. */
static bool is_one_byte_int(uint8_t b)
{
	return b <= 0x17 || (b >= 0x20 && b <= 0x37);
}

void edhoc_write_compact_bytes(cose_writer *w, const uint8_t *p, size_t len)
{
	if (len == 1 && is_one_byte_int(p[0]))
		cose_write_raw(w, p, 1);
	else
		cose_write_bstr(w, p, len);
}

int edhoc_cid_encode(const edhoc_cid *cid, uint8_t *out, size_t cap, size_t *ret_len)
{
	cose_writer w;
	int rc;

	if (!cid || !out || !ret_len || cid->len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	cose_writer_init(&w, out, cap);
	edhoc_write_compact_bytes(&w, cid->bytes, cid->len);
	rc = cose_writer_result(&w);
	if (rc < 0)
		return rc;
	*ret_len = w.len;
	return 0;
}

/* Reads a compact byte string (int -24..23 or bstr) at r into bytes. */
int edhoc_read_compact_bytes(cose_reader *r, uint8_t *bytes, size_t cap, size_t *ret_len,
                             int malformed)
{
	int major, rc;
	size_t start = r->off;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_UINT || major == COSE_CBOR_NEGINT) {
		int64_t v;

		rc = cose_read_int(r, &v);
		if (rc < 0)
			return rc == EDHOC_E_VALUE_RANGE ? malformed : rc;
		/* Only the one-byte integers stand for a byte string. */
		if (r->off - start != 1 || v < -24 || v > 23) {
			r->off = start;
			return malformed;
		}
		if (cap < 1) {
			r->off = start;
			return malformed;
		}
		bytes[0] = r->buf[start];
		*ret_len = 1;
		return 0;
	}
	if (major == COSE_CBOR_BSTR) {
		const uint8_t *p;
		size_t len;

		rc = cose_read_bstr(r, &p, &len);
		if (rc < 0)
			return rc;
		if ((len == 1 && is_one_byte_int(p[0])) || len > cap) {
			r->off = start;
			return malformed;
		}
		memcpy(bytes, p, len);
		*ret_len = len;
		return 0;
	}
	return malformed;
}

int edhoc_cid_decode(const uint8_t *buf, size_t len, edhoc_cid *ret, size_t *ret_used)
{
	cose_reader r;
	edhoc_cid cid;
	int rc;

	if (!buf || !ret || !ret_used)
		return EDHOC_E_INVALID_ARGUMENT;
	cose_reader_init(&r, buf, len);
	rc = edhoc_read_compact_bytes(&r, cid.bytes, sizeof(cid.bytes), &cid.len,
	                              EDHOC_E_CONN_ID_MALFORMED);
	if (rc < 0)
		return rc;
	*ret = cid;
	*ret_used = r.off;
	return 0;
}
