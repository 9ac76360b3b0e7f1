/* Initiator <-> responder round trips over the whole matrix: every method
 * (0-3) x every cipher suite x credential kind (CCS by kid, CCS by value,
 * X.509 by x5t, X.509 by x5chain) x with/without EAD x with/without
 * message_4.  Both sides must agree on PRK_out, exporter outputs and the
 * OSCORE parameters (sender and recipient swapped), and each must see the
 * other's identity and EAD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certgen.h"
#include "edhoc/cred.h"
#include "edhoc/edhoc.h"
#include "testutil.h"
#include "tools/credfile.h"

#include <sys/stat.h>
#include <unistd.h>

static const int all_suites[] = {0, 1, 2, 3, 4, 5, 6, 24, 25};
#define N_SUITES (sizeof(all_suites) / sizeof(all_suites[0]))

enum cred_kind { K_CCS_KID, K_CCS_VALUE, K_X509_X5T, K_X509_X5CHAIN, K_N };
static const char *const kind_names[K_N] = {"ccs/kid", "ccs/kccs", "x509/x5t", "x509/x5chain"};

/* One party's view: its own credential and the one peer it trusts. */
typedef struct party {
	cose_cred *own;
	cose_cred *trusted;     /* the peer's credential, public part */
	cose_cred *transported; /* built from an ID_CRED by value during a call */
	int lookups;
	int ead_seen[5]; /* per message number: our test item received */
	int ead_other;   /* any other item delivered (padding must not be) */
} party;

static crypto_key *ca_key; /* signs the certificates of static DH keys */

