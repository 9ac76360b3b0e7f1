/* OSCORE replay protection (RFC 8613 §7.4), leased sender sequence numbers
 * (App. B.1.1) and Echo re-initialisation of a restored context (App.
 * B.1.2, RFC 9175). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/oscore.h"
#include "oscore/replay.h"

static const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t id_client[1] = {0x01};
static const uint8_t id_server[1] = {0x02};

/* ---- the window itself ---- */

static void accept(oscore_replay *w, uint64_t piv)
{
	assert_int_equal(oscore_replay_check(w, piv), 0);
	oscore_replay_update(w, piv);
}

static void test_window_accepts_in_order(void **state)
{
	oscore_replay w;
	oscore_replay_init(&w, 32);
	for (uint64_t p = 0; p < 200; p++)
		accept(&w, p);
	for (uint64_t p = 168; p < 200; p++)
		assert_int_equal(oscore_replay_check(&w, p), OSCORE_E_REPLAY);
	assert_int_equal(oscore_replay_check(&w, 167), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_replay_check(&w, 0), OSCORE_E_TOO_OLD);
}

static void test_window_accepts_out_of_order_within_window_once(void **state)
{
	oscore_replay w;
	oscore_replay_init(&w, 32);
	accept(&w, 10);
	accept(&w, 5); /* below the highest, first time */
	accept(&w, 7);
	accept(&w, 40); /* 10 is now at the bottom edge: 40 - 31 = 9 */
	assert_int_equal(oscore_replay_check(&w, 5), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_replay_check(&w, 8), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_replay_check(&w, 10), OSCORE_E_REPLAY);
	accept(&w, 9);
	assert_int_equal(oscore_replay_check(&w, 9), OSCORE_E_REPLAY);
	accept(&w, 39);
	assert_int_equal(oscore_replay_check(&w, 39), OSCORE_E_REPLAY);
	assert_int_equal(oscore_replay_check(&w, 40), OSCORE_E_REPLAY);
}

static void test_window_check_does_not_change_state(void **state)
{
	oscore_replay w;
	oscore_replay_init(&w, 32);
	accept(&w, 3);
	oscore_replay copy = w;
	assert_int_equal(oscore_replay_check(&w, 2), 0);
	assert_int_equal(oscore_replay_check(&w, 50), 0);
	assert_memory_equal(&copy, &w, sizeof(w));
	assert_int_equal(oscore_replay_check(&w, 2), 0); /* still new */
}

static void test_window_sizes_32_and_64_have_their_edges(void **state)
{
	oscore_replay w32, w64;
	oscore_replay_init(&w32, 32);
	oscore_replay_init(&w64, 64);
	accept(&w32, 100);
	accept(&w64, 100);
	assert_int_equal(oscore_replay_check(&w32, 69), 0);
	assert_int_equal(oscore_replay_check(&w32, 68), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_replay_check(&w64, 37), 0);
	assert_int_equal(oscore_replay_check(&w64, 36), OSCORE_E_TOO_OLD);
	/* Fill every position of the 64-entry window, then all are replays. */
	for (uint64_t p = 37; p < 100; p++)
		accept(&w64, p);
	for (uint64_t p = 37; p <= 100; p++)
		assert_int_equal(oscore_replay_check(&w64, p), OSCORE_E_REPLAY);
	assert_int_equal(w64.bitmap, UINT64_MAX);
	accept(&w64, 101);
	assert_int_equal(oscore_replay_check(&w64, 37), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_replay_check(&w64, 38), OSCORE_E_REPLAY);
}

static void test_window_jump_of_64_or_more_clears_the_bitmap(void **state)
{
	static const unsigned sizes[] = {32, 64};
	for (size_t i = 0; i < 2; i++) {
		oscore_replay w;
		oscore_replay_init(&w, sizes[i]);
		for (uint64_t p = 0; p < 10; p++)
			accept(&w, p);
		accept(&w, 9 + 64); /* shift of exactly 64 */
		assert_int_equal(w.bitmap, 1);
		accept(&w, 9 + 64 + 1000);
		assert_int_equal(w.bitmap, 1);
		uint64_t hi = 9 + 64 + 1000;
		assert_int_equal(oscore_replay_check(&w, hi - sizes[i] + 1), 0);
		assert_int_equal(oscore_replay_check(&w, hi - sizes[i]), OSCORE_E_TOO_OLD);
		/* The top of the Partial IV space is reachable. */
		accept(&w, OSCORE_SEQ_MAX);
		assert_int_equal(oscore_replay_check(&w, OSCORE_SEQ_MAX), OSCORE_E_REPLAY);
		assert_int_equal(oscore_replay_check(&w, hi), OSCORE_E_TOO_OLD);
	}
}

