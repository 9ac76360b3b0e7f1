/* Half-open handshake table: bounds, expiry, single consumption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/halfopen.h"

/* The table never looks inside a handshake: fake pointers are enough. */
static char fake_hs[64];
static char fake_ref;

struct drops {
	size_t n;
	edhoc_cid last;
	void *last_hs;
	void *last_ref;
};

static void on_drop(void *ctx, const edhoc_cid *c_r, edhoc_handshake *hs, void *ref)
{
	struct drops *d = ctx;
	d->n++;
	d->last = *c_r;
	d->last_hs = hs;
	d->last_ref = ref;
}

static edhoc_cid cid1(uint8_t b)
{
	edhoc_cid c = {.len = 1};
	c.bytes[0] = b;
	return c;
}

static edhoc_handshake *hs(int i)
{
	return (edhoc_handshake *)&fake_hs[i];
}

static void test_take_consumes_entry_once(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(4, 1000, on_drop, &d);
	gw_addr peer;
	edhoc_cid c = cid1(5);
	edhoc_handshake *got = NULL;
	void *ref = NULL;
	assert_int_equal(gw_addr_parse("127.0.0.1:4000", 0, &peer), 0);
	assert_int_equal(gw_halfopen_add(t, &c, hs(1), &fake_ref, &peer, 100), 0);
	assert_int_equal(gw_halfopen_count(t), 1);
	assert_int_equal(gw_halfopen_take(t, &c, &peer, 200, &got, &ref), 0);
	assert_ptr_equal(got, hs(1));
	assert_ptr_equal(ref, &fake_ref);
	assert_int_equal(gw_halfopen_count(t), 0);
	/* A replayed message_3 finds nothing. */
	assert_int_equal(gw_halfopen_take(t, &c, &peer, 201, &got, &ref),
	                 EDHOC_E_UNEXPECTED_MESSAGE);
	gw_halfopen_free(t);
	/* Taken entries belong to the caller: never dropped by the table. */
	assert_int_equal(d.n, 0);
}

static void test_full_table_refuses_and_keeps_pending(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(3, 1000, on_drop, &d);
	edhoc_cid c;
	for (int i = 0; i < 3; i++) {
		c = cid1((uint8_t)i);
		assert_int_equal(gw_halfopen_add(t, &c, hs(i), NULL, NULL, 10 + i), 0);
	}
	c = cid1(9);
	assert_int_equal(gw_halfopen_add(t, &c, hs(9), NULL, NULL, 500), EDHOC_E_LIMIT);
	assert_int_equal(gw_halfopen_count(t), 3);
	assert_int_equal(d.n, 0);
	assert_int_equal(gw_halfopen_next_expiry(t), 1010);
	/* Once the oldest expired, a new one fits (the oldest is dropped). */
	assert_int_equal(gw_halfopen_add(t, &c, hs(9), NULL, NULL, 1010), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.last.bytes[0], 0);
	assert_ptr_equal(d.last_hs, hs(0));
	assert_int_equal(gw_halfopen_count(t), 3);
	gw_halfopen_free(t);
	assert_int_equal(d.n, 4);
}

static void test_expired_entry_cannot_be_taken(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(4, 1000, on_drop, &d);
	edhoc_cid c = cid1(0x21);
	edhoc_handshake *got = NULL;
	assert_int_equal(gw_halfopen_add(t, &c, hs(2), &fake_ref, NULL, 0), 0);
	assert_int_equal(gw_halfopen_take(t, &c, NULL, 1000, &got, NULL),
	                 EDHOC_E_UNEXPECTED_MESSAGE);
	assert_null(got);
	assert_int_equal(d.n, 1);
	assert_ptr_equal(d.last_ref, &fake_ref);
	assert_int_equal(gw_halfopen_count(t), 0);
	assert_int_equal(gw_halfopen_next_expiry(t), UINT64_MAX);
	gw_halfopen_free(t);
}