static int lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	party *p = ctx;
	int rc;

	p->lookups++;
	if (id->label == EDHOC_ID_CRED_KCCS || id->label == EDHOC_ID_CRED_X5CHAIN ||
	    id->label == EDHOC_ID_CRED_X5BAG) {
		/* By value: build it from the message, accept it only if it is
		 * the credential we trust (a real trust store would validate
		 * the chain instead). */
		cose_cred_free(p->transported);
		p->transported = NULL;
		rc = cose_cred_from_id_cred(id, &p->transported);
		if (rc < 0)
			return rc;
		if (!cose_cred_matches(p->trusted, id))
			return EDHOC_E_UNKNOWN_CRED;
		*ret_cred = *cose_cred_edhoc(p->transported);
		return 0;
	}
	if (!cose_cred_matches(p->trusted, id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret_cred = *cose_cred_edhoc(p->trusted);
	return 0;
}

static const uint8_t ead_value[] = {0xe1, 0xe2, 0xe3};

static int ead_cb(void *ctx, int message_no, const edhoc_ead_item *item)
{
	party *p = ctx;
	if (item->label == 27 + message_no && item->value_len == sizeof(ead_value) &&
	    memcmp(item->value, ead_value, sizeof(ead_value)) == 0 && message_no >= 1 &&
	    message_no <= 4) {
		p->ead_seen[message_no]++;
		return 0;
	}
	p->ead_other++;
	return 1;
}

/* A credential of the given kind for a key; the public copy goes to the
 * peer.  Certificates of signature keys are self-signed, those of static
 * DH keys signed by ca_key. */
static void make_cred(crypto_key *key, enum cred_kind kind, const char *name, uint8_t kid,
                      cose_cred **ret_own, cose_cred **ret_public)
{
	cose_cred *pub = NULL;
	if (kind == K_CCS_KID || kind == K_CCS_VALUE) {
		uint8_t ccs[512];
		size_t len;
		int label = kind == K_CCS_KID ? EDHOC_ID_CRED_KID : EDHOC_ID_CRED_KCCS;
		assert_int_equal(cose_ccs_build(key, name, &kid, 1, false, ccs, sizeof(ccs), &len),
		                 0);
		assert_int_equal(cose_cred_from_ccs(ccs, len, label, false, ret_own), 0);
		assert_int_equal(cose_cred_from_ccs(ccs, len, label, false, &pub), 0);
	} else {
		uint8_t *der = NULL;
		size_t len;
		int label = kind == K_X509_X5T ? EDHOC_ID_CRED_X5T : EDHOC_ID_CRED_X5CHAIN;
		bool can_sign = crypto_key_curve(key) != COSE_CRV_X25519 &&
		                crypto_key_curve(key) != COSE_CRV_X448;
		assert_int_equal(certgen_make(key, name, can_sign ? key : ca_key,
		                              can_sign ? name : "Roundtrip CA", false, &der, &len),
		                 0);
		const uint8_t *ders[1] = {der};
		assert_int_equal(cose_cred_from_x509(ders, &len, 1, label, ret_own), 0);
		assert_int_equal(cose_cred_from_x509(ders, &len, 1, label, &pub), 0);
		free(der);
	}
	assert_int_equal(cose_cred_set_private(*ret_own, key), 0);
	*ret_public = pub;
}

/* Keys by curve, made once: generating P-384/Ed448 keys for every case
 * would only slow the test down. */
static crypto_key *keys[2][8];

static crypto_key *key_for(int party_no, int crv)
{
	if (!keys[party_no][crv])
		assert_int_equal(cose_key_generate(crv, NULL, NULL, &keys[party_no][crv]), 0);
	return keys[party_no][crv];
}

static void check_values_agree(edhoc_handshake *i, edhoc_handshake *r, const crypto_suite *s)
{
	const uint8_t *a, *b;
	size_t al, bl;

	assert_true(edhoc_handshake_complete(i));
	assert_true(edhoc_handshake_complete(r));
	assert_int_equal(edhoc_handshake_value(i, EDHOC_V_PRK_OUT, &a, &al), 0);
	assert_int_equal(edhoc_handshake_value(r, EDHOC_V_PRK_OUT, &b, &bl), 0);
	assert_int_equal(al, s->hash_len);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);

	/* Exporter: two labels, with and without context. */
	uint8_t e1[64], e2[64];
	static const uint8_t ctx[] = {0x01, 0x02};
	assert_int_equal(edhoc_exporter(i, 40001, ctx, sizeof(ctx), e1, 32), 0);
	assert_int_equal(edhoc_exporter(r, 40001, ctx, sizeof(ctx), e2, 32), 0);
	assert_memory_equal(e1, e2, 32);
	/* oscore_key_length defaults to the application AEAD's key length. */
	size_t key_len = crypto_aead_key_len(s->app_aead);
	assert_int_equal(edhoc_exporter(i, 0, NULL, 0, e1, key_len), 0);
	assert_int_equal(edhoc_exporter(r, 0, NULL, 0, e2, key_len), 0);
	assert_memory_equal(e1, e2, key_len);

	edhoc_oscore oi, orr;
	assert_int_equal(edhoc_oscore_params(i, &oi), 0);
	assert_int_equal(edhoc_oscore_params(r, &orr), 0);
	assert_int_equal(oi.master_secret_len, key_len);
	assert_int_equal(oi.master_salt_len, 8);
	assert_int_equal(oi.master_secret_len, orr.master_secret_len);
	assert_memory_equal(oi.master_secret, orr.master_secret, oi.master_secret_len);
	/* The exporter with label 0 is the OSCORE Master Secret (App. A.1). */
	assert_memory_equal(oi.master_secret, e1, key_len);
	assert_int_equal(oi.master_salt_len, orr.master_salt_len);
	assert_memory_equal(oi.master_salt, orr.master_salt, oi.master_salt_len);
	assert_int_equal(oi.sender_id_len, orr.recipient_id_len);
	assert_memory_equal(oi.sender_id, orr.recipient_id, oi.sender_id_len);
	assert_int_equal(oi.recipient_id_len, orr.sender_id_len);
	assert_memory_equal(oi.recipient_id, orr.sender_id, oi.recipient_id_len);
	/* The initiator sends with the responder's C_R. */
	const edhoc_cid *c_r = edhoc_handshake_c_r(i);
	assert_int_equal(oi.sender_id_len, c_r->len);
	assert_memory_equal(oi.sender_id, c_r->bytes, c_r->len);
	assert_int_equal(oi.aead_alg, s->app_aead);
	assert_int_equal(oi.hash_alg, s->app_hash);
	assert_int_equal(orr.aead_alg, s->app_aead);
}

