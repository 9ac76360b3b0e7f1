/* Asymmetric keys: import with point validation, ECDH, signatures.
 *
 * EC2 public keys arrive from peers as a bare x-coordinate (RFC 9528 §3.7):
 * they are decompressed here, which proves the point is on the curve, so the
 * ECDH step can tell OpenSSL to skip its own (repeated) peer validation. */
#include "edhoc/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "crypto/crypto_internal.h"

struct crypto_key {
	EVP_PKEY *pkey;
	int curve;
	bool has_private;
	unsigned refs;
	/* derive context with this key as the private side, made on first
	 * ECDH use and kept: init costs about as much as a small derive */
	EVP_PKEY_CTX *derive;
};

/* ---- curve facts ---- */

typedef struct curve_info {
	int crv;
	const char *name; /* OpenSSL key type or group name */
	bool ec2;
	int nid;          /* for EC2 */
	size_t coord_len; /* x (and y) length; OKP key length */
	size_t priv_len;
	bool dh;          /* usable for ECDH */
} curve_info;

static const curve_info curves[] = {
	{ COSE_CRV_P256, "P-256", true, NID_X9_62_prime256v1, 32, 32, true },
	{ COSE_CRV_P384, "P-384", true, NID_secp384r1, 48, 48, true },
	{ COSE_CRV_X25519, "X25519", false, 0, 32, 32, true },
	{ COSE_CRV_X448, "X448", false, 0, 56, 56, true },
	{ COSE_CRV_ED25519, "ED25519", false, 0, 32, 32, false },
	{ COSE_CRV_ED448, "ED448", false, 0, 57, 57, false },
};

static const curve_info *curve_lookup(int crv)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].crv == crv)
			return &curves[i];
	return NULL;
}

/* EC groups are immutable once built; one per curve and thread. */
static _Thread_local struct {
	EC_GROUP *group[2];
	BN_CTX *bnctx;
} kcache;

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

struct evp_pkey_st *crypto_key_evp(const crypto_key *k)
{
	return k ? k->pkey : NULL;
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

/* EVP_PKEY for an EC2 key from an encoded point and/or scalar. */
static int ec_pkey_fromdata(const curve_info *c, const uint8_t *point, size_t point_len,
			    const BIGNUM *d, EVP_PKEY **ret)
{
	int r = EDHOC_E_CRYPTO;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	if (!bld)
		return EDHOC_E_NOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->name, 0) != 1)
		goto out;
	if (point &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len) != 1)
		goto out;
	if (d && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
		goto out;
	if (!(params = OSSL_PARAM_BLD_to_param(bld)))
		goto out;
	if (!(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)))
		goto out;
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	*ret = pkey;
	r = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	/* a secure-heap BIGNUM d is copied to the secure heap and wiped here */
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

/* X25519 u-coordinates of small order and their non-canonical aliases
 * (u + p): an ECDH with them gives a secret the attacker knows.  Compared
 * with the top bit masked, as X25519 ignores it (RFC 7748 §5). */
static const uint8_t x25519_low_order[][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
	  0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
	  0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
	/* p - 1, p, p + 1 */
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
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

	if (!c->ec2) {
		if (y && y_len)
			return EDHOC_E_KEY_INVALID;
		if (curve == COSE_CRV_X25519 && x25519_is_low_order(x))
			return EDHOC_E_LOW_ORDER_POINT;
		if (curve == COSE_CRV_X448 && x448_is_low_order(x))
			return EDHOC_E_LOW_ORDER_POINT;
		EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, c->name, NULL, x, x_len);
		if (!pkey)
			return curve == COSE_CRV_ED25519 || curve == COSE_CRV_ED448
				       ? EDHOC_E_INVALID_POINT
				       : EDHOC_E_KEY_INVALID;
		return key_wrap(pkey, curve, false, ret);
	}

	if (y && y_len != c->coord_len)
		return EDHOC_E_KEY_INVALID;
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	if (!group || !bnctx)
		return EDHOC_E_CRYPTO;
	int r = EDHOC_E_CRYPTO;
	EC_POINT *pt = NULL;
	BIGNUM *bx = NULL, *by = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
	size_t enc_len;

	BN_CTX_start(bnctx);
	BIGNUM *p = BN_CTX_get(bnctx);
	bx = BN_bin2bn(x, (int)x_len, NULL);
	by = y ? BN_bin2bn(y, (int)y_len, NULL) : NULL;
	pt = EC_POINT_new(group);
	if (!p || !bx || (y && !by) || !pt ||
	    EC_GROUP_get_curve(group, p, NULL, NULL, bnctx) != 1)
		goto out;
	/* OpenSSL reduces coordinates mod p; a non-canonical one is refused */
	r = EDHOC_E_INVALID_POINT;
	if (BN_cmp(bx, p) >= 0 || (by && BN_cmp(by, p) >= 0))
		goto out;
	if (by) {
		if (EC_POINT_set_affine_coordinates(group, pt, bx, by, bnctx) != 1)
			goto out;
	} else if (EC_POINT_set_compressed_coordinates(group, pt, bx, 0, bnctx) != 1) {
		goto out; /* x^3 + ax + b has no square root: no such point */
	}
	if (EC_POINT_is_on_curve(group, pt, bnctx) != 1)
		goto out;
	r = EDHOC_E_CRYPTO;
	enc_len = EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, enc, sizeof(enc),
				     bnctx);
	if (enc_len != 1 + 2 * c->coord_len)
		goto out;
	r = ec_pkey_fromdata(c, enc, enc_len, NULL, &pkey);
	if (r == 0)
		r = key_wrap(pkey, curve, false, ret);
