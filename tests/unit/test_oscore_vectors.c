/* OSCORE against RFC 8613 Appendix C (byte-exact), our negative cases
 * (negative-ours.json groups oscore_request and oscore_sequence) and the
 * EDHOC -> OSCORE hand-over with RFC 9529 trace 2's exported values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/oscore.h"
#include "testutil.h"

static json_t *osc_vectors;
static json_t *neg_vectors;
static json_t *edhoc_vectors;

static int setup(void **state)
{
	osc_vectors = tu_load_vectors("oscore-rfc8613.json");
	neg_vectors = tu_load_vectors("negative-ours.json");
	edhoc_vectors = tu_load_vectors("edhoc-rfc9529.json");
	return 0;
}

static int teardown(void **state)
{
	json_decref(osc_vectors);
	json_decref(neg_vectors);
	json_decref(edhoc_vectors);
	return 0;
}

static void assert_hex_eq(const uint8_t *got, size_t got_len, json_t *obj, const char *key)
{
	size_t len;
	uint8_t *want = tu_hex_member(obj, key, &len);
	if (got_len != len || (len && memcmp(got, want, len) != 0)) {
		print_error("%s: want %s\n", key, json_string_value(json_object_get(obj, key)));
		print_error("%s: got  %s\n", key, tu_to_hex(got, got_len));
		free(want);
		fail();
	}
	free(want);
}

/* Context for one side ("client"/"server") of a key_derivation entry. */
static oscore_ctx *ctx_from_vector(json_t *kd, const char *side, uint64_t seq, bool kid_ctx)
{
	json_t *in = json_object_get(json_object_get(kd, side), "inputs");
	size_t ms_len, salt_len = 0, sid_len, rid_len, idc_len = 0;
	uint8_t *ms = tu_hex_member(in, "master_secret", &ms_len);
	uint8_t *salt = tu_hex(json_string_value(json_object_get(in, "master_salt")), &salt_len);
	uint8_t *sid = tu_hex_member(in, "sender_id", &sid_len);
	uint8_t *rid = tu_hex_member(in, "recipient_id", &rid_len);
	uint8_t *idc = tu_hex(json_string_value(json_object_get(in, "id_context")), &idc_len);
	oscore_ctx_params p = {
	    .master_secret = ms,
	    .master_secret_len = ms_len,
	    .master_salt = salt,
	    .master_salt_len = salt_len,
	    .sender_id = sid,
	    .sender_id_len = sid_len,
	    .recipient_id = rid,
	    .recipient_id_len = rid_len,
	    .has_id_context = idc != NULL,
	    .id_context = idc,
	    .id_context_len = idc_len,
	    .aead_alg = (int)json_integer_value(json_object_get(kd, "aead_alg")),
	    .sender_seq = seq,
	    .send_kid_context = kid_ctx,
	};
	oscore_ctx *c = NULL;
	assert_int_equal(oscore_ctx_new(&p, &c), 0);
	free(ms);
	free(salt);
	free(sid);
	free(rid);
	free(idc);
	return c;
}

static json_t *key_derivation(const char *id)
{
	json_t *kds = json_object_get(osc_vectors, "key_derivation");
	for (size_t i = 0; i < json_array_size(kds); i++) {
		json_t *kd = json_array_get(kds, i);
		if (strcmp(json_string_value(json_object_get(kd, "id")), id) == 0)
			return kd;
	}
	fail_msg("no key derivation %s", id);
	return NULL;
}

static json_t *message_vector(const char *id)
{
	json_t *ms = json_object_get(osc_vectors, "messages");
	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *m = json_array_get(ms, i);
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			return m;
	}
	fail_msg("no message %s", id);
	return NULL;
}

