/* EDHOC core units: connection identifier encoding, error messages, EAD
 * handling, ID_CRED forms, the state machine's order rules, and
 * initiator <-> responder round trips for all four methods with suites 0
 * and 2 on keys generated here. */
#include <stdio.h>

#include "edhoc/cbor.h"
#include "edhoc_fixture.h"

/* ---- generated parties ---- */

#define MAX_SEEN 8

typedef struct party {
	crypto_key *key;
	uint8_t cred[128];
	size_t cred_len;
	uint8_t id_cred[128];
	size_t id_cred_len;
	edhoc_cred own;
	const struct party *peer; /* whose credential we accept */
	edhoc_config cfg;
	int lookups;
	int lookup_label;
	int lookup_rc; /* when non-zero, the lookup answers this */
	/* EAD items delivered to us: message number and label */
	int seen_msg[MAX_SEEN];
	int64_t seen_label[MAX_SEEN];
	size_t n_seen;
	int ead_reject_label; /* non-zero: reject this label */
} party;

static int party_lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	party *p = ctx;

	p->lookups++;
	p->lookup_label = id->label;
	if (p->lookup_rc)
		return p->lookup_rc;
	if (id->map_len != p->peer->id_cred_len ||
	    memcmp(id->map, p->peer->id_cred, id->map_len) != 0)
		return EDHOC_E_UNKNOWN_CRED;
	*ret = p->peer->own;
	ret->key = p->peer->key; /* public use only */
	return 0;
}

/* Recognises labels 5, -7, 9 and 12; everything else is unknown. */
static int party_ead(void *ctx, int message_no, const edhoc_ead_item *item)
{
	party *p = ctx;

	assert_true(item->label != 0); /* padding is never delivered */
	if (p->ead_reject_label && item->label == p->ead_reject_label)
		return EDHOC_E_EAD_REJECTED;
	if (item->label != 5 && item->label != -7 && item->label != 9 && item->label != 12)
		return 1;
	if (p->n_seen < MAX_SEEN) {
		p->seen_msg[p->n_seen] = message_no;
		p->seen_label[p->n_seen] = item->label;
		p->n_seen++;
	}
	return 0;
}

/* A key for signing or static DH on the suite's curve. */
static crypto_key *gen_key(const crypto_suite *s, bool signs)
{
	int curve = signs ? s->sig_curve : s->dh_curve;
	uint8_t priv[CRYPTO_MAX_DH_PRIV], pub[CRYPTO_MAX_DH_PUB];
	crypto_key *k = NULL;
	size_t len = 32;

	if (curve == COSE_CRV_ED25519) {
		assert_int_equal(crypto_rng_default(NULL, priv, 32), 0);
	} else {
		assert_int_equal(crypto_dh_keygen(curve, crypto_rng_default, NULL, priv, pub), 0);
		len = crypto_dh_priv_len(curve);
	}
	assert_int_equal(crypto_key_from_private(curve, priv, len, &k), 0);
	return k;
}

/* Credential {2: name, 8: x} with ID_CRED {4: kid}, or id_cred as given. */
static void party_init(party *p, int role, int method, int suite, const char *name,
                       const uint8_t *kid, size_t kid_len)
{
	const crypto_suite *s = crypto_suite_get(suite);
	bool signs =
	    role == EDHOC_INITIATOR ? (method == 0 || method == 1) : (method == 0 || method == 2);
	uint8_t x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
	size_t x_len, y_len;
	cose_writer w;

	memset(p, 0, sizeof(*p));
	p->key = gen_key(s, signs);
	assert_int_equal(crypto_key_public(p->key, x, &x_len, y, &y_len), 0);
	cose_writer_init(&w, p->cred, sizeof(p->cred));
	cose_write_map(&w, 2);
	cose_write_uint(&w, 2);
	cose_write_tstr(&w, name, strlen(name));
	cose_write_uint(&w, 8);
	cose_write_bstr(&w, x, x_len);
	assert_int_equal(cose_writer_result(&w), 0);
	p->cred_len = w.len;
	cose_writer_init(&w, p->id_cred, sizeof(p->id_cred));
	cose_write_map(&w, 1);
	cose_write_uint(&w, EDHOC_ID_CRED_KID);
	cose_write_bstr(&w, kid, kid_len);
	assert_int_equal(cose_writer_result(&w), 0);
	p->id_cred_len = w.len;
	p->own.type = EDHOC_CRED_CCS;
	p->own.cred = p->cred;
	p->own.cred_len = p->cred_len;
	p->own.id_cred = p->id_cred;
	p->own.id_cred_len = p->id_cred_len;
	p->own.key = p->key;
	p->own.identity = name;
	p->cfg.role = role;
	p->cfg.method = method;
	p->cfg.methods = 0xf;
	p->cfg.suites[0] = suite;
	p->cfg.n_suites = 1;
	p->cfg.own = &p->own;
	p->cfg.lookup = party_lookup;
	p->cfg.lookup_ctx = p;
	p->cfg.ead = party_ead;
	p->cfg.ead_ctx = p;
}

