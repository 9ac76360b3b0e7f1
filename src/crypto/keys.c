/* Asymmetric keys: import with point validation, ECDH, signatures.
 *
 * Peer keys are validated once, at import: EC2 public keys arrive as a bare
 * x-coordinate (RFC 9528 §3.7) and are decompressed, which proves the point
 * is on the curve; X25519/X448 keys are checked against the low-order
 * encodings.  ECDH then skips OpenSSL's per-derive peer validation. */
#include "edhoc/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "crypto/crypto_internal.h"

/* EC2 keys are used for ECDH through EC_POINT_mul on a shared, cached
 * group -- the same call OpenSSL's own ECDH makes -- because building an
 * EVP_PKEY for a P-256 point creates a fresh EC_GROUP each time, which
 * costs about as much as the point decompression itself.  The EVP_PKEY of
 * such a key is built only when something needs it (signatures,
 * crypto_key_evp). */
struct crypto_key {
	EVP_PKEY *pkey; /* NULL for an EC2 public key until needed */
	int curve;
	bool has_private;
	unsigned refs;
	/* OKP: derive context with this key as the private side, made on
	 * first ECDH use and kept: init costs about as much as a derive */
	EVP_PKEY_CTX *derive;
	EC_POINT *pt; /* EC2: public point, cached */
	BIGNUM *d;    /* EC2: private scalar, cached on first ECDH */
};

/* ---- curve facts ---- */

typedef struct curve_info {
	int crv;
	const char *name; /* OpenSSL key type or group name */
	bool ec2;
	int nid;          /* for EC2 */
	size_t coord_len; /* x (and y) length; OKP key length */
	size_t priv_len;
	bool dh; /* usable for ECDH */
} curve_info;

static const curve_info curves[] = {
    {COSE_CRV_P256, "P-256", true, NID_X9_62_prime256v1, 32, 32, true},
    {COSE_CRV_P384, "P-384", true, NID_secp384r1, 48, 48, true},
    {COSE_CRV_X25519, "X25519", false, 0, 32, 32, true},
    {COSE_CRV_X448, "X448", false, 0, 56, 56, true},
    {COSE_CRV_ED25519, "ED25519", false, 0, 32, 32, false},
    {COSE_CRV_ED448, "ED448", false, 0, 57, 57, false},
};

static const curve_info *curve_lookup(int crv)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].crv == crv)
			return &curves[i];
	return NULL;
}

#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

/* Per-thread objects: EC groups (immutable once built), fromdata contexts
 * per curve (EVP_PKEY_new_raw_*_key would fetch the key manager by name on
 * every call), and the last two ephemeral keys from crypto_dh_keygen (an
 * initiator and a responder may share the thread), so that
 * the ECDH right after it does not rebuild the key (for X25519/X448 that
 * rebuild costs a second scalar multiplication). */
static _Thread_local struct {
	EC_GROUP *group[2];
	BN_CTX *bnctx;
	EVP_PKEY_CTX *fromdata[N_CURVES];
	struct eph_key {
		int curve; /* 0: empty */
		uint8_t priv[CRYPTO_MAX_DH_PRIV];
		EVP_PKEY *pkey;       /* OKP */
		EVP_PKEY_CTX *derive; /* OKP */
		BIGNUM *d;            /* EC2 */
		EC_POINT *pt;         /* EC2 */
	} eph[2];
	unsigned eph_next; /* slot the next keygen replaces */
} kcache;

/* The remembered ephemeral key with these private bytes, or NULL. */
static struct eph_key *eph_find(int curve, const uint8_t *priv, size_t len)
{
	for (int i = 0; i < 2; i++) {
		struct eph_key *e = &kcache.eph[i];
		if (e->curve == curve && CRYPTO_memcmp(e->priv, priv, len) == 0)
			return e;
	}
	return NULL;
}

static const EC_GROUP *ec_group(const curve_info *c)
{
	int i = c->crv == COSE_CRV_P256 ? 0 : 1;
	if (!kcache.group[i])
		kcache.group[i] = EC_GROUP_new_by_curve_name(c->nid);
	return kcache.group[i];
}

static BN_CTX *bn_ctx(void)
{
	if (!kcache.bnctx)
		kcache.bnctx = BN_CTX_new();
	return kcache.bnctx;
}

size_t crypto_dh_pub_len(int curve)
{
	const curve_info *c = curve_lookup(curve);
	return c && c->dh ? c->coord_len : 0;
}

size_t crypto_dh_priv_len(int curve)
{
	const curve_info *c = curve_lookup(curve);
	return c && c->dh ? c->priv_len : 0;
}

/* ---- key objects ---- */

static int key_wrap(EVP_PKEY *pkey, int curve, bool priv, crypto_key **ret)
{
	crypto_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return EDHOC_E_NOMEM;
	}
	k->pkey = pkey;
	k->curve = curve;
	k->has_private = priv;
	k->refs = 1;
	*ret = k;
	return 0;
}

