/* Outer block-wise transfer of OSCORE messages (src/gateway/outer_block.c):
 * a real protected request split into outer Block1 parts, reassembled and
 * verified once; a real protected response served in outer Block2 blocks
 * and verified by the client once reassembled; gaps, limits, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/oscore.h"
#include "edhoc/result.h"
#include "gateway/outer_block.h"

#define CODE(c, d) ((uint8_t)(((c) << 5) | (d)))
#define BIG        12000

static const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t dev_id[1] = {0x01}, gw_id[1] = {0x00};

struct fx {
	oscore_ctx *dev, *gw;
	gw_ob *ob;
	gw_addr peer, peer2;
	uint8_t body[BIG];
	uint8_t prot[BIG + 2048];
	uint8_t plain[BIG + 2048];
	uint8_t plain2[BIG + 2048];
	oscore_msg outer; /* the protected request */
	oscore_request_info dev_info;
};

static oscore_ctx *ctx_new(const uint8_t *sid, const uint8_t *rid)
{
	oscore_ctx_params p;
	oscore_ctx *c = NULL;
	memset(&p, 0, sizeof(p));
	p.master_secret = secret;
	p.master_secret_len = sizeof(secret);
	p.master_salt = salt;
	p.master_salt_len = sizeof(salt);
	p.sender_id = sid;
	p.sender_id_len = 1;
	p.recipient_id = rid;
	p.recipient_id_len = 1;
	assert_int_equal(oscore_ctx_new(&p, &c), 0);
	return c;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dev = ctx_new(dev_id, gw_id);
	f->gw = ctx_new(gw_id, dev_id);
	f->ob = gw_ob_create(8, 8192);
	assert_non_null(f->ob);
	assert_int_equal(gw_addr_parse("127.0.0.1:40000", 0, &f->peer), 0);
	assert_int_equal(gw_addr_parse("127.0.0.1:40001", 0, &f->peer2), 0);
	for (size_t i = 0; i < sizeof(f->body); i++)
		f->body[i] = (uint8_t)(i * 7 + 3);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	oscore_ctx_free(f->dev);
	oscore_ctx_free(f->gw);
	gw_ob_free(f->ob);
	free(f);
	return 0;
}

/* The device protects a PUT /echo with n bytes of body into f->outer. */
static void protect_put(struct fx *f, size_t n)
{
	oscore_msg in;
	oscore_msg_init(&in, OSCORE_CODE_PUT);
	oscore_msg_add(&in, OSCORE_OPT_URI_PATH, (const uint8_t *)"echo", 4);
	oscore_msg_set_payload(&in, f->body, n);
	assert_int_equal(
	    oscore_protect_request(f->dev, &in, f->prot, sizeof(f->prot), &f->outer, &f->dev_info),
	    0);
}

/* Part num of f->outer (SZX szx) with Block1 (and Size1 on part 0 when
 * size1 is set). */
static void part(const struct fx *f, uint32_t num, unsigned szx, bool size1, oscore_msg *m,
                 uint8_t b1v[3], uint8_t s1v[4])
{
	size_t size = gw_block_size(szx), off = (size_t)num * size;
	size_t n = f->outer.payload_len - off > size ? size : f->outer.payload_len - off;
	gw_block_opt b = {num, off + n < f->outer.payload_len, szx};
	*m = f->outer;
	oscore_msg_set_payload(m, f->outer.payload + off, n);
	oscore_msg_add(m, OSCORE_OPT_BLOCK1, b1v, gw_block_encode(&b, b1v));
	if (size1 && num == 0)
		oscore_msg_add(m, OSCORE_OPT_SIZE1, s1v,
		               oscore_uint_encode((uint32_t)f->outer.payload_len, s1v));
}

static uint32_t opt_uint(const oscore_msg *m, uint16_t num)
{
	const oscore_option *o = oscore_msg_find(m, num);
	uint32_t v = 0;
	assert_non_null(o);
	assert_int_equal(oscore_uint_decode(o->value, o->len, &v), 0);
	return v;
}

static gw_block_opt opt_block(const oscore_msg *m, uint16_t num)
{
	const oscore_option *o = oscore_msg_find(m, num);
	gw_block_opt b;
	assert_non_null(o);
	assert_int_equal(gw_block_decode(o->value, o->len, &b), 0);
	return b;
}

