/* Strict CBOR reader/writer: round trips, every non-deterministic or
 * malformed form, truncation at every length (run under ASan to prove no
 * read past the end), hostile lengths, depth limits, diagnostic notation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/cbor.h"
#include "testutil.h"

static size_t hex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n;
	uint8_t *p = tu_hex(s, &n);
	assert_true(n <= cap);
	if (n)
		memcpy(buf, p, n);
	free(p);
	return n;
}

/* A heap copy of exactly n bytes, so ASan flags any read beyond it. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static int item_len_hex(const char *s, unsigned depth, size_t *ret)
{
	uint8_t buf[256];
	size_t n = hex(s, buf, sizeof(buf));
	uint8_t *c = exact_copy(buf, n);
	int r = cose_item_len(c, n, depth, ret);
	free(c);
	return r;
}

static void diag_is(const char *in_hex, const char *want)
{
	uint8_t buf[512];
	char out[512];
	size_t n = hex(in_hex, buf, sizeof(buf));
	int r = cose_diag(buf, n, out, sizeof(out));
	if (r != 0)
		fail_msg("%s: %d", in_hex, r);
	assert_string_equal(out, want);
}

/* ---- writer and reader round trips ---- */

static void test_uint_round_trip_and_shortest_encoding(void **state)
{
	static const struct {
		uint64_t v;
		const char *enc;
	} cases[] = {
	    {0, "00"},
	    {23, "17"},
	    {24, "1818"},
	    {255, "18ff"},
	    {256, "190100"},
	    {65535, "19ffff"},
	    {65536, "1a00010000"},
	    {0xffffffffULL, "1affffffff"},
	    {0x100000000ULL, "1b0000000100000000"},
	    {UINT64_MAX, "1bffffffffffffffff"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16], want[16];
		size_t wl = hex(cases[i].enc, want, sizeof(want));
		cose_writer w;
		cose_writer_init(&w, buf, sizeof(buf));
		cose_write_uint(&w, cases[i].v);
		assert_int_equal(cose_writer_result(&w), 0);
		assert_int_equal(w.len, wl);
		assert_memory_equal(buf, want, wl);
		assert_int_equal(cose_head_len(cases[i].v), wl);
		cose_reader r;
		cose_reader_init(&r, buf, w.len);
		uint64_t v = 1;
		assert_int_equal(cose_read_uint(&r, &v), 0);
		assert_true(v == cases[i].v);
		assert_true(cose_reader_done(&r));
	}
}

static void test_int_round_trip_negative_values(void **state)
{
	static const struct {
		int64_t v;
		const char *enc;
	} cases[] = {
	    {-1, "20"},
	    {-24, "37"},
	    {-25, "3818"},
	    {-256, "38ff"},
	    {-257, "390100"},
	    {10, "0a"},
	    {INT64_MIN, "3b7fffffffffffffff"},
	    {INT64_MAX, "1b7fffffffffffffff"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16], want[16];
		size_t wl = hex(cases[i].enc, want, sizeof(want));
		cose_writer w;
		cose_writer_init(&w, buf, sizeof(buf));
		cose_write_int(&w, cases[i].v);
		assert_int_equal(w.len, wl);
		assert_memory_equal(buf, want, wl);
		cose_reader r;
		cose_reader_init(&r, buf, w.len);
		int64_t v = 0;
		assert_int_equal(cose_read_int(&r, &v), 0);
		assert_true(v == cases[i].v);
	}
	/* beyond int64_t */
	uint8_t big[9];
	cose_reader r;
	int64_t v = 7;
	hex("3b8000000000000000", big, 9);
	cose_reader_init(&r, big, 9);
	assert_int_equal(cose_read_int(&r, &v), EDHOC_E_VALUE_RANGE);
	assert_int_equal(r.off, 0);
	assert_true(v == 7);
	hex("1bffffffffffffffff", big, 9);
	cose_reader_init(&r, big, 9);
	assert_int_equal(cose_read_int(&r, &v), EDHOC_E_VALUE_RANGE);
	/* a negative integer is not a uint */
	hex("20", big, 1);
	cose_reader_init(&r, big, 1);
	uint64_t u;
	assert_int_equal(cose_read_uint(&r, &u), EDHOC_E_CBOR_TYPE);
}