void crypto_key_free(crypto_key *k)
{
	if (!k)
		return;
	if (--k->refs > 0)
		return;
	EVP_PKEY_CTX_free(k->derive);
	EVP_PKEY_free(k->pkey);
	EC_POINT_free(k->pt);
	BN_clear_free(k->d);
	free(k);
}

crypto_key *crypto_key_ref(crypto_key *k)
{
	if (k)
		k->refs++;
	return k;
}

int crypto_key_curve(const crypto_key *k)
{
	return k ? k->curve : 0;
}

bool crypto_key_has_private(const crypto_key *k)
{
	return k && k->has_private;
}

static EVP_PKEY *key_evp(crypto_key *k);

struct evp_pkey_st *crypto_key_evp(const crypto_key *k)
{
	/* building it on demand does not change what the key is */
	return k ? key_evp((crypto_key *)k) : NULL;
}

/* COSE curve of an OpenSSL key, 0 when it is none of ours. */
static int evp_curve(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "X25519"))
		return COSE_CRV_X25519;
	if (EVP_PKEY_is_a(pkey, "X448"))
		return COSE_CRV_X448;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return COSE_CRV_ED25519;
	if (EVP_PKEY_is_a(pkey, "ED448"))
		return COSE_CRV_ED448;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		size_t glen = 0;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1)
			return 0;
		int nid = OBJ_txt2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return COSE_CRV_P256;
		if (nid == NID_secp384r1)
			return COSE_CRV_P384;
	}
	return 0;
}

static bool evp_has_private(EVP_PKEY *pkey, int curve)
{
	const curve_info *c = curve_lookup(curve);
	if (c->ec2) {
		BIGNUM *d = NULL;
		bool has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
		BN_clear_free(d);
		return has;
	}
	size_t len = 0;
	return EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 && len > 0;
}

int crypto_key_from_evp(struct evp_pkey_st *pkey, crypto_key **ret)
{
	if (!pkey || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	int curve = evp_curve(pkey);
	if (!curve)
		return EDHOC_E_KEY_INVALID;
	if (EVP_PKEY_up_ref(pkey) != 1)
		return EDHOC_E_CRYPTO;
	return key_wrap(pkey, curve, evp_has_private(pkey, curve), ret);
}

int crypto_key_from_x509_der(const uint8_t *der, size_t len, crypto_key **ret)
{
	if (!der || !ret || len > LONG_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		return EDHOC_E_CRED_MALFORMED;
	int r = EDHOC_E_CRED_MALFORMED;
	if ((size_t)(p - der) != len)
		goto out;
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	if (!pkey)
		goto out;
	r = crypto_key_from_evp(pkey, ret);
out:
	X509_free(x);
	return r;
}

/* Imports key material with the curve's cached fromdata context. */
static int pkey_fromdata(const curve_info *c, OSSL_PARAM *params, int selection, EVP_PKEY **ret)
{
	size_t i = (size_t)(c - curves);
	if (!kcache.fromdata[i]) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, c->ec2 ? "EC" : c->name, NULL);
		if (!ctx)
			return EDHOC_E_CRYPTO;
		if (EVP_PKEY_fromdata_init(ctx) != 1) {
			EVP_PKEY_CTX_free(ctx);
			return EDHOC_E_CRYPTO;
		}
		kcache.fromdata[i] = ctx;
	}
	EVP_PKEY *pkey = NULL;
	if (EVP_PKEY_fromdata(kcache.fromdata[i], &pkey, selection, params) != 1)
		return EDHOC_E_KEY_INVALID;
	*ret = pkey;
	return 0;
}

/* EVP_PKEY for an EC2 key from an encoded point and/or the scalar's
 * big-endian bytes. */
static int ec_pkey_fromdata(const curve_info *c, const uint8_t *point, size_t point_len,
                            const uint8_t *d, size_t d_len, EVP_PKEY **ret)
{
	OSSL_PARAM params[4];
	size_t n = 0;
	/* the scalar as a native-endian integer parameter, wiped after use */
	uint8_t dn[CRYPTO_MAX_COORD];
	params[n++] =
	    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->name, 0);
	if (point)
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
		                                                (void *)point, point_len);
	if (d) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		memcpy(dn, d, d_len);
#else
		for (size_t i = 0; i < d_len; i++)
			dn[i] = d[d_len - 1 - i];
#endif
		params[n++] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, dn, d_len);
	}
	params[n] = OSSL_PARAM_construct_end();
	int r = pkey_fromdata(c, params, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, ret);
	OPENSSL_cleanse(dn, sizeof(dn));
	return r;
}

/* X25519 u-coordinates of small order and their non-canonical aliases
 * (u + p): an ECDH with them gives a secret the attacker knows.  Compared
 * with the top bit masked, as X25519 ignores it (RFC 7748 §5). */