static void test_plain_request_passes_unchanged(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	gw_ob_ref ref;
	int fail = -1;
	protect_put(f, 10);
	m = f->outer;
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_PASS);
	assert_int_equal(fail, 0);
	assert_false(ref.has_b1);
	assert_false(ref.want_b2);
	assert_int_equal(m.n_opts, f->outer.n_opts);
	assert_ptr_equal(m.payload, f->outer.payload);
	assert_int_equal(gw_ob_count(f->ob), 0);
}

/* 3000 bytes in 1024-byte parts: 2.31 twice, then the whole ciphertext,
 * which verifies and decrypts to the original body. */
static void test_block1_reassembled_and_verified_once(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r, inner, resp, out;
	oscore_request_info info;
	uint8_t b1v[3], s1v[4];
	gw_ob_ref ref;
	int fail;
	protect_put(f, 3000);
	assert_true(f->outer.payload_len > 2048 && f->outer.payload_len <= 3072);
	for (uint32_t num = 0; num < 2; num++) {
		gw_block_opt b;
		part(f, num, 6, true, &m, b1v, s1v);
		assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 100 * num, &ref, &r, &fail),
		                 GW_OB_REPLY);
		assert_int_equal(fail, 0);
		assert_int_equal(r.code, CODE(2, 31));
		b = opt_block(&r, OSCORE_OPT_BLOCK1);
		assert_int_equal(b.num, num);
		assert_true(b.more);
		assert_int_equal(b.szx, 6);
		assert_int_equal(r.payload_len, 0);
	}
	part(f, 2, 6, true, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 300, &ref, &r, &fail), GW_OB_PASS);
	assert_true(ref.has_b1);
	assert_int_equal(ref.b1.num, 2);
	assert_false(ref.want_b2);
	assert_null(oscore_msg_find(&m, OSCORE_OPT_BLOCK1));
	assert_int_equal(m.payload_len, f->outer.payload_len);
	assert_memory_equal(m.payload, f->outer.payload, m.payload_len);
	assert_int_equal(
	    oscore_unprotect_request(f->gw, &m, f->plain, sizeof(f->plain), &inner, &info), 0);
	assert_int_equal(inner.code, OSCORE_CODE_PUT);
	assert_int_equal(inner.payload_len, 3000);
	assert_memory_equal(inner.payload, f->body, 3000);
	gw_ob_release(f->ob, &f->peer, &m);
	assert_int_equal(gw_ob_count(f->ob), 0);

	/* The final answer names the last part (RFC 7959 §2.3). */
	oscore_msg_init(&inner, CODE(2, 4));
	assert_int_equal(
	    oscore_protect_response(f->gw, &info, &inner, false, f->prot, sizeof(f->prot), &resp),
	    0);
	assert_int_equal(gw_ob_response(f->ob, &ref, &resp, 400, &out), 0);
	{
		gw_block_opt b = opt_block(&out, OSCORE_OPT_BLOCK1);
		assert_int_equal(b.num, 2);
		assert_false(b.more);
		assert_int_equal(b.szx, 6);
	}
	assert_null(oscore_msg_find(&out, OSCORE_OPT_BLOCK2));
	/* The device verifies it (outer Block1 is not protected). */
	assert_int_equal(oscore_unprotect_response(f->dev, &f->dev_info, &out, f->plain,
	                                           sizeof(f->plain), &inner),
	                 0);
	assert_int_equal(inner.code, CODE(2, 4));
}

