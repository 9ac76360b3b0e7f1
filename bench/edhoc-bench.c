/* edhoc-bench: EDHOC handshakes per second, and how far the handshake's cost
 * is from the cost of the cryptography it cannot avoid.
 *
 * The program is linked with -Wl,--wrap for every crypto-layer call the
 * EDHOC core makes (see bench/local.mk).  One traced handshake records each
 * call with copies of its arguments and which side made it; the raw cost is
 * then the time to replay exactly that list through the same crypto layer
 * (__real_* functions, same keys, same lengths).  Handshakes and replays
 * are interleaved one by one and the 10th percentile of each counts, so
 * other load on the machine inflates neither side of the ratio.
 *
 * Usage: edhoc-bench [--all] [--time SECONDS] [--method M --suite S]
 *        [--x509] [--msg4] [--ops]
 * --ops also times each of the responder's crypto calls alone. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/certgen.h"
#include "edhoc/cred.h"
#include "edhoc/edhoc.h"

/* ---- the wrapped crypto layer ---- */

enum op {
	OP_HASH,
	OP_EXTRACT,
	OP_EXPAND,
	OP_AEAD_ENC,
	OP_AEAD_DEC,
	OP_DH_KEYGEN,
	OP_DH_DERIVE,
	OP_DH_DERIVE_RAW,
	OP_DH_DERIVE_PRIV,
	OP_KEY_FROM_PUBLIC,
	OP_KEY_PUBLIC,
	OP_SIGN,
	OP_VERIFY,
	OP_N
};
static const char *const op_names[OP_N] = {
    "hash",     "extract",   "expand",        "aead-enc",      "aead-dec", "dh-keygen", "ecdh",
    "ecdh-raw", "ecdh-priv", "pubkey-import", "pubkey-export", "sign",     "verify"};

#define MAX_REC 96
typedef struct rec {
	enum op op;
	char side;
	int alg;
	uint8_t *a, *b, *c, *d; /* argument copies */
	size_t al, bl, cl, dl;
	size_t out_len;
	crypto_key *k1, *k2;
} rec;

static struct {
	bool on;
	char side;
	rec r[MAX_REC];
	size_t n;
	bool overflow;
} trace;

static char cur_side = '?';

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *q = calloc(1, n ? n : 1);
	if (!q) {
		perror("calloc");
		exit(1);
	}
	if (n && p)
		memcpy(q, p, n);
	return q;
}

static rec *rec_new(enum op op)
{
	if (!trace.on)
		return NULL;
	if (trace.n >= MAX_REC) {
		trace.overflow = true;
		return NULL;
	}
	rec *r = &trace.r[trace.n++];
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->side = cur_side;
	return r;
}

int __real_crypto_hash(int alg, const uint8_t *data, size_t len, uint8_t *out);
int __wrap_crypto_hash(int alg, const uint8_t *data, size_t len, uint8_t *out)
{
	rec *r = rec_new(OP_HASH);
	if (r) {
		r->alg = alg;
		r->a = dup_bytes(data, len);
		r->al = len;
	}
	return __real_crypto_hash(alg, data, len, out);
}

int __real_crypto_kdf_extract(int alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                              size_t ikm_len, uint8_t *prk);
int __wrap_crypto_kdf_extract(int alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                              size_t ikm_len, uint8_t *prk)
{
	rec *r = rec_new(OP_EXTRACT);
	if (r) {
		r->alg = alg;
		r->a = dup_bytes(salt, salt_len);
		r->al = salt_len;
		r->b = dup_bytes(ikm, ikm_len);
		r->bl = ikm_len;
	}
	return __real_crypto_kdf_extract(alg, salt, salt_len, ikm, ikm_len, prk);
}

int __real_crypto_kdf_expand(int alg, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                             size_t info_len, uint8_t *out, size_t out_len);
int __wrap_crypto_kdf_expand(int alg, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                             size_t info_len, uint8_t *out, size_t out_len)
{
	rec *r = rec_new(OP_EXPAND);
	if (r) {
		r->alg = alg;
		r->a = dup_bytes(prk, prk_len);
		r->al = prk_len;
		r->b = dup_bytes(info, info_len);
		r->bl = info_len;
		r->out_len = out_len;
	}
	return __real_crypto_kdf_expand(alg, prk, prk_len, info, info_len, out, out_len);
}