static void party_set_id_cred(party *p, const uint8_t *map, size_t len)
{
	assert_true(len <= sizeof(p->id_cred));
	memcpy(p->id_cred, map, len);
	p->id_cred_len = len;
	p->own.id_cred_len = len;
}

static void party_free(party *p)
{
	crypto_key_free(p->key);
}

typedef struct pair {
	party i, r;
	edhoc_handshake *hi, *hr;
} pair;

static void pair_init(pair *pp, int method, int suite)
{
	static const uint8_t kid_i[] = {0x2b}, kid_r[] = {0x0a, 0x0b};

	party_init(&pp->i, EDHOC_INITIATOR, method, suite, "init", kid_i, sizeof(kid_i));
	party_init(&pp->r, EDHOC_RESPONDER, method, suite, "resp", kid_r, sizeof(kid_r));
	pp->i.peer = &pp->r;
	pp->r.peer = &pp->i;
	pp->hi = edhoc_handshake_new(&pp->i.cfg);
	pp->hr = edhoc_handshake_new(&pp->r.cfg);
	assert_non_null(pp->hi);
	assert_non_null(pp->hr);
}

static void pair_free(pair *pp)
{
	edhoc_handshake_free(pp->hi);
	edhoc_handshake_free(pp->hr);
	party_free(&pp->i);
	party_free(&pp->r);
}

static const edhoc_cid cid_i = {.bytes = {0x01, 0x02, 0x03}, .len = 3};
static const edhoc_cid cid_r = {.bytes = {0x16}, .len = 1};

/* Runs a full handshake; returns the first failing step's code. */
static int pair_run(pair *pp, bool with_m4)
{
	uint8_t m[1024];
	size_t len;
	int rc;

	if ((rc = edhoc_initiator_write_message_1(pp->hi, &cid_i, m, sizeof(m), &len)) < 0 ||
	    (rc = edhoc_responder_read_message_1(pp->hr, m, len)) < 0 ||
	    (rc = edhoc_responder_write_message_2(pp->hr, &cid_r, m, sizeof(m), &len)) < 0 ||
	    (rc = edhoc_initiator_read_message_2(pp->hi, m, len)) < 0 ||
	    (rc = edhoc_initiator_write_message_3(pp->hi, m, sizeof(m), &len)) < 0 ||
	    (rc = edhoc_responder_read_message_3(pp->hr, m, len)) < 0)
		return rc;
	if (!with_m4)
		return 0;
	if ((rc = edhoc_responder_write_message_4(pp->hr, m, sizeof(m), &len)) < 0 ||
	    (rc = edhoc_initiator_read_message_4(pp->hi, m, len)) < 0)
		return rc;
	return 0;
}

