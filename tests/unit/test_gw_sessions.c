/* Session table: O(1) lookup by Recipient ID, global and per-identity
 * bounds with the documented eviction order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/sessions.h"

struct drops {
	size_t n;
	size_t by_reason[4];
	uint8_t last_rid;
	void *last_ctx;
};

static void on_drop(void *ctx, gw_session *s, int reason)
{
	struct drops *d = ctx;
	d->n++;
	d->by_reason[reason]++;
	d->last_rid = s->rid.bytes[0];
	d->last_ctx = s->ctx;
}

static char ctxs[64];

static gw_session tmpl(uint8_t rid, const char *identity)
{
	gw_session s;
	memset(&s, 0, sizeof(s));
	s.rid.bytes[0] = rid;
	s.rid.len = 1;
	s.sid.bytes[0] = 0x37;
	s.sid.len = 1;
	snprintf(s.identity, sizeof(s.identity), "%s", identity);
	s.method = 3;
	s.suite = 2;
	s.ctx = &ctxs[rid];
	return s;
}

static void test_add_find_remove(void **state)
{
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(8, 2, on_drop, &d);
	gw_session s = tmpl(0x27, "dev-a"), *got = NULL;
	uint8_t rid = 0x27, other = 0x28;
	assert_int_equal(gw_sessions_add(t, &s, 1000, &got), 0);
	assert_non_null(got);
	assert_ptr_equal(gw_sessions_find(t, &rid, 1), got);
	assert_null(gw_sessions_find(t, &other, 1));
	assert_string_equal(got->identity, "dev-a");
	assert_int_equal(got->established_ms, 1000);
	assert_int_equal(got->method, 3);
	/* The same Recipient ID twice is a caller bug. */
	assert_int_equal(gw_sessions_add(t, &s, 1001, NULL), EDHOC_E_INVALID_ARGUMENT);
	gw_sessions_remove(t, got);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.by_reason[GW_DROP_REMOVED], 1);
	assert_ptr_equal(d.last_ctx, &ctxs[0x27]);
	assert_null(gw_sessions_find(t, &rid, 1));
	assert_int_equal(gw_sessions_count_identity(t, "dev-a"), 0);
	gw_sessions_free(t);
	assert_int_equal(d.n, 1);
}

static void test_identity_limit_evicts_its_oldest(void **state)
{
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(8, 2, on_drop, &d);
	gw_session s;
	uint8_t rid;
	s = tmpl(1, "dev-a");
	assert_int_equal(gw_sessions_add(t, &s, 1, NULL), 0);
	s = tmpl(2, "dev-b");
	assert_int_equal(gw_sessions_add(t, &s, 2, NULL), 0);
	s = tmpl(3, "dev-a");
	assert_int_equal(gw_sessions_add(t, &s, 3, NULL), 0);
	/* Session 1 is recently used, but it is dev-a's oldest. */
	rid = 1;
	gw_sessions_touch(t, gw_sessions_find(t, &rid, 1), 4);
	s = tmpl(4, "dev-a");
	assert_int_equal(gw_sessions_add(t, &s, 5, NULL), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.by_reason[GW_DROP_EVICT_IDENTITY], 1);
	assert_int_equal(d.last_rid, 1);
	assert_int_equal(gw_sessions_count_identity(t, "dev-a"), 2);
	assert_int_equal(gw_sessions_count_identity(t, "dev-b"), 1);
	assert_int_equal(gw_sessions_count(t), 3);
	gw_sessions_free(t);
	assert_int_equal(d.by_reason[GW_DROP_SHUTDOWN], 3);
}

/* With slack, a use moves a session only when its last move is at least
 * the slack ago; the walk from the recent end still finds every session
 * used since a time T among those moved after T - slack. */
static void test_lru_slack_moves_a_busy_session_once_per_slack(void **state)
{
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(3, 3, on_drop, &d);
	gw_session s, *it;
	char name[16];
	(void)state;
	gw_sessions_set_lru_slack(t, 1000);
	assert_int_equal(gw_sessions_lru_slack(t), 1000);
	for (uint8_t i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "dev-%u", i);
		s = tmpl(i, name);
		assert_int_equal(gw_sessions_add(t, &s, i, NULL), 0);
	}
	/* Used 500 ms after its add: within the slack, it stays first. */
	it = gw_sessions_find(t, &(uint8_t){1}, 1);
	gw_sessions_touch(t, it, 501);
	assert_int_equal(it->last_used_ms, 501);
	assert_ptr_equal(gw_sessions_first(t), it);
	/* 1000 ms after its last move: it moves to the recent end. */
	gw_sessions_touch(t, it, 1001);
	assert_ptr_equal(gw_sessions_last(t), it);
	assert_int_equal(gw_sessions_first(t)->rid.bytes[0], 2);
	/* Eviction takes the least recently moved: 2. */
	s = tmpl(4, "dev-4");
	assert_int_equal(gw_sessions_add(t, &s, 1002, NULL), 0);
	assert_int_equal(d.last_rid, 2);
	/* Session 3 (moved at 3) used at 1500: beyond the slack, it moves.
	 * Session 1 (moved at 1001) used at 1600: within the slack, it stays
	 * behind 4; walking back from the recent end it is still among those
	 * with moved_ms + slack >= 1500. */
	gw_sessions_touch(t, gw_sessions_find(t, &(uint8_t){3}, 1), 1500);
	gw_sessions_touch(t, gw_sessions_find(t, &(uint8_t){1}, 1), 1600);
	it = gw_sessions_last(t);
	assert_int_equal(it->rid.bytes[0], 3);
	it = gw_sessions_prev(it);
	assert_int_equal(it->rid.bytes[0], 4);
	it = gw_sessions_prev(it);
	assert_int_equal(it->rid.bytes[0], 1);
	assert_true(it->moved_ms + 1000 >= 1500);
	assert_int_equal(it->last_used_ms, 1600);
	gw_sessions_free(t);
}