typedef struct rt_case {
	int method;
	int suite;
	enum cred_kind kind;
	bool ead;
	bool msg4;
} rt_case;

static void run_case(const rt_case *tc)
{
	const crypto_suite *s = crypto_suite_get(tc->suite);
	bool i_signs = tc->method == 0 || tc->method == 1;
	bool r_signs = tc->method == 0 || tc->method == 2;
	party pi = {0}, pr = {0};
	cose_cred *i_pub = NULL, *r_pub = NULL;
	edhoc_handshake *hi = NULL, *hr = NULL;
	uint8_t m1[4096], m2[4096], m3[4096], m4[4096];
	size_t l1, l2, l3, l4;
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "method %d suite %d %s%s%s", tc->method, tc->suite,
	         kind_names[tc->kind], tc->ead ? " +ead" : "", tc->msg4 ? " +m4" : "");
	if (!s) {
		print_error("%s: suite not implemented\n", what);
		fail();
	}
	make_cred(key_for(0, i_signs ? s->sig_curve : s->dh_curve), tc->kind, "initiator-dev", 0x2b,
	          &pi.own, &i_pub);
	make_cred(key_for(1, r_signs ? s->sig_curve : s->dh_curve), tc->kind, "gateway", 0x32,
	          &pr.own, &r_pub);
	pi.trusted = r_pub;
	pr.trusted = i_pub;

	edhoc_config ci = {
	    .role = EDHOC_INITIATOR,
	    .method = tc->method,
	    .suites = {tc->suite},
	    .n_suites = 1,
	    .own = cose_cred_edhoc(pi.own),
	    .lookup = lookup,
	    .lookup_ctx = &pi,
	    .ead = ead_cb,
	    .ead_ctx = &pi,
	    .max_ead_items = EDHOC_MAX_EAD_ITEMS,
	    .max_message = sizeof(m1),
	};
	edhoc_config cr = {
	    .role = EDHOC_RESPONDER,
	    .methods = 0xf,
	    .n_suites = N_SUITES,
	    .own = cose_cred_edhoc(pr.own),
	    .lookup = lookup,
	    .lookup_ctx = &pr,
	    .ead = ead_cb,
	    .ead_ctx = &pr,
	    .max_ead_items = EDHOC_MAX_EAD_ITEMS,
	    .max_message = sizeof(m1),
	};
	memcpy(cr.suites, all_suites, sizeof(all_suites));
	hi = edhoc_handshake_new(&ci);
	hr = edhoc_handshake_new(&cr);
	assert_non_null(hi);
	assert_non_null(hr);

	if (tc->ead) {
		static const uint8_t pad[8] = {0};
		for (int m = 1; m <= 4; m++) {
			edhoc_ead_item items[2] = {
			    {.label = 27 + m, .value = ead_value, .value_len = sizeof(ead_value)},
			    {.label = 0, .value = pad, .value_len = sizeof(pad)},
			};
			assert_int_equal(edhoc_handshake_set_ead(m % 2 ? hi : hr, m, items, 2), 0);
		}
	}

	edhoc_cid c_i = {.bytes = {(uint8_t)(tc->suite % 24)}, .len = 1};
	edhoc_cid c_r = {.bytes = {0xab, (uint8_t)tc->method}, .len = 2};
#define STEP(call)                                                                             \
	do {                                                                                   \
		rc = (call);                                                                   \
		if (rc != 0) {                                                                 \
			print_error("%s: %s -> %s (%s)\n", what, #call, edhoc_result_name(rc), \
			            edhoc_result_describe(rc));                                \
			fail();                                                                \
		}                                                                              \
	} while (0)
	STEP(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1));
	STEP(edhoc_responder_read_message_1(hr, m1, l1));
	STEP(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2));
	STEP(edhoc_initiator_read_message_2(hi, m2, l2));
	STEP(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3));
	STEP(edhoc_responder_read_message_3(hr, m3, l3));
	if (tc->msg4) {
		STEP(edhoc_responder_write_message_4(hr, m4, sizeof(m4), &l4));
		STEP(edhoc_initiator_read_message_4(hi, m4, l4));
	}
