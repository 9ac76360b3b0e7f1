/* Messages that must be refused: the 15 invalid messages of RFC 9529 §4,
 * each with the precise result code, and every case of our negative groups
 * edhoc_message_1 and edhoc_message_3 (tests/vectors/negative-ours.json)
 * checked against its expected outcome, error code and SUITES_R. */
#include <stdio.h>

#include "edhoc/cbor.h"
#include "edhoc_fixture.h"

/* ---- a responder for any suite: method 3 with a fresh static DH key ---- */

typedef struct gen_responder {
	crypto_key *key;
	uint8_t cred[96];
	size_t cred_len;
	edhoc_cred own;
	edhoc_config cfg;
} gen_responder;

static const uint8_t gen_id_cred[] = {0xa1, 0x04, 0x41, 0x01}; /* {4: h'01'} */

static void gen_responder_init(gen_responder *g, int suite)
{
	const crypto_suite *s = crypto_suite_get(suite);
	uint8_t priv[CRYPTO_MAX_DH_PRIV], pub[CRYPTO_MAX_DH_PUB];
	cose_writer w;

	assert_non_null(s);
	memset(g, 0, sizeof(*g));
	assert_int_equal(crypto_dh_keygen(s->dh_curve, crypto_rng_default, NULL, priv, pub), 0);
	assert_int_equal(
	    crypto_key_from_private(s->dh_curve, priv, crypto_dh_priv_len(s->dh_curve), &g->key),
	    0);
	/* CRED_R only enters the transcript: a small CCS-like map will do */
	cose_writer_init(&w, g->cred, sizeof(g->cred));
	cose_write_map(&w, 1);
	cose_write_uint(&w, 2);
	cose_write_bstr(&w, pub, crypto_dh_pub_len(s->dh_curve));
	assert_int_equal(cose_writer_result(&w), 0);
	g->cred_len = w.len;
	g->own.type = EDHOC_CRED_CCS;
	g->own.cred = g->cred;
	g->own.cred_len = g->cred_len;
	g->own.id_cred = gen_id_cred;
	g->own.id_cred_len = sizeof(gen_id_cred);
	g->own.key = g->key;
	g->cfg.role = EDHOC_RESPONDER;
	g->cfg.methods = 0xf;
	g->cfg.suites[0] = suite;
	g->cfg.n_suites = 1;
	g->cfg.own = &g->own;
}

static void gen_responder_free(gen_responder *g)
{
	crypto_key_free(g->key);
}

/* The error message for a failed step must decode and carry err_code. */
static void assert_error_code(const edhoc_handshake *h, int rc, int err_code)
{
	uint8_t out[128];
	size_t len;
	edhoc_error e;

	assert_int_equal(edhoc_error_message(h, rc, "test", out, sizeof(out), &len), 0);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, err_code);
}

static json_t *find_invalid(json_t *root, size_t i, const char *title_prefix)
{
	json_t *items = json_object_get(json_object_get(root, "invalid_messages"), "items");
	json_t *it = json_array_get(items, i);
	const char *title = json_string_value(json_object_get(it, "title"));

	assert_non_null(it);
	if (strncmp(title, title_prefix, strlen(title_prefix)) != 0)
		fail_msg("invalid_messages[%zu] is '%s', expected '%s'", i, title, title_prefix);
	return it;
}

/* ---- RFC 9529 §4: responder receiving message_1 ---- */

struct invalid_m1 {
	size_t index;
	const char *title;
	int suite; /* the suite the responder supports */
	int want;
};

static const struct invalid_m1 invalid_m1[] = {
    {0, "Surplus array encoding of message", 2, EDHOC_E_CBOR_TYPE},
    {1, "Surplus bstr encoding of connection identifier", 2, EDHOC_E_CONN_ID_MALFORMED},
    {2, "Surplus array encoding of ciphersuite", 2, EDHOC_E_SUITES_MALFORMED},
    {3, "Text string encoding of ephemeral key", 2, EDHOC_E_CBOR_TYPE},
    /* a responder of suite 24 (P-384) only, so the length is what fails */
    {7, "Error in length of ephemeral key", 24, EDHOC_E_EPHEMERAL_KEY_LENGTH},
    {8, "Error in elliptic curve representation", 2, EDHOC_E_INVALID_POINT},
    {9, "Error in elliptic curve point", 2, EDHOC_E_INVALID_POINT},
    {10, "Curve point of low order", 0, EDHOC_E_LOW_ORDER_POINT},
    {12, "Error in elliptic curve encoding", 2, EDHOC_E_EPHEMERAL_KEY_LENGTH},
    {13, "Unnecessary long encoding", 2, EDHOC_E_CBOR_NOT_DETERMINISTIC},
    {14, "Indefinite-length array encoding", 2, EDHOC_E_CBOR_NOT_DETERMINISTIC},
};