static void test_key_derivation_matches_c1_to_c3(void **state)
{
	json_t *kds = json_object_get(osc_vectors, "key_derivation");
	assert_int_equal(json_array_size(kds), 3);
	for (size_t i = 0; i < json_array_size(kds); i++) {
		json_t *kd = json_array_get(kds, i);
		for (int s = 0; s < 2; s++) {
			const char *side = s ? "server" : "client";
			json_t *sv = json_object_get(kd, side);
			oscore_ctx *c = ctx_from_vector(kd, side, 0, false);
			uint8_t sk[CRYPTO_MAX_AEAD_KEY], rk[CRYPTO_MAX_AEAD_KEY];
			uint8_t iv[CRYPTO_MAX_AEAD_NONCE];
			oscore_ctx_export_keys(c, sk, rk, iv);
			assert_hex_eq(sk, 16, sv, "sender_key");
			assert_hex_eq(rk, 16, sv, "recipient_key");
			assert_hex_eq(iv, 13, sv, "common_iv");
			oscore_ctx_free(c);
		}
	}
}

/* Decodes a whole CoAP datagram from a hex member. */
static uint8_t *decode_member(json_t *obj, const char *key, oscore_coap_hdr *hdr, oscore_msg *m)
{
	size_t len;
	uint8_t *b = tu_hex_member(obj, key, &len);
	assert_int_equal(oscore_coap_decode(b, len, hdr, m), 0);
	return b;
}

static void assert_coap_eq(const oscore_coap_hdr *hdr, const oscore_msg *m, json_t *obj,
                           const char *key)
{
	uint8_t out[512];
	size_t len;
	assert_int_equal(oscore_coap_encode(hdr, m, out, sizeof(out), &len), 0);
	assert_hex_eq(out, len, obj, key);
}

static void test_requests_c4_to_c6_are_protected_byte_exactly(void **state)
{
	static const char *ids[] = {"C.4", "C.5", "C.6"};
	for (size_t i = 0; i < 3; i++) {
		json_t *mv = message_vector(ids[i]);
		json_t *kd =
		    key_derivation(json_string_value(json_object_get(mv, "security_context_from")));
		uint64_t seq = json_integer_value(json_object_get(mv, "sender_sequence_number"));
		bool kid_ctx = json_object_get(mv, "kid_context") != NULL;
		oscore_ctx *cl = ctx_from_vector(kd, "client", seq, kid_ctx);
		oscore_ctx *sv = ctx_from_vector(kd, "server", 0, false);
		oscore_coap_hdr hdr;
		oscore_msg req, outer, inner;
		oscore_request_info info, sinfo;
		uint8_t buf[256], sbuf[256];
		uint8_t *raw = decode_member(mv, "unprotected", &hdr, &req);

		assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &info),
		                 0);
		const oscore_option *o = oscore_msg_find(&outer, OSCORE_OPT_OSCORE);
		assert_non_null(o);
		assert_hex_eq(o->value, o->len, mv, "oscore_option_value");
		assert_hex_eq(outer.payload, outer.payload_len, mv, "ciphertext");
		assert_coap_eq(&hdr, &outer, mv, "protected");
		assert_hex_eq(info.piv, info.piv_len, mv, "partial_iv");
		assert_int_equal(oscore_ctx_sender_seq(cl), seq + 1);

		/* And the server recovers the original request. */
		oscore_coap_hdr shdr;
		oscore_msg received;
		uint8_t *pr = decode_member(mv, "protected", &shdr, &received);
		oscore_header h;
		assert_int_equal(oscore_request_header(&received, &h), 0);
		assert_true(oscore_ctx_matches(sv, &h));
		assert_int_equal(
		    oscore_unprotect_request(sv, &received, sbuf, sizeof(sbuf), &inner, &sinfo), 0);
		assert_coap_eq(&shdr, &inner, mv, "unprotected");
		assert_memory_equal(sinfo.piv, info.piv, info.piv_len);
		assert_int_equal(sinfo.kid_len, info.kid_len);
		free(raw);
		free(pr);
		oscore_ctx_free(cl);
		oscore_ctx_free(sv);
	}
}