static void test_strings_round_trip(void **state)
{
	uint8_t data[300], buf[700];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	const size_t lens[] = {0, 1, 23, 24, 255, 256, 300};
	for (size_t i = 0; i < 7; i++) {
		cose_writer w;
		cose_writer_init(&w, buf, sizeof(buf));
		cose_write_bstr(&w, data, lens[i]);
		cose_write_tstr(&w, (const char *)data, lens[i]);
		assert_int_equal(cose_writer_result(&w), 0);
		assert_int_equal(w.len, 2 * (cose_head_len(lens[i]) + lens[i]));
		assert_int_equal(buf[0] >> 5, COSE_CBOR_BSTR);
		uint8_t *c = exact_copy(buf, w.len);
		cose_reader r;
		cose_reader_init(&r, c, w.len);
		const uint8_t *p;
		const char *t;
		size_t n;
		int major;
		assert_int_equal(cose_peek_type(&r, &major), 0);
		assert_int_equal(major, COSE_CBOR_BSTR);
		assert_int_equal(cose_read_bstr(&r, &p, &n), 0);
		assert_int_equal(n, lens[i]);
		/* zero-copy: the pointer is into the input */
		assert_ptr_equal(p, c + cose_head_len(lens[i]));
		if (n)
			assert_memory_equal(p, data, n);
		/* a text string is not a byte string */
		assert_int_equal(cose_read_bstr(&r, &p, &n), EDHOC_E_CBOR_TYPE);
		assert_int_equal(cose_read_tstr(&r, &t, &n), 0);
		assert_int_equal(n, lens[i]);
		if (n)
			assert_memory_equal(t, data, n);
		assert_true(cose_reader_done(&r));
		assert_int_equal(cose_reader_remaining(&r), 0);
		assert_int_equal(cose_peek_type(&r, &major), EDHOC_E_CBOR_TRUNCATED);
		free(c);
	}
	/* bstr head alone, content written by the caller */
	cose_writer w;
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_bstr_head(&w, 2);
	cose_write_raw(&w, (const uint8_t *)"\x2b\x2c", 2);
	assert_int_equal(w.len, 3);
	assert_memory_equal(buf, "\x42\x2b\x2c", 3);
}