out:
	BN_CTX_end(bnctx);
	EC_POINT_free(pt);
	BN_free(bx);
	BN_free(by);
	return r;
}

/* d * G for an EC2 scalar, uncompressed; EDHOC_E_KEY_INVALID when d is 0 or
 * not below the group order. */
static int ec_pub_from_scalar(const curve_info *c, const BIGNUM *d, uint8_t *ret_enc,
			      size_t *ret_len)
{
	const EC_GROUP *group = ec_group(c);
	BN_CTX *bnctx = bn_ctx();
	if (!group || !bnctx)
		return EDHOC_E_CRYPTO;
	const BIGNUM *order = EC_GROUP_get0_order(group);
	if (BN_is_zero(d) || BN_cmp(d, order) >= 0)
		return EDHOC_E_KEY_INVALID;
	EC_POINT *pt = EC_POINT_new(group);
	int r = EDHOC_E_CRYPTO;
	if (!pt || EC_POINT_mul(group, pt, d, NULL, NULL, bnctx) != 1)
		goto out;
	size_t n = EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, ret_enc,
				      1 + 2 * CRYPTO_MAX_COORD, bnctx);
	if (n != 1 + 2 * c->coord_len)
		goto out;
	*ret_len = n;
	r = 0;
out:
	EC_POINT_free(pt);
	return r;
}

/* EVP_PKEY from raw private bytes; with_public computes the EC2 public
 * point too (needed to sign and to report the public key; ECDH alone does
 * not need it). */
static int pkey_from_private(const curve_info *c, const uint8_t *priv, size_t len, bool with_public,
			     EVP_PKEY **ret)
{
	if (len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	if (!c->ec2) {
		EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, c->name, NULL, priv, len);
		if (!pkey)
			return EDHOC_E_KEY_INVALID;
		*ret = pkey;
		return 0;
	}
	BIGNUM *d = BN_secure_new();
	if (!d)
		return EDHOC_E_NOMEM;
	int r = EDHOC_E_KEY_INVALID;
	uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
	size_t enc_len = 0;
	if (!BN_bin2bn(priv, (int)len, d))
		goto out;
	if (with_public) {
		r = ec_pub_from_scalar(c, d, enc, &enc_len);
		if (r)
			goto out;
	} else {
		const EC_GROUP *group = ec_group(c);
		if (!group) {
			r = EDHOC_E_CRYPTO;
			goto out;
		}
		if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0)
			goto out;
	}
	r = ec_pkey_fromdata(c, with_public ? enc : NULL, enc_len, d, ret);
out:
	BN_clear_free(d);
	return r;
}

int crypto_key_from_private(int curve, const uint8_t *priv, size_t len, crypto_key **ret)
{
	const curve_info *c = curve_lookup(curve);
	if (!c)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	EVP_PKEY *pkey = NULL;
	int r = pkey_from_private(c, priv, len, true, &pkey);
	if (r)
		return r;
	return key_wrap(pkey, curve, true, ret);
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
	uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
	size_t len = 0;
	if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
					    sizeof(enc), &len) != 1)
		return EDHOC_E_CRYPTO;
	if (len != 1 + 2 * c->coord_len || enc[0] != POINT_CONVERSION_UNCOMPRESSED)
		return EDHOC_E_CRYPTO;
	memcpy(ret_x, enc + 1, c->coord_len);
	memcpy(ret_y, enc + 1 + c->coord_len, c->coord_len);
	*ret_x_len = c->coord_len;
	*ret_y_len = c->coord_len;
	return 0;
}

/* ---- ECDH ---- */