static void test_full_table_evicts_least_recently_used(void **state)
{
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(3, 3, on_drop, &d);
	gw_session s;
	uint8_t rid;
	char name[16];
	for (uint8_t i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "dev-%u", i);
		s = tmpl(i, name);
		assert_int_equal(gw_sessions_add(t, &s, i, NULL), 0);
	}
	rid = 1;
	gw_sessions_touch(t, gw_sessions_find(t, &rid, 1), 10);
	s = tmpl(4, "dev-4");
	assert_int_equal(gw_sessions_add(t, &s, 11, NULL), 0);
	assert_int_equal(d.by_reason[GW_DROP_EVICT_FULL], 1);
	assert_int_equal(d.last_rid, 2);
	assert_int_equal(gw_sessions_count(t), 3);
	assert_null(gw_sessions_find(t, &(uint8_t){2}, 1));
	assert_non_null(gw_sessions_find(t, &(uint8_t){1}, 1));
	/* Iteration runs least recently used first: 3, 1, 4. */
	gw_session *it = gw_sessions_first(t);
	assert_int_equal(it->rid.bytes[0], 3);
	it = gw_sessions_next(it);
	assert_int_equal(it->rid.bytes[0], 1);
	it = gw_sessions_next(it);
	assert_int_equal(it->rid.bytes[0], 4);
	assert_null(gw_sessions_next(it));
	gw_sessions_free(t);
}

static void test_single_session_per_identity_rekey(void **state)
{
	/* per_identity 1: each new handshake replaces the previous context. */
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(4, 1, on_drop, &d);
	for (uint8_t i = 1; i <= 10; i++) {
		gw_session s = tmpl(i, "dev-a");
		assert_int_equal(gw_sessions_add(t, &s, i, NULL), 0);
		assert_int_equal(gw_sessions_count(t), 1);
	}
	assert_int_equal(d.by_reason[GW_DROP_EVICT_IDENTITY], 9);
	assert_int_equal(gw_sessions_count_identity(t, "dev-a"), 1);
	assert_non_null(gw_sessions_find(t, &(uint8_t){10}, 1));
	gw_sessions_free(t);
}

static void test_lower_limits_on_reload_evict(void **state)
{
	struct drops d = {0};
	gw_sessions *t = gw_sessions_create(16, 4, on_drop, &d);
	for (uint8_t i = 1; i <= 8; i++) {
		gw_session s = tmpl(i, i % 2 ? "odd" : "even");
		assert_int_equal(gw_sessions_add(t, &s, i, NULL), 0);
	}
	gw_sessions_set_limits(t, 16, 2);
	assert_int_equal(gw_sessions_count_identity(t, "odd"), 2);
	assert_int_equal(gw_sessions_count_identity(t, "even"), 2);
	/* The newest of each identity stay: 5, 7 and 6, 8. */
	assert_non_null(gw_sessions_find(t, &(uint8_t){7}, 1));
	assert_non_null(gw_sessions_find(t, &(uint8_t){8}, 1));
	assert_null(gw_sessions_find(t, &(uint8_t){1}, 1));
	gw_sessions_set_limits(t, 1, 2);
	assert_int_equal(gw_sessions_count(t), 1);
	assert_non_null(gw_sessions_find(t, &(uint8_t){8}, 1));
	assert_int_equal(d.n, 7);
	gw_sessions_free(t);
	gw_sessions_free(NULL);
}

static void test_many_sessions_lookup(void **state)
{
	gw_sessions *t = gw_sessions_create(1000, 1, NULL, NULL);
	gw_session s;
	char name[16];
	for (int i = 0; i < 1000; i++) {
		memset(&s, 0, sizeof(s));
		s.rid.bytes[0] = (uint8_t)(i >> 8);
		s.rid.bytes[1] = (uint8_t)i;
		s.rid.len = 2;
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(s.identity, sizeof(s.identity), "%s", name);
		assert_int_equal(gw_sessions_add(t, &s, (uint64_t)i, NULL), 0);
	}
	for (int i = 0; i < 1000; i++) {
		uint8_t rid[2] = {(uint8_t)(i >> 8), (uint8_t)i};
		gw_session *f = gw_sessions_find(t, rid, 2);
		assert_non_null(f);
		snprintf(name, sizeof(name), "d%d", i);
		assert_string_equal(f->identity, name);
	}
	assert_int_equal(gw_sessions_count(t), 1000);
	gw_sessions_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_find_remove),
	    cmocka_unit_test(test_identity_limit_evicts_its_oldest),
	    cmocka_unit_test(test_full_table_evicts_least_recently_used),
	    cmocka_unit_test(test_lru_slack_moves_a_busy_session_once_per_slack),
	    cmocka_unit_test(test_single_session_per_identity_rekey),
	    cmocka_unit_test(test_lower_limits_on_reload_evict),
	    cmocka_unit_test(test_many_sessions_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