static void test_block1_gap_gives_408(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b1v[3], s1v[4];
	gw_ob_ref ref;
	int fail;
	protect_put(f, 3000);
	part(f, 0, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(2, 31));
	part(f, 2, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 10, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
	assert_int_equal(fail, GW_E_BLOCK_INCOMPLETE);
	/* The transfer is gone: the missing part does not resume it. */
	part(f, 1, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 20, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
	assert_int_equal(gw_ob_count(f->ob), 0);
}

/* A part from another address (or with another Request-Tag) belongs to
 * another transfer. */
static void test_block1_keyed_by_peer(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b1v[3], s1v[4];
	gw_ob_ref ref;
	int fail;
	protect_put(f, 3000);
	part(f, 0, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(2, 31));
	part(f, 1, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer2, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
	/* The first peer's transfer goes on. */
	part(f, 1, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(2, 31));
}

/* payload_max 8192: messages up to 8192 + GW_OB_OVERHEAD. */
static void test_block1_too_large_gives_413(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b1v[3], s1v[4];
	gw_ob_ref ref;
	int fail;
	uint32_t k;
	assert_int_equal(gw_ob_msg_max(f->ob), 8192 + GW_OB_OVERHEAD);
	protect_put(f, 11000);
	/* Announced by Size1: refused at the first part. */
	part(f, 0, 6, true, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 13));
	assert_int_equal(opt_uint(&r, OSCORE_OPT_SIZE1), 8192 + GW_OB_OVERHEAD);
	assert_int_equal(fail, EDHOC_E_MESSAGE_TOO_LARGE);
	assert_int_equal(gw_ob_count(f->ob), 0);
	/* Without Size1: refused at the part that crosses the limit. */
	for (k = 0; k < 9; k++) {
		part(f, k, 6, false, &m, b1v, s1v);
		assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail),
		                 GW_OB_REPLY);
		assert_int_equal(r.code, CODE(2, 31));
	}
	part(f, 9, 6, false, &m, b1v, s1v); /* 10240 > 9233 */
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 13));
	assert_int_equal(opt_uint(&r, OSCORE_OPT_SIZE1), 8192 + GW_OB_OVERHEAD);
	assert_int_equal(gw_ob_count(f->ob), 0);
}

static void test_block1_wrong_part_size_and_bad_option(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b1v[3], s1v[4], bad[4] = {1, 2, 3, 4};
	gw_ob_ref ref;
	int fail;
	protect_put(f, 3000);
	part(f, 0, 6, false, &m, b1v, s1v);
	m.payload_len = 500; /* M=1 but not a whole block */
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 0));
	m = f->outer;
	oscore_msg_add(&m, OSCORE_OPT_BLOCK1, bad, 4); /* more than 3 bytes */
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 2));
	assert_int_equal(fail, OSCORE_E_OPTION_MALFORMED);
}

static void test_block1_expires(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b1v[3], s1v[4];
	gw_ob_ref ref;
	int fail;
	protect_put(f, 3000);
	part(f, 0, 6, false, &m, b1v, s1v);
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 1000, &ref, &r, &fail), GW_OB_REPLY);
	part(f, 1, 6, false, &m, b1v, s1v);
	assert_int_equal(
	    gw_ob_request(f->ob, &f->peer, &m, 1000 + GW_OB_LIFETIME_MS, &ref, &r, &fail),
	    GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
}

/* A 5000-byte answer in outer blocks of SZX szx: block 0 from
 * gw_ob_response, the others from requests with the same OSCORE option;
 * the reassembled message verifies at the device. */
static void block2_roundtrip(struct fx *f, unsigned szx)
{
	oscore_msg m, r, inner, resp, out, whole;
	oscore_request_info info;
	uint8_t b2v[3], acc[BIG];
	size_t got = 0, size = gw_block_size(szx), n_blocks;
	gw_block_opt b = {0, false, szx};
	gw_ob_ref ref;
	int fail;
	uint32_t num;

	oscore_msg_init(&inner, OSCORE_CODE_GET);
	oscore_msg_add(&inner, OSCORE_OPT_URI_PATH, (const uint8_t *)"big", 3);
	assert_int_equal(oscore_protect_request(f->dev, &inner, f->prot, sizeof(f->prot), &f->outer,
	                                        &f->dev_info),
	                 0);
	m = f->outer;
	oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 0, &ref, &r, &fail), GW_OB_PASS);
	assert_true(ref.want_b2);
	assert_int_equal(ref.b2_szx, szx);
	assert_null(oscore_msg_find(&m, OSCORE_OPT_BLOCK2));
	assert_int_equal(
	    oscore_unprotect_request(f->gw, &m, f->plain, sizeof(f->plain), &inner, &info), 0);

	oscore_msg_init(&inner, CODE(2, 5));
	oscore_msg_set_payload(&inner, f->body, 5000);
	assert_int_equal(
	    oscore_protect_response(f->gw, &info, &inner, false, f->plain, sizeof(f->plain), &resp),
	    0);
	assert_int_equal(gw_ob_response(f->ob, &ref, &resp, 10, &out), 0);
	n_blocks = (resp.payload_len + size - 1) / size;
	for (num = 0;; num++) {
		gw_block_opt ob = opt_block(&out, OSCORE_OPT_BLOCK2);
		assert_int_equal(out.code, resp.code);
		assert_non_null(oscore_msg_find(&out, OSCORE_OPT_OSCORE));
		assert_int_equal(ob.num, num);
		assert_int_equal(ob.szx, szx);
		assert_int_equal(opt_uint(&out, OSCORE_OPT_SIZE2), resp.payload_len);
		assert_true(got + out.payload_len <= sizeof(acc));
		memcpy(acc + got, out.payload, out.payload_len);
		got += out.payload_len;
		if (!ob.more)
			break;
		assert_int_equal(out.payload_len, size);
		assert_true(num < 1000);
		/* Next block: the same OSCORE option, outer Block2, no payload. */
		b.num = num + 1;
		m = f->outer;
		oscore_msg_set_payload(&m, NULL, 0);
		oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
		assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 20 + num, &ref, &out, &fail),
		                 GW_OB_REPLY);
		assert_int_equal(fail, 0);
	}
	assert_int_equal(num + 1, n_blocks);
	assert_int_equal(got, resp.payload_len);
	assert_memory_equal(acc, resp.payload, got);
	/* The device verifies the reassembled message once. */
	whole = resp;
	oscore_msg_set_payload(&whole, acc, got);
	assert_int_equal(oscore_unprotect_response(f->dev, &f->dev_info, &whole, f->plain2,
	                                           sizeof(f->plain2), &inner),
	                 0);
	assert_int_equal(inner.code, CODE(2, 5));
	assert_int_equal(inner.payload_len, 5000);
	assert_memory_equal(inner.payload, f->body, 5000);
}