#undef STEP

	check_values_agree(hi, hr, s);
	assert_int_equal(edhoc_handshake_method(hi), tc->method);
	assert_int_equal(edhoc_handshake_method(hr), tc->method);
	assert_int_equal(edhoc_handshake_suite(hi), tc->suite);
	assert_int_equal(edhoc_handshake_suite(hr), tc->suite);
	assert_string_equal(edhoc_handshake_peer_identity(hr), "initiator-dev");
	assert_string_equal(edhoc_handshake_peer_identity(hi), "gateway");
	assert_int_equal(pi.lookups, 1);
	assert_int_equal(pr.lookups, 1);

	/* EAD: the responder saw items 1 and 3, the initiator 2 (and 4). */
	assert_int_equal(pr.ead_seen[1], tc->ead ? 1 : 0);
	assert_int_equal(pr.ead_seen[3], tc->ead ? 1 : 0);
	assert_int_equal(pi.ead_seen[2], tc->ead ? 1 : 0);
	assert_int_equal(pi.ead_seen[4], tc->ead && tc->msg4 ? 1 : 0);
	assert_int_equal(pi.ead_other + pr.ead_other, 0);

	edhoc_handshake_free(hi);
	edhoc_handshake_free(hr);
	cose_cred_free(pi.own);
	cose_cred_free(pr.own);
	cose_cred_free(pi.transported);
	cose_cred_free(pr.transported);
	cose_cred_free(i_pub);
	cose_cred_free(r_pub);
}

/* One cmocka test per method and credential kind keeps the TAP output
 * readable (16 lines); each runs every suite x EAD x message_4. */
static void run_matrix(int method, enum cred_kind kind)
{
	for (size_t s = 0; s < N_SUITES; s++)
		for (int ead = 0; ead < 2; ead++)
			for (int m4 = 0; m4 < 2; m4++) {
				rt_case tc = {method, all_suites[s], kind, ead, m4};
				run_case(&tc);
			}
}

#define MATRIX_TEST(m, k)                              \
	static void test_method##m##_##k(void **state) \
	{                                              \
		run_matrix(m, k);                      \
	}
MATRIX_TEST(0, K_CCS_KID)
MATRIX_TEST(0, K_CCS_VALUE)
MATRIX_TEST(0, K_X509_X5T)
MATRIX_TEST(0, K_X509_X5CHAIN)
MATRIX_TEST(1, K_CCS_KID)
MATRIX_TEST(1, K_CCS_VALUE)
MATRIX_TEST(1, K_X509_X5T)
MATRIX_TEST(1, K_X509_X5CHAIN)
MATRIX_TEST(2, K_CCS_KID)
MATRIX_TEST(2, K_CCS_VALUE)
MATRIX_TEST(2, K_X509_X5T)
MATRIX_TEST(2, K_X509_X5CHAIN)
MATRIX_TEST(3, K_CCS_KID)
MATRIX_TEST(3, K_CCS_VALUE)
MATRIX_TEST(3, K_X509_X5T)
MATRIX_TEST(3, K_X509_X5CHAIN)

/* The credential check is real: a responder that trusts someone else
 * refuses message_3 with an unknown-credential code, and an initiator with
 * a key of the wrong kind for the method cannot start. */