static void test_responses_c7_c8_are_protected_byte_exactly(void **state)
{
	static const char *ids[] = {"C.7", "C.8"};
	json_t *kd = key_derivation("C.1");
	for (size_t i = 0; i < 2; i++) {
		json_t *mv = message_vector(ids[i]);
		bool own_piv = json_object_get(mv, "partial_iv") != NULL;
		oscore_ctx *sv = ctx_from_vector(
		    kd, "server", json_integer_value(json_object_get(mv, "sender_sequence_number")),
		    false);
		oscore_ctx *cl = ctx_from_vector(kd, "client", 20, false);
		oscore_request_info req;
		memset(&req, 0, sizeof(req));
		size_t n;
		uint8_t *kid = tu_hex_member(mv, "request_kid", &n);
		memcpy(req.kid, kid, n);
		req.kid_len = n;
		uint8_t *piv = tu_hex_member(mv, "request_partial_iv", &n);
		memcpy(req.piv, piv, n);
		req.piv_len = n;

		oscore_coap_hdr hdr;
		oscore_msg resp, outer, inner;
		uint8_t buf[256], cbuf[256];
		uint8_t *raw = decode_member(mv, "unprotected", &hdr, &resp);
		assert_int_equal(
		    oscore_protect_response(sv, &req, &resp, own_piv, buf, sizeof(buf), &outer), 0);
		const oscore_option *o = oscore_msg_find(&outer, OSCORE_OPT_OSCORE);
		assert_non_null(o);
		assert_hex_eq(o->value, o->len, mv, "oscore_option_value");
		assert_hex_eq(outer.payload, outer.payload_len, mv, "ciphertext");
		assert_coap_eq(&hdr, &outer, mv, "protected");
		assert_int_equal(oscore_ctx_sender_seq(sv), own_piv ? 1 : 0);

		/* The client side of the same exchange. */
		oscore_coap_hdr chdr;
		oscore_msg received;
		uint8_t *pr = decode_member(mv, "protected", &chdr, &received);
		assert_int_equal(
		    oscore_unprotect_response(cl, &req, &received, cbuf, sizeof(cbuf), &inner), 0);
		assert_coap_eq(&chdr, &inner, mv, "unprotected");
		/* A flipped tag bit is caught. */
		uint8_t bad[64];
		memcpy(bad, received.payload, received.payload_len);
		bad[received.payload_len - 1] ^= 1;
		received.payload = bad;
		assert_int_equal(
		    oscore_unprotect_response(cl, &req, &received, cbuf, sizeof(cbuf), &inner),
		    OSCORE_E_DECRYPT);
		free(kid);
		free(piv);
		free(raw);
		free(pr);
		oscore_ctx_free(sv);
		oscore_ctx_free(cl);
	}
}

/* The server side of the negative cases: find the context, unprotect. */
static int server_receive(oscore_ctx *c, const uint8_t *dgram, size_t len, oscore_coap_hdr *hdr,
                          uint8_t *buf, size_t cap, oscore_msg *inner)
{
	oscore_msg outer;
	oscore_header h;
	oscore_request_info info;
	int r = oscore_coap_decode(dgram, len, hdr, &outer);
	if (r < 0)
		return r;
	r = oscore_request_header(&outer, &h);
	if (r < 0)
		return r;
	if (!oscore_ctx_matches(c, &h))
		return OSCORE_E_NO_CONTEXT;
	return oscore_unprotect_request(c, &outer, buf, cap, inner, &info);
}

static uint8_t coap_code_of(const char *s)
{
	assert_true(strlen(s) == 4 && s[1] == '.');
	return OSCORE_CODE(s[0] - '0', (s[2] - '0') * 10 + (s[3] - '0'));
}