static void test_window_start_at_makes_lower_limit(void **state)
{
	oscore_replay w;
	oscore_replay_init(&w, 32);
	oscore_replay_start_at(&w, 50);
	for (uint64_t p = 19; p <= 50; p++)
		assert_int_equal(oscore_replay_check(&w, p), OSCORE_E_REPLAY);
	assert_int_equal(oscore_replay_check(&w, 18), OSCORE_E_TOO_OLD);
	accept(&w, 51);
}

/* ---- through the protect/unprotect API ---- */

typedef struct lease_store {
	uint64_t stored; /* what a restart would read */
	unsigned calls;
	bool fail;
	uint64_t highest_used; /* highest PIV a message went out with, +1 */
} lease_store;

static int lease_cb(void *arg, uint64_t new_limit)
{
	lease_store *s = arg;
	s->calls++;
	if (s->fail)
		return -1;
	/* The numbers being leased must never have been used. */
	assert_true(new_limit > s->stored);
	assert_true(s->highest_used <= s->stored || s->stored == 0);
	s->stored = new_limit;
	return 0;
}

static oscore_ctx *make_ctx(bool client, uint64_t seq, bool restored, lease_store *s,
                            uint64_t block, unsigned window)
{
	oscore_ctx_params p = {
	    .master_secret = secret,
	    .master_secret_len = sizeof(secret),
	    .master_salt = salt,
	    .master_salt_len = sizeof(salt),
	    .sender_id = client ? id_client : id_server,
	    .sender_id_len = 1,
	    .recipient_id = client ? id_server : id_client,
	    .recipient_id_len = 1,
	    .sender_seq = seq,
	    .restored = restored,
	    .lease = s ? lease_cb : NULL,
	    .lease_arg = s,
	    .lease_block = block,
	    .replay_window = window,
	};
	oscore_ctx *c = NULL;
	assert_int_equal(oscore_ctx_new(&p, &c), 0);
	return c;
}

static uint64_t piv_of(const oscore_request_info *info)
{
	uint64_t v = 0;
	for (size_t i = 0; i < info->piv_len; i++)
		v = v << 8 | info->piv[i];
	return v;
}

typedef struct wire {
	uint8_t bytes[256];
	size_t len;
} wire;

/* Client sends GET /x (with an Echo option when echo != NULL). */
static int send_get(oscore_ctx *cl, const uint8_t *echo, wire *w, oscore_request_info *info,
                    lease_store *s)
{
	oscore_msg req, outer;
	uint8_t buf[256];
	oscore_coap_hdr hdr = {.type = 0, .mid = 1, .token = {7}, .token_len = 1};
	oscore_msg_init(&req, OSCORE_CODE_GET);
	assert_int_equal(oscore_msg_add(&req, OSCORE_OPT_URI_PATH, (const uint8_t *)"x", 1), 0);
	if (echo)
		assert_int_equal(oscore_msg_add(&req, OSCORE_OPT_ECHO, echo, OSCORE_ECHO_LEN), 0);
	int r = oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, info);
	if (r < 0)
		return r;
	if (s) {
		uint64_t p = piv_of(info);
		assert_true(p < s->stored); /* leased before use */
		if (p + 1 > s->highest_used)
			s->highest_used = p + 1;
	}
	assert_int_equal(oscore_coap_encode(&hdr, &outer, w->bytes, sizeof(w->bytes), &w->len), 0);
	return 0;
}

static int receive(oscore_ctx *sv, const wire *w, uint8_t *buf, size_t cap, oscore_msg *inner,
                   oscore_request_info *info)
{
	oscore_coap_hdr hdr;
	oscore_msg outer;
	oscore_header h;
	assert_int_equal(oscore_coap_decode(w->bytes, w->len, &hdr, &outer), 0);
	assert_int_equal(oscore_request_header(&outer, &h), 0);
	assert_true(oscore_ctx_matches(sv, &h));
	return oscore_unprotect_request(sv, &outer, buf, cap, inner, info);
}

