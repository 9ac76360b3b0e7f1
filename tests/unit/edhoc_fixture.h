/* Shared by the EDHOC unit tests: RFC 9529 trace parties built from the
 * vector file (credentials, keys, configurations with an injected random
 * source) and a few helpers.  Header-only so each test program stays one
 * source file; every function is static. */
#ifndef EDHOC_FIXTURE_H
#define EDHOC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "testutil.h"

#define FX_MAX_RNG 4

/* Not every test program uses every helper. */
#define FX_FN static __attribute__((unused))

/* Injected randomness: each call takes the next queued byte string, which
 * must have exactly the requested length; after the last, the last repeats. */
typedef struct fx_rng {
	uint8_t *bufs[FX_MAX_RNG];
	size_t lens[FX_MAX_RNG];
	size_t n, next;
	int calls;
} fx_rng;

FX_FN int fx_rng_cb(void *ctx, uint8_t *buf, size_t len)
{
	fx_rng *r = ctx;
	size_t i;

	if (r->n == 0)
		return EDHOC_E_RNG;
	i = r->next < r->n ? r->next : r->n - 1;
	if (r->lens[i] != len)
		return EDHOC_E_RNG;
	memcpy(buf, r->bufs[i], len);
	r->next++;
	r->calls++;
	return 0;
}

/* Queues the bytes of a hex member of obj. */
FX_FN void fx_rng_push(fx_rng *r, json_t *obj, const char *key)
{
	assert_true(r->n < FX_MAX_RNG);
	r->bufs[r->n] = tu_hex_member(obj, key, &r->lens[r->n]);
	r->n++;
}

FX_FN void fx_rng_free(fx_rng *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->bufs[i]);
	memset(r, 0, sizeof(*r));
}

/* One side of a trace: own credential and the peer's. */
typedef struct fx_party {
	uint8_t *cred, *id_cred, *peer_cred, *peer_id_cred;
	size_t cred_len, id_cred_len, peer_cred_len, peer_id_cred_len;
	crypto_key *own_key, *peer_key;
	edhoc_cred own, peer;
	edhoc_config cfg;
	fx_rng rng;
	int lookups;
	int lookup_label; /* label the last lookup saw */
} fx_party;

/* A trace: responder and initiator of RFC 9529 trace 1 (idx 0) or 2 (1). */
typedef struct fx_trace {
	json_t *root;
	json_t *v; /* traces[idx].values (borrowed) */
	int idx;
	int method, suite;
	fx_party r, i;
} fx_trace;

FX_FN int fx_lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	fx_party *p = ctx;

	p->lookups++;
	p->lookup_label = id->label;
	if (id->map_len != p->peer_id_cred_len ||
	    memcmp(id->map, p->peer_id_cred, id->map_len) != 0)
		return EDHOC_E_UNKNOWN_CRED;
	*ret = p->peer;
	return 0;
}

FX_FN uint8_t *fx_hex(json_t *obj, const char *key, size_t *len)
{
	return tu_hex_member(obj, key, len);
}

/* Compares bytes with a hex member of obj, showing both on mismatch. */
FX_FN void fx_assert_member(json_t *obj, const char *key, const uint8_t *p, size_t len)
{
	size_t elen;
	uint8_t *exp = fx_hex(obj, key, &elen);

	if (elen != len || memcmp(exp, p, len) != 0) {
		char want[4096];

		snprintf(want, sizeof(want), "%s", tu_to_hex(exp, elen));
		free(exp);
		fail_msg("%s: got %s, want %s", key, tu_to_hex(p, len), want);
	}
	free(exp);
}

FX_FN void fx_assert_value(const edhoc_handshake *h, int which, json_t *obj, const char *key)
{
	const uint8_t *p;
	size_t len;
	int rc = edhoc_handshake_value(h, which, &p, &len);

	if (rc != 0)
		fail_msg("%s not available: %s", key, edhoc_result_name(rc));
	fx_assert_member(obj, key, p, len);
}

FX_FN crypto_key *fx_key_private(int curve, json_t *v, const char *key)
{
	size_t len;
	uint8_t *p = fx_hex(v, key, &len);
	crypto_key *k = NULL;

	assert_int_equal(crypto_key_from_private(curve, p, len, &k), 0);
	free(p);
	return k;
}

FX_FN crypto_key *fx_key_public(int curve, json_t *v, const char *x, const char *y)
{
	size_t xl, yl = 0;
	uint8_t *px = fx_hex(v, x, &xl), *py = y ? fx_hex(v, y, &yl) : NULL;
	crypto_key *k = NULL;

	assert_int_equal(crypto_key_from_public(curve, px, xl, py, yl, &k), 0);
	free(px);
	free(py);
	return k;
}

FX_FN void fx_party_cfg(fx_party *p, int role, int method, const int *suites, size_t n_suites)
{
	memset(&p->cfg, 0, sizeof(p->cfg));
	p->own.type = p->peer.type;
	p->own.cred = p->cred;
	p->own.cred_len = p->cred_len;
	p->own.id_cred = p->id_cred;
	p->own.id_cred_len = p->id_cred_len;
	p->own.key = p->own_key;
	p->peer.cred = p->peer_cred;
	p->peer.cred_len = p->peer_cred_len;
	p->peer.id_cred = p->peer_id_cred;
	p->peer.id_cred_len = p->peer_id_cred_len;
	p->peer.key = p->peer_key;
	p->cfg.role = role;
	p->cfg.method = method;
	p->cfg.methods = 1u << method;
	for (size_t k = 0; k < n_suites; k++)
		p->cfg.suites[k] = suites[k];
	p->cfg.n_suites = n_suites;
	p->cfg.own = &p->own;
	p->cfg.lookup = fx_lookup;
	p->cfg.lookup_ctx = p;
	p->cfg.rng = fx_rng_cb;
	p->cfg.rng_ctx = &p->rng;
}