int __real_crypto_aead_encrypt(int alg, const uint8_t *key, const uint8_t *nonce,
                               const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                               uint8_t *ct);
int __wrap_crypto_aead_encrypt(int alg, const uint8_t *key, const uint8_t *nonce,
                               const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                               uint8_t *ct)
{
	rec *r = rec_new(OP_AEAD_ENC);
	if (r) {
		r->alg = alg;
		r->a = dup_bytes(key, crypto_aead_key_len(alg));
		r->b = dup_bytes(nonce, crypto_aead_nonce_len(alg));
		r->c = dup_bytes(aad, aad_len);
		r->cl = aad_len;
		r->d = dup_bytes(pt, pt_len);
		r->dl = pt_len;
	}
	return __real_crypto_aead_encrypt(alg, key, nonce, aad, aad_len, pt, pt_len, ct);
}

int __real_crypto_aead_decrypt(int alg, const uint8_t *key, const uint8_t *nonce,
                               const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                               uint8_t *pt);
int __wrap_crypto_aead_decrypt(int alg, const uint8_t *key, const uint8_t *nonce,
                               const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                               uint8_t *pt)
{
	rec *r = rec_new(OP_AEAD_DEC);
	if (r) {
		r->alg = alg;
		r->a = dup_bytes(key, crypto_aead_key_len(alg));
		r->b = dup_bytes(nonce, crypto_aead_nonce_len(alg));
		r->c = dup_bytes(aad, aad_len);
		r->cl = aad_len;
		r->d = dup_bytes(ct, ct_len);
		r->dl = ct_len;
	}
	return __real_crypto_aead_decrypt(alg, key, nonce, aad, aad_len, ct, ct_len, pt);
}

int __real_crypto_dh_keygen(int curve, crypto_rng_fn rng, void *rng_ctx, uint8_t *ret_priv,
                            uint8_t *ret_pub);
/* The random bytes a key generation drew, so its replay makes the same key:
 * the crypto layer keeps the last ephemeral key parsed for the derivations
 * that follow, and a replay with a different key would miss that cache where
 * the handshake hits it. */
typedef struct rng_tap {
	crypto_rng_fn fn;
	void *ctx;
	rec *r;
} rng_tap;

static int rng_record(void *ctx, uint8_t *buf, size_t len)
{
	rng_tap *t = ctx;
	int rc = t->fn(t->ctx, buf, len);
	if (rc == 0 && t->r->al + len <= 4 * CRYPTO_MAX_DH_PRIV) {
		memcpy(t->r->a + t->r->al, buf, len);
		t->r->al += len;
	}
	return rc;
}

static int rng_replay(void *ctx, uint8_t *buf, size_t len)
{
	rec *r = ctx;
	if (r->bl + len > r->al)
		return crypto_rng_default(NULL, buf, len);
	memcpy(buf, r->a + r->bl, len);
	r->bl += len;
	return 0;
}

int __wrap_crypto_dh_keygen(int curve, crypto_rng_fn rng, void *rng_ctx, uint8_t *ret_priv,
                            uint8_t *ret_pub)
{
	rec *r = rec_new(OP_DH_KEYGEN);
	if (!r)
		return __real_crypto_dh_keygen(curve, rng, rng_ctx, ret_priv, ret_pub);
	r->alg = curve;
	r->a = dup_bytes(NULL, 4 * CRYPTO_MAX_DH_PRIV);
	rng_tap tap = {rng, rng_ctx, r};
	return __real_crypto_dh_keygen(curve, rng_record, &tap, ret_priv, ret_pub);
}

int __real_crypto_dh_derive(const crypto_key *priv, const crypto_key *peer, uint8_t *ret_secret,
                            size_t *ret_len);
int __wrap_crypto_dh_derive(const crypto_key *priv, const crypto_key *peer, uint8_t *ret_secret,
                            size_t *ret_len)
{
	rec *r = rec_new(OP_DH_DERIVE);
	if (r) {
		r->k1 = crypto_key_ref((crypto_key *)priv);
		r->k2 = crypto_key_ref((crypto_key *)peer);
	}
	return __real_crypto_dh_derive(priv, peer, ret_secret, ret_len);
}