static void test_window_untouched_by_failed_decryption(void **state)
{
	oscore_ctx *cl = make_ctx(true, 5, false, NULL, 0, 0);
	oscore_ctx *sv = make_ctx(false, 0, false, NULL, 0, 0);
	wire w;
	oscore_request_info ci, si;
	oscore_msg inner;
	uint8_t buf[256];
	assert_int_equal(send_get(cl, NULL, &w, &ci, NULL), 0);
	w.bytes[w.len - 1] ^= 0x80; /* tag */
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), OSCORE_E_DECRYPT);
	w.bytes[w.len - 1] ^= 0x80;
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), OSCORE_E_REPLAY);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_window_64_through_api(void **state)
{
	oscore_ctx *cl = make_ctx(true, 0, false, NULL, 0, 0);
	oscore_ctx *sv = make_ctx(false, 0, false, NULL, 0, 64);
	wire first, w;
	oscore_request_info ci, si;
	oscore_msg inner;
	uint8_t buf[256];
	assert_int_equal(send_get(cl, NULL, &first, &ci, NULL), 0); /* PIV 0, held back */
	for (int i = 0; i < 63; i++)
		assert_int_equal(send_get(cl, NULL, &w, &ci, NULL), 0);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);     /* PIV 63 */
	assert_int_equal(receive(sv, &first, buf, sizeof(buf), &inner, &si), 0); /* 63 back */
	assert_int_equal(send_get(cl, NULL, &w, &ci, NULL), 0);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0); /* PIV 64 */
	assert_int_equal(receive(sv, &first, buf, sizeof(buf), &inner, &si), OSCORE_E_TOO_OLD);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_TOO_OLD), OSCORE_CODE_UNAUTHORIZED);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_bad_window_size_rejected(void **state)
{
	oscore_ctx_params p = {
	    .master_secret = secret,
	    .master_secret_len = 16,
	    .sender_id = id_client,
	    .sender_id_len = 1,
	    .recipient_id = id_server,
	    .recipient_id_len = 1,
	    .replay_window = 65,
	};
	oscore_ctx *c = NULL;
	assert_int_equal(oscore_ctx_new(&p, &c), EDHOC_E_INVALID_ARGUMENT);
	assert_null(c);
}

/* ---- leases ---- */

static void test_lease_is_stored_before_first_use_and_per_block(void **state)
{
	lease_store s = {0};
	oscore_ctx *cl = make_ctx(true, 0, false, &s, 10, 0);
	oscore_request_info ci;
	wire w;
	assert_int_equal(s.calls, 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
		assert_int_equal(piv_of(&ci), (uint64_t)i);
	}
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.stored, 10);
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.stored, 20);
	assert_int_equal(oscore_ctx_lease_limit(cl), 20);
	assert_int_equal(oscore_ctx_sender_seq(cl), 11);
	oscore_ctx_free(cl);
}

static void test_restart_after_crash_continues_above_stored_limit(void **state)
{
	lease_store s = {0};
	oscore_ctx *cl = make_ctx(true, 0, false, &s, 16, 0);
	oscore_ctx *sv = make_ctx(false, 0, false, NULL, 0, 0);
	oscore_request_info ci, si;
	oscore_msg inner;
	uint8_t buf[256];
	wire w;
	for (int i = 0; i < 20; i++) /* uses 0..19, leased up to 32 */
		assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(s.stored, 32);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);

	/* kill -9: the context and its counter are gone, the store is not. */
	oscore_ctx_free(cl);
	cl = make_ctx(true, s.stored, false, &s, 16, 0);
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(piv_of(&ci), 32);
	assert_int_equal(s.stored, 48); /* leased again before 32 was used */
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);
	oscore_ctx_free(cl);

	/* Crash between a lease and any use of it: the leased block is
	 * skipped, never reused. */
	cl = make_ctx(true, s.stored, false, &s, 16, 0);
	assert_int_equal(oscore_ctx_lease(cl), 0);
	assert_int_equal(s.stored, 64);
	oscore_ctx_free(cl);
	cl = make_ctx(true, s.stored, false, &s, 16, 0);
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(piv_of(&ci), 64);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_failed_lease_sends_nothing(void **state)
{
	lease_store s = {.fail = true};
	oscore_ctx *cl = make_ctx(true, 0, false, &s, 8, 0);
	oscore_request_info ci;
	wire w;
	memset(&ci, 0xaa, sizeof(ci));
	oscore_request_info before = ci;
	assert_int_equal(send_get(cl, NULL, &w, &ci, NULL), OSCORE_E_LEASE_FAILED);
	assert_memory_equal(&ci, &before, sizeof(ci));
	assert_int_equal(oscore_ctx_sender_seq(cl), 0);
	assert_int_equal(oscore_ctx_lease_limit(cl), 0);
	s.fail = false;
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(piv_of(&ci), 0);
	oscore_ctx_free(cl);
}