static void test_rfc9529_invalid_message_1_rejected_precisely(void **state)
{
	json_t *root = tu_load_vectors("edhoc-rfc9529.json");

	for (size_t k = 0; k < sizeof(invalid_m1) / sizeof(invalid_m1[0]); k++) {
		const struct invalid_m1 *c = &invalid_m1[k];
		json_t *it = find_invalid(root, c->index, c->title);
		gen_responder g;
		edhoc_handshake *h;

		assert_string_equal(json_string_value(json_object_get(it, "applies_to")),
		                    "responder (receiving message_1)");
		gen_responder_init(&g, c->suite);
		h = edhoc_handshake_new(&g.cfg);
		assert_non_null(h);
		fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, it, "hex"), c->want);
		assert_error_code(h, c->want, EDHOC_ERR_UNSPECIFIED);
		/* a failed handshake goes no further */
		{
			edhoc_cid c_r = {.bytes = {0x27}, .len = 1};
			uint8_t out[256];
			size_t len;

			fx_assert_rc(
			    edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len),
			    EDHOC_E_UNEXPECTED_MESSAGE);
		}
		edhoc_handshake_free(h);
		gen_responder_free(&g);
	}
	json_decref(root);
}

/* ---- RFC 9529 §4: initiator receiving message_2 ---- */

/* A trace-2 initiator that has been through the suite negotiation and sent
 * the trace's second message_1. */
static edhoc_handshake *trace2_initiator(fx_trace *t)
{
	edhoc_handshake *h;
	edhoc_cid c_i = {.bytes = {0x0e}, .len = 1};
	uint8_t out[128];
	size_t len;
	json_t *neg;

	fx_trace_load(t, 1);
	neg = json_object_get(t->v, "negotiation");
	h = edhoc_handshake_new(&t->i.cfg);
	assert_int_equal(edhoc_initiator_write_message_1(h, &c_i, out, sizeof(out), &len), 0);
	fx_assert_rc(fx_read(h, edhoc_initiator_read_message_2, neg, "error_message"),
	             EDHOC_E_SUITE_NOT_SUPPORTED);
	c_i = fx_cid(t->v, "C_I_raw");
	assert_int_equal(edhoc_initiator_write_message_1(h, &c_i, out, sizeof(out), &len), 0);
	fx_assert_member(t->v, "message_1", out, len);
	return h;
}

/* message_2 = bstr(G_Y || PLAINTEXT_2 XOR KEYSTREAM_2) for a given
 * plaintext, with the keystream of trace 2 for that length. */
static size_t encrypt_plaintext_2(json_t *v, const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	size_t prk_len, th_len, gy_len, info_len = 0;
	uint8_t *prk = fx_hex(v, "PRK_2e", &prk_len), *th = fx_hex(v, "TH_2", &th_len);
	uint8_t *gy = fx_hex(v, "G_Y", &gy_len);
	uint8_t info[64], ks[64];

	assert_true(pt_len < 24 && th_len == 32);
	info[info_len++] = 0x00; /* label 0 */
	info[info_len++] = 0x58;
	info[info_len++] = 0x20;
	memcpy(info + info_len, th, 32);
	info_len += 32;
	info[info_len++] = (uint8_t)pt_len;
	assert_int_equal(
	    crypto_kdf_expand(COSE_ALG_SHA_256, prk, prk_len, info, info_len, ks, pt_len), 0);
	out[0] = 0x58;
	out[1] = (uint8_t)(gy_len + pt_len);
	memcpy(out + 2, gy, gy_len);
	for (size_t i = 0; i < pt_len; i++)
		out[2 + gy_len + i] = pt[i] ^ ks[i];
	free(prk);
	free(th);
	free(gy);
	return 2 + gy_len + pt_len;
}