static void test_expire_drops_only_old_entries(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(8, 100, on_drop, &d);
	for (int i = 0; i < 5; i++) {
		edhoc_cid c = cid1((uint8_t)i);
		assert_int_equal(gw_halfopen_add(t, &c, hs(i), NULL, NULL, (uint64_t)i * 10), 0);
	}
	assert_int_equal(gw_halfopen_expire(t, 119), 2); /* created at 0 and 10 */
	assert_int_equal(gw_halfopen_count(t), 3);
	assert_int_equal(gw_halfopen_next_expiry(t), 120);
	assert_int_equal(gw_halfopen_expire(t, 1000), 3);
	assert_int_equal(d.n, 5);
	gw_halfopen_free(t);
	assert_int_equal(d.n, 5);
}

static void test_other_address_cannot_take_or_cancel(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(4, 1000, on_drop, &d);
	gw_addr peer, other;
	edhoc_cid c = cid1(7);
	edhoc_handshake *got = NULL;
	assert_int_equal(gw_addr_parse("[::1]:4000", 0, &peer), 0);
	assert_int_equal(gw_addr_parse("[::1]:4001", 0, &other), 0);
	assert_int_equal(gw_halfopen_add(t, &c, hs(3), NULL, &peer, 0), 0);
	assert_int_equal(gw_halfopen_take(t, &c, &other, 1, &got, NULL),
	                 EDHOC_E_UNEXPECTED_MESSAGE);
	assert_int_equal(gw_halfopen_count(t), 1);
	assert_int_equal(gw_halfopen_take(t, &c, &peer, 2, &got, NULL), 0);
	assert_ptr_equal(got, hs(3));
	gw_halfopen_free(t);
	assert_int_equal(d.n, 0);
}