static void assert_pair_agrees(pair *pp)
{
	const uint8_t *a, *b;
	size_t al, bl;
	uint8_t ea[24], eb[24];
	edhoc_oscore oi, orr;

	assert_true(edhoc_handshake_complete(pp->hi));
	assert_true(edhoc_handshake_complete(pp->hr));
	assert_int_equal(edhoc_handshake_value(pp->hi, EDHOC_V_PRK_OUT, &a, &al), 0);
	assert_int_equal(edhoc_handshake_value(pp->hr, EDHOC_V_PRK_OUT, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	assert_int_equal(edhoc_exporter(pp->hi, 30, (const uint8_t *)"x", 1, ea, sizeof(ea)), 0);
	assert_int_equal(edhoc_exporter(pp->hr, 30, (const uint8_t *)"x", 1, eb, sizeof(eb)), 0);
	assert_memory_equal(ea, eb, sizeof(ea));
	assert_int_equal(edhoc_oscore_params(pp->hi, &oi), 0);
	assert_int_equal(edhoc_oscore_params(pp->hr, &orr), 0);
	assert_memory_equal(oi.master_secret, orr.master_secret, 16);
	assert_int_equal(oi.master_secret_len, 16);
	assert_memory_equal(oi.master_salt, orr.master_salt, 8);
	/* responder: Sender ID = C_I; initiator: Sender ID = C_R */
	assert_int_equal(orr.sender_id_len, cid_i.len);
	assert_memory_equal(orr.sender_id, cid_i.bytes, cid_i.len);
	assert_int_equal(orr.recipient_id_len, cid_r.len);
	assert_memory_equal(orr.recipient_id, cid_r.bytes, cid_r.len);
	assert_int_equal(oi.sender_id_len, cid_r.len);
	assert_memory_equal(oi.sender_id, cid_r.bytes, cid_r.len);
	assert_string_equal(edhoc_handshake_peer_identity(pp->hr), "init");
	assert_string_equal(edhoc_handshake_peer_identity(pp->hi), "resp");
}

/* ---- round trips ---- */

static void test_round_trip_all_methods_suites_0_and_2(void **state)
{
	static const int suites[] = {0, 2};

	for (size_t s = 0; s < 2; s++) {
		for (int method = 0; method < 4; method++) {
			pair pp;

			pair_init(&pp, method, suites[s]);
			fx_assert_rc(pair_run(&pp, true), 0);
			assert_pair_agrees(&pp);
			assert_int_equal(edhoc_handshake_method(pp.hr), method);
			assert_int_equal(edhoc_handshake_suite(pp.hr), suites[s]);
			/* MAC lengths per method: hash_len for a signing side */
			{
				const uint8_t *p;
				size_t l2, l3;

				assert_int_equal(
				    edhoc_handshake_value(pp.hr, EDHOC_V_MAC_2, &p, &l2), 0);
				assert_int_equal(
				    edhoc_handshake_value(pp.hr, EDHOC_V_MAC_3, &p, &l3), 0);
				assert_int_equal(l2, (method == 0 || method == 2) ? 32 : 8);
				assert_int_equal(l3, (method == 0 || method == 1) ? 32 : 8);
			}
			pair_free(&pp);
		}
	}
}

static void test_round_trip_carries_ead_in_all_four_messages(void **state)
{
	static const uint8_t v5[] = "hello", v12[] = {0xaa, 0xbb};
	const edhoc_ead_item e1[] = {{5, v5, 5}, {0, NULL, 0}};
	const edhoc_ead_item e2[] = {{-7, v12, 2}, {77, v12, 1}}; /* 77: unknown, ignored */
	const edhoc_ead_item e3[] = {{9, NULL, 0}};
	const edhoc_ead_item e4[] = {{0, v12, 2}, {12, v12, 2}};
	pair pp;

	pair_init(&pp, 3, 2);
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 1, e1, 2), 0);
	assert_int_equal(edhoc_handshake_set_ead(pp.hr, 2, e2, 2), 0);
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 3, e3, 1), 0);
	assert_int_equal(edhoc_handshake_set_ead(pp.hr, 4, e4, 2), 0);
	/* each side sends only its own messages */
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 2, e2, 1), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(edhoc_handshake_set_ead(pp.hr, 3, e3, 1), EDHOC_E_INVALID_ARGUMENT);
	fx_assert_rc(pair_run(&pp, true), 0);
	assert_pair_agrees(&pp);
	assert_int_equal(pp.r.n_seen, 2);
	assert_int_equal(pp.r.seen_msg[0], 1);
	assert_int_equal(pp.r.seen_label[0], 5);
	assert_int_equal(pp.r.seen_msg[1], 3);
	assert_int_equal(pp.r.seen_label[1], 9);
	assert_int_equal(pp.i.n_seen, 2);
	assert_int_equal(pp.i.seen_msg[0], 2);
	assert_int_equal(pp.i.seen_label[0], -7);
	assert_int_equal(pp.i.seen_msg[1], 4);
	assert_int_equal(pp.i.seen_label[1], 12);
	pair_free(&pp);
}

static void test_unknown_critical_ead_fails_each_message(void **state)
{
	const edhoc_ead_item crit[] = {{-99, NULL, 0}};

	for (int msg = 1; msg <= 4; msg++) {
		pair pp;

		pair_init(&pp, 0, 0);
		assert_int_equal(edhoc_handshake_set_ead(msg % 2 ? pp.hi : pp.hr, msg, crit, 1), 0);
		fx_assert_rc(pair_run(&pp, true), EDHOC_E_EAD_CRITICAL);
		assert_int_equal(edhoc_result_category(EDHOC_E_EAD_CRITICAL), 'F');
		pair_free(&pp);
	}
}

static void test_ead_rejected_by_application_fails_handshake(void **state)
{
	static const uint8_t v[] = {1};
	const edhoc_ead_item e1[] = {{5, v, 1}};
	pair pp;

	pair_init(&pp, 1, 0);
	pp.r.ead_reject_label = 5;
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 1, e1, 1), 0);
	fx_assert_rc(pair_run(&pp, false), EDHOC_E_EAD_REJECTED);
	pair_free(&pp);
}