int __real_crypto_dh_derive_raw(int curve, const uint8_t *priv, size_t priv_len,
                                const uint8_t *peer, size_t peer_len, uint8_t *ret_secret,
                                size_t *ret_len);
int __wrap_crypto_dh_derive_raw(int curve, const uint8_t *priv, size_t priv_len,
                                const uint8_t *peer, size_t peer_len, uint8_t *ret_secret,
                                size_t *ret_len)
{
	rec *r = rec_new(OP_DH_DERIVE_RAW);
	if (r) {
		r->alg = curve;
		r->a = dup_bytes(priv, priv_len);
		r->al = priv_len;
		r->b = dup_bytes(peer, peer_len);
		r->bl = peer_len;
	}
	return __real_crypto_dh_derive_raw(curve, priv, priv_len, peer, peer_len, ret_secret,
	                                   ret_len);
}

int __real_crypto_dh_derive_priv(int curve, const uint8_t *priv, size_t priv_len,
                                 const crypto_key *peer, uint8_t *ret_secret, size_t *ret_len);
int __wrap_crypto_dh_derive_priv(int curve, const uint8_t *priv, size_t priv_len,
                                 const crypto_key *peer, uint8_t *ret_secret, size_t *ret_len)
{
	rec *r = rec_new(OP_DH_DERIVE_PRIV);
	if (r) {
		r->alg = curve;
		r->a = dup_bytes(priv, priv_len);
		r->al = priv_len;
		r->k2 = crypto_key_ref((crypto_key *)peer);
	}
	return __real_crypto_dh_derive_priv(curve, priv, priv_len, peer, ret_secret, ret_len);
}

int __real_crypto_key_from_public(int curve, const uint8_t *x, size_t x_len, const uint8_t *y,
                                  size_t y_len, crypto_key **ret);
int __wrap_crypto_key_from_public(int curve, const uint8_t *x, size_t x_len, const uint8_t *y,
                                  size_t y_len, crypto_key **ret)
{
	rec *r = rec_new(OP_KEY_FROM_PUBLIC);
	if (r) {
		r->alg = curve;
		r->a = dup_bytes(x, x_len);
		r->al = x_len;
		if (y) {
			r->b = dup_bytes(y, y_len);
			r->bl = y_len;
		}
	}
	return __real_crypto_key_from_public(curve, x, x_len, y, y_len, ret);
}

int __real_crypto_key_public(const crypto_key *k, uint8_t *ret_x, size_t *ret_x_len, uint8_t *ret_y,
                             size_t *ret_y_len);
int __wrap_crypto_key_public(const crypto_key *k, uint8_t *ret_x, size_t *ret_x_len, uint8_t *ret_y,
                             size_t *ret_y_len)
{
	rec *r = rec_new(OP_KEY_PUBLIC);
	if (r)
		r->k1 = crypto_key_ref((crypto_key *)k);
	return __real_crypto_key_public(k, ret_x, ret_x_len, ret_y, ret_y_len);
}

int __real_crypto_sign(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                       uint8_t *ret_sig, size_t *ret_sig_len);
int __wrap_crypto_sign(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                       uint8_t *ret_sig, size_t *ret_sig_len)
{
	rec *r = rec_new(OP_SIGN);
	if (r) {
		r->alg = sig_alg;
		r->k1 = crypto_key_ref((crypto_key *)k);
		r->a = dup_bytes(msg, len);
		r->al = len;
	}
	return __real_crypto_sign(k, sig_alg, msg, len, ret_sig, ret_sig_len);
}

int __real_crypto_verify(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len);
int __wrap_crypto_verify(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len)
{
	rec *r = rec_new(OP_VERIFY);
	if (r) {
		r->alg = sig_alg;
		r->k1 = crypto_key_ref((crypto_key *)k);
		r->a = dup_bytes(msg, len);
		r->al = len;
		r->b = dup_bytes(sig, sig_len);
		r->bl = sig_len;
	}
	return __real_crypto_verify(k, sig_alg, msg, len, sig, sig_len);
}

