/* libFuzzer target for the strict CBOR reader (src/cose/cbor.c).
 *
 * Feeds arbitrary bytes to every reader entry point and checks the
 * invariants the rest of the core relies on:
 *   - nothing reads outside the input (ASan),
 *   - a successful read never moves the cursor past the end, and a failed
 *     one does not move it at all,
 *   - cose_item_len and cose_read_item agree,
 *   - an accepted item re-encodes to the same bytes (deterministic input
 *     round-trips through the writer),
 *   - cose_diag always NUL-terminates within its buffer.
 * Build: see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/cbor.h"

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* Re-encodes one item read from r into w; 0 on success.  Depth is bounded by
 * the caller's item check, so the recursion is bounded too. */
static int reencode(cose_reader *r, cose_writer *w, unsigned depth)
{
	int major;
	if (depth > 16 || cose_peek_type(r, &major))
		return -1;
	size_t before = r->off, n;
	uint64_t u;
	int64_t i;
	const uint8_t *p;
	const char *t;
	bool b;
	switch (major) {
	case COSE_CBOR_UINT:
		if (cose_read_uint(r, &u))
			return -1;
		cose_write_uint(w, u);
		return 0;
	case COSE_CBOR_NEGINT:
		if (cose_read_int(r, &i)) {
			/* below INT64_MIN: not representable, copy verbatim */
			const uint8_t *raw;
			if (cose_read_item(r, 0, &raw, &n))
				return -1;
			cose_write_raw(w, raw, n);
			return 0;
		}
		cose_write_int(w, i);
		return 0;
	case COSE_CBOR_BSTR:
		if (cose_read_bstr(r, &p, &n))
			return -1;
		CHECK(p >= r->buf && p + n <= r->buf + r->len);
		cose_write_bstr(w, p, n);
		return 0;
	case COSE_CBOR_TSTR:
		if (cose_read_tstr(r, &t, &n))
			return -1;
		cose_write_tstr(w, t, n);
		return 0;
	case COSE_CBOR_ARRAY:
	case COSE_CBOR_MAP: {
		size_t count;
		if ((major == COSE_CBOR_ARRAY ? cose_read_array(r, &count)
		                              : cose_read_map(r, &count)))
			return -1;
		CHECK(count <= r->len - r->off);
		if (major == COSE_CBOR_ARRAY)
			cose_write_array(w, count);
		else
			cose_write_map(w, count);
		size_t items = major == COSE_CBOR_MAP ? 2 * count : count;
		for (size_t k = 0; k < items; k++)
			if (reencode(r, w, depth + 1))
				return -1;
		return 0;
	}
	case COSE_CBOR_TAG:
		if (cose_read_tag(r, &u))
			return -1;
		cose_write_tag(w, u);
		return reencode(r, w, depth + 1);
	default:
		if (cose_read_bool(r, &b) == 0) {
			cose_write_bool(w, b);
			return 0;
		}
		if (cose_read_null(r) == 0) {
			cose_write_null(w);
			return 0;
		}
		/* other simple values and floats: copied as they are */
		CHECK(r->off == before);
		const uint8_t *raw;
		if (cose_read_item(r, 0, &raw, &n))
			return -1;
		cose_write_raw(w, raw, n);
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the item-level API */
	size_t item_len = 0;
	int r1 = cose_item_len(data, size, 16, &item_len);
	cose_reader rd;
	cose_reader_init(&rd, data, size);
	const uint8_t *ip = NULL;
	size_t il = 0;
	int r2 = cose_read_item(&rd, 16, &ip, &il);
	CHECK(r1 == r2);
	if (r1 == 0) {
		CHECK(item_len >= 1 && item_len <= size);
		CHECK(ip == data && il == item_len && rd.off == item_len);
	} else {
		CHECK(rd.off == 0);
	}

	/* deterministic items re-encode byte for byte */
	if (r1 == 0) {
		uint8_t *out = malloc(item_len);
		CHECK(out != NULL);
		cose_writer w;
		cose_writer_init(&w, out, item_len);
		cose_reader r;
		cose_reader_init(&r, data, item_len);
		CHECK(reencode(&r, &w, 0) == 0);
		CHECK(cose_reader_done(&r));
		CHECK(cose_writer_result(&w) == 0);
		CHECK(w.len == item_len && memcmp(out, data, item_len) == 0);
		free(out);
	}

	/* walk the whole input as a sequence with the typed readers */
	cose_reader_init(&rd, data, size);
	for (size_t steps = 0; steps < 4096 && !cose_reader_done(&rd); steps++) {
		size_t before = rd.off;
		int major;
		CHECK(cose_peek_type(&rd, &major) == 0);
		uint64_t u;
		int64_t i;
		const uint8_t *p;
		const char *t;
		size_t n;
		bool b;
		int e;
		switch (major) {
		case COSE_CBOR_UINT:
			e = cose_read_uint(&rd, &u);
			break;
		case COSE_CBOR_NEGINT:
			e = cose_read_int(&rd, &i);
			break;
		case COSE_CBOR_BSTR:
			e = cose_read_bstr(&rd, &p, &n);
			if (!e)
				CHECK(p >= data && n <= size && p + n <= data + size);
			break;
		case COSE_CBOR_TSTR:
			e = cose_read_tstr(&rd, &t, &n);
			if (!e)
				CHECK((const uint8_t *)t + n <= data + size);
			break;
		case COSE_CBOR_ARRAY:
			e = cose_read_array(&rd, &n);
			break;
		case COSE_CBOR_MAP:
			e = cose_read_map(&rd, &n);
			break;
		case COSE_CBOR_TAG:
			e = cose_read_tag(&rd, &u);
			break;
		default:
			e = cose_read_bool(&rd, &b);
			if (e)
				e = cose_read_null(&rd);
			if (e)
				e = cose_read_item(&rd, 0, &p, &n);
			break;
		}
		CHECK(rd.off <= size);
		if (e) {
			CHECK(rd.off == before);
			break;
		}
		CHECK(rd.off > before);
	}

	/* diagnostic notation, into a small and a large buffer */
	char small[16], big[4096];
	memset(small, 'x', sizeof(small));
	cose_diag(data, size, small, sizeof(small));
	CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	cose_diag(data, size, big, sizeof(big));
	CHECK(memchr(big, '\0', sizeof(big)) != NULL);
	return 0;
}
