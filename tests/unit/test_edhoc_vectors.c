/* RFC 9529 traces 1 and 2, byte-exact, as responder and as initiator: every
 * message and every intermediate value the trace lists, the cipher-suite
 * negotiation of trace 2, the OSCORE parameters and the key update. */
#include <stdio.h>

#include "edhoc_fixture.h"

/* Values both sides derive, checked against the trace. */
static void check_common_values(const edhoc_handshake *h, json_t *v)
{
	fx_assert_value(h, EDHOC_V_G_XY, v, "G_XY");
	fx_assert_value(h, EDHOC_V_TH_2, v, "TH_2");
	fx_assert_value(h, EDHOC_V_PRK_2E, v, "PRK_2e");
	fx_assert_value(h, EDHOC_V_PRK_3E2M, v, "PRK_3e2m");
	fx_assert_value(h, EDHOC_V_KEYSTREAM_2, v, "KEYSTREAM_2");
	fx_assert_value(h, EDHOC_V_MAC_2, v, "MAC_2");
	fx_assert_value(h, EDHOC_V_PLAINTEXT_2, v, "PLAINTEXT_2");
	fx_assert_value(h, EDHOC_V_TH_3, v, "TH_3");
	fx_assert_value(h, EDHOC_V_PRK_4E3M, v, "PRK_4e3m");
	fx_assert_value(h, EDHOC_V_MAC_3, v, "MAC_3");
	fx_assert_value(h, EDHOC_V_K_3, v, "K_3");
	fx_assert_value(h, EDHOC_V_IV_3, v, "IV_3");
	fx_assert_value(h, EDHOC_V_PLAINTEXT_3, v, "PLAINTEXT_3");
	fx_assert_value(h, EDHOC_V_TH_4, v, "TH_4");
	fx_assert_value(h, EDHOC_V_PRK_OUT, v, "PRK_out");
	fx_assert_value(h, EDHOC_V_PRK_EXPORTER, v, "PRK_exporter");
	fx_assert_value(h, EDHOC_V_K_4, v, "K_4");
	fx_assert_value(h, EDHOC_V_IV_4, v, "IV_4");
}

/* Signature_or_MAC_x is the bstr that follows the ID_CRED in PLAINTEXT_x:
 * check that the trace's value appears there, bstr-wrapped. */
static void check_sig_or_mac(json_t *v, const char *pt_key, const char *som_key)
{
	size_t pt_len, som_len;
	uint8_t *pt = fx_hex(v, pt_key, &pt_len), *som = fx_hex(v, som_key, &som_len);
	uint8_t wrapped[200];
	size_t wl = 0;
	bool found = false;

	assert_true(som_len < 200 - 2);
	if (som_len < 24) {
		wrapped[wl++] = (uint8_t)(0x40 | som_len);
	} else {
		wrapped[wl++] = 0x58;
		wrapped[wl++] = (uint8_t)som_len;
	}
	memcpy(wrapped + wl, som, som_len);
	wl += som_len;
	for (size_t i = 0; i + wl <= pt_len && !found; i++)
		found = memcmp(pt + i, wrapped, wl) == 0;
	assert_true(found);
	free(pt);
	free(som);
}

static void check_oscore(const edhoc_handshake *h, json_t *v, bool server)
{
	json_t *o = json_object_get(v, "oscore");
	edhoc_oscore p;

	assert_int_equal(edhoc_oscore_params(h, &p), 0);
	fx_assert_member(o, "master_secret", p.master_secret, p.master_secret_len);
	fx_assert_member(o, "master_salt", p.master_salt, p.master_salt_len);
	fx_assert_member(o, server ? "server_sender_id" : "client_sender_id", p.sender_id,
	                 p.sender_id_len);
	fx_assert_member(o, server ? "server_recipient_id" : "client_recipient_id", p.recipient_id,
	                 p.recipient_id_len);
	assert_int_equal(p.aead_alg, json_integer_value(json_object_get(o, "app_aead_alg")));
	assert_int_equal(p.hash_alg, json_integer_value(json_object_get(o, "app_hash_alg")));
}

/* EDHOC_KeyUpdate with the trace's context, then the new OSCORE secrets. */
static void check_key_update(edhoc_handshake *h, json_t *v)
{
	json_t *ku = json_object_get(v, "key_update");
	size_t len;
	uint8_t *ctx = fx_hex(ku, "context", &len);
	edhoc_oscore p;

	assert_int_equal(edhoc_key_update(h, ctx, len), 0);
	free(ctx);
	fx_assert_value(h, EDHOC_V_PRK_OUT, ku, "PRK_out");
	fx_assert_value(h, EDHOC_V_PRK_EXPORTER, ku, "PRK_exporter");
	assert_int_equal(edhoc_oscore_params(h, &p), 0);
	fx_assert_member(ku, "master_secret", p.master_secret, p.master_secret_len);
	fx_assert_member(ku, "master_salt", p.master_salt, p.master_salt_len);
}