static void trace_clear(void)
{
	for (size_t i = 0; i < trace.n; i++) {
		rec *r = &trace.r[i];
		free(r->a);
		free(r->b);
		free(r->c);
		free(r->d);
		crypto_key_free(r->k1);
		crypto_key_free(r->k2);
	}
	trace.n = 0;
	trace.overflow = false;
}

/* Replays one recorded call through the real crypto layer. */
static int replay_rec(rec *r)
{
	uint8_t out[4096], out2[CRYPTO_MAX_COORD];
	size_t len, len2;

	switch (r->op) {
	case OP_HASH:
		return __real_crypto_hash(r->alg, r->a, r->al, out);
	case OP_EXTRACT:
		return __real_crypto_kdf_extract(r->alg, r->a, r->al, r->b, r->bl, out);
	case OP_EXPAND:
		return __real_crypto_kdf_expand(r->alg, r->a, r->al, r->b, r->bl, out, r->out_len);
	case OP_AEAD_ENC:
		return __real_crypto_aead_encrypt(r->alg, r->a, r->b, r->c, r->cl, r->d, r->dl,
		                                  out);
	case OP_AEAD_DEC:
		return __real_crypto_aead_decrypt(r->alg, r->a, r->b, r->c, r->cl, r->d, r->dl,
		                                  out);
	case OP_DH_KEYGEN:
		r->bl = 0; /* read position in the recorded random bytes */
		return __real_crypto_dh_keygen(r->alg, rng_replay, r, out, out + 128);
	case OP_DH_DERIVE:
		return __real_crypto_dh_derive(r->k1, r->k2, out, &len);
	case OP_DH_DERIVE_RAW:
		return __real_crypto_dh_derive_raw(r->alg, r->a, r->al, r->b, r->bl, out, &len);
	case OP_DH_DERIVE_PRIV:
		return __real_crypto_dh_derive_priv(r->alg, r->a, r->al, r->k2, out, &len);
	case OP_KEY_FROM_PUBLIC: {
		crypto_key *k = NULL;
		int rc = __real_crypto_key_from_public(r->alg, r->a, r->al, r->b, r->bl, &k);
		crypto_key_free(k);
		return rc;
	}
	case OP_KEY_PUBLIC:
		return __real_crypto_key_public(r->k1, out, &len, out2, &len2);
	case OP_SIGN:
		return __real_crypto_sign(r->k1, r->alg, r->a, r->al, out, &len);
	case OP_VERIFY:
		return __real_crypto_verify(r->k1, r->alg, r->a, r->al, r->b, r->bl);
	default:
		return 0;
	}
}

/* Replays the recorded calls of one side ('I', 'R' or 0 for both). */
static int replay(char side)
{
	int rc = 0;
	for (size_t i = 0; i < trace.n && rc == 0; i++)
		if (!side || trace.r[i].side == side)
			rc = replay_rec(&trace.r[i]);
	return rc;
}

/* ---- handshakes ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct side_cred {
	cose_cred *own;
	cose_cred *pub;
} side_cred;

static int lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	const cose_cred *trusted = ctx;
	if (!cose_cred_matches(trusted, id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret_cred = *cose_cred_edhoc(trusted);
	return 0;
}

static crypto_key *ca_key;

static int make_side(int crv, const char *name, uint8_t kid, bool x509, side_cred *ret)
{
	crypto_key *k = NULL;
	int rc = cose_key_generate(crv, NULL, NULL, &k);
	if (rc < 0)
		return rc;
	if (x509) {
		uint8_t *der = NULL;
		size_t len;
		bool can_sign = crv != COSE_CRV_X25519 && crv != COSE_CRV_X448;
		if (certgen_make(k, name, can_sign ? k : ca_key, can_sign ? name : "Bench CA",
		                 false, &der, &len) < 0) {
			crypto_key_free(k);
			return EDHOC_E_CRYPTO;
		}
		const uint8_t *ders[1] = {der};
		rc = cose_cred_from_x509(ders, &len, 1, EDHOC_ID_CRED_X5T, &ret->own);
		if (rc == 0)
			rc = cose_cred_from_x509(ders, &len, 1, EDHOC_ID_CRED_X5T, &ret->pub);
		free(der);
	} else {
		uint8_t ccs[512];
		size_t len;
		rc = cose_ccs_build(k, name, &kid, 1, false, ccs, sizeof(ccs), &len);
		if (rc == 0)
			rc = cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, false, &ret->own);
		if (rc == 0)
			rc = cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, false, &ret->pub);
	}
	if (rc == 0)
		rc = cose_cred_set_private(ret->own, k);
	crypto_key_free(k);
	return rc;
}

typedef struct bench_cfg {
	edhoc_config ci, cr;
	bool msg4;
} bench_cfg;

/* One handshake; *r_time receives the time spent on the responder's side
 * (creating its handshake object, its calls, freeing it). */