static void test_block2_5000_bytes_szx6(void **state)
{
	block2_roundtrip(*state, 6);
}

static void test_block2_5000_bytes_szx2(void **state)
{
	block2_roundtrip(*state, 2);
}

static void test_block2_unknown_out_of_range_and_dropped(void **state)
{
	struct fx *f = *state;
	oscore_msg m, r;
	uint8_t b2v[3];
	gw_block_opt b = {9, false, 6};
	gw_ob_ref ref;
	int fail;
	block2_roundtrip(f, 6);
	/* Past the end of the kept message (5 blocks). */
	m = f->outer;
	oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 100, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 2));
	/* From another address: nothing kept for it. */
	b.num = 1;
	m = f->outer;
	oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
	assert_int_equal(gw_ob_request(f->ob, &f->peer2, &m, 100, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
	assert_int_equal(fail, GW_E_BLOCK_INCOMPLETE);
	/* The session is dropped: its kept answers go too. */
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 100, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(2, 4));
	gw_ob_drop_rid(f->ob, dev_id, sizeof(dev_id));
	assert_int_equal(gw_ob_request(f->ob, &f->peer, &m, 100, &ref, &r, &fail), GW_OB_REPLY);
	assert_int_equal(r.code, CODE(4, 8));
}

/* Small protected answers and unprotected errors go out as they are. */
static void test_block2_small_and_unprotected_pass(void **state)
{
	struct fx *f = *state;
	oscore_msg resp, out;
	gw_ob_ref ref;
	uint8_t osc[1] = {0};
	memset(&ref, 0, sizeof(ref));
	ref.want_b2 = true;
	ref.b2_szx = 6;
	ref.rid[0] = 1;
	ref.rid_len = 1;
	oscore_msg_init(&resp, CODE(2, 4));
	oscore_msg_add(&resp, OSCORE_OPT_OSCORE, osc, 0);
	oscore_msg_set_payload(&resp, f->body, 1024);
	assert_int_equal(gw_ob_response(f->ob, &ref, &resp, 0, &out), 0);
	assert_null(oscore_msg_find(&out, OSCORE_OPT_BLOCK2));
	assert_int_equal(out.payload_len, 1024);
	oscore_msg_init(&resp, CODE(4, 1));
	oscore_msg_set_payload(&resp, f->body, 3000);
	assert_int_equal(gw_ob_response(f->ob, &ref, &resp, 0, &out), 0);
	assert_null(oscore_msg_find(&out, OSCORE_OPT_BLOCK2));
	assert_int_equal(out.payload_len, 3000);
	assert_int_equal(gw_ob_count(f->ob), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_request_passes_unchanged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block1_reassembled_and_verified_once, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_block1_gap_gives_408, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block1_keyed_by_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block1_too_large_gives_413, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block1_wrong_part_size_and_bad_option, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_block1_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block2_5000_bytes_szx6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block2_5000_bytes_szx2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block2_unknown_out_of_range_and_dropped, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_block2_small_and_unprotected_pass, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