struct invalid_m2 {
	size_t index;
	const char *title;
	bool plaintext; /* the hex is PLAINTEXT_2, to be encrypted */
	int want;
};

static const struct invalid_m2 invalid_m2[] = {
    {4, "Wrong number of CBOR sequence elements", false, EDHOC_E_TRAILING_BYTES},
    {5, "Surplus map encoding of ID_CRED field", true, EDHOC_E_ID_CRED_MALFORMED},
    {6, "Surplus bstr encoding of ID_CRED field", true, EDHOC_E_ID_CRED_MALFORMED},
    {11, "Error in length of MAC", true, EDHOC_E_SIG_OR_MAC_LENGTH},
};

static void test_rfc9529_invalid_message_2_rejected_precisely(void **state)
{
	json_t *root = tu_load_vectors("edhoc-rfc9529.json");

	for (size_t k = 0; k < sizeof(invalid_m2) / sizeof(invalid_m2[0]); k++) {
		const struct invalid_m2 *c = &invalid_m2[k];
		json_t *it = find_invalid(root, c->index, c->title);
		fx_trace t;
		edhoc_handshake *h = trace2_initiator(&t);
		size_t len, m_len;
		uint8_t *hex = fx_hex(it, "hex", &len), m[128];

		assert_string_equal(json_string_value(json_object_get(it, "applies_to")),
		                    "initiator (receiving message_2)");
		if (c->plaintext) {
			m_len = encrypt_plaintext_2(t.v, hex, len, m);
			fx_assert_rc(edhoc_initiator_read_message_2(h, m, m_len), c->want);
		} else {
			fx_assert_rc(edhoc_initiator_read_message_2(h, hex, len), c->want);
		}
		assert_error_code(h, c->want, EDHOC_ERR_UNSPECIFIED);
		assert_int_equal(t.i.lookups, 0); /* refused before any credential lookup */
		fx_assert_rc(edhoc_initiator_write_message_3(h, m, sizeof(m), &m_len),
		             EDHOC_E_UNEXPECTED_MESSAGE);
		free(hex);
		edhoc_handshake_free(h);
		fx_trace_free(&t);
	}
	json_decref(root);
}