static int handshake(const bench_cfg *b, double *r_time)
{
	uint8_t m1[2048], m2[2048], m3[2048], m4[512];
	size_t l1, l2, l3, l4;
	edhoc_cid c_i = {.bytes = {0x0e}, .len = 1}, c_r = {.bytes = {0x18}, .len = 1};
	edhoc_handshake *hi, *hr;
	double t0, rt = 0;
	int rc;

	cur_side = 'I';
	hi = edhoc_handshake_new(&b->ci);
	cur_side = 'R';
	t0 = now_s();
	hr = edhoc_handshake_new(&b->cr);
	rt += now_s() - t0;
	if (!hi || !hr)
		return EDHOC_E_NOMEM;
#define SIDE_I(call)              \
	do {                      \
		cur_side = 'I';   \
		rc = (call);      \
		if (rc < 0)       \
			goto out; \
	} while (0)
#define SIDE_R(call)                \
	do {                        \
		cur_side = 'R';     \
		t0 = now_s();       \
		rc = (call);        \
		rt += now_s() - t0; \
		if (rc < 0)         \
			goto out;   \
	} while (0)
	SIDE_I(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1));
	SIDE_R(edhoc_responder_read_message_1(hr, m1, l1));
	SIDE_R(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2));
	SIDE_I(edhoc_initiator_read_message_2(hi, m2, l2));
	SIDE_I(edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3));
	SIDE_R(edhoc_responder_read_message_3(hr, m3, l3));
	if (b->msg4) {
		SIDE_R(edhoc_responder_write_message_4(hr, m4, sizeof(m4), &l4));
		SIDE_I(edhoc_initiator_read_message_4(hi, m4, l4));
	}
#undef SIDE_I
#undef SIDE_R
out:
	cur_side = 'I';
	edhoc_handshake_free(hi);
	cur_side = 'R';
	t0 = now_s();
	edhoc_handshake_free(hr);
	rt += now_s() - t0;
	cur_side = '?';
	if (r_time)
		*r_time = rt;
	return rc;
}

typedef struct result {
	double hs_total; /* s per handshake, both sides */
	double hs_resp;  /* s per handshake, responder side */
	double raw_resp; /* s per replay of the responder's crypto */
	double raw_both;
	double med_ratio_resp;    /* the same ratio from medians */
	unsigned counts[2][OP_N]; /* [0] responder, [1] initiator */
	size_t iters;
} result;

#define MAX_SAMPLES 20000
static double samples[4][MAX_SAMPLES];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* p-th percentile of v[0..n) (sorts v). */
static double percentile(double *v, size_t n, int p)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[(n - 1) * (size_t)p / 100];
}

static bool show_ops;

