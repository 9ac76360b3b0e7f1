/* Retransmission cache: duplicates get the same response; bounds, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/result.h"
#include "gateway/rtx.h"

static gw_rtx_resp make_resp(uint8_t code, const uint8_t *payload, size_t len)
{
	static const uint8_t cf[] = {64};
	gw_rtx_resp r = {.code = code, .n_opts = 1, .payload = payload, .payload_len = len};
	r.opts[0].num = 12;
	r.opts[0].len = sizeof(cf);
	r.opts[0].val = cf;
	return r;
}

static void test_duplicate_gets_identical_response(void **state)
{
	gw_rtx *c = gw_rtx_create(16, GW_RTX_DEFAULT_LIFETIME_MS);
	static const uint8_t msg2[] = {0x58, 0x03, 0xaa, 0xbb, 0xcc, 0x27};
	gw_rtx_resp r = make_resp(0x44, msg2, sizeof(msg2)), got;
	gw_addr peer;
	assert_int_equal(gw_addr_parse("127.0.0.1:40000", 0, &peer), 0);
	assert_false(gw_rtx_lookup(c, &peer, 0x1234, 0, &got));
	assert_int_equal(gw_rtx_store(c, &peer, 0x1234, &r, 0), 0);
	assert_true(gw_rtx_lookup(c, &peer, 0x1234, 5000, &got));
	assert_int_equal(got.code, 0x44);
	assert_int_equal(got.n_opts, 1);
	assert_int_equal(got.opts[0].num, 12);
	assert_int_equal(got.opts[0].len, 1);
	assert_int_equal(got.opts[0].val[0], 64);
	assert_int_equal(got.payload_len, sizeof(msg2));
	assert_memory_equal(got.payload, msg2, sizeof(msg2));
	gw_rtx_free(c);
}

static void test_key_is_address_port_and_mid(void **state)
{
	gw_rtx *c = gw_rtx_create(16, 1000);
	static const uint8_t p[] = {1};
	gw_rtx_resp r = make_resp(0x44, p, 1), got;
	gw_addr a, other_port, other_host, v6;
	assert_int_equal(gw_addr_parse("127.0.0.1:40000", 0, &a), 0);
	assert_int_equal(gw_addr_parse("127.0.0.1:40001", 0, &other_port), 0);
	assert_int_equal(gw_addr_parse("127.0.0.2:40000", 0, &other_host), 0);
	assert_int_equal(gw_addr_parse("[::ffff:127.0.0.1]:40000", 0, &v6), 0);
	assert_int_equal(gw_rtx_store(c, &a, 7, &r, 0), 0);
	assert_true(gw_rtx_lookup(c, &a, 7, 0, &got));
	assert_false(gw_rtx_lookup(c, &a, 8, 0, &got));
	assert_false(gw_rtx_lookup(c, &other_port, 7, 0, &got));
	assert_false(gw_rtx_lookup(c, &other_host, 7, 0, &got));
	assert_false(gw_rtx_lookup(c, &v6, 7, 0, &got));
	gw_rtx_free(c);
}

static void test_entries_expire_after_lifetime(void **state)
{
	gw_rtx *c = gw_rtx_create(16, 1000);
	gw_rtx_resp r = make_resp(0x44, NULL, 0), got;
	gw_addr a;
	assert_int_equal(gw_addr_parse("127.0.0.1:1", 0, &a), 0);
	assert_int_equal(gw_rtx_store(c, &a, 1, &r, 100), 0);
	assert_int_equal(gw_rtx_store(c, &a, 2, &r, 600), 0);
	assert_int_equal(gw_rtx_next_expiry(c), 1100);
	assert_true(gw_rtx_lookup(c, &a, 1, 1099, &got));
	assert_false(gw_rtx_lookup(c, &a, 1, 1100, &got));
	assert_int_equal(gw_rtx_count(c), 1);
	assert_int_equal(gw_rtx_expire(c, 1599), 0);
	assert_int_equal(gw_rtx_expire(c, 1600), 1);
	assert_int_equal(gw_rtx_count(c), 0);
	assert_int_equal(gw_rtx_next_expiry(c), UINT64_MAX);
	gw_rtx_free(c);
}

static void test_full_cache_drops_oldest(void **state)
{
	gw_rtx *c = gw_rtx_create(3, 100000);
	gw_rtx_resp r = make_resp(0x44, NULL, 0), got;
	gw_addr a;
	assert_int_equal(gw_addr_parse("[2001:db8::1]:5683", 0, &a), 0);
	for (uint16_t mid = 0; mid < 5; mid++)
		assert_int_equal(gw_rtx_store(c, &a, mid, &r, mid), 0);
	assert_int_equal(gw_rtx_count(c), 3);
	assert_false(gw_rtx_lookup(c, &a, 0, 10, &got));
	assert_false(gw_rtx_lookup(c, &a, 1, 10, &got));
	for (uint16_t mid = 2; mid < 5; mid++)
		assert_true(gw_rtx_lookup(c, &a, mid, 10, &got));
	gw_rtx_set_limits(c, 1, 100000);
	assert_int_equal(gw_rtx_count(c), 1);
	assert_true(gw_rtx_lookup(c, &a, 4, 10, &got));
	gw_rtx_free(c);
}

static void test_same_key_replaces(void **state)
{
	gw_rtx *c = gw_rtx_create(4, 1000);
	static const uint8_t p1[] = {1}, p2[] = {2, 2};
	gw_rtx_resp r1 = make_resp(0x44, p1, 1), r2 = make_resp(0x80, p2, 2), got;
	gw_addr a;
	assert_int_equal(gw_addr_parse("127.0.0.1:9", 0, &a), 0);
	assert_int_equal(gw_rtx_store(c, &a, 1, &r1, 0), 0);
	assert_int_equal(gw_rtx_store(c, &a, 1, &r2, 1), 0);
	assert_int_equal(gw_rtx_count(c), 1);
	assert_true(gw_rtx_lookup(c, &a, 1, 2, &got));
	assert_int_equal(got.code, 0x80);
	assert_int_equal(got.payload_len, 2);
	gw_rtx_free(c);
}

static void test_oversized_response_is_not_cached(void **state)
{
	static uint8_t big[GW_RTX_MAX_DATA + 1];
	gw_rtx *c = gw_rtx_create(4, 1000);
	gw_rtx_resp r = make_resp(0x44, big, sizeof(big)), got;
	gw_addr a;
	assert_int_equal(gw_addr_parse("127.0.0.1:9", 0, &a), 0);
	assert_int_equal(gw_rtx_store(c, &a, 1, &r, 0), EDHOC_E_MESSAGE_TOO_LARGE);
	/* Options count toward the limit too. */
	r.payload_len = GW_RTX_MAX_DATA;
	assert_int_equal(gw_rtx_store(c, &a, 1, &r, 0), EDHOC_E_MESSAGE_TOO_LARGE);
	r.payload_len = GW_RTX_MAX_DATA - 1;
	assert_int_equal(gw_rtx_store(c, &a, 1, &r, 0), 0);
	assert_true(gw_rtx_lookup(c, &a, 1, 0, &got));
	assert_int_equal(got.payload_len, GW_RTX_MAX_DATA - 1);
	gw_rtx_free(c);
	gw_rtx_free(NULL);
}

