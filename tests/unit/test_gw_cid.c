/* C_R allocator and keyed hash of the gateway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/addr.h"
#include "gateway/cid.h"
#include "gateway/hash.h"

static void test_siphash_reference_vector(void **state)
{
	/* SipHash-2-4 paper, Appendix A: key 00..0f, message 00..0e. */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(gw_hash(key, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL);
	/* The empty message: first entry of the reference table. */
	assert_true(gw_hash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
}

static void test_first_ids_are_one_byte_cbor_ints(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid c;
	uint8_t seen[256] = {0};
	assert_non_null(a);
	for (int i = 0; i < 48; i++) {
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
		assert_int_equal(c.len, 1);
		/* 0x00-0x17 and 0x20-0x37 encode as a one-byte CBOR int. */
		assert_true(c.bytes[0] <= 0x17 || (c.bytes[0] >= 0x20 && c.bytes[0] <= 0x37));
		assert_int_equal(seen[c.bytes[0]], 0);
		seen[c.bytes[0]] = 1;
	}
	assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
	assert_int_equal(c.len, 2);
	assert_int_equal(gw_cidalloc_used(a), 49);
	gw_cidalloc_free(a);
}

static void test_id_differs_from_c_i(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid avoid = {.bytes = {0x00}, .len = 1}, c;
	assert_int_equal(gw_cidalloc_get(a, &avoid, &c), 0);
	assert_false(gw_cid_equal(&c, &avoid));
	/* Exhaust the one-byte range except the avoided value: it stays free. */
	for (int i = 0; i < 46; i++) {
		assert_int_equal(gw_cidalloc_get(a, &avoid, &c), 0);
		assert_int_equal(c.len, 1);
	}
	assert_int_equal(gw_cidalloc_get(a, &avoid, &c), 0);
	assert_int_equal(c.len, 2);
	assert_false(gw_cidalloc_in_use(a, &avoid));
	gw_cidalloc_free(a);
}

static void test_released_id_is_reused_last(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid first, c;
	assert_int_equal(gw_cidalloc_get(a, NULL, &first), 0);
	gw_cidalloc_put(a, &first);
	assert_false(gw_cidalloc_in_use(a, &first));
	/* Next-fit: the 47 other one-byte ids come before first again. */
	for (int i = 0; i < 47; i++) {
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
		assert_false(gw_cid_equal(&c, &first));
	}
	assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
	assert_true(gw_cid_equal(&c, &first));
	gw_cidalloc_free(a);
}

static void test_reserve_and_put(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid two = {.bytes = {0x12, 0x34}, .len = 2};
	edhoc_cid bad1 = {.bytes = {0x18}, .len = 1};       /* not a one-byte int */
	edhoc_cid bad4 = {.bytes = {1, 2, 3, 4}, .len = 4}; /* longer than any we hand out */
	assert_int_equal(gw_cidalloc_reserve(a, &two), 0);
	assert_int_equal(gw_cidalloc_reserve(a, &two), EDHOC_E_LIMIT);
	assert_true(gw_cidalloc_in_use(a, &two));
	assert_int_equal(gw_cidalloc_reserve(a, &bad1), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_cidalloc_reserve(a, &bad4), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_cidalloc_used(a), 1);
	gw_cidalloc_put(a, &bad4); /* ignored */
	gw_cidalloc_put(a, &two);
	gw_cidalloc_put(a, &two); /* double put is ignored */
	assert_int_equal(gw_cidalloc_used(a), 0);
	gw_cidalloc_free(a);
	gw_cidalloc_free(NULL);
}

static void test_space_is_bounded(void **state)
{
	/* Two-byte identifiers at most: the old 48 + 65,536 space, small
	 * enough to exhaust in a unit test. */
	gw_cidalloc *a = gw_cidalloc_create_len(2);
	edhoc_cid c, three = {.bytes = {1, 2, 3}, .len = 3};
	assert_non_null(a);
	for (size_t i = 0; i < GW_CID_SPACE_1 + GW_CID_SPACE_2; i++)
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
	assert_int_equal(gw_cidalloc_get(a, NULL, &c), EDHOC_E_LIMIT);
	assert_int_equal(gw_cidalloc_used(a), GW_CID_SPACE_1 + GW_CID_SPACE_2);
	assert_int_equal(gw_cidalloc_reserve(a, &three), EDHOC_E_INVALID_ARGUMENT);
	gw_cidalloc_free(a);
	assert_null(gw_cidalloc_create_len(0));
	assert_null(gw_cidalloc_create_len(4));
}

/* 100,000 sessions and more: after the one- and two-byte identifiers come
 * three-byte ones, all distinct, none equal to the peer's C_I. */
static void test_three_byte_ids_follow_two_byte_ids(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid c, first3, avoid = {.bytes = {0x00, 0x00, 0x01}, .len = 3};
	size_t n2 = GW_CID_SPACE_1 + GW_CID_SPACE_2;
	assert_non_null(a);
	for (size_t i = 0; i < n2; i++) {
		assert_int_equal(gw_cidalloc_get(a, &avoid, &c), 0);
		assert_true(c.len <= 2);
	}
	assert_int_equal(gw_cidalloc_get(a, &avoid, &first3), 0);
	assert_int_equal(first3.len, 3);
	assert_true(first3.bytes[0] == 0 && first3.bytes[1] == 0 && first3.bytes[2] == 0);
	/* The avoided C_I is skipped, the next one follows. */
	assert_int_equal(gw_cidalloc_get(a, &avoid, &c), 0);
	assert_int_equal(c.len, 3);
	assert_true(c.bytes[0] == 0 && c.bytes[1] == 0 && c.bytes[2] == 2);
	assert_false(gw_cidalloc_in_use(a, &avoid));
	/* 40,000 more three-byte ids: 105,586 in use, no duplicates (every
	 * get marks its id, so a repeat would be caught by in_use first). */
	for (size_t i = 0; i < 40000; i++) {
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
		assert_int_equal(c.len, 3);
	}
	assert_int_equal(gw_cidalloc_used(a), n2 + 40002);
	/* A released three-byte id is free again, and reserve works there. */
	gw_cidalloc_put(a, &first3);
	assert_false(gw_cidalloc_in_use(a, &first3));
	assert_int_equal(gw_cidalloc_reserve(a, &first3), 0);
	assert_int_equal(gw_cidalloc_reserve(a, &first3), EDHOC_E_LIMIT);
	/* A released short id is handed out before any new three-byte one. */
	{
		edhoc_cid short_id = {.bytes = {0x12, 0x34}, .len = 2};
		gw_cidalloc_put(a, &short_id);
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
		assert_true(gw_cid_equal(&c, &short_id));
	}
	gw_cidalloc_free(a);
}

/* Restoring a session with a three-byte C_R reserves it: no handshake can
 * be given the same identifier afterwards. */
static void test_reserved_three_byte_id_is_never_handed_out(void **state)
{
	gw_cidalloc *a = gw_cidalloc_create();
	edhoc_cid c, r = {.bytes = {0x00, 0x00, 0x00}, .len = 3};
	edhoc_cid four = {.bytes = {1, 2, 3, 4}, .len = 4};
	assert_int_equal(gw_cidalloc_reserve(a, &r), 0);
	assert_int_equal(gw_cidalloc_reserve(a, &four), EDHOC_E_INVALID_ARGUMENT);
	for (size_t i = 0; i < GW_CID_SPACE_1 + GW_CID_SPACE_2 + 2; i++) {
		assert_int_equal(gw_cidalloc_get(a, NULL, &c), 0);
		assert_false(gw_cid_equal(&c, &r));
	}
	assert_int_equal(c.len, 3);
	assert_true(c.bytes[2] == 2);
	gw_cidalloc_free(a);
}

static void test_addr_parse_and_format(void **state)
{
	gw_addr a, b;
	char buf[GW_ADDR_STRLEN];
	assert_int_equal(gw_addr_parse("127.0.0.1:5683", 0, &a), 0);
	assert_string_equal(gw_addr_format(&a, buf, sizeof(buf)), "127.0.0.1:5683");
	assert_int_equal(gw_addr_parse("[::1]:61616", 0, &b), 0);
	assert_string_equal(gw_addr_format(&b, buf, sizeof(buf)), "[::1]:61616");
	assert_false(gw_addr_equal(&a, &b));
	assert_int_equal(gw_addr_parse("::", 5683, &b), 0);
	assert_string_equal(gw_addr_format(&b, buf, sizeof(buf)), "[::]:5683");
	assert_int_equal(gw_addr_parse("0.0.0.0", 5683, &b), 0);
	assert_string_equal(gw_addr_format(&b, buf, sizeof(buf)), "0.0.0.0:5683");
	assert_int_equal(gw_addr_parse("127.0.0.1:70000", 0, &b), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_addr_parse("example.org:1", 0, &b), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_addr_parse("[::1", 0, &b), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_addr_parse("127.0.0.1:5683", 0, &b), 0);
	assert_true(gw_addr_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_reference_vector),
	    cmocka_unit_test(test_first_ids_are_one_byte_cbor_ints),
	    cmocka_unit_test(test_id_differs_from_c_i),
	    cmocka_unit_test(test_released_id_is_reused_last),
	    cmocka_unit_test(test_reserve_and_put),
	    cmocka_unit_test(test_space_is_bounded),
	    cmocka_unit_test(test_three_byte_ids_follow_two_byte_ids),
	    cmocka_unit_test(test_reserved_three_byte_id_is_never_handed_out),
	    cmocka_unit_test(test_addr_parse_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