static void test_negative_oscore_requests_meet_expectations(void **state)
{
	json_t *cases = json_object_get(neg_vectors, "cases");
	json_t *kd = key_derivation("C.1");
	size_t seen = 0;
	for (size_t i = 0; i < json_array_size(cases); i++) {
		json_t *tc = json_array_get(cases, i);
		if (strcmp(json_string_value(json_object_get(tc, "group")), "oscore_request") != 0)
			continue;
		const char *id = json_string_value(json_object_get(tc, "id"));
		json_t *exp = json_object_get(tc, "expected");
		oscore_ctx *sv = ctx_from_vector(kd, "server", 0, false);
		size_t len;
		uint8_t *in = tu_hex_member(tc, "hex", &len);
		uint8_t buf[256];
		oscore_coap_hdr hdr;
		oscore_msg inner;
		if (strcmp(id, "osc-replay") == 0)
			assert_int_equal(
			    server_receive(sv, in, len, &hdr, buf, sizeof(buf), &inner), 0);
		int r = server_receive(sv, in, len, &hdr, buf, sizeof(buf), &inner);
		const char *outcome = json_string_value(json_object_get(exp, "outcome"));
		if (strcmp(outcome, "accept") == 0) {
			assert_int_equal(r, 0);
			assert_coap_eq(&hdr, &inner, exp, "inner_request");
		} else {
			if (r == 0)
				fail_msg("%s: accepted, expected reject", id);
			uint8_t want =
			    coap_code_of(json_string_value(json_object_get(exp, "coap_code")));
			if (oscore_result_coap_code(r) != want)
				fail_msg("%s: %s gives code 0x%02x, want 0x%02x", id,
				         edhoc_result_name(r), oscore_result_coap_code(r), want);
			json_t *diag = json_object_get(exp, "diagnostic");
			if (diag)
				assert_string_equal(oscore_result_diagnostic(r),
				                    json_string_value(diag));
		}
		seen++;
		free(in);
		oscore_ctx_free(sv);
	}
	assert_int_equal(seen, 10);
}

static void test_negative_oscore_sequence_window_32(void **state)
{
	json_t *cases = json_object_get(neg_vectors, "cases");
	json_t *kd = key_derivation("C.1");
	size_t seen = 0;
	for (size_t i = 0; i < json_array_size(cases); i++) {
		json_t *tc = json_array_get(cases, i);
		if (strcmp(json_string_value(json_object_get(tc, "group")), "oscore_sequence") != 0)
			continue;
		oscore_ctx *sv = ctx_from_vector(kd, "server", 0, false);
		json_t *items = json_object_get(tc, "hex");
		assert_int_equal(json_array_size(items), 9);
		for (size_t k = 0; k < json_array_size(items); k++) {
			json_t *it = json_array_get(items, k);
			size_t len;
			uint8_t *in = tu_hex_member(it, "hex", &len);
			uint8_t buf[256];
			oscore_coap_hdr hdr;
			oscore_msg inner;
			int r = server_receive(sv, in, len, &hdr, buf, sizeof(buf), &inner);
			bool accept = strcmp(json_string_value(json_object_get(it, "expected")),
			                     "accept") == 0;
			if (accept != (r == 0))
				fail_msg("item %zu (seq %lld): got %s", k,
				         (long long)json_integer_value(
				             json_object_get(it, "sender_sequence_number")),
				         edhoc_result_name(r));
			if (!accept)
				assert_int_equal(oscore_result_coap_code(r),
				                 OSCORE_CODE_UNAUTHORIZED);
			free(in);
			seen++;
		}
		oscore_ctx_free(sv);
	}
	assert_int_equal(seen, 9);
}

/* RFC 9529 trace 2: the OSCORE parameters as edhoc_oscore_params gives them
 * to each side (App. A.1: sender ID = the peer's connection identifier). */
static void edhoc_params(json_t *osc, bool client, edhoc_oscore *e)
{
	size_t n;
	uint8_t *p;
	memset(e, 0, sizeof(*e));
	p = tu_hex_member(osc, "master_secret", &n);
	memcpy(e->master_secret, p, n);
	e->master_secret_len = n;
	free(p);
	p = tu_hex_member(osc, "master_salt", &n);
	memcpy(e->master_salt, p, n);
	e->master_salt_len = n;
	free(p);
	p = tu_hex_member(osc, client ? "client_sender_id" : "server_sender_id", &n);
	memcpy(e->sender_id, p, n);
	e->sender_id_len = n;
	free(p);
	p = tu_hex_member(osc, client ? "client_recipient_id" : "server_recipient_id", &n);
	memcpy(e->recipient_id, p, n);
	e->recipient_id_len = n;
	free(p);
	e->aead_alg = (int)json_integer_value(json_object_get(osc, "app_aead_alg"));
	e->hash_alg = (int)json_integer_value(json_object_get(osc, "app_hash_alg"));
}

