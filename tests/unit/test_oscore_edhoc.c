/* EDHOC -> OSCORE through edhoc_oscore_params from real handshakes: RFC
 * 9529 trace 2 as responder (keys byte-exact against the values derived in
 * tests/vectors), and a live trace-1 handshake between our own initiator
 * and responder, each side then protecting what the other unprotects. */
#include "edhoc_fixture.h"

#include "edhoc/oscore.h"

static void exchange(oscore_ctx *cl, oscore_ctx *sv)
{
	oscore_msg req, outer, inner, resp;
	oscore_request_info ci, si;
	uint8_t cbuf[256], sbuf[256], rbuf[256], dbuf[256];
	oscore_header h;

	for (int i = 0; i < 3; i++) {
		oscore_msg_init(&req, OSCORE_CODE_GET);
		assert_int_equal(
		    oscore_msg_add(&req, OSCORE_OPT_URI_PATH, (const uint8_t *)"whoami", 6), 0);
		assert_int_equal(oscore_protect_request(cl, &req, cbuf, sizeof(cbuf), &outer, &ci),
		                 0);
		assert_int_equal(oscore_request_header(&outer, &h), 0);
		assert_true(oscore_ctx_matches(sv, &h));
		assert_int_equal(
		    oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si), 0);
		assert_int_equal(inner.code, OSCORE_CODE_GET);
		assert_memory_equal(oscore_msg_find(&inner, OSCORE_OPT_URI_PATH)->value, "whoami",
		                    6);
		/* Replays of it are refused. */
		assert_int_equal(
		    oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si),
		    OSCORE_E_REPLAY);

		oscore_msg_init(&resp, OSCORE_CODE_CONTENT);
		oscore_msg_set_payload(&resp, (const uint8_t *)"initiator", 9);
		assert_int_equal(
		    oscore_protect_response(sv, &si, &resp, i == 2, rbuf, sizeof(rbuf), &outer), 0);
		assert_int_equal(
		    oscore_unprotect_response(cl, &ci, &outer, dbuf, sizeof(dbuf), &inner), 0);
		assert_int_equal(inner.code, OSCORE_CODE_CONTENT);
		assert_int_equal(inner.payload_len, 9);
		assert_memory_equal(inner.payload, "initiator", 9);
	}
}

static void test_trace2_responder_params_give_derived_keys(void **state)
{
	fx_trace t;
	uint8_t out[512];
	size_t len;
	edhoc_oscore p;
	oscore_ctx *sv = NULL, *cl = NULL;

	fx_trace_load(&t, 1);
	edhoc_handshake *h = edhoc_handshake_new(&t.r.cfg);
	assert_non_null(h);
	fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, t.v, "message_1"), 0);
	edhoc_cid c_r = fx_cid(t.v, "C_R_raw");
	fx_assert_rc(edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len), 0);
	fx_assert_rc(fx_read(h, edhoc_responder_read_message_3, t.v, "message_3"), 0);
	assert_true(edhoc_handshake_complete(h));
	fx_assert_value(h, EDHOC_V_PRK_EXPORTER, t.v, "PRK_exporter");
	assert_int_equal(edhoc_oscore_params(h, &p), 0);
	assert_int_equal(oscore_ctx_from_edhoc(&p, NULL, &sv), 0);

	json_t *ours = json_object_get(t.v, "oscore_derived_by_us");
	uint8_t sk[16], rk[16], iv[13];
	oscore_ctx_export_keys(sv, sk, rk, iv);
	fx_assert_member(ours, "server_sender_key", sk, 16);
	fx_assert_member(ours, "server_recipient_key", rk, 16);
	fx_assert_member(ours, "common_iv", iv, 13);
	/* Sender ID = C_I, Recipient ID = C_R (RFC 9528 App. A.1). */
	size_t n;
	const uint8_t *id = oscore_ctx_recipient_id(sv, &n);
	assert_int_equal(n, c_r.len);
	assert_memory_equal(id, c_r.bytes, n);

	/* The client side from the initiator's parameters of the trace. */
	json_t *o = json_object_get(t.v, "oscore");
	edhoc_oscore pc = p;
	memcpy(pc.sender_id, p.recipient_id, p.recipient_id_len);
	pc.sender_id_len = p.recipient_id_len;
	memcpy(pc.recipient_id, p.sender_id, p.sender_id_len);
	pc.recipient_id_len = p.sender_id_len;
	fx_assert_member(o, "client_sender_id", pc.sender_id, pc.sender_id_len);
	assert_int_equal(oscore_ctx_from_edhoc(&pc, NULL, &cl), 0);
	oscore_ctx_export_keys(cl, sk, rk, iv);
	fx_assert_member(ours, "client_sender_key", sk, 16);
	exchange(cl, sv);

	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

static void test_live_trace1_handshake_then_oscore_both_ways(void **state)
{
	fx_trace t;
	uint8_t m1[512], m2[512], m3[512];
	size_t l1, l2, l3;
	edhoc_oscore pi, pr;
	oscore_ctx *cl = NULL, *sv = NULL;

	fx_trace_load(&t, 0);
	edhoc_handshake *hi = edhoc_handshake_new(&t.i.cfg);
	edhoc_handshake *hr = edhoc_handshake_new(&t.r.cfg);
	assert_non_null(hi);
	assert_non_null(hr);
	edhoc_cid c_i = fx_cid(t.v, "C_I_raw"), c_r = fx_cid(t.v, "C_R_raw");
	fx_assert_rc(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1), 0);
	fx_assert_rc(edhoc_responder_read_message_1(hr, m1, l1), 0);
	fx_assert_rc(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(hi, m2, l2), 0);
	fx_assert_rc(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3), 0);
	fx_assert_rc(edhoc_responder_read_message_3(hr, m3, l3), 0);
	assert_true(edhoc_handshake_complete(hi));
	assert_true(edhoc_handshake_complete(hr));

	assert_int_equal(edhoc_oscore_params(hi, &pi), 0);
	assert_int_equal(edhoc_oscore_params(hr, &pr), 0);
	assert_int_equal(oscore_ctx_from_edhoc(&pi, NULL, &cl), 0);
	assert_int_equal(oscore_ctx_from_edhoc(&pr, NULL, &sv), 0);
	assert_int_equal(oscore_ctx_aead_alg(cl), COSE_ALG_AES_CCM_16_64_128);

	/* The two sides mirror each other. */
	uint8_t csk[16], crk[16], civ[13], ssk[16], srk[16], siv[13];
	oscore_ctx_export_keys(cl, csk, crk, civ);
	oscore_ctx_export_keys(sv, ssk, srk, siv);
	assert_memory_equal(csk, srk, 16);
	assert_memory_equal(crk, ssk, 16);
	assert_memory_equal(civ, siv, 13);
	assert_memory_not_equal(csk, crk, 16);
	exchange(cl, sv);

	/* A lease callback and a restored server fit the same one call. */
	oscore_ctx_params opts = {.replay_window = 64, .restored = true, .sender_seq = 500};
	oscore_ctx *sv2 = NULL;
	assert_int_equal(oscore_ctx_from_edhoc(&pr, &opts, &sv2), 0);
	assert_false(oscore_ctx_window_ready(sv2));
	assert_int_equal(oscore_ctx_sender_seq(sv2), 500);
	oscore_ctx_free(sv2);

	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
	edhoc_handshake_free(hi);
	edhoc_handshake_free(hr);
	fx_trace_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace2_responder_params_give_derived_keys),
	    cmocka_unit_test(test_live_trace1_handshake_then_oscore_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