static const uint8_t x25519_low_order[][32] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    /* p - 1, p, p + 1 */
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static bool x25519_is_low_order(const uint8_t *u)
{
	uint8_t m[32];
	memcpy(m, u, 32);
	m[31] &= 0x7f;
	for (size_t i = 0; i < sizeof(x25519_low_order) / sizeof(x25519_low_order[0]); i++)
		if (memcmp(m, x25519_low_order[i], 32) == 0)
			return true;
	return false;
}

/* X448 (p = 2^448 - 2^224 - 1, little-endian): 0, 1, p - 1, p, p + 1. */
static bool x448_is_low_order(const uint8_t *u)
{
	uint8_t v[5][56];
	memset(v, 0, sizeof(v));
	v[1][0] = 1;
	memset(v[3], 0xff, 56); /* p: bit 224 (byte 28, bit 0) is the only zero */
	v[3][28] = 0xfe;
	memcpy(v[2], v[3], 56); /* p - 1 */
	v[2][0] = 0xfe;
	memset(v[4] + 28, 0xff, 28); /* p + 1 = 2^448 - 2^224 */
	for (int i = 0; i < 5; i++)
		if (memcmp(u, v[i], 56) == 0)
			return true;
	return false;
}

/* Field primes, big-endian: a coordinate must be below p (OpenSSL would
 * silently reduce it, accepting non-canonical encodings). */
static const uint8_t p256_p[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t p384_p[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
};

static bool below_p(const curve_info *c, const uint8_t *v)
{
	const uint8_t *p = c->crv == COSE_CRV_P256 ? p256_p : p384_p;
	return memcmp(v, p, c->coord_len) < 0; /* public data: no timing concern */
}

/* EC point from coordinates already checked to be below p.  Without y,
 * OpenSSL solves for y: that fails exactly when x^3 + ax + b is not a
 * square, i.e. there is no point with this x.  With y, setting the
 * coordinates checks the curve equation.  Which of the two y a bare x gets
 * does not matter: ECDH keeps only x. */
static int ec_point_from_coords(const curve_info *c, const uint8_t *x, const uint8_t *y,
                                EC_POINT **ret)
{
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	if (!group || !bnctx)
		return EDHOC_E_CRYPTO;
	EC_POINT *pt = EC_POINT_new(group);
	int r = EDHOC_E_NOMEM;
	BN_CTX_start(bnctx);
	BIGNUM *bx = BN_CTX_get(bnctx), *by = BN_CTX_get(bnctx);
	if (!pt || !by || !BN_bin2bn(x, (int)c->coord_len, bx) ||
	    (y && !BN_bin2bn(y, (int)c->coord_len, by)))
		goto out;
	r = EDHOC_E_INVALID_POINT;
	if (y ? EC_POINT_set_affine_coordinates(group, pt, bx, by, bnctx) != 1
	      : EC_POINT_set_compressed_coordinates(group, pt, bx, 0, bnctx) != 1)
		goto out;
	/* belt and braces: both calls above already imply it */
	if (EC_POINT_is_on_curve(group, pt, bnctx) != 1)
		goto out;
	*ret = pt;
	pt = NULL;
	r = 0;
out:
	BN_CTX_end(bnctx);
	EC_POINT_free(pt);
	return r;
}

/* The EC2 public point of a key (cached); NULL on failure. */
static const EC_POINT *ec_point_of(crypto_key *k)
{
	if (k->pt)
		return k->pt;
	const curve_info *c = curve_lookup(k->curve);
	const EC_GROUP *group = ec_group(c);
	uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
	size_t len = 0;
	if (!group || !k->pkey ||
	    EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
	                                    sizeof(enc), &len) != 1)
		return NULL;
	EC_POINT *pt = EC_POINT_new(group);
	if (!pt || EC_POINT_oct2point(group, pt, enc, len, bn_ctx()) != 1) {
		EC_POINT_free(pt);
		return NULL;
	}
	k->pt = pt;
	return pt;
}

/* The EC2 private scalar of a key (cached); NULL on failure. */
static const BIGNUM *ec_scalar_of(crypto_key *k)
{
	if (!k->d && k->pkey &&
	    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &k->d) == 1)
		BN_set_flags(k->d, BN_FLG_CONSTTIME);
	return k->d;
}

/* The EVP_PKEY of a key, built from the cached point (and scalar) for EC2
 * keys that were made without one; NULL on failure. */
static EVP_PKEY *key_evp(crypto_key *k)
{
	if (k->pkey || !k->pt)
		return k->pkey;
	const curve_info *c = curve_lookup(k->curve);
	const EC_GROUP *group = ec_group(c);
	uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
	size_t len = group ? EC_POINT_point2oct(group, k->pt, POINT_CONVERSION_UNCOMPRESSED, enc,
	                                        sizeof(enc), bn_ctx())
	                   : 0;
	if (len != 1 + 2 * c->coord_len)
		return NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t d[CRYPTO_MAX_COORD];
	if (k->d && BN_bn2binpad(k->d, d, (int)c->coord_len) != (int)c->coord_len)
		return NULL;
	if (ec_pkey_fromdata(c, enc, len, k->d ? d : NULL, c->coord_len, &pkey) == 0)
		k->pkey = pkey;
	OPENSSL_cleanse(d, sizeof(d));
	return k->pkey;
}