static void test_sequence_number_space_ends_at_2_pow_40(void **state)
{
	lease_store s = {.stored = OSCORE_SEQ_MAX - 1};
	oscore_ctx *cl = make_ctx(true, OSCORE_SEQ_MAX - 1, false, &s, 100, 0);
	oscore_ctx *sv = make_ctx(false, 0, false, NULL, 0, 0);
	oscore_request_info ci, si;
	oscore_msg inner;
	uint8_t buf[256];
	wire w;
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(s.stored, OSCORE_SEQ_MAX + 1); /* capped */
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), 0);
	assert_int_equal(ci.piv_len, 5);
	assert_int_equal(piv_of(&ci), OSCORE_SEQ_MAX);
	assert_int_equal(receive(sv, &w, buf, sizeof(buf), &inner, &si), 0);
	assert_int_equal(send_get(cl, NULL, &w, &ci, &s), OSCORE_E_SEQ_EXHAUSTED);
	assert_int_equal(s.calls, 1);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

/* ---- Echo re-initialisation ---- */

static int fixed_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint8_t *next = ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((*next)++);
	return 0;
}

static int failing_rng(void *ctx, uint8_t *buf, size_t len)
{
	return EDHOC_E_RNG;
}

static void test_restored_server_requires_echo_then_accepts(void **state)
{
	lease_store ss = {.stored = 1000};
	oscore_ctx *cl = make_ctx(true, 50, false, NULL, 0, 0);
	oscore_ctx *sv = make_ctx(false, ss.stored, true, &ss, 100, 0);
	oscore_request_info ci, si;
	oscore_msg inner, outer, resp;
	uint8_t buf[256], rbuf[256], cbuf[256];
	wire w1, w2, old;
	assert_false(oscore_ctx_window_ready(sv));

	/* A request from before the restart (PIV 49) and the first new one. */
	cl = (oscore_ctx_free(cl), make_ctx(true, 49, false, NULL, 0, 0));
	assert_int_equal(send_get(cl, NULL, &old, &ci, NULL), 0);
	assert_int_equal(send_get(cl, NULL, &w1, &ci, NULL), 0);
	assert_int_equal(receive(sv, &w1, buf, sizeof(buf), &inner, &si), OSCORE_E_ECHO_REQUIRED);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_ECHO_REQUIRED), OSCORE_CODE_UNAUTHORIZED);
	/* The request was decrypted and is handed back, but not to be served. */
	assert_int_equal(inner.code, OSCORE_CODE_GET);
	assert_non_null(oscore_msg_find(&inner, OSCORE_OPT_URI_PATH));
	assert_true(si.must_use_piv);
	assert_false(oscore_ctx_window_ready(sv));

	uint8_t seed = 0x40;
	assert_int_equal(
	    oscore_protect_echo_response(sv, &si, fixed_rng, &seed, rbuf, sizeof(rbuf), &outer), 0);
	/* Own Partial IV (the restored sender sequence number 1000 = 0x03e8). */
	const oscore_option *o = oscore_msg_find(&outer, OSCORE_OPT_OSCORE);
	assert_non_null(o);
	assert_int_equal(o->len, 3);
	assert_memory_equal(o->value, "\x02\x03\xe8", 3);
	assert_int_equal(outer.code, OSCORE_CODE_CHANGED);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &outer, cbuf, sizeof(cbuf), &resp), 0);
	assert_int_equal(resp.code, OSCORE_CODE_UNAUTHORIZED);
	const oscore_option *echo = oscore_msg_find(&resp, OSCORE_OPT_ECHO);
	assert_non_null(echo);
	assert_int_equal(echo->len, OSCORE_ECHO_LEN);
	assert_memory_equal(echo->value, "\x40\x41\x42\x43\x44\x45\x46\x47", 8);
	assert_int_equal(resp.payload_len, 0);
	uint8_t echo_val[OSCORE_ECHO_LEN];
	memcpy(echo_val, echo->value, sizeof(echo_val));

	/* A wrong Echo is another challenge, not an acceptance. */
	uint8_t wrong[OSCORE_ECHO_LEN] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x00};
	assert_int_equal(send_get(cl, wrong, &w2, &ci, NULL), 0);
	assert_int_equal(receive(sv, &w2, buf, sizeof(buf), &inner, &si), OSCORE_E_ECHO_REQUIRED);

	assert_int_equal(send_get(cl, echo_val, &w2, &ci, NULL), 0); /* PIV 52 */
	assert_int_equal(receive(sv, &w2, buf, sizeof(buf), &inner, &si), 0);
	assert_true(oscore_ctx_window_ready(sv));
	assert_null(oscore_msg_find(&inner, OSCORE_OPT_ECHO)); /* consumed */
	assert_false(si.must_use_piv);

	/* The Echo request is the lower limit: it and older ones are replays. */
	assert_int_equal(receive(sv, &w2, buf, sizeof(buf), &inner, &si), OSCORE_E_REPLAY);
	assert_int_equal(receive(sv, &old, buf, sizeof(buf), &inner, &si), OSCORE_E_REPLAY);
	assert_int_equal(receive(sv, &w1, buf, sizeof(buf), &inner, &si), OSCORE_E_REPLAY);
	/* The Echo value cannot be used twice. */
	oscore_ctx *sv2 = make_ctx(false, 2000, true, NULL, 0, 0);
	assert_int_equal(receive(sv2, &w2, buf, sizeof(buf), &inner, &si), OSCORE_E_ECHO_REQUIRED);
	oscore_ctx_free(sv2);

	/* Normal traffic goes on, and responses may reuse the request nonce. */
	assert_int_equal(send_get(cl, NULL, &w1, &ci, NULL), 0);
	assert_int_equal(receive(sv, &w1, buf, sizeof(buf), &inner, &si), 0);
	oscore_msg ok;
	oscore_msg_init(&ok, OSCORE_CODE_CONTENT);
	assert_int_equal(oscore_protect_response(sv, &si, &ok, false, rbuf, sizeof(rbuf), &outer),
	                 0);
	o = oscore_msg_find(&outer, OSCORE_OPT_OSCORE);
	assert_int_equal(o->len, 0);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &outer, cbuf, sizeof(cbuf), &resp), 0);
	assert_int_equal(resp.code, OSCORE_CODE_CONTENT);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_echo_rng_failure_is_reported(void **state)
{
	oscore_ctx *sv = make_ctx(false, 0, true, NULL, 0, 0);
	oscore_request_info si = {
	    .kid = {1}, .kid_len = 1, .piv = {5}, .piv_len = 1, .must_use_piv = true};
	uint8_t buf[128];
	oscore_msg outer;
	assert_int_equal(
	    oscore_protect_echo_response(sv, &si, failing_rng, NULL, buf, sizeof(buf), &outer),
	    EDHOC_E_RNG);
	assert_int_equal(oscore_ctx_sender_seq(sv), 0);
	oscore_ctx_free(sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_accepts_in_order),
	    cmocka_unit_test(test_window_accepts_out_of_order_within_window_once),
	    cmocka_unit_test(test_window_check_does_not_change_state),
	    cmocka_unit_test(test_window_sizes_32_and_64_have_their_edges),
	    cmocka_unit_test(test_window_jump_of_64_or_more_clears_the_bitmap),
	    cmocka_unit_test(test_window_start_at_makes_lower_limit),
	    cmocka_unit_test(test_window_untouched_by_failed_decryption),
	    cmocka_unit_test(test_window_64_through_api),
	    cmocka_unit_test(test_bad_window_size_rejected),
	    cmocka_unit_test(test_lease_is_stored_before_first_use_and_per_block),
	    cmocka_unit_test(test_restart_after_crash_continues_above_stored_limit),
	    cmocka_unit_test(test_failed_lease_sends_nothing),
	    cmocka_unit_test(test_sequence_number_space_ends_at_2_pow_40),
	    cmocka_unit_test(test_restored_server_requires_echo_then_accepts),
	    cmocka_unit_test(test_echo_rng_failure_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