static int run_config(int method, int suite, bool x509, bool msg4, double seconds, result *res)
{
	const crypto_suite *s = crypto_suite_get(suite);
	side_cred ic = {0}, rcred = {0};
	bench_cfg b;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!s)
		return EDHOC_E_SUITE_NOT_SUPPORTED;
	bool i_signs = method == 0 || method == 1, r_signs = method == 0 || method == 2;
	rc = make_side(i_signs ? s->sig_curve : s->dh_curve, "bench-initiator", 0x2b, x509, &ic);
	if (rc == 0)
		rc = make_side(r_signs ? s->sig_curve : s->dh_curve, "bench-responder", 0x32, x509,
		               &rcred);
	if (rc < 0)
		goto out;
	memset(&b, 0, sizeof(b));
	b.msg4 = msg4;
	b.ci = (edhoc_config){.role = EDHOC_INITIATOR,
	                      .method = method,
	                      .suites = {suite},
	                      .n_suites = 1,
	                      .own = cose_cred_edhoc(ic.own),
	                      .lookup = lookup,
	                      .lookup_ctx = rcred.pub};
	b.cr = (edhoc_config){.role = EDHOC_RESPONDER,
	                      .methods = 0xf,
	                      .suites = {suite},
	                      .n_suites = 1,
	                      .own = cose_cred_edhoc(rcred.own),
	                      .lookup = lookup,
	                      .lookup_ctx = ic.pub};

	/* Warm up caches and OpenSSL's lazily fetched algorithms. */
	for (int i = 0; i < 5; i++) {
		rc = handshake(&b, NULL);
		if (rc < 0)
			goto out;
	}
	/* The trace: one handshake with every crypto call recorded. */
	trace_clear();
	trace.on = true;
	rc = handshake(&b, NULL);
	trace.on = false;
	if (rc < 0)
		goto out;
	if (trace.overflow) {
		fprintf(stderr, "edhoc-bench: more than %d crypto calls in one handshake\n",
		        MAX_REC);
		rc = EDHOC_E_LIMIT;
		goto out;
	}
	for (size_t i = 0; i < trace.n; i++)
		res->counts[trace.r[i].side == 'R' ? 0 : 1][trace.r[i].op]++;
	rc = replay(0);
	if (rc < 0)
		goto out;

	/* Samples: handshake, responder replay and full replay interleaved one
	 * by one, so load from elsewhere hits all three alike; the 10th
	 * percentile of each stands for the undisturbed cost. */
	double t0 = now_s();
	size_t n = 0;
	while (now_s() - t0 < 0.02 || n < 2) {
		rc = handshake(&b, NULL);
		if (rc < 0)
			goto out;
		n++;
	}
	double per = (now_s() - t0) / (double)n;
	size_t iters = (size_t)(seconds / (2.0 * per));
	if (iters < 10)
		iters = 10;
	if (iters > MAX_SAMPLES)
		iters = MAX_SAMPLES;
	for (size_t i = 0; i < iters; i++) {
		double rt;
		t0 = now_s();
		rc = handshake(&b, &rt);
		if (rc < 0)
			goto out;
		samples[0][i] = now_s() - t0;
		samples[1][i] = rt;
		t0 = now_s();
		rc = replay('R');
		samples[2][i] = now_s() - t0;
		if (rc < 0)
			goto out;
		t0 = now_s();
		rc = replay(0);
		samples[3][i] = now_s() - t0;
		if (rc < 0)
			goto out;
	}
	res->hs_total = percentile(samples[0], iters, 10);
	res->hs_resp = percentile(samples[1], iters, 10);
	res->raw_resp = percentile(samples[2], iters, 10);
	res->raw_both = percentile(samples[3], iters, 10);
	res->med_ratio_resp = percentile(samples[1], iters, 50) / percentile(samples[2], iters, 50);
	res->iters = iters;

	if (show_ops) {
		/* Cost of each responder call alone: where the time goes. */
		printf("  method %d suite %d, responder calls (median of 31, us):", method, suite);
		for (size_t i = 0, col = 0; i < trace.n; i++) {
			double v[31];
			if (trace.r[i].side != 'R')
				continue;
			for (int k = 0; k < 31; k++) {
				t0 = now_s();
				replay_rec(&trace.r[i]);
				v[k] = now_s() - t0;
			}
			printf("%s%s %.1f", col++ % 6 ? ", " : "\n    ", op_names[trace.r[i].op],
			       percentile(v, 31, 50) * 1e6);
		}
		printf("\n");
	}
	rc = 0;
out:
	trace_clear();
	cose_cred_free(ic.own);
	cose_cred_free(ic.pub);
	cose_cred_free(rcred.own);
	cose_cred_free(rcred.pub);
	return rc;
}