int crypto_key_from_public(int curve, const uint8_t *x, size_t x_len, const uint8_t *y,
                           size_t y_len, crypto_key **ret)
{
	const curve_info *c = curve_lookup(curve);
	if (!c)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!x || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (x_len != c->coord_len)
		return EDHOC_E_KEY_INVALID;
	EVP_PKEY *pkey = NULL;
	int r;

	if (!c->ec2) {
		if (y && y_len)
			return EDHOC_E_KEY_INVALID;
		if (curve == COSE_CRV_X25519 && x25519_is_low_order(x))
			return EDHOC_E_LOW_ORDER_POINT;
		if (curve == COSE_CRV_X448 && x448_is_low_order(x))
			return EDHOC_E_LOW_ORDER_POINT;
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)x, x_len),
		    OSSL_PARAM_construct_end(),
		};
		r = pkey_fromdata(c, params, EVP_PKEY_PUBLIC_KEY, &pkey);
		if (r)
			return r == EDHOC_E_KEY_INVALID ? EDHOC_E_INVALID_POINT : r;
		return key_wrap(pkey, curve, false, ret);
	}

	if (y && y_len != c->coord_len)
		return EDHOC_E_KEY_INVALID;
	if (!below_p(c, x) || (y && !below_p(c, y)))
		return EDHOC_E_INVALID_POINT;
	EC_POINT *pt = NULL;
	r = ec_point_from_coords(c, x, y, &pt);
	if (r)
		return r;
	r = key_wrap(NULL, curve, false, ret);
	if (r) {
		EC_POINT_free(pt);
		return r;
	}
	(*ret)->pt = pt;
	return 0;
}

/* EC2 scalar from raw bytes, range-checked: EDHOC_E_KEY_INVALID for 0 or
 * values not below the group order. */
static int ec_scalar_from_bytes(const curve_info *c, const uint8_t *priv, BIGNUM **ret)
{
	const EC_GROUP *group = ec_group(c);
	if (!group)
		return EDHOC_E_CRYPTO;
	BIGNUM *d = BN_secure_new();
	if (!d || !BN_bin2bn(priv, (int)c->priv_len, d)) {
		BN_clear_free(d);
		return EDHOC_E_NOMEM;
	}
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
		BN_clear_free(d);
		return EDHOC_E_KEY_INVALID;
	}
	BN_set_flags(d, BN_FLG_CONSTTIME);
	*ret = d;
	return 0;
}

/* EC2 key pair for raw private bytes: the range-checked scalar and d * G. */
static int ec_keypair(const curve_info *c, const uint8_t *priv, BIGNUM **ret_d, EC_POINT **ret_pt)
{
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	BIGNUM *d = NULL;
	EC_POINT *pt = NULL;
	if (!group || !bnctx)
		return EDHOC_E_CRYPTO;
	int r = ec_scalar_from_bytes(c, priv, &d);
	if (r)
		return r;
	if (!(pt = EC_POINT_new(group)) || EC_POINT_mul(group, pt, d, NULL, NULL, bnctx) != 1) {
		EC_POINT_free(pt);
		BN_clear_free(d);
		return EDHOC_E_CRYPTO;
	}
	*ret_d = d;
	*ret_pt = pt;
	return 0;
}

/* OKP EVP_PKEY from raw private bytes (OpenSSL computes the public key). */
static int okp_from_private(const curve_info *c, const uint8_t *priv, size_t len, EVP_PKEY **ret)
{
	if (len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, len),
	    OSSL_PARAM_construct_end(),
	};
	return pkey_fromdata(c, params, EVP_PKEY_KEYPAIR, ret);
}

int crypto_key_from_private(int curve, const uint8_t *priv, size_t len, crypto_key **ret)
{
	const curve_info *c = curve_lookup(curve);
	if (!c)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	EVP_PKEY *pkey = NULL;
	int r;
	/* the key this thread's last crypto_dh_keygen made: EDHOC asks for it
	 * right after, and rebuilding it would redo the scalar multiplication */
	struct eph_key *eph = eph_find(curve, priv, len);
	if (!c->ec2) {
		if (eph) {
			if (EVP_PKEY_up_ref(eph->pkey) != 1)
				return EDHOC_E_CRYPTO;
			return key_wrap(eph->pkey, curve, true, ret);
		}
		r = okp_from_private(c, priv, len, &pkey);
		if (r)
			return r;
		return key_wrap(pkey, curve, true, ret);
	}
	/* EC2: scalar and public point only; the EVP_PKEY (and its EC_GROUP)
	 * is built if the key is ever used to sign (see struct crypto_key) */
	BIGNUM *d = NULL;
	EC_POINT *pt = NULL;
	if (eph) {
		const EC_GROUP *group = ec_group(c);
		if (!group || !(d = BN_secure_new()) || !BN_copy(d, eph->d) ||
		    !(pt = EC_POINT_dup(eph->pt, group))) {
			BN_clear_free(d);
			return EDHOC_E_NOMEM;
		}
		BN_set_flags(d, BN_FLG_CONSTTIME);
	} else if ((r = ec_keypair(c, priv, &d, &pt))) {
		return r;
	}
	r = key_wrap(NULL, curve, true, ret);
	if (r) {
		EC_POINT_free(pt);
		BN_clear_free(d);
		return r;
	}
	(*ret)->d = d;
	(*ret)->pt = pt;
	return 0;
}