static void test_duplicate_c_r_is_rejected(void **state)
{
	gw_halfopen *t = gw_halfopen_create(4, 1000, NULL, NULL);
	edhoc_cid c = cid1(1);
	edhoc_handshake *got;
	assert_int_equal(gw_halfopen_add(t, &c, hs(1), NULL, NULL, 0), 0);
	assert_int_equal(gw_halfopen_add(t, &c, hs(2), NULL, NULL, 0), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(gw_halfopen_take(t, &c, NULL, 0, &got, NULL), 0);
	assert_ptr_equal(got, hs(1));
	gw_halfopen_free(t);
	gw_halfopen_free(NULL);
}

static void test_many_entries_lookup(void **state)
{
	/* More entries than the initial bucket count: chains work. */
	gw_halfopen *t = gw_halfopen_create(200, 1000, NULL, NULL);
	edhoc_cid c = {.len = 2};
	edhoc_handshake *got;
	for (int i = 0; i < 200; i++) {
		c.bytes[0] = 1;
		c.bytes[1] = (uint8_t)i;
		assert_int_equal(gw_halfopen_add(t, &c, hs(i % 64), NULL, NULL, 0), 0);
	}
	for (int i = 199; i >= 0; i--) {
		c.bytes[1] = (uint8_t)i;
		assert_int_equal(gw_halfopen_take(t, &c, NULL, 1, &got, NULL), 0);
		assert_ptr_equal(got, hs(i % 64));
	}
	assert_int_equal(gw_halfopen_count(t), 0);
	gw_halfopen_free(t);
}

/* One source holds at most per_source entries, whatever its ports: an IPv4
 * address, an IPv6 /64 (IPv4-mapped counted as IPv4); others go on, and
 * a taken or expired entry makes room again. */
static void test_per_source_limit(void **state)
{
	struct drops d = {0};
	gw_halfopen *t = gw_halfopen_create(16, 1000, on_drop, &d);
	gw_addr a1, a2, b, v6a, v6b, v6other, mapped;
	edhoc_cid c;
	edhoc_handshake *got;
	void *ref;
	(void)state;
	assert_int_equal(gw_addr_parse("10.0.0.1:4000", 0, &a1), 0);
	assert_int_equal(gw_addr_parse("10.0.0.1:4001", 0, &a2), 0);
	assert_int_equal(gw_addr_parse("10.0.0.2:4000", 0, &b), 0);
	assert_int_equal(gw_addr_parse("[2001:db8:1:2::1]:5000", 0, &v6a), 0);
	assert_int_equal(gw_addr_parse("[2001:db8:1:2:ffff::9]:5001", 0, &v6b), 0);
	assert_int_equal(gw_addr_parse("[2001:db8:1:3::1]:5000", 0, &v6other), 0);
	assert_int_equal(gw_addr_parse("[::ffff:10.0.0.1]:6000", 0, &mapped), 0);
	gw_halfopen_set_per_source(t, 2);

	c = cid1(1);
	assert_int_equal(gw_halfopen_add(t, &c, hs(1), NULL, &a1, 10), 0);
	c = cid1(2);
	assert_int_equal(gw_halfopen_add(t, &c, hs(2), NULL, &a2, 11), 0);
	assert_int_equal(gw_halfopen_count_source(t, &a1), 2);
	c = cid1(3); /* a third port of 10.0.0.1, and the same address mapped */
	assert_int_equal(gw_halfopen_add(t, &c, hs(3), NULL, &a1, 12), EDHOC_E_LIMIT);
	assert_int_equal(gw_halfopen_add(t, &c, hs(3), NULL, &mapped, 12), EDHOC_E_LIMIT);
	assert_int_equal(gw_halfopen_add(t, &c, hs(3), NULL, &b, 12), 0);
	assert_int_equal(gw_halfopen_count_source(t, &b), 1);

	c = cid1(4);
	assert_int_equal(gw_halfopen_add(t, &c, hs(4), NULL, &v6a, 13), 0);
	c = cid1(5); /* same /64 */
	assert_int_equal(gw_halfopen_add(t, &c, hs(5), NULL, &v6b, 14), 0);
	c = cid1(6);
	assert_int_equal(gw_halfopen_add(t, &c, hs(6), NULL, &v6a, 15), EDHOC_E_LIMIT);
	assert_int_equal(gw_halfopen_add(t, &c, hs(6), NULL, &v6other, 15), 0);
	assert_int_equal(gw_halfopen_count(t), 6);

	/* Taking one of 10.0.0.1's makes room for it. */
	c = cid1(2);
	assert_int_equal(gw_halfopen_take(t, &c, &a2, 20, &got, &ref), 0);
	assert_int_equal(gw_halfopen_count_source(t, &a1), 1);
	c = cid1(7);
	assert_int_equal(gw_halfopen_add(t, &c, hs(7), NULL, &a1, 21), 0);
	/* Expiry too: at 1012 the entries made at 10 (10.0.0.1) and 12
	 * (10.0.0.2) go; 10.0.0.1 keeps the one made at 21. */
	assert_int_equal(gw_halfopen_expire(t, 1012), 2);
	assert_int_equal(gw_halfopen_count_source(t, &a1), 1);
	assert_int_equal(gw_halfopen_count_source(t, &b), 0);
	/* 0: no per-source limit. */
	gw_halfopen_set_per_source(t, 0);
	c = cid1(8);
	assert_int_equal(gw_halfopen_add(t, &c, hs(8), NULL, &a1, 1013), 0);
	c = cid1(9);
	assert_int_equal(gw_halfopen_add(t, &c, hs(9), NULL, &a1, 1014), 0);
	assert_int_equal(gw_halfopen_count_source(t, &a1), 3);
	assert_int_equal(gw_halfopen_count_source(t, NULL), 0);
	gw_halfopen_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_take_consumes_entry_once),
	    cmocka_unit_test(test_full_table_refuses_and_keeps_pending),
	    cmocka_unit_test(test_expired_entry_cannot_be_taken),
	    cmocka_unit_test(test_expire_drops_only_old_entries),
	    cmocka_unit_test(test_other_address_cannot_take_or_cancel),
	    cmocka_unit_test(test_duplicate_c_r_is_rejected),
	    cmocka_unit_test(test_many_entries_lookup),
	    cmocka_unit_test(test_per_source_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