/* The exporter directly: labels 0 and 1 with an empty context are the
 * OSCORE master secret and salt. */
static void check_exporter(const edhoc_handshake *h, json_t *v)
{
	json_t *o = json_object_get(v, "oscore");
	uint8_t out[16];

	assert_int_equal(edhoc_exporter(h, 0, NULL, 0, out, 16), 0);
	fx_assert_member(o, "master_secret", out, 16);
	assert_int_equal(edhoc_exporter(h, 1, NULL, 0, out, 8), 0);
	fx_assert_member(o, "master_salt", out, 8);
}

static void run_responder(int idx)
{
	fx_trace t;
	edhoc_handshake *h;
	uint8_t out[512];
	size_t len;
	edhoc_cid c_r;
	const uint8_t *idc;
	size_t idc_len;

	fx_trace_load(&t, idx);
	h = edhoc_handshake_new(&t.r.cfg);
	assert_non_null(h);
	fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, t.v, "message_1"), 0);
	assert_int_equal(edhoc_handshake_method(h), t.method);
	assert_int_equal(edhoc_handshake_suite(h), t.suite);
	c_r = fx_cid(t.v, "C_R_raw");
	fx_assert_rc(edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len), 0);
	fx_assert_member(t.v, "message_2", out, len);
	assert_false(edhoc_handshake_complete(h));

	fx_assert_rc(fx_read(h, edhoc_responder_read_message_3, t.v, "message_3"), 0);
	assert_true(edhoc_handshake_complete(h));
	assert_int_equal(t.r.lookups, 1);
	assert_string_equal(edhoc_handshake_peer_identity(h), "initiator");
	assert_int_equal(edhoc_handshake_peer_id_cred(h, &idc, &idc_len), 0);
	fx_assert_member(t.v, "ID_CRED_I", idc, idc_len);
	fx_assert_rc(edhoc_responder_write_message_4(h, out, sizeof(out), &len), 0);
	fx_assert_member(t.v, "message_4", out, len);

	check_common_values(h, t.v);
	check_sig_or_mac(t.v, "PLAINTEXT_2", "Signature_or_MAC_2");
	check_sig_or_mac(t.v, "PLAINTEXT_3", "Signature_or_MAC_3");
	fx_assert_member(t.v, "C_I_raw", edhoc_handshake_c_i(h)->bytes,
	                 edhoc_handshake_c_i(h)->len);
	check_exporter(h, t.v);
	check_oscore(h, t.v, true);
	check_key_update(h, t.v);
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

/* RFC 9529 trace 2's first message_1 selects suite 6 (X25519) but carries
 * the P-256 x-coordinate of X_first as G_X (the responder refuses it for
 * its suite before looking at G_X).  A conforming initiator sends the
 * X25519 public key of X_first there; every other byte must match. */
static void check_first_message_1(json_t *neg, const uint8_t *out, size_t len)
{
	size_t elen, xl;
	uint8_t *exp = fx_hex(neg, "message_1_first", &elen);
	uint8_t *x = fx_hex(neg, "X_first", &xl);
	uint8_t g_x[32];

	assert_int_equal(len, elen);
	assert_int_equal(elen, 2 + 2 + 32 + 1);
	assert_memory_equal(out, exp, 4);           /* 03 06 58 20 */
	assert_memory_equal(out + 36, exp + 36, 1); /* C_I 0e */
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_X25519, x, xl, g_x), 0);
	assert_memory_equal(out + 4, g_x, 32);
	free(exp);
	free(x);
}