int crypto_key_private(const crypto_key *k, uint8_t *ret_priv, size_t *ret_len)
{
	if (!k || !ret_priv || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!k->has_private)
		return EDHOC_E_KEY_INVALID;
	const curve_info *c = curve_lookup(k->curve);
	if (c->ec2) {
		const BIGNUM *d = ec_scalar_of((crypto_key *)k);
		if (!d || BN_bn2binpad(d, ret_priv, (int)c->priv_len) != (int)c->priv_len)
			return EDHOC_E_CRYPTO;
		*ret_len = c->priv_len;
		return 0;
	}
	size_t len = CRYPTO_MAX_COORD;
	if (EVP_PKEY_get_raw_private_key(k->pkey, ret_priv, &len) != 1 || len != c->priv_len)
		return EDHOC_E_CRYPTO;
	*ret_len = len;
	return 0;
}

int crypto_key_public(const crypto_key *k, uint8_t *ret_x, size_t *ret_x_len, uint8_t *ret_y,
                      size_t *ret_y_len)
{
	if (!k || !ret_x || !ret_x_len || !ret_y_len)
		return EDHOC_E_INVALID_ARGUMENT;
	const curve_info *c = curve_lookup(k->curve);
	if (!c->ec2) {
		size_t len = CRYPTO_MAX_COORD;
		if (EVP_PKEY_get_raw_public_key(k->pkey, ret_x, &len) != 1)
			return EDHOC_E_CRYPTO;
		*ret_x_len = len;
		*ret_y_len = 0;
		return 0;
	}
	if (!ret_y)
		return EDHOC_E_INVALID_ARGUMENT;
	const EC_POINT *pt = ec_point_of((crypto_key *)k);
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	if (!pt || !group || !bnctx)
		return EDHOC_E_CRYPTO;
	int r = EDHOC_E_CRYPTO;
	BN_CTX_start(bnctx);
	BIGNUM *bx = BN_CTX_get(bnctx), *by = BN_CTX_get(bnctx);
	if (!by || EC_POINT_get_affine_coordinates(group, pt, bx, by, bnctx) != 1)
		goto out;
	if (BN_bn2binpad(bx, ret_x, (int)c->coord_len) != (int)c->coord_len ||
	    BN_bn2binpad(by, ret_y, (int)c->coord_len) != (int)c->coord_len)
		goto out;
	*ret_x_len = c->coord_len;
	*ret_y_len = c->coord_len;
	r = 0;
out:
	BN_CTX_end(bnctx);
	return r;
}

/* ---- ECDH ---- */

/* Drops a remembered ephemeral key. */
static void eph_clear(struct eph_key *e)
{
	EVP_PKEY_CTX_free(e->derive);
	EVP_PKEY_free(e->pkey);
	BN_clear_free(e->d);
	EC_POINT_free(e->pt);
	OPENSSL_cleanse(e->priv, sizeof(e->priv));
	e->derive = NULL;
	e->pkey = NULL;
	e->d = NULL;
	e->pt = NULL;
	e->curve = 0;
}

void crypto_dh_forget(int curve, const uint8_t *priv, size_t len)
{
	if (!priv || len == 0 || len > CRYPTO_MAX_DH_PRIV)
		return;
	struct eph_key *e = eph_find(curve, priv, len);
	if (e)
		eph_clear(e);
}

/* Wire-form public key for raw private bytes.  With ret_pkey (OKP) or
 * ret_d/ret_pt (EC2) also the key in the form ECDH uses. */