static void test_containers_tags_simple_round_trip(void **state)
{
	uint8_t buf[64];
	cose_writer w;
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_array(&w, 3);
	cose_write_map(&w, 1);
	cose_write_int(&w, 4);
	cose_write_bstr(&w, (const uint8_t *)"\x2b", 1);
	cose_write_tag(&w, 24);
	cose_write_bool(&w, true);
	cose_write_bool(&w, false);
	cose_write_null(&w);
	cose_write_tag(&w, 1000);
	cose_write_array(&w, 0);
	assert_int_equal(cose_writer_result(&w), 0);
	uint8_t want[32];
	size_t wl = hex("83a104412bd818f5f4f6d903e880", want, sizeof(want));
	assert_int_equal(w.len, wl);
	assert_memory_equal(buf, want, wl);

	cose_reader r;
	cose_reader_init(&r, buf, w.len);
	size_t n;
	int64_t k;
	const uint8_t *p;
	uint64_t tag;
	bool b;
	assert_int_equal(cose_read_array(&r, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(cose_read_map(&r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cose_read_int(&r, &k), 0);
	assert_int_equal(k, 4);
	assert_int_equal(cose_read_bstr(&r, &p, &n), 0);
	assert_int_equal(cose_read_tag(&r, &tag), 0);
	assert_int_equal(tag, 24);
	assert_int_equal(cose_read_null(&r), EDHOC_E_CBOR_TYPE);
	assert_int_equal(cose_read_bool(&r, &b), 0);
	assert_true(b);
	assert_int_equal(cose_read_bool(&r, &b), 0);
	assert_false(b);
	assert_int_equal(cose_read_bool(&r, &b), EDHOC_E_CBOR_TYPE);
	assert_int_equal(cose_read_null(&r), 0);
	assert_int_equal(cose_read_tag(&r, &tag), 0);
	assert_int_equal(tag, 1000);
	assert_int_equal(cose_read_array(&r, &n), 0);
	assert_int_equal(n, 0);
	assert_true(cose_reader_done(&r));
	assert_int_equal(cose_read_null(&r), EDHOC_E_CBOR_TRUNCATED);
}

static void test_writer_overflow_is_sticky(void **state)
{
	uint8_t buf[4];
	cose_writer w;
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_uint(&w, 1);
	cose_write_bstr(&w, (const uint8_t *)"abcd", 4); /* 5 bytes: does not fit */
	assert_int_equal(cose_writer_result(&w), EDHOC_E_BUFFER_TOO_SMALL);
	assert_int_equal(w.len, 1);
	cose_write_uint(&w, 2); /* would fit, but the writer has failed */
	assert_int_equal(w.len, 1);
	assert_int_equal(cose_writer_result(&w), EDHOC_E_BUFFER_TOO_SMALL);
	/* exactly full is fine */
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_bstr(&w, (const uint8_t *)"abc", 3);
	assert_int_equal(cose_writer_result(&w), 0);
	assert_int_equal(w.len, 4);
	cose_write_null(&w);
	assert_int_equal(cose_writer_result(&w), EDHOC_E_BUFFER_TOO_SMALL);
	/* a NULL buffer overflows at once */
	cose_writer_init(&w, NULL, 100);
	cose_write_uint(&w, 0);
	assert_int_equal(cose_writer_result(&w), EDHOC_E_BUFFER_TOO_SMALL);
	/* every write kind honours the limit */
	for (size_t cap = 0; cap < 9; cap++) {
		uint8_t b2[9];
		cose_writer_init(&w, b2, cap);
		cose_write_uint(&w, UINT64_MAX);
		assert_int_equal(cose_writer_result(&w) == 0, cap >= 9);
		cose_writer_init(&w, b2, cap);
		cose_write_tstr(&w, "hello", 5);
		assert_int_equal(cose_writer_result(&w) == 0, cap >= 6);
		cose_writer_init(&w, b2, cap);
		cose_write_raw(&w, (const uint8_t *)"12345678", 8);
		assert_int_equal(cose_writer_result(&w) == 0, cap >= 8);
		cose_writer_init(&w, b2, cap);
		cose_write_map(&w, 1000);
		cose_write_array(&w, 1);
		cose_write_tag(&w, 1);
		assert_int_equal(cose_writer_result(&w) == 0, cap >= 5);
	}
}

/* ---- rejection of non-deterministic and malformed input ---- */

static void test_non_shortest_heads_rejected(void **state)
{
	static const char *const bad[] = {
	    "1805",               /* 5 in one extra byte */
	    "1817",               /* 23 */
	    "1900ff",             /* 255 in two bytes */
	    "1a0000ffff",         /* 65535 in four */
	    "1b00000000ffffffff", /* 2^32-1 in eight */
	    "3805",               /* negint */
	    "58020102",           /* bstr length 2 in one extra byte */
	    "780161",             /* tstr */
	    "980100",             /* array count */
	    "b8010000",           /* map count */
	    "d80500",             /* tag 5 */
	    "5f4101ff",           /* indefinite bstr */
	    "7f6161ff",           /* indefinite tstr */
	    "9f00ff",             /* indefinite array */
	    "bf0000ff",           /* indefinite map */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 99;
		int r = item_len_hex(bad[i], 8, &n);
		if (r != EDHOC_E_CBOR_NOT_DETERMINISTIC)
			fail_msg("%s: got %d", bad[i], r);
		assert_int_equal(n, 99);
	}
	/* the typed readers refuse them too and do not move */
	uint8_t buf[8];
	size_t len = hex("1805", buf, sizeof(buf));
	cose_reader r;
	cose_reader_init(&r, buf, len);
	uint64_t v;
	assert_int_equal(cose_read_uint(&r, &v), EDHOC_E_CBOR_NOT_DETERMINISTIC);
	assert_int_equal(r.off, 0);
	len = hex("58020102", buf, sizeof(buf));
	cose_reader_init(&r, buf, len);
	const uint8_t *p;
	size_t n;
	assert_int_equal(cose_read_bstr(&r, &p, &n), EDHOC_E_CBOR_NOT_DETERMINISTIC);
}

static void test_malformed_heads_rejected(void **state)
{
	static const char *const bad[] = {
	    "1c",   "1d",     "1e", /* reserved additional information */
	    "3c",   "5c",     "7d", "9e", "bc", "dc", "fc", "fd", "fe", "1f", /* indefinite uint */
	    "3f",             /* indefinite negint */
	    "df",             /* indefinite tag */
	    "ff",             /* break outside an indefinite item */
	    "f805",           /* simple value < 32 in two bytes */
	    "f81f", "8201ff", /* break inside a definite array */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n;
		int r = item_len_hex(bad[i], 8, &n);
		if (r != EDHOC_E_CBOR_MALFORMED)
			fail_msg("%s: got %d", bad[i], r);
	}
	/* well-formed simple values and floats are accepted */
	static const struct {
		const char *hex;
		size_t len;
	} good[] = {{"e0", 1},   {"f3", 1},     {"f7", 1},         {"f820", 2},
	            {"f8ff", 2}, {"f93c00", 3}, {"fa47c35000", 5}, {"fb3ff199999999999a", 9}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = 0;
		assert_int_equal(item_len_hex(good[i].hex, 8, &n), 0);
		assert_int_equal(n, good[i].len);
	}
}

/* Each strict prefix of a valid sequence fails cleanly as truncated; the
 * buffer is exactly the prefix (heap), so ASan sees any over-read. */
static void test_truncation_at_every_length_rejected(void **state)
{
	static const char *const items[] = {
	    /* RFC 9529 trace 2 CRED_R (a CCS map with nested maps) */
	    "a2026b6578616d706c652e65647508a101a501020241322001215820bbc34960526ea4d3"
	    "2e940cad2a234148ddc21791a12afbcbac93622046dd44f02258204519e257236b2a0ce2"
	    "023f0931f1f386ca7afda64fcde0108c224c51eabf6072",
	    "1bffffffffffffffff",
	    "3b7fffffffffffffff",
	    "d9d9f783f5f6fb3ff199999999999a",
	    "5818000102030405060708090a0b0c0d0e0f1011121314151617",
	    "7818414141414141414141414141414141414141414141414141",
	    "d4f4",
	    "c1f93c00",
	    "f820",
	};
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		uint8_t buf[256];
		size_t full = hex(items[i], buf, sizeof(buf)), n;
		uint8_t *c = exact_copy(buf, full);
		assert_int_equal(cose_item_len(c, full, 8, &n), 0);
		assert_int_equal(n, full);
		free(c);
		for (size_t len = 0; len < full; len++) {
			c = exact_copy(buf, len);
			int r = cose_item_len(c, len, 8, &n);
			if (r != EDHOC_E_CBOR_TRUNCATED)
				fail_msg("item %zu prefix %zu: got %d", i, len, r);
			/* the reader and diag handle it the same way */
			cose_reader rd;
			cose_reader_init(&rd, c, len);
			const uint8_t *p;
			size_t pl;
			assert_int_equal(cose_read_item(&rd, 8, &p, &pl), EDHOC_E_CBOR_TRUNCATED);
			assert_int_equal(rd.off, 0);
			char out[1024];
			assert_int_equal(cose_diag(c, len, out, sizeof(out)),
			                 len ? EDHOC_E_CBOR_TRUNCATED : 0);
			free(c);
		}
	}
}

/* Typed reads of truncated strings and arguments. */
static void test_truncated_typed_reads(void **state)
{
	static const char *const bad[] = {
	    "43010203" /* ok */, "430102",          "59", "5901", "590100", "6a616263", "19",
	    "1a000001",          "1b00000001000000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[16];
		size_t len = hex(bad[i], buf, sizeof(buf));
		uint8_t *c = exact_copy(buf, len);
		cose_reader r;
		cose_reader_init(&r, c, len);
		const uint8_t *p;
		const char *t;
		uint64_t v;
		size_t n;
		int major = c[0] >> 5, e;
		if (major == COSE_CBOR_BSTR)
			e = cose_read_bstr(&r, &p, &n);
		else if (major == COSE_CBOR_TSTR)
			e = cose_read_tstr(&r, &t, &n);
		else
			e = cose_read_uint(&r, &v);
		if (i == 0) {
			assert_int_equal(e, 0);
			assert_int_equal(n, 3);
		} else {
			assert_int_equal(e, EDHOC_E_CBOR_TRUNCATED);
			assert_int_equal(r.off, 0);
		}
		free(c);
	}
}

static void test_huge_declared_lengths_rejected(void **state)
{
	static const char *const bad[] = {
	    "5bffffffffffffffff00", /* bstr of 2^64-1 bytes */
	    "7bffffffffffffffff00", /* tstr */
	    "5b7fffffffffffffff00",
	    "4a0102",     /* 10 declared, 2 present */
	    "590100aabb", /* 256 declared, 2 present */
	    "5affffffff0102",
	    "9bffffffffffffffff00",   /* array of 2^64-1 items */
	    "99ffff00",               /* array of 65535 items, 1 present */
	    "bbffffffffffffffff0000", /* map */
	    "a30000",                 /* 3 pairs need 6 bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n;
		int r = item_len_hex(bad[i], 8, &n);
		if (r != EDHOC_E_CBOR_TRUNCATED)
			fail_msg("%s: got %d", bad[i], r);
	}
	/* the typed readers too: no count or length is handed to the caller */
	uint8_t buf[16];
	size_t len = hex("9bffffffffffffffff00", buf, sizeof(buf));
	cose_reader r;
	cose_reader_init(&r, buf, len);
	size_t count = 5;
	assert_int_equal(cose_read_array(&r, &count), EDHOC_E_CBOR_TRUNCATED);
	assert_int_equal(count, 5);
	len = hex("5bffffffffffffffff00", buf, sizeof(buf));
	cose_reader_init(&r, buf, len);
	const uint8_t *p = NULL;
	assert_int_equal(cose_read_bstr(&r, &p, &count), EDHOC_E_CBOR_TRUNCATED);
	assert_null(p);
	len = hex("bbffffffffffffffff00", buf, sizeof(buf));
	cose_reader_init(&r, buf, len);
	assert_int_equal(cose_read_map(&r, &count), EDHOC_E_CBOR_TRUNCATED);
}

static void test_nesting_depth_limit(void **state)
{
	/* 100 nested one-element arrays around 0 */
	uint8_t buf[101];
	memset(buf, 0x81, 100);
	buf[100] = 0x00;
	size_t n;
	assert_int_equal(cose_item_len(buf, sizeof(buf), 10, &n), EDHOC_E_CBOR_TOO_DEEP);
	/* the internal ceiling holds whatever the caller asks for */
	assert_int_equal(cose_item_len(buf, sizeof(buf), 1000, &n), EDHOC_E_CBOR_TOO_DEEP);
	/* exactly at the limit is fine, one more is not */
	assert_int_equal(cose_item_len(buf + 95, 6, 5, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(cose_item_len(buf + 95, 6, 4, &n), EDHOC_E_CBOR_TOO_DEEP);
	/* scalars need no depth at all; tags count as a level */
	assert_int_equal(cose_item_len(buf + 100, 1, 0, &n), 0);
	uint8_t tagged[] = {0xc1, 0x00};
	assert_int_equal(cose_item_len(tagged, 2, 0, &n), EDHOC_E_CBOR_TOO_DEEP);
	assert_int_equal(cose_item_len(tagged, 2, 1, &n), 0);
	/* deep maps and a wide flat array */
	uint8_t maps[41];
	for (int i = 0; i < 20; i++) {
		maps[2 * i] = 0xa1;
		maps[2 * i + 1] = 0x01;
	}
	maps[40] = 0xf6;
	assert_int_equal(cose_item_len(maps, sizeof(maps), 20, &n), 0);
	assert_int_equal(n, sizeof(maps));
	assert_int_equal(cose_item_len(maps, sizeof(maps), 19, &n), EDHOC_E_CBOR_TOO_DEEP);
	uint8_t flat[1 + 3 + 1000];
	flat[0] = 0x99;
	flat[1] = 0x03;
	flat[2] = 0xe8;
	memset(flat + 3, 0x01, 1000);
	assert_int_equal(cose_item_len(flat, 1003, 1, &n), 0);
	assert_int_equal(n, 1003);
	/* diag refuses beyond its ceiling with the same code */
	char out[1024];
	assert_int_equal(cose_diag(buf, sizeof(buf), out, sizeof(out)), EDHOC_E_CBOR_TOO_DEEP);
}

static void test_read_item_and_sequences(void **state)
{
	uint8_t buf[256];
	/* RFC 9529 trace 2 message_1: METHOD, SUITES_I, G_X, C_I */
	size_t len =
	    hex("0382060258208af6f430ebe18d34184017a9a11bf511c8dff8f834730b96c1b7c8dbca2fc3b637",
	        buf, sizeof(buf));
	uint8_t *c = exact_copy(buf, len);
	cose_reader r;
	cose_reader_init(&r, c, len);
	const uint8_t *p;
	size_t n;
	int64_t method, ci;
	assert_int_equal(cose_read_int(&r, &method), 0);
	assert_int_equal(method, 3);
	assert_int_equal(cose_read_item(&r, 4, &p, &n), 0);
	assert_ptr_equal(p, c + 1);
	assert_int_equal(n, 3); /* [6, 2] */
	assert_int_equal(cose_read_bstr(&r, &p, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(cose_read_int(&r, &ci), 0);
	assert_int_equal(ci, -24);
	assert_true(cose_reader_done(&r));
	/* cose_item_len splits the first item off a sequence */
	assert_int_equal(cose_item_len(c + 1, len - 1, 4, &n), 0);
	assert_int_equal(n, 3);
	free(c);
	/* trailing bytes remain for the caller to reject */
	len = hex("0102", buf, sizeof(buf));
	cose_reader_init(&r, buf, len);
	uint64_t v;
	assert_int_equal(cose_read_uint(&r, &v), 0);
	assert_false(cose_reader_done(&r));
	assert_int_equal(cose_reader_remaining(&r), 1);
	/* empty input */
	assert_int_equal(cose_item_len(buf, 0, 4, &n), EDHOC_E_CBOR_TRUNCATED);
	cose_reader_init(&r, NULL, 0);
	assert_true(cose_reader_done(&r));
}

static void test_diag_notation(void **state)
{
	diag_is("4401020304", "h'01020304'");
	diag_is("37", "-24");
	diag_is("820102", "[1, 2]");
	diag_is("a104412b", "{4: h'2b'}");
	diag_is("6474657874", "\"text\"");
	diag_is("f5", "true");
	diag_is("f4", "false");
	diag_is("f6", "null");
	diag_is("f7", "undefined");
	diag_is("f0", "simple(16)");
	diag_is("f8ff", "simple(255)");
	diag_is("c6820102", "6([1, 2])");
	diag_is("40", "h''");
	diag_is("60", "\"\"");
	diag_is("80", "[]");
	diag_is("a0", "{}");
	diag_is("3bffffffffffffffff", "-18446744073709551616");
	diag_is("1bffffffffffffffff", "18446744073709551615");
	diag_is("f93c00", "1.0");
	diag_is("f9c400", "-4.0");
	diag_is("fb3ff8000000000000", "1.5");
	diag_is("f97c00", "Infinity");
	diag_is("f97e00", "NaN");
	diag_is("62225c", "\"\\\"\\\\\"");
	diag_is("620a41", "\"\\u000aA\"");
	/* a CBOR sequence */
	diag_is("0300582031f82c7b5b9cbbf0f194d913cc12ef1532d328ef32632a4881a1c0701e237f042d",
	        "3, 0, h'31f82c7b5b9cbbf0f194d913cc12ef1532d328ef32632a4881a1c0701e237f04', -14");
}

static void test_diag_nested_and_errors(void **state)
{
	char out[256];
	uint8_t buf[64];
	/* nested map in array, then a sequence element */
	size_t n = hex("82a201820304026161d818410000", buf, sizeof(buf));
	assert_int_equal(cose_diag(buf, n, out, sizeof(out)), 0);
	assert_string_equal(out, "[{1: [3, 4], 2: \"a\"}, 24(h'00')], 0");
	/* what was decoded before an error is still written */
	n = hex("0102ff", buf, sizeof(buf));
	assert_int_equal(cose_diag(buf, n, out, sizeof(out)), EDHOC_E_CBOR_MALFORMED);
	assert_string_equal(out, "1, 2");
	n = hex("82420001", buf, sizeof(buf));
	assert_int_equal(cose_diag(buf, n, out, sizeof(out)), EDHOC_E_CBOR_TRUNCATED);
	assert_string_equal(out, "[h'0001'");
	/* a count that the remaining bytes cannot hold fails at the head */
	n = hex("8201", buf, sizeof(buf));
	assert_int_equal(cose_diag(buf, n, out, sizeof(out)), EDHOC_E_CBOR_TRUNCATED);
	assert_string_equal(out, "");
	/* truncation of the output */
	n = hex("4c000102030405060708090a0b", buf, sizeof(buf));
	assert_int_equal(cose_diag(buf, n, out, 10), 0);
	assert_string_equal(out, "h'0001...");
	assert_int_equal(cose_diag(buf, n, out, 3), 0);
	assert_string_equal(out, "..");
	assert_int_equal(cose_diag(buf, n, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(cose_diag(buf, n, out, 0), 0);
	/* fits exactly */
	assert_int_equal(cose_diag(buf, n, out, 28), 0);
	assert_string_equal(out, "h'000102030405060708090a0b'");
	assert_int_equal(cose_diag(buf, n, out, 27), 0);
	assert_string_equal(out, "h'000102030405060708090...");
	assert_int_equal(cose_diag(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uint_round_trip_and_shortest_encoding),
	    cmocka_unit_test(test_int_round_trip_negative_values),
	    cmocka_unit_test(test_strings_round_trip),
	    cmocka_unit_test(test_containers_tags_simple_round_trip),
	    cmocka_unit_test(test_writer_overflow_is_sticky),
	    cmocka_unit_test(test_non_shortest_heads_rejected),
	    cmocka_unit_test(test_malformed_heads_rejected),
	    cmocka_unit_test(test_truncation_at_every_length_rejected),
	    cmocka_unit_test(test_truncated_typed_reads),
	    cmocka_unit_test(test_huge_declared_lengths_rejected),
	    cmocka_unit_test(test_nesting_depth_limit),
	    cmocka_unit_test(test_read_item_and_sequences),
	    cmocka_unit_test(test_diag_notation),
	    cmocka_unit_test(test_diag_nested_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