static void test_untrusted_initiator_is_refused(void **state)
{
	const crypto_suite *s = crypto_suite_get(2);
	party pi = {0}, pr = {0};
	cose_cred *i_pub = NULL, *r_pub = NULL, *stranger = NULL, *stranger_pub = NULL;
	uint8_t m1[2048], m2[2048], m3[2048];
	size_t l1, l2, l3;

	make_cred(key_for(0, s->dh_curve), K_CCS_KID, "initiator-dev", 0x2b, &pi.own, &i_pub);
	make_cred(key_for(1, s->dh_curve), K_CCS_KID, "gateway", 0x32, &pr.own, &r_pub);
	crypto_key *other = NULL;
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &other), 0);
	make_cred(other, K_CCS_KID, "stranger", 0x2b, &stranger, &stranger_pub);
	pi.trusted = r_pub;
	pr.trusted = stranger_pub; /* same kid 0x2b, different key */

	edhoc_config ci = {.role = EDHOC_INITIATOR,
	                   .method = 3,
	                   .suites = {2},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(pi.own),
	                   .lookup = lookup,
	                   .lookup_ctx = &pi};
	edhoc_config cr = {.role = EDHOC_RESPONDER,
	                   .methods = 0xf,
	                   .suites = {2},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(pr.own),
	                   .lookup = lookup,
	                   .lookup_ctx = &pr};
	edhoc_handshake *hi = edhoc_handshake_new(&ci), *hr = edhoc_handshake_new(&cr);
	edhoc_cid c_i = {.bytes = {1}, .len = 1}, c_r = {.bytes = {2}, .len = 1};
	assert_int_equal(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1), 0);
	assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
	assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	assert_int_equal(edhoc_initiator_read_message_2(hi, m2, l2), 0);
	assert_int_equal(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3), 0);
	/* The kid matches, the key does not: MAC_3 cannot verify. */
	int rc = edhoc_responder_read_message_3(hr, m3, l3);
	assert_int_equal(edhoc_result_category(rc), 'B');
	assert_false(edhoc_handshake_complete(hr));
	edhoc_handshake_free(hi);
	edhoc_handshake_free(hr);

	/* Now an unknown kid altogether. */
	cose_cred_free(stranger);
	cose_cred_free(stranger_pub);
	make_cred(other, K_CCS_KID, "stranger", 0x77, &stranger, &stranger_pub);
	pr.trusted = stranger_pub;
	hi = edhoc_handshake_new(&ci);
	hr = edhoc_handshake_new(&cr);
	assert_int_equal(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1), 0);
	assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
	assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	assert_int_equal(edhoc_initiator_read_message_2(hi, m2, l2), 0);
	assert_int_equal(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3), 0);
	assert_int_equal(edhoc_responder_read_message_3(hr, m3, l3), EDHOC_E_UNKNOWN_CRED);
	edhoc_handshake_free(hi);
	edhoc_handshake_free(hr);

	/* Method 0 (initiator signs) in suite 0 with an X25519 key as the
	 * initiator's credential: refused as the wrong key type. */
	cose_cred *dh_own = NULL, *dh_pub = NULL, *sig_own = NULL, *sig_pub = NULL;
	make_cred(key_for(0, COSE_CRV_X25519), K_CCS_KID, "initiator-dev", 0x2b, &dh_own, &dh_pub);
	make_cred(key_for(1, COSE_CRV_ED25519), K_CCS_KID, "gateway", 0x32, &sig_own, &sig_pub);
	edhoc_config bad = {.role = EDHOC_INITIATOR,
	                    .method = 0,
	                    .suites = {0},
	                    .n_suites = 1,
	                    .own = cose_cred_edhoc(dh_own),
	                    .lookup = lookup,
	                    .lookup_ctx = &pi};
	edhoc_config good_r = {.role = EDHOC_RESPONDER,
	                       .methods = 0xf,
	                       .suites = {0},
	                       .n_suites = 1,
	                       .own = cose_cred_edhoc(sig_own),
	                       .lookup = lookup,
	                       .lookup_ctx = &pr};
	pi.trusted = sig_pub;
	pr.trusted = dh_pub;
	hi = edhoc_handshake_new(&bad);
	rc = edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1);
	if (rc == 0) {
		/* A core may only notice when it has to sign (message_3). */
		hr = edhoc_handshake_new(&good_r);
		assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
		assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
		rc = edhoc_initiator_read_message_2(hi, m2, l2);
		if (rc == 0)
			rc = edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3);
		edhoc_handshake_free(hr);
	}
	assert_int_equal(rc, EDHOC_E_CRED_KEY_TYPE);
	edhoc_handshake_free(hi);
	cose_cred_free(dh_own);
	cose_cred_free(dh_pub);
	cose_cred_free(sig_own);
	cose_cred_free(sig_pub);

	crypto_key_free(other);
	cose_cred_free(stranger);
	cose_cred_free(stranger_pub);
	cose_cred_free(pi.own);
	cose_cred_free(pr.own);
	cose_cred_free(i_pub);
	cose_cred_free(r_pub);
	cose_cred_free(pi.transported);
	cose_cred_free(pr.transported);
}