/* Loads trace idx (0 or 1) with both parties configured as in RFC 9529:
 * the responder supports only the trace's suite, the trace-2 initiator
 * prefers suite 6 over 2. */
FX_FN void fx_trace_load(fx_trace *t, int idx)
{
	json_t *tr;
	size_t len;

	memset(t, 0, sizeof(*t));
	t->root = tu_load_vectors("edhoc-rfc9529.json");
	tr = json_array_get(json_object_get(t->root, "traces"), (size_t)idx);
	assert_non_null(tr);
	t->v = json_object_get(tr, "values");
	t->idx = idx;
	t->method = (int)json_integer_value(json_object_get(t->v, "METHOD"));
	t->suite = (int)json_integer_value(json_object_get(t->v, "selected_suite"));

	/* responder: own R, peer I */
	t->r.cred = fx_hex(t->v, "CRED_R", &t->r.cred_len);
	t->r.id_cred = fx_hex(t->v, "ID_CRED_R", &t->r.id_cred_len);
	t->r.peer_cred = fx_hex(t->v, "CRED_I", &t->r.peer_cred_len);
	t->r.peer_id_cred = fx_hex(t->v, "ID_CRED_I", &t->r.peer_id_cred_len);
	/* initiator: own I, peer R */
	t->i.cred = fx_hex(t->v, "CRED_I", &t->i.cred_len);
	t->i.id_cred = fx_hex(t->v, "ID_CRED_I", &t->i.id_cred_len);
	t->i.peer_cred = fx_hex(t->v, "CRED_R", &t->i.peer_cred_len);
	t->i.peer_id_cred = fx_hex(t->v, "ID_CRED_R", &t->i.peer_id_cred_len);

	if (idx == 0) {
		/* Ed25519 signature keys; the peer keys come from the certificates */
		uint8_t *der;

		t->r.own_key = fx_key_private(COSE_CRV_ED25519, t->v, "SK_R");
		t->i.own_key = fx_key_private(COSE_CRV_ED25519, t->v, "SK_I");
		der = fx_hex(t->v, "CRED_I_der", &len);
		assert_int_equal(crypto_key_from_x509_der(der, len, &t->r.peer_key), 0);
		free(der);
		der = fx_hex(t->v, "CRED_R_der", &len);
		assert_int_equal(crypto_key_from_x509_der(der, len, &t->i.peer_key), 0);
		free(der);
		t->r.peer.type = t->i.peer.type = EDHOC_CRED_X509;
	} else {
		/* P-256 static DH keys */
		t->r.own_key = fx_key_private(COSE_CRV_P256, t->v, "SK_R");
		t->i.own_key = fx_key_private(COSE_CRV_P256, t->v, "SK_I");
		t->r.peer_key = fx_key_public(COSE_CRV_P256, t->v, "PK_I_x", "PK_I_y");
		t->i.peer_key = fx_key_public(COSE_CRV_P256, t->v, "PK_R_x", "PK_R_y");
		t->r.peer.type = t->i.peer.type = EDHOC_CRED_CCS;
	}
	t->r.peer.identity = "initiator";
	t->i.peer.identity = "responder";

	fx_rng_push(&t->r.rng, t->v, "Y");
	fx_party_cfg(&t->r, EDHOC_RESPONDER, t->method, &t->suite, 1);
	if (idx == 0) {
		fx_rng_push(&t->i.rng, t->v, "X");
		fx_party_cfg(&t->i, EDHOC_INITIATOR, t->method, &t->suite, 1);
	} else {
		static const int pref[] = {6, 2};
		json_t *neg = json_object_get(t->v, "negotiation");

		fx_rng_push(&t->i.rng, neg, "X_first");
		fx_rng_push(&t->i.rng, t->v, "X");
		fx_party_cfg(&t->i, EDHOC_INITIATOR, t->method, pref, 2);
	}
}

FX_FN void fx_party_free(fx_party *p)
{
	free(p->cred);
	free(p->id_cred);
	free(p->peer_cred);
	free(p->peer_id_cred);
	crypto_key_free(p->own_key);
	crypto_key_free(p->peer_key);
	fx_rng_free(&p->rng);
}

FX_FN void fx_trace_free(fx_trace *t)
{
	fx_party_free(&t->r);
	fx_party_free(&t->i);
	json_decref(t->root);
	memset(t, 0, sizeof(*t));
}

/* Connection identifier from a raw-bytes hex member. */
FX_FN edhoc_cid fx_cid(json_t *v, const char *key)
{
	edhoc_cid c;
	size_t len;
	uint8_t *p = fx_hex(v, key, &len);

	assert_true(len <= EDHOC_MAX_CID);
	memcpy(c.bytes, p, len);
	c.len = len;
	free(p);
	return c;
}

/* Feeds a hex member as a message to a reading function. */
typedef int (*fx_read_fn)(edhoc_handshake *, const uint8_t *, size_t);

FX_FN int fx_read(edhoc_handshake *h, fx_read_fn fn, json_t *obj, const char *key)
{
	size_t len;
	uint8_t *p = fx_hex(obj, key, &len);
	int rc = fn(h, p, len);

	free(p);
	return rc;
}

#define fx_assert_rc(expr, want)                                                       \
	do {                                                                           \
		int rc_ = (expr);                                                      \
		if (rc_ != (want))                                                     \
			fail_msg("%s: got %s, want %s", #expr, edhoc_result_name(rc_), \
			         edhoc_result_name(want));                             \
	} while (0)

#endif