static int dh_key_from_priv(const curve_info *c, const uint8_t *priv, uint8_t *ret_pub,
                            EVP_PKEY **ret_pkey, BIGNUM **ret_d, EC_POINT **ret_pt)
{
	if (c->ec2) {
		const EC_GROUP *group = ec_group(c);
		BIGNUM *d = NULL;
		EC_POINT *pt = NULL;
		uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
		int r = ec_keypair(c, priv, &d, &pt);
		if (r)
			return r;
		if (EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, enc, sizeof(enc),
		                       bn_ctx()) != 1 + 2 * c->coord_len) {
			r = EDHOC_E_CRYPTO;
		} else {
			memcpy(ret_pub, enc + 1, c->coord_len);
			if (ret_d && ret_pt) {
				*ret_d = d;
				*ret_pt = pt;
				d = NULL;
				pt = NULL;
			}
		}
		BN_clear_free(d);
		EC_POINT_free(pt);
		return r;
	}
	EVP_PKEY *pkey = NULL;
	int r = okp_from_private(c, priv, c->priv_len, &pkey);
	if (r)
		return r;
	size_t plen = c->coord_len;
	if (EVP_PKEY_get_raw_public_key(pkey, ret_pub, &plen) != 1 || plen != c->coord_len) {
		EVP_PKEY_free(pkey);
		return EDHOC_E_CRYPTO;
	}
	if (ret_pkey)
		*ret_pkey = pkey;
	else
		EVP_PKEY_free(pkey);
	return 0;
}

int crypto_dh_pub_from_priv(int curve, const uint8_t *priv, size_t len, uint8_t *ret_pub)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !ret_pub)
		return EDHOC_E_INVALID_ARGUMENT;
	if (len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	return dh_key_from_priv(c, priv, ret_pub, NULL, NULL, NULL);
}

int crypto_dh_keygen(int curve, crypto_rng_fn rng, void *rng_ctx, uint8_t *ret_priv,
                     uint8_t *ret_pub)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!rng || !ret_priv || !ret_pub)
		return EDHOC_E_INVALID_ARGUMENT;
	uint8_t priv[CRYPTO_MAX_DH_PRIV];
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	EC_POINT *pt = NULL;
	int r = EDHOC_E_RNG;
	/* An EC2 scalar outside [1, n-1] is drawn again; for P-256 and P-384
	 * that happens with probability below 2^-32, so a handful of tries
	 * only runs out with a broken random source. */
	for (int tries = 0; tries < 8; tries++) {
		r = rng(rng_ctx, priv, c->priv_len);
		if (r)
			break;
		r = dh_key_from_priv(c, priv, ret_pub, &pkey, &d, &pt);
		if (r != EDHOC_E_KEY_INVALID)
			break;
		r = EDHOC_E_RNG;
	}
	if (r == 0) {
		memcpy(ret_priv, priv, c->priv_len);
		/* remembered for the derivations that follow (see kcache) */
		struct eph_key *e = &kcache.eph[kcache.eph_next];
		kcache.eph_next ^= 1;
		eph_clear(e);
		e->curve = curve;
		memcpy(e->priv, priv, c->priv_len);
		e->pkey = pkey;
		e->d = d;
		e->pt = pt;
	}
	OPENSSL_cleanse(priv, sizeof(priv));
	return r < 0 ? r : 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* A derive context for pkey, or NULL. */
static EVP_PKEY_CTX *derive_ctx_new(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx && EVP_PKEY_derive_init(ctx) != 1) {
		EVP_PKEY_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* OKP (X25519/X448) derive with a context already set up for the private
 * key. */
static int okp_derive(EVP_PKEY_CTX *ctx, EVP_PKEY *peer, const curve_info *c, uint8_t *ret_secret,
                      size_t *ret_len)
{
	/* validate = 0: the peer key was checked at import (the low-order
	 * list), and OpenSSL's check would redo a validation every time */
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1)
		return EDHOC_E_CRYPTO;
	size_t len = CRYPTO_MAX_DH_SECRET;
	/* OpenSSL refuses an all-zero X25519/X448 result itself */
	if (EVP_PKEY_derive(ctx, ret_secret, &len) != 1)
		return EDHOC_E_LOW_ORDER_POINT;
	if (len != c->coord_len)
		return EDHOC_E_CRYPTO;
	if (all_zero(ret_secret, len)) {
		OPENSSL_cleanse(ret_secret, len);
		return EDHOC_E_LOW_ORDER_POINT;
	}
	*ret_len = len;
	return 0;
}

/* EC2 ECDH: x-coordinate of d * peer, as OpenSSL's ECDH computes it (the
 * curves have cofactor 1; the multiplication is OpenSSL's constant-time
 * ladder or, for P-256, its nistz256 code).  The peer point was validated
 * at import. */
static int ec_derive(const curve_info *c, const BIGNUM *d, const EC_POINT *peer,
                     uint8_t *ret_secret, size_t *ret_len)
{
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	if (!group || !bnctx || !d || !peer)
		return EDHOC_E_CRYPTO;
	EC_POINT *res = EC_POINT_new(group);
	int r = EDHOC_E_CRYPTO;
	BN_CTX_start(bnctx);
	BIGNUM *x = BN_CTX_get(bnctx);
	if (!res || !x || EC_POINT_mul(group, res, NULL, peer, d, bnctx) != 1)
		goto out;
	r = EDHOC_E_INVALID_POINT;
	if (EC_POINT_is_at_infinity(group, res))
		goto out;
	r = EDHOC_E_CRYPTO;
	if (EC_POINT_get_affine_coordinates(group, res, x, NULL, bnctx) != 1 ||
	    BN_bn2binpad(x, ret_secret, (int)c->coord_len) != (int)c->coord_len)
		goto out;
	*ret_len = c->coord_len;
	r = 0;
out:
	BN_clear(x);
	BN_CTX_end(bnctx);
	EC_POINT_clear_free(res);
	return r;
}