/* ---- RFC 9529 with credentials from this module ---- */

typedef struct fixed_rng {
	const uint8_t *bytes;
	size_t len;
	int calls;
} fixed_rng;

/* Hands out the trace's ephemeral private key, once. */
static int rng_fixed(void *ctx, uint8_t *buf, size_t len)
{
	fixed_rng *f = ctx;
	if (len != f->len || f->calls++ > 0)
		return EDHOC_E_RNG;
	memcpy(buf, f->bytes, len);
	return 0;
}

static void expect_bytes(const char *what, const uint8_t *got, size_t got_len, json_t *v,
                         const char *name)
{
	size_t want_len;
	uint8_t *want = tu_hex_member(v, name, &want_len);
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		print_error("%s %s\n got  %s\n", what, name, tu_to_hex(got, got_len));
		print_error(" want %s\n", tu_to_hex(want, want_len));
		free(want);
		fail();
	}
	free(want);
}

static void expect_oscore(const edhoc_handshake *h, json_t *v)
{
	edhoc_oscore o;
	json_t *os = json_object_get(v, "oscore");
	assert_int_equal(edhoc_oscore_params(h, &o), 0);
	expect_bytes("oscore", o.master_secret, o.master_secret_len, os, "master_secret");
	expect_bytes("oscore", o.master_salt, o.master_salt_len, os, "master_salt");
}

/* Trace 1 (method 0, suite 0, X.509 by x5t): both parties run with
 * credentials built by cose_cred_from_x509 from the trace's certificates and
 * keys, and every message comes out byte for byte. */