/* The encryption helper itself is right: it reproduces message_2. */
static void test_plaintext_2_helper_reproduces_trace_2(void **state)
{
	fx_trace t;
	edhoc_handshake *h = trace2_initiator(&t);
	size_t len, m_len;
	uint8_t *pt = fx_hex(t.v, "PLAINTEXT_2", &len), m[128];

	m_len = encrypt_plaintext_2(t.v, pt, len, m);
	fx_assert_member(t.v, "message_2", m, m_len);
	fx_assert_rc(edhoc_initiator_read_message_2(h, m, m_len), 0);
	free(pt);
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

/* ---- negative-ours.json ---- */

/* Result code each named case must give (truncations: CBOR_TRUNCATED). */
struct precise {
	const char *id;
	int want;
};

static const struct precise precise_m1[] = {
    {"m1-trailing-break", EDHOC_E_EAD_MALFORMED},
    {"m1-trailing-tstr", EDHOC_E_EAD_MALFORMED},
    {"m1-method-4", EDHOC_E_METHOD_UNSUPPORTED},
    {"m1-method-23", EDHOC_E_METHOD_UNSUPPORTED},
    {"m1-method-neg", EDHOC_E_METHOD_UNSUPPORTED},
    {"m1-method-bstr", EDHOC_E_CBOR_TYPE},
    {"m1-suites-empty-array", EDHOC_E_SUITES_MALFORMED},
    {"m1-suites-tstr", EDHOC_E_SUITES_MALFORMED},
    {"m1-suite-unsupported-6", EDHOC_E_SUITE_NOT_SUPPORTED},
    {"m1-suite-more-preferred-supported", EDHOC_E_SUITE_NOT_SUPPORTED},
    {"m1-gx-31-bytes", EDHOC_E_EPHEMERAL_KEY_LENGTH},
    {"m1-gx-33-bytes", EDHOC_E_EPHEMERAL_KEY_LENGTH},
    {"m1-gx-empty", EDHOC_E_EPHEMERAL_KEY_LENGTH},
    {"m1-gx-int", EDHOC_E_CBOR_TYPE},
    {"m1-gx-zero", EDHOC_E_LOW_ORDER_POINT},
    {"m1-gx-one", EDHOC_E_LOW_ORDER_POINT},
    {"m1-gx-nonshortest-len", EDHOC_E_CBOR_NOT_DETERMINISTIC},
    {"m1-gx-indefinite", EDHOC_E_CBOR_NOT_DETERMINISTIC},
    {"m1-ci-tstr", EDHOC_E_CONN_ID_MALFORMED},
    {"m1-ci-array", EDHOC_E_CONN_ID_MALFORMED},
    {"m1-ci-int-24", EDHOC_E_CONN_ID_MALFORMED},
    {"m1-ci-int-minus25", EDHOC_E_CONN_ID_MALFORMED},
    {"m1-ci-missing", EDHOC_E_CBOR_TRUNCATED},
    {"m1-tagged", EDHOC_E_CBOR_TYPE},
    {"m1-huge-length", EDHOC_E_CBOR_TRUNCATED},
    {"m1-nested-arrays", EDHOC_E_SUITES_MALFORMED},
    {"m1-ead-critical-unknown", EDHOC_E_EAD_CRITICAL},
    {"m1-ead-noncritical-unknown", 0},
    {"m1-ead-padding", 0},
    {"m1-ead-padding-2", 0},
    {"m3-t1-valid", 0},
    {"m3-t1-bitflip-last", EDHOC_E_MSG3_DECRYPT},
    {"m3-t1-bitflip-first", EDHOC_E_MSG3_DECRYPT},
    {"m3-t1-tag-cut", EDHOC_E_MSG3_DECRYPT},
    {"m3-t1-not-bstr", EDHOC_E_CBOR_TYPE},
    {"m3-t1-trailing", EDHOC_E_TRAILING_BYTES},
    {"m3-t1-truncated-head", EDHOC_E_CBOR_TRUNCATED},
    {"m3-t1-empty", EDHOC_E_CBOR_TRUNCATED},
    {"m3-t1-replay-m2", EDHOC_E_MSG3_DECRYPT},
    {"m3-t2-valid", 0},
    {"m3-t2-bitflip-last", EDHOC_E_MSG3_DECRYPT},
    {"m3-t2-bitflip-first", EDHOC_E_MSG3_DECRYPT},
    {"m3-t2-tag-cut", EDHOC_E_MSG3_DECRYPT},
    {"m3-t2-not-bstr", EDHOC_E_CBOR_TYPE},
    {"m3-t2-trailing", EDHOC_E_TRAILING_BYTES},
    {"m3-t2-truncated-head", EDHOC_E_CBOR_TRUNCATED},
    {"m3-t2-empty", EDHOC_E_CBOR_TRUNCATED},
    {"m3-t2-replay-m2", EDHOC_E_MSG3_DECRYPT},
};

static int precise_code(const char *id)
{
	if (strstr(id, "-trunc-"))
		return EDHOC_E_CBOR_TRUNCATED;
	for (size_t i = 0; i < sizeof(precise_m1) / sizeof(precise_m1[0]); i++)
		if (strcmp(precise_m1[i].id, id) == 0)
			return precise_m1[i].want;
	fail_msg("no precise code listed for case %s", id);
	return 1;
}

/* A responder in the state a case's context names. */
static edhoc_handshake *context_responder(fx_trace *t, const char *context, bool *ret_after_m2)
{
	edhoc_handshake *h;
	edhoc_cid c_r;
	uint8_t out[512];
	size_t len;
	int idx = -1;

	if (strncmp(context, "trace-1 responder", 17) == 0 ||
	    strncmp(context, "responder configured with cipher suites 0 and 2", 47) == 0)
		idx = 0;
	else if (strncmp(context, "trace-2 responder", 17) == 0)
		idx = 1;
	else
		fail_msg("unknown context '%s'", context);
	fx_trace_load(t, idx);
	if (strncmp(context, "responder configured with cipher suites 0 and 2", 47) == 0) {
		t->r.cfg.suites[0] = 0;
		t->r.cfg.suites[1] = 2;
		t->r.cfg.n_suites = 2;
	}
	h = edhoc_handshake_new(&t->r.cfg);
	assert_non_null(h);
	*ret_after_m2 = strstr(context, "after sending") != NULL;
	if (*ret_after_m2) {
		fx_assert_rc(fx_read(h, edhoc_responder_read_message_1, t->v, "message_1"), 0);
		c_r = fx_cid(t->v, "C_R_raw");
		fx_assert_rc(edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len), 0);
		fx_assert_member(t->v, "message_2", out, len);
	}
	return h;
}