static void test_too_many_ead_items_are_refused(void **state)
{
	edhoc_ead_item many[4] = {{1, NULL, 0}, {2, NULL, 0}, {3, NULL, 0}, {0, NULL, 0}};
	pair pp;

	pair_init(&pp, 0, 0);
	pp.r.cfg.max_ead_items = 3;
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 1, many, 4), 0);
	fx_assert_rc(pair_run(&pp, false), EDHOC_E_EAD_TOO_MANY);
	pair_free(&pp);

	pair_init(&pp, 0, 0);
	pp.r.cfg.max_ead_items = 4; /* padding counts as an item too */
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 1, many, 4), 0);
	fx_assert_rc(pair_run(&pp, false), 0);
	pair_free(&pp);
}

static void test_ead_too_large_to_send_is_refused(void **state)
{
	static uint8_t big[EDHOC_MAX_EAD_BYTES];
	const edhoc_ead_item e[] = {{5, big, sizeof(big)}};
	pair pp;

	pair_init(&pp, 0, 0);
	assert_int_equal(edhoc_handshake_set_ead(pp.hi, 1, e, 1), EDHOC_E_BUFFER_TOO_SMALL);
	pair_free(&pp);
}

/* ---- ID_CRED forms ---- */

static void test_id_cred_forms_reach_the_lookup(void **state)
{
	/* x5t {34: [-15, h'0102030405060708']} */
	static const uint8_t x5t[] = {0xa1, 0x18, 0x22, 0x82, 0x2e, 0x48, 1, 2, 3, 4, 5, 6, 7, 8};
	/* x5chain {33: h'3003020100'} (bytes, not parsed by the core) */
	static const uint8_t x5chain[] = {0xa1, 0x18, 0x21, 0x45, 0x30, 0x03, 0x02, 0x01, 0x00};
	/* kccs {14: {2: "n"}} */
	static const uint8_t kccs[] = {0xa1, 0x0e, 0xa1, 0x02, 0x61, 0x6e};
	/* {4: h'0a0b0c'} travels as bstr 43 0a0b0c */
	static const uint8_t kid3[] = {0xa1, 0x04, 0x43, 0x0a, 0x0b, 0x0c};
	/* {4: h'37'} travels as int 37 (-24) */
	static const uint8_t kid_int[] = {0xa1, 0x04, 0x41, 0x37};
	static const struct {
		const uint8_t *map;
		size_t len;
		int label;
	} forms[] = {
	    {x5t, sizeof(x5t), EDHOC_ID_CRED_X5T},
	    {x5chain, sizeof(x5chain), EDHOC_ID_CRED_X5CHAIN},
	    {kccs, sizeof(kccs), EDHOC_ID_CRED_KCCS},
	    {kid3, sizeof(kid3), EDHOC_ID_CRED_KID},
	    {kid_int, sizeof(kid_int), EDHOC_ID_CRED_KID},
	};

	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		pair pp;
		const uint8_t *got;
		size_t got_len;

		pair_init(&pp, 3, 0);
		party_set_id_cred(&pp.i, forms[k].map, forms[k].len);
		party_set_id_cred(&pp.r, forms[k].map, forms[k].len);
		fx_assert_rc(pair_run(&pp, false), 0);
		assert_int_equal(pp.r.lookup_label, forms[k].label);
		assert_int_equal(pp.i.lookup_label, forms[k].label);
		assert_int_equal(edhoc_handshake_peer_id_cred(pp.hr, &got, &got_len), 0);
		assert_int_equal(got_len, forms[k].len);
		assert_memory_equal(got, forms[k].map, got_len);
		pair_free(&pp);
	}
}

static void test_compact_kid_is_written_compact(void **state)
{
	pair pp;
	const uint8_t *pt;
	size_t len;

	pair_init(&pp, 3, 0); /* ID_CRED_R {4: h'0a0b'}, ID_CRED_I {4: h'2b'} */
	fx_assert_rc(pair_run(&pp, false), 0);
	/* PLAINTEXT_2 = C_R (16) || 42 0a0b || MAC */
	assert_int_equal(edhoc_handshake_value(pp.hr, EDHOC_V_PLAINTEXT_2, &pt, &len), 0);
	assert_int_equal(pt[0], 0x16);
	assert_int_equal(pt[1], 0x42);
	assert_int_equal(pt[2], 0x0a);
	assert_int_equal(pt[3], 0x0b);
	/* PLAINTEXT_3 = 2b (-12) || MAC */
	assert_int_equal(edhoc_handshake_value(pp.hr, EDHOC_V_PLAINTEXT_3, &pt, &len), 0);
	assert_int_equal(pt[0], 0x2b);
	assert_int_equal(pt[1], 0x48);
	assert_int_equal(len, 10);
	pair_free(&pp);
}

/* ---- connection identifiers ---- */