static void test_edhoc_trace2_to_oscore_round_trip(void **state)
{
	json_t *vals =
	    json_object_get(json_array_get(json_object_get(edhoc_vectors, "traces"), 1), "values");
	json_t *osc = json_object_get(vals, "oscore");
	json_t *ours = json_object_get(vals, "oscore_derived_by_us");
	edhoc_oscore ec, es;
	oscore_ctx *cl = NULL, *sv = NULL;
	edhoc_params(osc, true, &ec);
	edhoc_params(osc, false, &es);
	assert_int_equal(oscore_ctx_from_edhoc(&ec, NULL, &cl), 0);
	assert_int_equal(oscore_ctx_from_edhoc(&es, NULL, &sv), 0);

	uint8_t sk[16], rk[16], iv[13];
	oscore_ctx_export_keys(cl, sk, rk, iv);
	assert_hex_eq(sk, 16, ours, "client_sender_key");
	assert_hex_eq(rk, 16, ours, "client_recipient_key");
	assert_hex_eq(iv, 13, ours, "common_iv");
	oscore_ctx_export_keys(sv, sk, rk, iv);
	assert_hex_eq(sk, 16, ours, "server_sender_key");
	assert_hex_eq(rk, 16, ours, "server_recipient_key");
	assert_hex_eq(iv, 13, ours, "common_iv");

	/* GET /temp?unit=c -> 2.05 "21.5" through both contexts. */
	oscore_msg req, outer, inner, resp;
	oscore_request_info cinfo, sinfo;
	uint8_t cbuf[256], sbuf[256], rbuf[256], dbuf[256];
	oscore_msg_init(&req, OSCORE_CODE_GET);
	assert_int_equal(oscore_msg_add(&req, OSCORE_OPT_URI_PATH, (const uint8_t *)"temp", 4), 0);
	assert_int_equal(oscore_msg_add(&req, OSCORE_OPT_URI_QUERY, (const uint8_t *)"unit=c", 6),
	                 0);
	assert_int_equal(oscore_protect_request(cl, &req, cbuf, sizeof(cbuf), &outer, &cinfo), 0);
	assert_int_equal(outer.code, OSCORE_CODE_POST);
	assert_null(oscore_msg_find(&outer, OSCORE_OPT_URI_PATH));
	oscore_header h;
	assert_int_equal(oscore_request_header(&outer, &h), 0);
	assert_true(oscore_ctx_matches(sv, &h));
	assert_false(oscore_ctx_matches(cl, &h));
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &sinfo),
	                 0);
	assert_int_equal(inner.code, OSCORE_CODE_GET);
	assert_int_equal(inner.n_opts, 2);
	assert_memory_equal(inner.opts[0].value, "temp", 4);
	assert_memory_equal(inner.opts[1].value, "unit=c", 6);

	oscore_msg_init(&resp, OSCORE_CODE_CONTENT);
	uint8_t cf[4];
	assert_int_equal(
	    oscore_msg_add(&resp, OSCORE_OPT_CONTENT_FORMAT, cf, oscore_uint_encode(0, cf)), 0);
	oscore_msg_set_payload(&resp, (const uint8_t *)"21.5", 4);
	assert_int_equal(
	    oscore_protect_response(sv, &sinfo, &resp, false, rbuf, sizeof(rbuf), &outer), 0);
	assert_int_equal(outer.code, OSCORE_CODE_CHANGED);
	assert_int_equal(oscore_unprotect_response(cl, &cinfo, &outer, dbuf, sizeof(dbuf), &inner),
	                 0);
	assert_int_equal(inner.code, OSCORE_CODE_CONTENT);
	assert_int_equal(inner.payload_len, 4);
	assert_memory_equal(inner.payload, "21.5", 4);
	assert_non_null(oscore_msg_find(&inner, OSCORE_OPT_CONTENT_FORMAT));
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_derivation_matches_c1_to_c3),
	    cmocka_unit_test(test_requests_c4_to_c6_are_protected_byte_exactly),
	    cmocka_unit_test(test_responses_c7_c8_are_protected_byte_exactly),
	    cmocka_unit_test(test_negative_oscore_requests_meet_expectations),
	    cmocka_unit_test(test_negative_oscore_sequence_window_32),
	    cmocka_unit_test(test_edhoc_trace2_to_oscore_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