int crypto_dh_derive(const crypto_key *priv, const crypto_key *peer, uint8_t *ret_secret,
                     size_t *ret_len)
{
	if (!priv || !peer || !ret_secret || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	const curve_info *c = curve_lookup(priv->curve);
	if (!c->dh || !priv->has_private)
		return EDHOC_E_KEY_INVALID;
	if (peer->curve != priv->curve)
		return EDHOC_E_KEY_INVALID;
	/* the cached scalar, point and context do not change what the keys
	 * are */
	crypto_key *mk = (crypto_key *)priv, *mp = (crypto_key *)peer;
	if (c->ec2)
		return ec_derive(c, ec_scalar_of(mk), ec_point_of(mp), ret_secret, ret_len);
	if (!mk->derive && !(mk->derive = derive_ctx_new(mk->pkey)))
		return EDHOC_E_CRYPTO;
	return okp_derive(mk->derive, mp->pkey, c, ret_secret, ret_len);
}

int crypto_dh_derive_priv(int curve, const uint8_t *priv, size_t priv_len, const crypto_key *peer,
                          uint8_t *ret_secret, size_t *ret_len)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !peer || !ret_secret || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (priv_len != c->priv_len || peer->curve != curve)
		return EDHOC_E_KEY_INVALID;
	crypto_key *mp = (crypto_key *)peer; /* caches only, see crypto_dh_derive */
	EVP_PKEY *sk = NULL;
	BIGNUM *d = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r;
	/* the key crypto_dh_keygen just made? */
	struct eph_key *eph = eph_find(curve, priv, priv_len);
	if (c->ec2) {
		if (!eph && (r = ec_scalar_from_bytes(c, priv, &d)))
			goto out;
		r = ec_derive(c, eph ? eph->d : d, ec_point_of(mp), ret_secret, ret_len);
		goto out;
	}
	if (eph) {
		if (!eph->derive && !(eph->derive = derive_ctx_new(eph->pkey))) {
			r = EDHOC_E_CRYPTO;
			goto out;
		}
		r = okp_derive(eph->derive, mp->pkey, c, ret_secret, ret_len);
		goto out;
	}
	r = okp_from_private(c, priv, priv_len, &sk);
	if (r)
		goto out;
	r = EDHOC_E_CRYPTO;
	if (!(ctx = derive_ctx_new(sk)))
		goto out;
	r = okp_derive(ctx, mp->pkey, c, ret_secret, ret_len);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(sk);
	BN_clear_free(d);
	return r;
}

int crypto_dh_derive_raw(int curve, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
                         size_t peer_len, uint8_t *ret_secret, size_t *ret_len)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !peer || !ret_secret || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (priv_len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	crypto_key *pk = NULL;
	int r = crypto_key_from_public(curve, peer, peer_len, NULL, 0, &pk);
	if (r == 0)
		r = crypto_dh_derive_priv(curve, priv, priv_len, pk, ret_secret, ret_len);
	crypto_key_free(pk);
	return r;
}

/* ---- signatures ---- */

size_t crypto_sig_len(int sig_alg, int curve)
{
	switch (sig_alg) {
	case COSE_ALG_EDDSA:
		return curve == COSE_CRV_ED25519 ? 64 : curve == COSE_CRV_ED448 ? 114 : 0;
	case COSE_ALG_ES256:
		return curve == COSE_CRV_P256 ? 64 : 0;
	case COSE_ALG_ES384:
		return curve == COSE_CRV_P384 ? 96 : 0;
	default:
		return 0;
	}
}

/* Digest (NULL for EdDSA, which hashes internally) and signature length for
 * an algorithm on this key; EDHOC_E_KEY_INVALID when they do not fit. */
static int sig_setup(const crypto_key *k, int sig_alg, EVP_MD **ret_md, size_t *ret_sig_len)
{
	size_t slen = crypto_sig_len(sig_alg, k->curve);
	if (!slen) {
		if (sig_alg != COSE_ALG_EDDSA && sig_alg != COSE_ALG_ES256 &&
		    sig_alg != COSE_ALG_ES384)
			return EDHOC_E_ALG_UNSUPPORTED;
		return EDHOC_E_KEY_INVALID;
	}
	*ret_md = NULL;
	if (sig_alg == COSE_ALG_ES256 && !(*ret_md = crypto_md_sha256()))
		return EDHOC_E_CRYPTO;
	if (sig_alg == COSE_ALG_ES384 && !(*ret_md = crypto_md_sha384()))
		return EDHOC_E_CRYPTO;
	*ret_sig_len = slen;
	return 0;
}