int crypto_dh_pub_from_priv(int curve, const uint8_t *priv, size_t len, uint8_t *ret_pub)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !ret_pub)
		return EDHOC_E_INVALID_ARGUMENT;
	if (len != c->priv_len)
		return EDHOC_E_KEY_INVALID;
	if (c->ec2) {
		BIGNUM *d = BN_secure_new();
		uint8_t enc[1 + 2 * CRYPTO_MAX_COORD];
		size_t enc_len = 0;
		int r = EDHOC_E_NOMEM;
		if (d) {
			r = BN_bin2bn(priv, (int)len, d) ? ec_pub_from_scalar(c, d, enc, &enc_len)
							 : EDHOC_E_CRYPTO;
			if (r == 0)
				memcpy(ret_pub, enc + 1, c->coord_len);
		}
		BN_clear_free(d);
		return r;
	}
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, c->name, NULL, priv, len);
	if (!pkey)
		return EDHOC_E_KEY_INVALID;
	size_t plen = c->coord_len;
	int r = EVP_PKEY_get_raw_public_key(pkey, ret_pub, &plen) == 1 && plen == c->coord_len
			? 0
			: EDHOC_E_CRYPTO;
	EVP_PKEY_free(pkey);
	return r;
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
	int r = EDHOC_E_RNG;
	/* An EC2 scalar outside [1, n-1] is drawn again; for P-256 and P-384
	 * that happens with probability below 2^-32, so a handful of tries
	 * only runs out with a broken random source. */
	for (int tries = 0; tries < 8; tries++) {
		r = rng(rng_ctx, priv, c->priv_len);
		if (r)
			break;
		r = crypto_dh_pub_from_priv(curve, priv, c->priv_len, ret_pub);
		if (r != EDHOC_E_KEY_INVALID)
			break;
		r = EDHOC_E_RNG;
	}
	if (r == 0)
		memcpy(ret_priv, priv, c->priv_len);
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

/* Derive with an EVP_PKEY_CTX already set up for the private key. */
static int derive_with(EVP_PKEY_CTX *ctx, const crypto_key *peer, const curve_info *c,
		       uint8_t *ret_secret, size_t *ret_len)
{
	/* validate = 0: the peer key was checked at import (decompression or
	 * the low-order list), and OpenSSL's check would redo a full
	 * public-key validation on every derive */
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer->pkey, 0) != 1)
		return EDHOC_E_CRYPTO;
	size_t len = CRYPTO_MAX_DH_SECRET;
	if (EVP_PKEY_derive(ctx, ret_secret, &len) != 1) {
		/* OpenSSL refuses an all-zero X25519/X448 result itself */
		return c->ec2 ? EDHOC_E_CRYPTO : EDHOC_E_LOW_ORDER_POINT;
	}
	if (len != c->coord_len)
		return EDHOC_E_CRYPTO;
	if (!c->ec2 && all_zero(ret_secret, len)) {
		OPENSSL_cleanse(ret_secret, len);
		return EDHOC_E_LOW_ORDER_POINT;
	}
	*ret_len = len;
	return 0;
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
	/* the context is a cache that does not change what the key is */
	crypto_key *mk = (crypto_key *)priv;
	if (!mk->derive) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mk->pkey, NULL);
		if (!ctx)
			return EDHOC_E_NOMEM;
		if (EVP_PKEY_derive_init(ctx) != 1) {
			EVP_PKEY_CTX_free(ctx);
			return EDHOC_E_CRYPTO;
		}
		mk->derive = ctx;
	}
	return derive_with(mk->derive, peer, c, ret_secret, ret_len);
}

int crypto_dh_derive_raw(int curve, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
			 size_t peer_len, uint8_t *ret_secret, size_t *ret_len)
{
	const curve_info *c = curve_lookup(curve);
	if (!c || !c->dh)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!priv || !peer || !ret_secret || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	crypto_key *pk = NULL;
	EVP_PKEY *sk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r = crypto_key_from_public(curve, peer, peer_len, NULL, 0, &pk);
	if (r)
		goto out;
	r = pkey_from_private(c, priv, priv_len, false, &sk);
	if (r)
		goto out;
	r = EDHOC_E_CRYPTO;
	if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL)) || EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	r = derive_with(ctx, pk, c, ret_secret, ret_len);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(sk);
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

int crypto_sign(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
		uint8_t *ret_sig, size_t *ret_sig_len)
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
	if (EVP_DigestSignInit_ex(mctx, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL, NULL, k->pkey,
				  NULL) != 1)
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
	if (EVP_DigestVerifyInit_ex(mctx, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL, NULL,
				    k->pkey, NULL) != 1)
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
	EC_GROUP_free(kcache.group[0]);
	EC_GROUP_free(kcache.group[1]);
	BN_CTX_free(kcache.bnctx);
	EVP_MD_CTX_free(sig_mdctx);
	sig_mdctx = NULL;
	memset(&kcache, 0, sizeof(kcache));
}