static void run_initiator(int idx)
{
	fx_trace t;
	edhoc_handshake *h;
	uint8_t out[512];
	size_t len;
	edhoc_cid c_i;
	json_t *neg;

	fx_trace_load(&t, idx);
	h = edhoc_handshake_new(&t.i.cfg);
	assert_non_null(h);
	if (idx == 1) {
		/* First attempt with suite 6, answered by ERR_CODE 2, SUITES_R 2. */
		neg = json_object_get(t.v, "negotiation");
		c_i = fx_cid(neg, "C_I_first_cbor"); /* 0x0e: raw and CBOR agree */
		fx_assert_rc(edhoc_initiator_write_message_1(h, &c_i, out, sizeof(out), &len), 0);
		check_first_message_1(neg, out, len);
		fx_assert_rc(fx_read(h, edhoc_initiator_read_message_2, neg, "error_message"),
		             EDHOC_E_SUITE_NOT_SUPPORTED);
		assert_false(edhoc_handshake_complete(h));
	}
	c_i = fx_cid(t.v, "C_I_raw");
	fx_assert_rc(edhoc_initiator_write_message_1(h, &c_i, out, sizeof(out), &len), 0);
	fx_assert_member(t.v, "message_1", out, len);
	fx_assert_rc(fx_read(h, edhoc_initiator_read_message_2, t.v, "message_2"), 0);
	assert_int_equal(t.i.lookups, 1);
	fx_assert_member(t.v, "C_R_raw", edhoc_handshake_c_r(h)->bytes,
	                 edhoc_handshake_c_r(h)->len);
	fx_assert_rc(edhoc_initiator_write_message_3(h, out, sizeof(out), &len), 0);
	fx_assert_member(t.v, "message_3", out, len);
	assert_true(edhoc_handshake_complete(h));
	fx_assert_rc(fx_read(h, edhoc_initiator_read_message_4, t.v, "message_4"), 0);
	assert_string_equal(edhoc_handshake_peer_identity(h), "responder");

	check_common_values(h, t.v);
	check_exporter(h, t.v);
	check_oscore(h, t.v, false);
	check_key_update(h, t.v);
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

static void test_trace1_responder_is_byte_exact(void **state)
{
	run_responder(0);
}

static void test_trace1_initiator_is_byte_exact(void **state)
{
	run_initiator(0);
}

static void test_trace2_responder_is_byte_exact(void **state)
{
	run_responder(1);
}

static void test_trace2_initiator_negotiates_suite_and_is_byte_exact(void **state)
{
	run_initiator(1);
}

/* Trace 2's responder supports only suite 2: the first message_1 (suite 6)
 * is refused with exactly the error message of the trace. */
static void test_trace2_responder_answers_wrong_suite_with_trace_error(void **state)
{
	fx_trace t;
	edhoc_handshake *h;
	json_t *neg;
	uint8_t out[64];
	size_t len;
	edhoc_error e;

	fx_trace_load(&t, 1);
	neg = json_object_get(t.v, "negotiation");
	h = edhoc_handshake_new(&t.r.cfg);
	fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, neg, "message_1_first"),
	             EDHOC_E_SUITE_NOT_SUPPORTED);
	assert_int_equal(
	    edhoc_error_message(h, EDHOC_E_SUITE_NOT_SUPPORTED, "ignored", out, sizeof(out), &len),
	    0);
	fx_assert_member(neg, "error_message", out, len);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, EDHOC_ERR_WRONG_SUITE);
	assert_int_equal(e.n_suites, 1);
	assert_int_equal(e.suites[0], 2);
	/* the failed handshake goes no further */
	fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, t.v, "message_1"),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

/* Responder and initiator of the same trace talk to each other directly
 * (the responder keeps running from the initiator's real messages). */
static void test_trace_parties_interoperate(void **state)
{
	for (int idx = 0; idx < 2; idx++) {
		fx_trace t;
		edhoc_handshake *hi, *hr;
		uint8_t m[512];
		size_t len;
		edhoc_cid c_i, c_r;
		uint8_t a[32], b[32];

		fx_trace_load(&t, idx);
		if (idx == 1) {
			/* skip the negotiation: start with the second X */
			t.i.rng.next = 1;
			t.i.cfg.suites[0] = 2;
			t.i.cfg.n_suites = 1;
		}
		hi = edhoc_handshake_new(&t.i.cfg);
		hr = edhoc_handshake_new(&t.r.cfg);
		c_i = fx_cid(t.v, "C_I_raw");
		c_r = fx_cid(t.v, "C_R_raw");
		assert_int_equal(edhoc_initiator_write_message_1(hi, &c_i, m, sizeof(m), &len), 0);
		assert_int_equal(edhoc_responder_read_message_1(hr, m, len), 0);
		assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m, sizeof(m), &len), 0);
		assert_int_equal(edhoc_initiator_read_message_2(hi, m, len), 0);
		assert_int_equal(edhoc_initiator_write_message_3(hi, m, sizeof(m), &len), 0);
		assert_int_equal(edhoc_responder_read_message_3(hr, m, len), 0);
		assert_int_equal(edhoc_responder_write_message_4(hr, m, sizeof(m), &len), 0);
		assert_int_equal(edhoc_initiator_read_message_4(hi, m, len), 0);
		assert_int_equal(edhoc_exporter(hi, 42, (const uint8_t *)"ctx", 3, a, 32), 0);
		assert_int_equal(edhoc_exporter(hr, 42, (const uint8_t *)"ctx", 3, b, 32), 0);
		assert_memory_equal(a, b, 32);
		edhoc_handshake_free(hi);
		edhoc_handshake_free(hr);
		fx_trace_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace1_responder_is_byte_exact),
	    cmocka_unit_test(test_trace1_initiator_is_byte_exact),
	    cmocka_unit_test(test_trace2_responder_is_byte_exact),
	    cmocka_unit_test(test_trace2_initiator_negotiates_suite_and_is_byte_exact),
	    cmocka_unit_test(test_trace2_responder_answers_wrong_suite_with_trace_error),
	    cmocka_unit_test(test_trace_parties_interoperate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