static bool suites_contain(const edhoc_error *e, int suite)
{
	for (size_t i = 0; i < e->n_suites; i++)
		if (e->suites[i] == suite)
			return true;
	return false;
}

/* The expected error: code, SUITES_R members and, where our configuration
 * is exactly the one the example assumes, the example bytes. */
static void check_expected_error(const edhoc_handshake *h, int rc, json_t *exp,
                                 const edhoc_config *cfg)
{
	json_t *must = json_object_get(exp, "suites_r_must_include");
	json_t *example = json_object_get(exp, "example_error_message");
	uint8_t out[128];
	size_t len, i;
	edhoc_error e;
	json_t *s;

	assert_int_equal(edhoc_error_message(h, rc, "A-1234", out, sizeof(out), &len), 0);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, json_integer_value(json_object_get(exp, "edhoc_error_code")));
	json_array_foreach(must, i, s) assert_true(suites_contain(&e, (int)json_integer_value(s)));
	if (example && cfg->n_suites == 1)
		fx_assert_member(exp, "example_error_message", out, len);
}

static void run_case(json_t *c, size_t *ret_checked)
{
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *context = json_string_value(json_object_get(c, "context"));
	json_t *exp = json_object_get(c, "expected");
	const char *outcome = json_string_value(json_object_get(exp, "outcome"));
	bool after_m2;
	fx_trace t;
	edhoc_handshake *h = context_responder(&t, context, &after_m2);
	int want = precise_code(id), rc;
	uint8_t out[512];
	size_t len;

	rc = fx_read(h, after_m2 ? edhoc_responder_read_message_3 : edhoc_responder_read_message_1,
	             c, "hex");
	if (rc != want)
		fail_msg("%s: got %s, want %s", id, edhoc_result_name(rc), edhoc_result_name(want));
	if (strcmp(outcome, "accept") == 0) {
		assert_int_equal(rc, 0);
		if (after_m2) {
			fx_assert_rc(edhoc_responder_write_message_4(h, out, sizeof(out), &len), 0);
			fx_assert_member(exp, "message_4", out, len);
			fx_assert_value(h, EDHOC_V_PRK_OUT, exp, "PRK_out");
		} else {
			edhoc_cid c_r = fx_cid(t.v, "C_R_raw");

			fx_assert_rc(
			    edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len), 0);
		}
	} else {
		assert_true(strcmp(outcome, "reject") == 0 ||
		            strcmp(outcome, "error_message") == 0);
		assert_true(rc < 0);
		check_expected_error(h, rc, exp, &t.r.cfg);
		assert_false(edhoc_handshake_complete(h));
	}
	(*ret_checked)++;
	edhoc_handshake_free(h);
	fx_trace_free(&t);
}

static void run_group(const char *group, size_t want_count)
{
	json_t *root = tu_load_vectors("negative-ours.json"), *c;
	size_t i, checked = 0;

	json_array_foreach(json_object_get(root, "cases"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "group")), group) == 0)
			run_case(c, &checked);
	}
	assert_int_equal(checked, want_count);
	json_decref(root);
}

static void test_negative_ours_message_1_all_cases(void **state)
{
	run_group("edhoc_message_1", 106);
}

static void test_negative_ours_message_3_all_cases(void **state)
{
	run_group("edhoc_message_3", 18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9529_invalid_message_1_rejected_precisely),
	    cmocka_unit_test(test_rfc9529_invalid_message_2_rejected_precisely),
	    cmocka_unit_test(test_plaintext_2_helper_reproduces_trace_2),
	    cmocka_unit_test(test_negative_ours_message_1_all_cases),
	    cmocka_unit_test(test_negative_ours_message_3_all_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