static void test_cid_one_byte_integers_travel_as_int(void **state)
{
	for (unsigned b = 0; b < 256; b++) {
		edhoc_cid c = {.bytes = {(uint8_t)b}, .len = 1}, d;
		uint8_t out[4];
		size_t len, used;
		bool as_int = b <= 0x17 || (b >= 0x20 && b <= 0x37);

		assert_int_equal(edhoc_cid_encode(&c, out, sizeof(out), &len), 0);
		if (as_int) {
			assert_int_equal(len, 1);
			assert_int_equal(out[0], b);
		} else {
			assert_int_equal(len, 2);
			assert_int_equal(out[0], 0x41);
			assert_int_equal(out[1], b);
		}
		assert_int_equal(edhoc_cid_decode(out, len, &d, &used), 0);
		assert_int_equal(used, len);
		assert_int_equal(d.len, 1);
		assert_int_equal(d.bytes[0], b);
	}
}

static void test_cid_other_lengths_travel_as_bstr(void **state)
{
	edhoc_cid empty = {.len = 0}, three = {.bytes = {1, 2, 3}, .len = 3}, d;
	uint8_t out[20];
	size_t len, used;

	assert_int_equal(edhoc_cid_encode(&empty, out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0x40);
	assert_int_equal(edhoc_cid_decode(out, len, &d, &used), 0);
	assert_int_equal(d.len, 0);
	assert_int_equal(edhoc_cid_encode(&three, out, sizeof(out), &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(out[0], 0x43);
	assert_int_equal(edhoc_cid_encode(&three, out, 3, &len), EDHOC_E_BUFFER_TOO_SMALL);
}

static void test_cid_decode_rejects_bad_forms(void **state)
{
	static const struct {
		const char *hex;
		int want;
	} bad[] = {
	    {"410e", EDHOC_E_CONN_ID_MALFORMED}, /* should have been the int 0e */
	    {"4137", EDHOC_E_CONN_ID_MALFORMED}, /* should have been the int 37 */
	    {"1818", EDHOC_E_CONN_ID_MALFORMED}, /* int 24: not one byte */
	    {"3818", EDHOC_E_CONN_ID_MALFORMED}, /* int -25 */
	    {"612d", EDHOC_E_CONN_ID_MALFORMED}, /* text */
	    {"812d", EDHOC_E_CONN_ID_MALFORMED}, /* array */
	    {"5101020304050607080910111213141516ff", EDHOC_E_CONN_ID_MALFORMED}, /* 17 bytes */
	    {"4201", EDHOC_E_CBOR_TRUNCATED},
	    {"5801aa", EDHOC_E_CBOR_NOT_DETERMINISTIC},
	    {"", EDHOC_E_CBOR_TRUNCATED},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len, used = 99;
		uint8_t *p = tu_hex(bad[i].hex, &len);
		edhoc_cid d;

		fx_assert_rc(edhoc_cid_decode(p ? p : (const uint8_t *)"", len, &d, &used),
		             bad[i].want);
		assert_int_equal(used, 99); /* untouched on failure */
		free(p);
	}
}

/* ---- error messages ---- */

static void assert_encoded(int code, const char *text, const int *suites, size_t n,
                           const char *want_hex)
{
	uint8_t out[64];
	size_t len, wl;
	uint8_t *want = tu_hex(want_hex, &wl);

	assert_int_equal(edhoc_error_encode(code, text, suites, n, out, sizeof(out), &len), 0);
	assert_int_equal(len, wl);
	assert_memory_equal(out, want, wl);
	free(want);
}

static void test_error_messages_encode_per_rfc9528(void **state)
{
	static const int one[] = {0}, two[] = {0, 2}, neg[] = {-24};

	assert_encoded(1, "hi", NULL, 0, "01626869");
	assert_encoded(1, NULL, NULL, 0, "0160");
	assert_encoded(2, NULL, one, 1, "0200");
	assert_encoded(2, NULL, two, 2, "02820002");
	assert_encoded(2, NULL, neg, 1, "0237");
	assert_encoded(3, NULL, NULL, 0, "03f5");
	{
		uint8_t out[4];
		size_t len;

		assert_int_equal(edhoc_error_encode(2, NULL, NULL, 0, out, sizeof(out), &len),
		                 EDHOC_E_INVALID_ARGUMENT);
		assert_int_equal(edhoc_error_encode(4, NULL, NULL, 0, out, sizeof(out), &len),
		                 EDHOC_E_INVALID_ARGUMENT);
		assert_int_equal(
		    edhoc_error_encode(1, "long text", NULL, 0, out, sizeof(out), &len),
		    EDHOC_E_BUFFER_TOO_SMALL);
	}
}

static void test_error_messages_decode_strictly(void **state)
{
	static const struct {
		const char *hex;
		int rc;
		int64_t code;
	} cases[] = {
	    {"01626869", 0, 1},
	    {"0202", 0, 2},
	    {"02820602", 0, 2},
	    {"03f5", 0, 3},
	    {"1818a0", 0, 24},                      /* unknown code, any ERR_INFO */
	    {"01", EDHOC_E_ERROR_MALFORMED, 0},     /* ERR_INFO missing */
	    {"0101", EDHOC_E_ERROR_MALFORMED, 0},   /* code 1 needs text */
	    {"0280", EDHOC_E_ERROR_MALFORMED, 0},   /* empty SUITES_R */
	    {"03f4", EDHOC_E_ERROR_MALFORMED, 0},   /* code 3 needs true */
	    {"016000", EDHOC_E_ERROR_MALFORMED, 0}, /* trailing item */
	    {"40", EDHOC_E_ERROR_MALFORMED, 0},     /* not an int first */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *p = tu_hex(cases[i].hex, &len);
		edhoc_error e;

		fx_assert_rc(edhoc_error_decode(p, len, &e), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(e.err_code, cases[i].code);
		free(p);
	}
	{
		uint8_t m[] = {0x02, 0x82, 0x06, 0x02};
		edhoc_error e;

		assert_int_equal(edhoc_error_decode(m, sizeof(m), &e), 0);
		assert_int_equal(e.n_suites, 2);
		assert_int_equal(e.suites[0], 6);
		assert_int_equal(e.suites[1], 2);
		assert_true(edhoc_is_error_message(m, sizeof(m)));
		assert_false(edhoc_is_error_message((const uint8_t *)"\x41\x00", 2));
	}
}

static void test_error_message_follows_result(void **state)
{
	pair pp;
	uint8_t out[64];
	size_t len;
	edhoc_error e;

	pair_init(&pp, 0, 0);
	pp.r.cfg.suites[1] = 2;
	pp.r.cfg.n_suites = 2;
	assert_int_equal(
	    edhoc_error_message(pp.hr, EDHOC_E_SUITE_NOT_SUPPORTED, "x", out, sizeof(out), &len),
	    0);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, 2);
	assert_int_equal(e.n_suites, 2);
	assert_int_equal(
	    edhoc_error_message(pp.hr, EDHOC_E_UNKNOWN_CRED, "C-7", out, sizeof(out), &len), 0);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, 1);
	assert_string_equal(e.text, "C-7");
	pp.r.cfg.unknown_cred_error = true;
	assert_int_equal(
	    edhoc_error_message(pp.hr, EDHOC_E_UNKNOWN_CRED, "C-7", out, sizeof(out), &len), 0);
	assert_int_equal(edhoc_error_decode(out, len, &e), 0);
	assert_int_equal(e.err_code, 3);
	pair_free(&pp);
}

/* ---- suite negotiation, initiator side ---- */

static void test_initiator_retries_with_common_suite_or_gives_up(void **state)
{
	pair pp;
	uint8_t m[256];
	size_t len;
	static const uint8_t err_0_2[] = {0x02, 0x82, 0x00, 0x02};
	static const uint8_t err_5[] = {0x02, 0x05}, err_2[] = {0x02, 0x02};
	static const uint8_t err_text[] = {0x01, 0x61, 0x78};
	edhoc_error e;

	/* initiator prefers 0 then 2; responder supports only 2 */
	pair_init(&pp, 3, 2);
	pp.i.cfg.suites[0] = 0;
	pp.i.cfg.suites[1] = 2;
	pp.i.cfg.n_suites = 2;
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	assert_int_equal(m[1], 0x00); /* SUITES_I = 0 */
	fx_assert_rc(edhoc_responder_read_message_1(pp.hr, m, len), EDHOC_E_SUITE_NOT_SUPPORTED);
	assert_int_equal(
	    edhoc_error_message(pp.hr, EDHOC_E_SUITE_NOT_SUPPORTED, NULL, m, sizeof(m), &len), 0);
	assert_int_equal(edhoc_error_decode(m, len, &e), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, m, len), EDHOC_E_SUITE_NOT_SUPPORTED);
	/* the retry: SUITES_I = [0, 2], then the handshake completes */
	edhoc_handshake_free(pp.hr);
	pp.hr = edhoc_handshake_new(&pp.r.cfg);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	assert_int_equal(m[1], 0x82);
	assert_int_equal(m[2], 0x00);
	assert_int_equal(m[3], 0x02);
	assert_int_equal(edhoc_responder_read_message_1(pp.hr, m, len), 0);
	assert_int_equal(edhoc_responder_write_message_2(pp.hr, &cid_r, m, sizeof(m), &len), 0);
	assert_int_equal(edhoc_initiator_read_message_2(pp.hi, m, len), 0);
	pair_free(&pp);

	/* SUITES_R without a suite of ours: no retry */
	pair_init(&pp, 3, 2);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, err_5, sizeof(err_5)),
	             EDHOC_E_PEER_WRONG_SUITE);
	fx_assert_rc(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	pair_free(&pp);

	/* SUITES_R naming only the suite just refused: no retry either */
	pair_init(&pp, 3, 2);
	pp.i.cfg.suites[1] = 0;
	pp.i.cfg.n_suites = 2;
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, err_2, sizeof(err_2)),
	             EDHOC_E_PEER_WRONG_SUITE);
	pair_free(&pp);

	/* a broken error message */
	pair_init(&pp, 3, 2);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, err_0_2, 2), /* 02 82: cut */
	             EDHOC_E_ERROR_MALFORMED);
	pair_free(&pp);

	/* any other error */
	pair_init(&pp, 3, 2);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, err_text, sizeof(err_text)),
	             EDHOC_E_PEER_ERROR);
	pair_free(&pp);
}