static void test_rfc9529_trace1_with_x509_credentials(void **state)
{
	json_t *vec = tu_load_vectors("edhoc-rfc9529.json");
	json_t *v = json_object_get(json_array_get(json_object_get(vec, "traces"), 0), "values");
	size_t idl, rdl, isl, rsl, xl, yl, l1, l2, l3, l4;
	uint8_t *i_der = tu_hex_member(v, "CRED_I_der", &idl),
	        *r_der = tu_hex_member(v, "CRED_R_der", &rdl);
	uint8_t *sk_i = tu_hex_member(v, "SK_I", &isl), *sk_r = tu_hex_member(v, "SK_R", &rsl);
	uint8_t *x = tu_hex_member(v, "X", &xl), *y = tu_hex_member(v, "Y", &yl);
	uint8_t m1[1024], m2[1024], m3[1024], m4[256];
	crypto_key *ki = NULL, *kr = NULL;
	party pi = {0}, pr = {0};
	const uint8_t *p;
	size_t len;

	const uint8_t *ders_i[1] = {i_der}, *ders_r[1] = {r_der};
	assert_int_equal(cose_cred_from_x509(ders_i, &idl, 1, EDHOC_ID_CRED_X5T, &pi.own), 0);
	assert_int_equal(cose_cred_from_x509(ders_r, &rdl, 1, EDHOC_ID_CRED_X5T, &pr.own), 0);
	assert_int_equal(cose_cred_from_x509(ders_r, &rdl, 1, EDHOC_ID_CRED_X5T, &pi.trusted), 0);
	assert_int_equal(cose_cred_from_x509(ders_i, &idl, 1, EDHOC_ID_CRED_X5T, &pr.trusted), 0);
	assert_int_equal(crypto_key_from_private(COSE_CRV_ED25519, sk_i, isl, &ki), 0);
	assert_int_equal(crypto_key_from_private(COSE_CRV_ED25519, sk_r, rsl, &kr), 0);
	assert_int_equal(cose_cred_set_private(pi.own, ki), 0);
	assert_int_equal(cose_cred_set_private(pr.own, kr), 0);
	/* A key that is not the certificate's is refused. */
	assert_int_equal(cose_cred_set_private(pi.own, kr), EDHOC_E_CRED_KEY_MISMATCH);

	fixed_rng rx = {x, xl, 0}, ry = {y, yl, 0};
	edhoc_config ci = {.role = EDHOC_INITIATOR,
	                   .method = 0,
	                   .suites = {0},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(pi.own),
	                   .lookup = lookup,
	                   .lookup_ctx = &pi,
	                   .rng = rng_fixed,
	                   .rng_ctx = &rx};
	edhoc_config cr = {.role = EDHOC_RESPONDER,
	                   .methods = 1u,
	                   .suites = {0},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(pr.own),
	                   .lookup = lookup,
	                   .lookup_ctx = &pr,
	                   .rng = rng_fixed,
	                   .rng_ctx = &ry};
	edhoc_handshake *hi = edhoc_handshake_new(&ci), *hr = edhoc_handshake_new(&cr);
	edhoc_cid c_i = {.bytes = {0x2d}, .len = 1}, c_r = {.bytes = {0x18}, .len = 1};

	assert_int_equal(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1), 0);
	expect_bytes("trace 1", m1, l1, v, "message_1");
	assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
	assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	expect_bytes("trace 1", m2, l2, v, "message_2");
	assert_int_equal(edhoc_initiator_read_message_2(hi, m2, l2), 0);
	assert_int_equal(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3), 0);
	expect_bytes("trace 1", m3, l3, v, "message_3");
	assert_int_equal(edhoc_responder_read_message_3(hr, m3, l3), 0);
	assert_int_equal(edhoc_responder_write_message_4(hr, m4, sizeof(m4), &l4), 0);
	expect_bytes("trace 1", m4, l4, v, "message_4");
	assert_int_equal(edhoc_initiator_read_message_4(hi, m4, l4), 0);
	assert_int_equal(edhoc_handshake_value(hr, EDHOC_V_PRK_OUT, &p, &len), 0);
	expect_bytes("trace 1 responder", p, len, v, "PRK_out");
	assert_int_equal(edhoc_handshake_value(hi, EDHOC_V_PRK_OUT, &p, &len), 0);
	expect_bytes("trace 1 initiator", p, len, v, "PRK_out");
	expect_oscore(hi, v);
	expect_oscore(hr, v);
	assert_string_equal(edhoc_handshake_peer_identity(hr), "EDHOC Initiator Ed25519");
	assert_string_equal(edhoc_handshake_peer_identity(hi), "EDHOC Responder Ed25519");

	edhoc_handshake_free(hi);
	edhoc_handshake_free(hr);
	cose_cred_free(pi.own);
	cose_cred_free(pr.own);
	cose_cred_free(pi.trusted);
	cose_cred_free(pr.trusted);
	crypto_key_free(ki);
	crypto_key_free(kr);
	free(i_der);
	free(r_der);
	free(sk_i);
	free(sk_r);
	free(x);
	free(y);
	json_decref(vec);
}

/* Trace 2 (method 3, suite 2, CCS by kid), responder side, with its own
 * credential read from a .cred text file and the initiator's from a binary
 * .ccs file, as an operator would set them up. */