static void print_counts(const unsigned *c)
{
	bool first = true;
	for (int op = 0; op < OP_N; op++) {
		if (!c[op])
			continue;
		printf("%s%s %u", first ? "" : ", ", op_names[op], c[op]);
		first = false;
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
	                                     {"time", required_argument, NULL, 't'},
	                                     {"method", required_argument, NULL, 'm'},
	                                     {"suite", required_argument, NULL, 's'},
	                                     {"x509", no_argument, NULL, 'x'},
	                                     {"msg4", no_argument, NULL, '4'},
	                                     {"ops", no_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	/* The two configurations that matter most, then a few more. */
	static const int defaults[][2] = {{3, 2}, {0, 0}, {0, 2}, {3, 0}, {1, 2}, {2, 2}};
	static const int suites[] = {0, 1, 2, 3, 4, 5, 6, 24, 25};
	int configs[64][2];
	size_t n_configs = 0;
	double seconds = 1.0;
	bool all = false, x509 = false, msg4 = false;
	int method = -1, suite = -1, opt, status = 0;

	while ((opt = getopt_long(argc, argv, "at:m:s:x4oh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 't':
			seconds = atof(optarg);
			if (seconds <= 0 || seconds > 600) {
				fprintf(stderr, "edhoc-bench: --time between 0 and 600\n");
				return 2;
			}
			break;
		case 'm':
			method = atoi(optarg);
			break;
		case 's':
			suite = atoi(optarg);
			break;
		case 'x':
			x509 = true;
			break;
		case '4':
			msg4 = true;
			break;
		case 'o':
			show_ops = true;
			break;
		default:
			fprintf(stderr, "usage: edhoc-bench [--all] [--time SECONDS] [--method M "
			                "--suite S] [--x509] [--msg4] [--ops]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (method >= 0 || suite >= 0) {
		if (method < 0 || method > 3 || suite < 0) {
			fprintf(stderr, "edhoc-bench: --method 0-3 and --suite go together\n");
			return 2;
		}
		configs[n_configs][0] = method;
		configs[n_configs++][1] = suite;
	} else if (all) {
		for (int m = 0; m < 4; m++)
			for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
				configs[n_configs][0] = m;
				configs[n_configs++][1] = suites[s];
			}
	} else {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			configs[n_configs][0] = defaults[i][0];
			configs[n_configs++][1] = defaults[i][1];
		}
	}
	if (cose_key_generate(COSE_CRV_ED25519, NULL, NULL, &ca_key) < 0) {
		fprintf(stderr, "edhoc-bench: cannot make a CA key\n");
		return 1;
	}

	printf("EDHOC handshakes, in-process, %s credentials%s; 10th-percentile "
	       "times, about %.1f s per configuration\n",
	       x509 ? "X.509 (x5t)" : "CCS (kid)", msg4 ? ", with message_4" : "", seconds);
	printf("raw = replay of exactly the crypto-layer calls that side made in a traced "
	       "handshake\n\n");
	printf("%-6s %-5s | %9s %9s | %9s %9s %7s %7s | %9s %6s\n", "method", "suite", "hs/s",
	       "I+R us", "R us", "R raw us", "R ratio", "(med)", "I+R raw", "ratio");
	printf("-------------+---------------------+-----------------------------------+-----------"
	       "------\n");
	result res[64];
	for (size_t i = 0; i < n_configs; i++) {
		int rc = run_config(configs[i][0], configs[i][1], x509, msg4, seconds, &res[i]);
		if (rc < 0) {
			printf("%-6d %-5d | failed: %s\n", configs[i][0], configs[i][1],
			       edhoc_result_name(rc));
			status = 1;
			res[i].iters = 0;
			continue;
		}
		printf("%-6d %-5d | %9.0f %9.1f | %9.1f %9.1f %7.3f %7.3f | %9.1f %6.3f\n",
		       configs[i][0], configs[i][1], 1.0 / res[i].hs_total, res[i].hs_total * 1e6,
		       res[i].hs_resp * 1e6, res[i].raw_resp * 1e6,
		       res[i].hs_resp / res[i].raw_resp, res[i].med_ratio_resp,
		       res[i].raw_both * 1e6, res[i].hs_total / res[i].raw_both);
		fflush(stdout);
	}
	printf("\ncrypto-layer calls per handshake (R = responder, I = initiator):\n");
	for (size_t i = 0; i < n_configs; i++) {
		if (!res[i].iters)
			continue;
		printf("  method %d suite %-2d R: ", configs[i][0], configs[i][1]);
		print_counts(res[i].counts[0]);
		printf("  %17s I: ", "");
		print_counts(res[i].counts[1]);
	}
	printf("\ntarget: ratio <= 1.15\n");
	crypto_key_free(ca_key);
	return status;
}