/* ---- state machine ---- */

static void test_steps_out_of_order_are_unexpected(void **state)
{
	pair pp;
	uint8_t m[512], ex[16];
	size_t len;
	edhoc_oscore o;

	pair_init(&pp, 0, 0);
	/* nothing before message_1, and no initiator step on a responder */
	fx_assert_rc(edhoc_responder_write_message_2(pp.hr, &cid_r, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_responder_read_message_3(pp.hr, m, 3), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_initiator_write_message_1(pp.hr, &cid_i, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_responder_read_message_1(pp.hi, m, 3), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_initiator_write_message_3(pp.hi, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_exporter(pp.hr, 0, NULL, 0, ex, 16), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_oscore_params(pp.hr, &o), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_key_update(pp.hr, NULL, 0), EDHOC_E_UNEXPECTED_MESSAGE);
	/* an out-of-order call does not spoil the handshake */
	fx_assert_rc(pair_run(&pp, true), 0);
	assert_pair_agrees(&pp);
	/* and a completed handshake takes no more messages */
	fx_assert_rc(edhoc_responder_read_message_1(pp.hr, m, 3), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_responder_write_message_4(pp.hr, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	assert_true(edhoc_handshake_complete(pp.hr));
	pair_free(&pp);
}

static void test_failed_step_leaves_handshake_failed(void **state)
{
	pair pp;
	uint8_t m[512];
	size_t len;

	pair_init(&pp, 3, 0);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	fx_assert_rc(edhoc_responder_read_message_1(pp.hr, m, len - 1), EDHOC_E_CBOR_TRUNCATED);
	fx_assert_rc(edhoc_responder_read_message_1(pp.hr, m, len), EDHOC_E_UNEXPECTED_MESSAGE);
	fx_assert_rc(edhoc_responder_write_message_2(pp.hr, &cid_r, m, sizeof(m), &len),
	             EDHOC_E_UNEXPECTED_MESSAGE);
	assert_false(edhoc_handshake_complete(pp.hr));
	pair_free(&pp);
}

static void test_c_r_equal_to_c_i_is_refused(void **state)
{
	pair pp;
	uint8_t m[512];
	size_t len;

	pair_init(&pp, 0, 0);
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	assert_int_equal(edhoc_responder_read_message_1(pp.hr, m, len), 0);
	fx_assert_rc(edhoc_responder_write_message_2(pp.hr, &cid_i, m, sizeof(m), &len),
	             EDHOC_E_CONN_ID_SAME);
	pair_free(&pp);
}

static void test_unknown_initiator_credential(void **state)
{
	pair pp;

	pair_init(&pp, 0, 0);
	pp.r.lookup_rc = EDHOC_E_UNKNOWN_CRED;
	fx_assert_rc(pair_run(&pp, false), EDHOC_E_UNKNOWN_CRED);
	assert_int_equal(pp.r.lookups, 1);
	pair_free(&pp);

	/* a credential whose key does not fit the method: method 2 wants an
	 * X25519 static DH key from I, the lookup gives an Ed25519 one */
	{
		static const uint8_t kid_i[] = {0x2b};
		party wrong;

		pair_init(&pp, 2, 0);
		party_init(&wrong, EDHOC_RESPONDER, 0, 0, "wrong", kid_i, sizeof(kid_i));
		pp.r.peer = &wrong;
		fx_assert_rc(pair_run(&pp, false), EDHOC_E_CRED_KEY_TYPE);
		pair_free(&pp);
		party_free(&wrong);
	}
}

/* Tampering with the last byte of message_2 hits Signature_or_MAC_2. */
static void test_tampered_message_2_is_detected(void **state)
{
	static const struct {
		int method;
		int want;
	} cases[] = {{0, EDHOC_E_SIG2_INVALID}, {3, EDHOC_E_MAC2_MISMATCH}};

	for (size_t k = 0; k < 2; k++) {
		pair pp;
		uint8_t m[512];
		size_t len;

		pair_init(&pp, cases[k].method, 2);
		assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len),
		                 0);
		assert_int_equal(edhoc_responder_read_message_1(pp.hr, m, len), 0);
		assert_int_equal(edhoc_responder_write_message_2(pp.hr, &cid_r, m, sizeof(m), &len),
		                 0);
		m[len - 1] ^= 0x01;
		fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, m, len), cases[k].want);
		pair_free(&pp);
	}
}

/* message_2 too short to hold G_Y, or holding nothing but G_Y */
static void test_short_message_2_is_refused(void **state)
{
	static const struct {
		size_t keep;
		int want;
	} cases[] = {{31, EDHOC_E_EPHEMERAL_KEY_LENGTH}, {32, EDHOC_E_PLAINTEXT_MALFORMED}};

	for (size_t k = 0; k < 2; k++) {
		pair pp;
		uint8_t m[512];
		size_t len;

		pair_init(&pp, 3, 0);
		assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len),
		                 0);
		assert_int_equal(edhoc_responder_read_message_1(pp.hr, m, len), 0);
		assert_int_equal(edhoc_responder_write_message_2(pp.hr, &cid_r, m, sizeof(m), &len),
		                 0);
		/* 58 NN G_Y ...: cut the bstr to `keep` bytes (head becomes 58 keep) */
		assert_int_equal(m[0], 0x58);
		m[1] = (uint8_t)cases[k].keep;
		fx_assert_rc(edhoc_initiator_read_message_2(pp.hi, m, 2 + cases[k].keep),
		             cases[k].want);
		pair_free(&pp);
	}
}

