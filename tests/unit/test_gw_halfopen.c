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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