/* The copy of a response message the gateway sends: options in order,
 * values and payload byte-exact, and a message with more options than the
 * cache keeps is not cached at all. */
static void test_message_is_cached_as_sent(void **state)
{
	static const uint8_t kid[] = {0x09, 0x27}, body[] = {0xde, 0xad, 0xbe, 0xef};
	static const uint8_t cf[] = {60};
	gw_rtx *c = gw_rtx_create(4, 1000);
	oscore_msg m;
	gw_rtx_resp got;
	gw_addr a;
	assert_int_equal(gw_addr_parse("127.0.0.1:7", 0, &a), 0);
	oscore_msg_init(&m, 0x44);
	assert_int_equal(oscore_msg_add(&m, 12, cf, sizeof(cf)), 0);
	assert_int_equal(oscore_msg_add(&m, 9, kid, sizeof(kid)), 0);
	oscore_msg_set_payload(&m, body, sizeof(body));
	assert_int_equal(gw_rtx_store_msg(c, &a, 77, &m, 0), 0);
	assert_true(gw_rtx_lookup(c, &a, 77, 10, &got));
	assert_int_equal(got.code, 0x44);
	assert_int_equal(got.n_opts, 2);
	assert_int_equal(got.opts[0].num, 9);
	assert_int_equal(got.opts[0].len, sizeof(kid));
	assert_memory_equal(got.opts[0].val, kid, sizeof(kid));
	assert_int_equal(got.opts[1].num, 12);
	assert_int_equal(got.opts[1].len, sizeof(cf));
	assert_memory_equal(got.opts[1].val, cf, sizeof(cf));
	assert_int_equal(got.payload_len, sizeof(body));
	assert_memory_equal(got.payload, body, sizeof(body));

	oscore_msg_init(&m, 0x45);
	for (uint16_t i = 0; i <= GW_RTX_MAX_OPTS; i++)
		assert_int_equal(oscore_msg_add(&m, (uint16_t)(2000 + i), NULL, 0), 0);
	assert_int_equal(gw_rtx_store_msg(c, &a, 78, &m, 0), EDHOC_E_MESSAGE_TOO_LARGE);
	assert_false(gw_rtx_lookup(c, &a, 78, 10, &got));
	assert_int_equal(gw_rtx_count(c), 1);
	gw_rtx_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duplicate_gets_identical_response),
	    cmocka_unit_test(test_key_is_address_port_and_mid),
	    cmocka_unit_test(test_entries_expire_after_lifetime),
	    cmocka_unit_test(test_full_cache_drops_oldest),
	    cmocka_unit_test(test_same_key_replaces),
	    cmocka_unit_test(test_oversized_response_is_not_cached),
	    cmocka_unit_test(test_message_is_cached_as_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