static void test_rfc9529_trace2_responder_with_credential_files(void **state)
{
	json_t *vec = tu_load_vectors("edhoc-rfc9529.json");
	json_t *v = json_object_get(json_array_get(json_object_get(vec, "traces"), 1), "values");
	size_t rsl, yl, cil, l1, l3, l2, l4, len;
	uint8_t *sk_r = tu_hex_member(v, "SK_R", &rsl), *y = tu_hex_member(v, "Y", &yl);
	uint8_t *cred_i = tu_hex_member(v, "CRED_I", &cil);
	uint8_t *m1 = tu_hex_member(v, "message_1", &l1), *m3 = tu_hex_member(v, "message_3", &l3);
	uint8_t m2[1024], m4[256];
	char dir[] = "/tmp/test_rt.XXXXXX", own_path[64], peer_path[64], text[512], err[256];
	credfile *own = NULL, *peer = NULL;
	party pr = {0};
	const uint8_t *p;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(own_path, sizeof(own_path), "%s/gw.cred", dir);
	snprintf(peer_path, sizeof(peer_path), "%s/dev.ccs", dir);
	snprintf(text, sizeof(text),
	         "type = ccs\nsub = example.edu\nkid = 32\ncurve = P-256\nd = %s\n",
	         tu_to_hex(sk_r, rsl));
	f = fopen(own_path, "w");
	assert_non_null(f);
	assert_int_equal(fchmod(fileno(f), 0600), 0);
	fputs(text, f);
	fclose(f);
	f = fopen(peer_path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cred_i, 1, cil, f), cil);
	fclose(f);
	credfile_opts own_opts = {.own = true};
	assert_int_equal(credfile_load(own_path, &own_opts, &own, err, sizeof(err)), 0);
	assert_int_equal(credfile_load(peer_path, NULL, &peer, err, sizeof(err)), 0);
	expect_bytes("trace 2 own", credfile_edhoc(own)->cred, credfile_edhoc(own)->cred_len, v,
	             "CRED_R");
	pr.trusted = (cose_cred *)credfile_cred(peer);

	fixed_rng ry = {y, yl, 0};
	edhoc_config cr = {.role = EDHOC_RESPONDER,
	                   .methods = 1u << 3,
	                   .suites = {2},
	                   .n_suites = 1,
	                   .own = credfile_edhoc(own),
	                   .lookup = lookup,
	                   .lookup_ctx = &pr,
	                   .rng = rng_fixed,
	                   .rng_ctx = &ry};
	edhoc_handshake *hr = edhoc_handshake_new(&cr);
	edhoc_cid c_r = {.bytes = {0x27}, .len = 1};
	assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
	assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	expect_bytes("trace 2", m2, l2, v, "message_2");
	assert_int_equal(edhoc_responder_read_message_3(hr, m3, l3), 0);
	assert_int_equal(edhoc_handshake_value(hr, EDHOC_V_PRK_OUT, &p, &len), 0);
	expect_bytes("trace 2 responder", p, len, v, "PRK_out");
	assert_int_equal(edhoc_responder_write_message_4(hr, m4, sizeof(m4), &l4), 0);
	expect_bytes("trace 2", m4, l4, v, "message_4");
	expect_oscore(hr, v);
	assert_string_equal(edhoc_handshake_peer_identity(hr), "42-50-31-FF-EF-37-32-39");

	edhoc_handshake_free(hr);
	credfile_free(own);
	credfile_free(peer);
	unlink(own_path);
	unlink(peer_path);
	rmdir(dir);
	free(sk_r);
	free(y);
	free(cred_i);
	free(m1);
	free(m3);
	json_decref(vec);
}

static int setup(void **state)
{
	return cose_key_generate(COSE_CRV_ED25519, NULL, NULL, &ca_key) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	crypto_key_free(ca_key);
	for (int p = 0; p < 2; p++)
		for (int c = 0; c < 8; c++)
			crypto_key_free(keys[p][c]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_method0_K_CCS_KID),
	    cmocka_unit_test(test_method0_K_CCS_VALUE),
	    cmocka_unit_test(test_method0_K_X509_X5T),
	    cmocka_unit_test(test_method0_K_X509_X5CHAIN),
	    cmocka_unit_test(test_method1_K_CCS_KID),
	    cmocka_unit_test(test_method1_K_CCS_VALUE),
	    cmocka_unit_test(test_method1_K_X509_X5T),
	    cmocka_unit_test(test_method1_K_X509_X5CHAIN),
	    cmocka_unit_test(test_method2_K_CCS_KID),
	    cmocka_unit_test(test_method2_K_CCS_VALUE),
	    cmocka_unit_test(test_method2_K_X509_X5T),
	    cmocka_unit_test(test_method2_K_X509_X5CHAIN),
	    cmocka_unit_test(test_method3_K_CCS_KID),
	    cmocka_unit_test(test_method3_K_CCS_VALUE),
	    cmocka_unit_test(test_method3_K_X509_X5T),
	    cmocka_unit_test(test_method3_K_X509_X5CHAIN),
	    cmocka_unit_test(test_untrusted_initiator_is_refused),
	    cmocka_unit_test(test_rfc9529_trace1_with_x509_credentials),
	    cmocka_unit_test(test_rfc9529_trace2_responder_with_credential_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