static _Thread_local EVP_MD_CTX *sig_mdctx;

static EVP_MD_CTX *sig_ctx(void)
{
	if (!sig_mdctx)
		sig_mdctx = EVP_MD_CTX_new();
	else
		EVP_MD_CTX_reset(sig_mdctx);
	return sig_mdctx;
}

int crypto_sign(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len, uint8_t *ret_sig,
                size_t *ret_sig_len)
{
	if (!k || (!msg && len) || !ret_sig || !ret_sig_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!k->has_private)
		return EDHOC_E_KEY_INVALID;
	EVP_MD *md;
	size_t slen;
	int r = sig_setup(k, sig_alg, &md, &slen);
	if (r)
		return r;
	EVP_MD_CTX *mctx = sig_ctx();
	if (!mctx)
		return EDHOC_E_NOMEM;
	static const uint8_t empty[1];
	EVP_PKEY *pkey = key_evp((crypto_key *)k);
	if (!pkey || EVP_DigestSignInit_ex(mctx, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL, NULL,
	                                   pkey, NULL) != 1)
		return EDHOC_E_CRYPTO;
	if (sig_alg == COSE_ALG_EDDSA) {
		size_t outl = slen;
		if (EVP_DigestSign(mctx, ret_sig, &outl, msg ? msg : empty, len) != 1 ||
		    outl != slen)
			return EDHOC_E_CRYPTO;
		*ret_sig_len = slen;
		return 0;
	}
	/* ECDSA: OpenSSL gives DER; COSE wants r || s, each padded to the
	 * coordinate length (RFC 9053 §2.1) */
	uint8_t der[160];
	size_t der_len = sizeof(der);
	if (EVP_DigestSign(mctx, der, &der_len, msg ? msg : empty, len) != 1)
		return EDHOC_E_CRYPTO;
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!sig)
		return EDHOC_E_CRYPTO;
	size_t half = slen / 2;
	r = EDHOC_E_CRYPTO;
	if (BN_bn2binpad(ECDSA_SIG_get0_r(sig), ret_sig, (int)half) == (int)half &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), ret_sig + half, (int)half) == (int)half) {
		*ret_sig_len = slen;
		r = 0;
	}
	ECDSA_SIG_free(sig);
	return r;
}

int crypto_verify(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                  const uint8_t *sig, size_t sig_len)
{
	if (!k || (!msg && len) || !sig)
		return EDHOC_E_INVALID_ARGUMENT;
	EVP_MD *md;
	size_t slen;
	int r = sig_setup(k, sig_alg, &md, &slen);
	if (r)
		return r;
	if (sig_len != slen)
		return EDHOC_E_SIGNATURE_INVALID;
	EVP_MD_CTX *mctx = sig_ctx();
	if (!mctx)
		return EDHOC_E_NOMEM;
	static const uint8_t empty[1];
	EVP_PKEY *pkey = key_evp((crypto_key *)k);
	if (!pkey || EVP_DigestVerifyInit_ex(mctx, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL,
	                                     NULL, pkey, NULL) != 1)
		return EDHOC_E_CRYPTO;
	if (sig_alg == COSE_ALG_EDDSA)
		return EVP_DigestVerify(mctx, sig, sig_len, msg ? msg : empty, len) == 1
		           ? 0
		           : EDHOC_E_SIGNATURE_INVALID;

	size_t half = slen / 2;
	uint8_t der[160];
	unsigned char *q = der;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *bs = BN_bin2bn(sig + half, (int)half, NULL);
	r = EDHOC_E_NOMEM;
	if (!es || !br || !bs)
		goto out;
	if (ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL; /* owned by es now */
	r = EDHOC_E_CRYPTO;
	int der_len = i2d_ECDSA_SIG(es, NULL);
	if (der_len <= 0 || (size_t)der_len > sizeof(der))
		goto out;
	der_len = i2d_ECDSA_SIG(es, &q);
	/* r or s of zero, or not below the order, simply fails to verify */
	r = EVP_DigestVerify(mctx, der, (size_t)der_len, msg ? msg : empty, len) == 1
	        ? 0
	        : EDHOC_E_SIGNATURE_INVALID;
out:
	ECDSA_SIG_free(es);
	BN_free(br);
	BN_free(bs);
	return r;
}

void crypto_keys_thread_cleanup(void)
{
	eph_clear(&kcache.eph[0]);
	eph_clear(&kcache.eph[1]);
	EC_GROUP_free(kcache.group[0]);
	EC_GROUP_free(kcache.group[1]);
	BN_CTX_free(kcache.bnctx);
	for (size_t i = 0; i < N_CURVES; i++)
		EVP_PKEY_CTX_free(kcache.fromdata[i]);
	EVP_MD_CTX_free(sig_mdctx);
	sig_mdctx = NULL;
	memset(&kcache, 0, sizeof(kcache));
}