static void test_message_size_limit(void **state)
{
	pair pp;
	uint8_t m[512];
	size_t len;

	pair_init(&pp, 0, 0);
	pp.r.cfg.max_message = 20;
	assert_int_equal(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, sizeof(m), &len), 0);
	assert_true(len > 20);
	fx_assert_rc(edhoc_responder_read_message_1(pp.hr, m, len), EDHOC_E_MESSAGE_TOO_LARGE);
	pair_free(&pp);

	pair_init(&pp, 0, 0);
	fx_assert_rc(edhoc_initiator_write_message_1(pp.hi, &cid_i, m, 10, &len),
	             EDHOC_E_BUFFER_TOO_SMALL);
	pair_free(&pp);
}

static void test_handshake_object_is_small(void **state)
{
	size_t n = edhoc_handshake_size();

	print_message("sizeof(edhoc_handshake) = %zu\n", n);
	assert_true(n < 4096);
	edhoc_handshake_free(NULL);
	assert_null(edhoc_handshake_new(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_all_methods_suites_0_and_2),
	    cmocka_unit_test(test_round_trip_carries_ead_in_all_four_messages),
	    cmocka_unit_test(test_unknown_critical_ead_fails_each_message),
	    cmocka_unit_test(test_ead_rejected_by_application_fails_handshake),
	    cmocka_unit_test(test_too_many_ead_items_are_refused),
	    cmocka_unit_test(test_ead_too_large_to_send_is_refused),
	    cmocka_unit_test(test_id_cred_forms_reach_the_lookup),
	    cmocka_unit_test(test_compact_kid_is_written_compact),
	    cmocka_unit_test(test_cid_one_byte_integers_travel_as_int),
	    cmocka_unit_test(test_cid_other_lengths_travel_as_bstr),
	    cmocka_unit_test(test_cid_decode_rejects_bad_forms),
	    cmocka_unit_test(test_error_messages_encode_per_rfc9528),
	    cmocka_unit_test(test_error_messages_decode_strictly),
	    cmocka_unit_test(test_error_message_follows_result),
	    cmocka_unit_test(test_initiator_retries_with_common_suite_or_gives_up),
	    cmocka_unit_test(test_steps_out_of_order_are_unexpected),
	    cmocka_unit_test(test_failed_step_leaves_handshake_failed),
	    cmocka_unit_test(test_c_r_equal_to_c_i_is_refused),
	    cmocka_unit_test(test_unknown_initiator_credential),
	    cmocka_unit_test(test_tampered_message_2_is_detected),
	    cmocka_unit_test(test_short_message_2_is_refused),
	    cmocka_unit_test(test_message_size_limit),
	    cmocka_unit_test(test_handshake_object_is_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
