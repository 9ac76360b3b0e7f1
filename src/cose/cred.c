/* EDHOC authentication credentials: CCS and X.509, ID_CRED_x (RFC 9528
 * §3.5.2-3.5.3, RFC 8392, RFC 9360). */
#include "edhoc/cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "edhoc/cbor.h"

/* Nesting we follow when skipping claims we do not interpret: deep enough
 * for any real CWT claim, shallow enough that a hostile CCS costs nothing. */
#define SKIP_DEPTH 8
/* Pairs in one map of a CCS or COSE_Key: every key is kept for the
 * duplicate check, so the count is bounded. */
#define MAX_PAIRS 24

struct cose_cred {
	edhoc_cred view;
	int type;
	int id_label;
	int curve;
	uint8_t *cred; /* CRED_x */
	size_t cred_len;
	uint8_t *id_cred; /* ID_CRED_x */
	size_t id_cred_len;
	crypto_key *key;
	char identity[EDHOC_MAX_IDENTITY];
	char sub[COSE_MAX_SUB + 1];
	uint8_t kid[COSE_MAX_KID];
	size_t kid_len;
	bool has_kid;
	/* X.509: certs[0] points into cred (after the bstr head); the others
	 * are owned copies. */
	const uint8_t *certs[EDHOC_MAX_CHAIN];
	size_t cert_lens[EDHOC_MAX_CHAIN];
	uint8_t *cert_copies[EDHOC_MAX_CHAIN];
	size_t n_certs;
	uint8_t x5t_sha256[32]; /* of certs[0], for x5t matching */
};

/* ---- curves ---- */

static const struct {
	int crv;
	int kty;
	const char *name;
	size_t coord; /* x (and y) length in a COSE_Key */
	size_t priv;  /* d length */
} curves[] = {
    {COSE_CRV_P256, COSE_KTY_EC2, "P-256", 32, 32},
    {COSE_CRV_P384, COSE_KTY_EC2, "P-384", 48, 48},
    {COSE_CRV_X25519, COSE_KTY_OKP, "X25519", 32, 32},
    {COSE_CRV_X448, COSE_KTY_OKP, "X448", 56, 56},
    {COSE_CRV_ED25519, COSE_KTY_OKP, "Ed25519", 32, 32},
    {COSE_CRV_ED448, COSE_KTY_OKP, "Ed448", 57, 57},
};

static int curve_index(int crv)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].crv == crv)
			return (int)i;
	return -1;
}

int cose_curve_kty(int crv)
{
	int i = curve_index(crv);
	return i < 0 ? 0 : curves[i].kty;
}

int cose_curve_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcasecmp(curves[i].name, name) == 0)
			return curves[i].crv;
	return 0;
}

const char *cose_curve_name(int crv)
{
	int i = curve_index(crv);
	return i < 0 ? "?" : curves[i].name;
}

size_t cose_curve_coord_len(int crv)
{
	int i = curve_index(crv);
	return i < 0 ? 0 : curves[i].coord;
}

size_t cose_curve_priv_len(int crv)
{
	int i = curve_index(crv);
	return i < 0 ? 0 : curves[i].priv;
}

int cose_key_generate(int crv, crypto_rng_fn rng, void *rng_ctx, crypto_key **ret)
{
	uint8_t d[CRYPTO_MAX_COORD];
	int i = curve_index(crv), rc = EDHOC_E_RNG;

	if (i < 0)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!rng)
		rng = crypto_rng_default;
	/* Only a P-256/P-384 scalar can be out of range, with probability
	 * below 2^-32; a few draws are plenty. */
	for (int tries = 0; tries < 8; tries++) {
		rc = rng(rng_ctx, d, curves[i].priv);
		if (rc < 0)
			break;
		rc = crypto_key_from_private(crv, d, curves[i].priv, ret);
		if (rc != EDHOC_E_KEY_INVALID)
			break;
	}
	crypto_cleanse(d, sizeof(d));
	return rc;
}

/* ---- CCS parsing ---- */

/* Remembers the encoded keys of one map so a repeated key is caught
 * whatever its type. */
typedef struct keyset {
	const uint8_t *p[MAX_PAIRS];
	size_t len[MAX_PAIRS];
	size_t n;
} keyset;

static int keyset_add(keyset *ks, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->len[i] == len && memcmp(ks->p[i], p, len) == 0)
			return EDHOC_E_CRED_MALFORMED;
	if (ks->n >= MAX_PAIRS)
		return EDHOC_E_CRED_MALFORMED;
	ks->p[ks->n] = p;
	ks->len[ks->n] = len;
	ks->n++;
	return 0;
}

/* Reads a map key: an integer, or (for labels we do not interpret) a text
 * string, reported as *ret_is_int = false.  Records it in ks. */
static int read_label(cose_reader *r, keyset *ks, int64_t *ret_label, bool *ret_is_int)
{
	size_t start = r->off;
	int major, rc;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_UINT || major == COSE_CBOR_NEGINT) {
		rc = cose_read_int(r, ret_label);
		*ret_is_int = true;
	} else if (major == COSE_CBOR_TSTR) {
		const char *s;
		size_t n;
		rc = cose_read_tstr(r, &s, &n);
		*ret_is_int = false;
		*ret_label = 0;
	} else {
		return EDHOC_E_CRED_MALFORMED;
	}
	if (rc < 0)
		return rc;
	return keyset_add(ks, r->buf + start, r->off - start);
}

static int read_int_field(cose_reader *r, int64_t *ret)
{
	int major;
	int rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
		return EDHOC_E_CRED_MALFORMED;
	return cose_read_int(r, ret);
}

static int read_bstr_field(cose_reader *r, const uint8_t **ret, size_t *ret_len)
{
	int major;
	int rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major != COSE_CBOR_BSTR)
		return EDHOC_E_CRED_MALFORMED;
	return cose_read_bstr(r, ret, ret_len);
}

/* The head of a map with at most MAX_PAIRS pairs; another type or more
 * pairs give `malformed`. */
static int read_map_head(cose_reader *r, int malformed, size_t *ret_pairs)
{
	int rc, major;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major != COSE_CBOR_MAP)
		return malformed;
	rc = cose_read_map(r, ret_pairs);
	if (rc < 0)
		return rc;
	return *ret_pairs > MAX_PAIRS ? malformed : 0;
}

/* Where the private key sits in the parsed bytes, so CRED_x can be made
 * without it. */
typedef struct ccs_layout {
	size_t key_head_off, key_head_len; /* COSE_Key map head */
	size_t key_pairs;
	size_t d_off, d_end; /* the (-4: d) pair */
} ccs_layout;

static int parse_cose_key(cose_reader *r, cose_ccs *out, ccs_layout *lay)
{
	size_t pairs;
	keyset ks = {.n = 0};
	int64_t kty = 0, crv = 0;
	bool have_kty = false, have_crv = false;
	int rc, major;

	lay->key_head_off = r->off;
	rc = read_map_head(r, EDHOC_E_CRED_MALFORMED, &pairs);
	if (rc < 0)
		return rc;
	lay->key_head_len = r->off - lay->key_head_off;
	lay->key_pairs = pairs;

	for (size_t i = 0; i < pairs; i++) {
		int64_t label;
		bool is_int;
		size_t pair_off = r->off;
		const uint8_t *skip;
		size_t skip_len;

		rc = read_label(r, &ks, &label, &is_int);
		if (rc < 0)
			return rc;
		if (!is_int) {
			rc = cose_read_item(r, SKIP_DEPTH, &skip, &skip_len);
			if (rc < 0)
				return rc;
			continue;
		}
		switch (label) {
		case COSE_KEY_KTY:
			rc = read_int_field(r, &kty);
			have_kty = true;
			break;
		case COSE_KEY_KID:
			rc = read_bstr_field(r, &out->kid, &out->kid_len);
			break;
		case COSE_KEY_CRV:
			rc = read_int_field(r, &crv);
			have_crv = true;
			break;
		case COSE_KEY_X:
			rc = read_bstr_field(r, &out->x, &out->x_len);
			break;
		case COSE_KEY_Y:
			/* A bool y is the compressed form's sign bit; the point
			 * is then decompressed from x. */
			rc = cose_peek_type(r, &major);
			if (rc < 0)
				return rc;
			if (major == COSE_CBOR_SIMPLE) {
				bool sign;
				rc = cose_read_bool(r, &sign);
				if (rc < 0)
					return EDHOC_E_CRED_MALFORMED;
			} else {
				rc = read_bstr_field(r, &out->y, &out->y_len);
			}
			break;
		case COSE_KEY_D:
			rc = read_bstr_field(r, &out->d, &out->d_len);
			lay->d_off = pair_off;
			lay->d_end = r->off;
			break;
		default:
			rc = cose_read_item(r, SKIP_DEPTH, &skip, &skip_len);
			break;
		}
		if (rc < 0)
			return rc;
	}

	if (!have_kty || !have_crv || !out->x)
		return EDHOC_E_CRED_MALFORMED;
	int ci = curve_index((int)crv);
	if (ci < 0 || (kty != COSE_KTY_OKP && kty != COSE_KTY_EC2))
		return EDHOC_E_ALG_UNSUPPORTED;
	if (curves[ci].kty != kty)
		return EDHOC_E_KEY_INVALID;
	if (out->x_len != curves[ci].coord)
		return EDHOC_E_KEY_INVALID;
	if (out->y && (kty != COSE_KTY_EC2 || out->y_len != curves[ci].coord))
		return EDHOC_E_KEY_INVALID;
	if (out->d && out->d_len != curves[ci].priv)
		return EDHOC_E_KEY_INVALID;
	out->kty = (int)kty;
	out->crv = (int)crv;
	return 0;
}

static int parse_cnf(cose_reader *r, cose_ccs *out, ccs_layout *lay)
{
	size_t pairs;
	keyset ks = {.n = 0};
	bool have_key = false;
	int rc;

	rc = read_map_head(r, EDHOC_E_CRED_MALFORMED, &pairs);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < pairs; i++) {
		int64_t label;
		bool is_int;
		const uint8_t *skip;
		size_t skip_len;

		rc = read_label(r, &ks, &label, &is_int);
		if (rc < 0)
			return rc;
		if (is_int && label == COSE_CNF_COSE_KEY) {
			rc = parse_cose_key(r, out, lay);
			have_key = true;
		} else {
			rc = cose_read_item(r, SKIP_DEPTH, &skip, &skip_len);
		}
		if (rc < 0)
			return rc;
	}
	/* A cnf with only an encrypted key or a key id gives EDHOC nothing to
	 * authenticate with. */
	return have_key ? 0 : EDHOC_E_CRED_MALFORMED;
}

static int ccs_parse(const uint8_t *buf, size_t len, bool allow_private, cose_ccs *ret,
                     ccs_layout *ret_lay)
{
	cose_reader r;
	cose_ccs out;
	ccs_layout lay;
	keyset ks = {.n = 0};
	size_t pairs;
	bool have_cnf = false;
	int rc, major;

	memset(&out, 0, sizeof(out));
	memset(&lay, 0, sizeof(lay));
	if (!buf || len == 0)
		return EDHOC_E_CBOR_TRUNCATED;
	if (len > COSE_CRED_MAX_BYTES)
		return EDHOC_E_CBOR_TOO_LONG;
	cose_reader_init(&r, buf, len);
	rc = read_map_head(&r, EDHOC_E_CRED_MALFORMED, &pairs);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < pairs; i++) {
		int64_t label;
		bool is_int;
		const uint8_t *skip;
		size_t skip_len;

		rc = read_label(&r, &ks, &label, &is_int);
		if (rc < 0)
			return rc;
		if (is_int && label == COSE_CLAIM_SUB) {
			rc = cose_peek_type(&r, &major);
			if (rc < 0)
				return rc;
			if (major != COSE_CBOR_TSTR)
				return EDHOC_E_CRED_MALFORMED;
			rc = cose_read_tstr(&r, &out.sub, &out.sub_len);
			if (rc == 0 && out.sub_len > COSE_MAX_SUB)
				return EDHOC_E_CBOR_TOO_LONG;
			/* The subject becomes the identity in ACLs and logs: a NUL
			 * would cut it short ("admin\0x" read as "admin") and
			 * control characters would forge log lines. */
			for (size_t k = 0; rc == 0 && k < out.sub_len; k++)
				if ((uint8_t)out.sub[k] < 0x20 || out.sub[k] == 0x7f)
					return EDHOC_E_CRED_MALFORMED;
		} else if (is_int && label == COSE_CLAIM_CNF) {
			rc = parse_cnf(&r, &out, &lay);
			have_cnf = true;
		} else {
			rc = cose_read_item(&r, SKIP_DEPTH, &skip, &skip_len);
		}
		if (rc < 0)
			return rc;
	}
	if (!cose_reader_done(&r))
		return EDHOC_E_TRAILING_BYTES;
	if (!have_cnf)
		return EDHOC_E_CRED_MALFORMED;
	if (out.kid && out.kid_len > COSE_MAX_KID)
		return EDHOC_E_CBOR_TOO_LONG;
	if (out.d && !allow_private)
		return EDHOC_E_CRED_HAS_PRIVATE;
	*ret = out;
	if (ret_lay)
		*ret_lay = lay;
	return 0;
}

int cose_ccs_parse(const uint8_t *buf, size_t len, bool allow_private, cose_ccs *ret)
{
	if (!ret)
		return EDHOC_E_INVALID_ARGUMENT;
	return ccs_parse(buf, len, allow_private, ret, NULL);
}

/* ---- CCS building ---- */

/* The private scalar or seed of a key in COSE form (d). */
static int key_private_bytes(const crypto_key *k, uint8_t *out, size_t cap, size_t *ret_len)
{
	EVP_PKEY *pk = crypto_key_evp(k);
	int ci = curve_index(crypto_key_curve(k));
	BIGNUM *bn = NULL;
	int rc = EDHOC_E_KEY_INVALID;

	if (!pk || ci < 0 || !crypto_key_has_private(k) || cap < curves[ci].priv)
		return EDHOC_E_KEY_INVALID;
	if (curves[ci].kty == COSE_KTY_OKP) {
		size_t n = cap;
		if (EVP_PKEY_get_raw_private_key(pk, out, &n) != 1 || n != curves[ci].priv)
			goto out;
		*ret_len = n;
	} else {
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1)
			goto out;
		if (BN_bn2binpad(bn, out, (int)curves[ci].priv) < 0)
			goto out;
		*ret_len = curves[ci].priv;
	}
	rc = 0;
out:
	BN_clear_free(bn);
	return rc;
}

int cose_ccs_build(const crypto_key *key, const char *sub, const uint8_t *kid, size_t kid_len,
                   bool include_private, uint8_t *out, size_t cap, size_t *ret_len)
{
	uint8_t x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD], d[CRYPTO_MAX_COORD];
	size_t x_len = 0, y_len = 0, d_len = 0;
	cose_writer w;
	int rc, crv, kty;
	size_t sub_len = sub ? strlen(sub) : 0;

	if (!key || !out || !ret_len || (kid_len && !kid) || kid_len > COSE_MAX_KID ||
	    sub_len > COSE_MAX_SUB)
		return EDHOC_E_INVALID_ARGUMENT;
	crv = crypto_key_curve(key);
	kty = cose_curve_kty(crv);
	if (!kty)
		return EDHOC_E_ALG_UNSUPPORTED;
	rc = crypto_key_public(key, x, &x_len, y, &y_len);
	if (rc < 0)
		return rc;
	if (include_private) {
		rc = key_private_bytes(key, d, sizeof(d), &d_len);
		if (rc < 0)
			goto out;
	}

	cose_writer_init(&w, out, cap);
	cose_write_map(&w, sub ? 2 : 1);
	if (sub) {
		cose_write_uint(&w, COSE_CLAIM_SUB);
		cose_write_tstr(&w, sub, sub_len);
	}
	cose_write_uint(&w, COSE_CLAIM_CNF);
	cose_write_map(&w, 1);
	cose_write_uint(&w, COSE_CNF_COSE_KEY);
	cose_write_map(&w, 3 + (kid ? 1 : 0) + (kty == COSE_KTY_EC2 ? 1 : 0) +
	                       (include_private ? 1 : 0));
	cose_write_uint(&w, COSE_KEY_KTY);
	cose_write_uint(&w, (uint64_t)kty);
	if (kid) {
		cose_write_uint(&w, COSE_KEY_KID);
		cose_write_bstr(&w, kid, kid_len);
	}
	cose_write_int(&w, COSE_KEY_CRV);
	cose_write_int(&w, crv);
	cose_write_int(&w, COSE_KEY_X);
	cose_write_bstr(&w, x, x_len);
	if (kty == COSE_KTY_EC2) {
		cose_write_int(&w, COSE_KEY_Y);
		cose_write_bstr(&w, y, y_len);
	}
	if (include_private) {
		cose_write_int(&w, COSE_KEY_D);
		cose_write_bstr(&w, d, d_len);
	}
	rc = cose_writer_result(&w);
	if (rc == 0)
		*ret_len = w.len;
	else
		crypto_cleanse(out, cap);
out:
	crypto_cleanse(d, sizeof(d));
	return rc;
}

/* ---- ID_CRED ---- */

/* ID_CRED_x is a map of one pair: its head and the label; the caller
 * writes the value. */
static void id_cred_start(cose_writer *w, int label, uint8_t *out, size_t cap)
{
	cose_writer_init(w, out, cap);
	cose_write_map(w, 1);
	cose_write_uint(w, (uint64_t)label);
}

/* The written length, if it all fit. */
static int id_cred_end(const cose_writer *w, size_t *ret_len)
{
	int rc = cose_writer_result(w);

	if (rc == 0)
		*ret_len = w->len;
	return rc;
}

int cose_id_cred_kid(const uint8_t *kid, size_t kid_len, uint8_t *out, size_t cap, size_t *ret_len)
{
	cose_writer w;
	if ((!kid && kid_len) || !out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	id_cred_start(&w, EDHOC_ID_CRED_KID, out, cap);
	cose_write_bstr(&w, kid, kid_len);
	return id_cred_end(&w, ret_len);
}

int cose_id_cred_kccs(const uint8_t *ccs, size_t ccs_len, uint8_t *out, size_t cap, size_t *ret_len)
{
	cose_writer w;
	if (!ccs || !ccs_len || !out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	id_cred_start(&w, EDHOC_ID_CRED_KCCS, out, cap);
	cose_write_raw(&w, ccs, ccs_len);
	return id_cred_end(&w, ret_len);
}

int cose_x5t_hash(int alg, const uint8_t *der, size_t der_len, uint8_t *out, size_t *ret_len)
{
	uint8_t h[32];
	int rc;

	if (!der || !out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (alg != COSE_ALG_SHA_256_64 && alg != COSE_ALG_SHA_256)
		return EDHOC_E_ALG_UNSUPPORTED;
	rc = crypto_hash(COSE_ALG_SHA_256, der, der_len, h);
	if (rc < 0)
		return rc;
	/* SHA-256/64 is SHA-256 truncated to its first 64 bits (RFC 9054). */
	*ret_len = alg == COSE_ALG_SHA_256_64 ? 8 : 32;
	memcpy(out, h, *ret_len);
	return 0;
}

int cose_id_cred_x5t(int alg, const uint8_t *der, size_t der_len, uint8_t *out, size_t cap,
                     size_t *ret_len)
{
	uint8_t h[32];
	size_t h_len;
	cose_writer w;
	int rc;

	if (!out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	rc = cose_x5t_hash(alg, der, der_len, h, &h_len);
	if (rc < 0)
		return rc;
	id_cred_start(&w, EDHOC_ID_CRED_X5T, out, cap);
	cose_write_array(&w, 2);
	cose_write_int(&w, alg);
	cose_write_bstr(&w, h, h_len);
	return id_cred_end(&w, ret_len);
}

int cose_id_cred_certs(int label, const uint8_t *const *ders, const size_t *der_lens, size_t n,
                       uint8_t *out, size_t cap, size_t *ret_len)
{
	cose_writer w;

	if ((label != EDHOC_ID_CRED_X5CHAIN && label != EDHOC_ID_CRED_X5BAG) || !ders ||
	    !der_lens || n == 0 || n > EDHOC_MAX_CHAIN || !out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	id_cred_start(&w, label, out, cap);
	/* RFC 9360: a single certificate is a bstr, more are an array. */
	if (n > 1)
		cose_write_array(&w, n);
	for (size_t i = 0; i < n; i++)
		cose_write_bstr(&w, ders[i], der_lens[i]);
	return id_cred_end(&w, ret_len);
}

static int parse_cert_list(cose_reader *r, edhoc_id_cred *id)
{
	int major, rc;
	size_t n = 1;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_ARRAY) {
		rc = cose_read_array(r, &n);
		if (rc < 0)
			return rc;
		/* RFC 9360: one certificate is sent as a bare bstr. */
		if (n < 2)
			return EDHOC_E_ID_CRED_MALFORMED;
		if (n > EDHOC_MAX_CHAIN)
			return EDHOC_E_LIMIT;
	} else if (major != COSE_CBOR_BSTR) {
		return EDHOC_E_ID_CRED_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		rc = cose_peek_type(r, &major);
		if (rc < 0)
			return rc;
		if (major != COSE_CBOR_BSTR)
			return EDHOC_E_ID_CRED_MALFORMED;
		rc = cose_read_bstr(r, &id->certs[i], &id->cert_lens[i]);
		if (rc < 0)
			return rc;
		if (id->cert_lens[i] == 0)
			return EDHOC_E_ID_CRED_MALFORMED;
		if (id->cert_lens[i] > COSE_CRED_MAX_BYTES)
			return EDHOC_E_CBOR_TOO_LONG;
	}
	id->n_certs = n;
	return 0;
}

int cose_id_cred_parse(const uint8_t *map, size_t len, edhoc_id_cred *ret)
{
	cose_reader r;
	edhoc_id_cred id;
	keyset ks = {.n = 0};
	size_t pairs;
	int rc, major;

	if (!map || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&id, 0, sizeof(id));
	cose_reader_init(&r, map, len);
	rc = read_map_head(&r, EDHOC_E_ID_CRED_MALFORMED, &pairs);
	if (rc < 0)
		return rc;
	if (pairs == 0)
		return EDHOC_E_ID_CRED_MALFORMED;
	for (size_t i = 0; i < pairs; i++) {
		int64_t label;
		bool is_int;
		const uint8_t *skip;
		size_t skip_len, n;

		rc = read_label(&r, &ks, &label, &is_int);
		if (rc == EDHOC_E_CRED_MALFORMED)
			rc = EDHOC_E_ID_CRED_MALFORMED;
		if (rc < 0)
			return rc;
		bool known =
		    is_int && (label == EDHOC_ID_CRED_KID || label == EDHOC_ID_CRED_KCCS ||
		               label == EDHOC_ID_CRED_X5BAG || label == EDHOC_ID_CRED_X5CHAIN ||
		               label == EDHOC_ID_CRED_X5T);
		if (!known) {
			rc = cose_read_item(&r, SKIP_DEPTH, &skip, &skip_len);
			if (rc < 0)
				return rc;
			continue;
		}
		/* Two ways to find the credential in one map would leave it
		 * ambiguous which one the peer meant. */
		if (id.label != 0)
			return EDHOC_E_ID_CRED_MALFORMED;
		id.label = (int)label;
		switch (label) {
		case EDHOC_ID_CRED_KID:
			rc = cose_peek_type(&r, &major);
			if (rc == 0 && major != COSE_CBOR_BSTR)
				rc = EDHOC_E_ID_CRED_MALFORMED;
			if (rc == 0)
				rc = cose_read_bstr(&r, &id.kid, &id.kid_len);
			break;
		case EDHOC_ID_CRED_KCCS:
			rc = cose_peek_type(&r, &major);
			if (rc == 0 && major != COSE_CBOR_MAP)
				rc = EDHOC_E_ID_CRED_MALFORMED;
			if (rc == 0)
				rc = cose_read_item(&r, SKIP_DEPTH, &id.ccs, &id.ccs_len);
			if (rc == 0 && id.ccs_len > COSE_CRED_MAX_BYTES)
				rc = EDHOC_E_CBOR_TOO_LONG;
			break;
		case EDHOC_ID_CRED_X5BAG:
		case EDHOC_ID_CRED_X5CHAIN:
			rc = parse_cert_list(&r, &id);
			break;
		case EDHOC_ID_CRED_X5T: {
			int64_t alg;
			rc = cose_read_array(&r, &n);
			if (rc == EDHOC_E_CBOR_TYPE || (rc == 0 && n != 2))
				rc = EDHOC_E_ID_CRED_MALFORMED;
			if (rc == 0)
				rc = read_int_field(&r, &alg);
			if (rc == EDHOC_E_CRED_MALFORMED)
				rc = EDHOC_E_ID_CRED_MALFORMED;
			if (rc < 0)
				break;
			if (alg != COSE_ALG_SHA_256_64 && alg != COSE_ALG_SHA_256) {
				rc = EDHOC_E_ID_CRED_UNSUPPORTED;
				break;
			}
			id.x5t_alg = (int)alg;
			rc = cose_peek_type(&r, &major);
			if (rc == 0 && major != COSE_CBOR_BSTR)
				rc = EDHOC_E_ID_CRED_MALFORMED;
			if (rc == 0)
				rc = cose_read_bstr(&r, &id.x5t_hash, &id.x5t_hash_len);
			if (rc == 0 && id.x5t_hash_len != (alg == COSE_ALG_SHA_256_64 ? 8u : 32u))
				rc = EDHOC_E_ID_CRED_MALFORMED;
			break;
		}
		}
		if (rc < 0)
			return rc;
	}
	if (!cose_reader_done(&r))
		return EDHOC_E_TRAILING_BYTES;
	if (id.label == 0)
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	id.map = map;
	id.map_len = len;
	*ret = id;
	return 0;
}

static X509 *der_to_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || len == 0 || len > COSE_CRED_MAX_BYTES)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	/* Bytes after the certificate would not be covered by its hash in
	 * the same way the peer sees them. */
	if (x && p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int cose_id_cred_end_entity(const edhoc_id_cred *id, size_t *ret_index)
{
	X509 *x[EDHOC_MAX_CHAIN] = {NULL};
	size_t found = 0, count = 0;
	int rc = EDHOC_E_CRED_MALFORMED;

	if (!id || !ret_index || id->n_certs == 0 || id->n_certs > EDHOC_MAX_CHAIN)
		return EDHOC_E_INVALID_ARGUMENT;
	if (id->label == EDHOC_ID_CRED_X5CHAIN || id->n_certs == 1) {
		*ret_index = 0;
		return 0;
	}
	for (size_t i = 0; i < id->n_certs; i++) {
		x[i] = der_to_x509(id->certs[i], id->cert_lens[i]);
		if (!x[i])
			goto out;
	}
	for (size_t i = 0; i < id->n_certs; i++) {
		bool issued_other = false;
		for (size_t j = 0; j < id->n_certs && !issued_other; j++)
			if (j != i && X509_check_issued(x[i], x[j]) == X509_V_OK)
				issued_other = true;
		if (!issued_other) {
			found = i;
			count++;
		}
	}
	if (count == 1) {
		*ret_index = found;
		rc = 0;
	}
out:
	for (size_t i = 0; i < id->n_certs; i++)
		X509_free(x[i]);
	return rc;
}

/* ---- credential objects ---- */

static void cred_update_view(cose_cred *c)
{
	c->view.type = c->type;
	c->view.cred = c->cred;
	c->view.cred_len = c->cred_len;
	c->view.id_cred = c->id_cred;
	c->view.id_cred_len = c->id_cred_len;
	c->view.key = c->key;
	c->view.identity = c->identity;
}

/* Replaces ID_CRED_x; the view then shows the whole credential. */
static int set_id_cred(cose_cred *c, const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return EDHOC_E_NOMEM;
	memcpy(copy, p, len);
	free(c->id_cred);
	c->id_cred = copy;
	c->id_cred_len = len;
	cred_update_view(c);
	return 0;
}

static int key_from_ccs(const cose_ccs *ccs, bool use_private, crypto_key **ret)
{
	crypto_key *k = NULL;
	int rc;

	if (use_private && ccs->d) {
		uint8_t x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
		size_t x_len, y_len;
		rc = crypto_key_from_private(ccs->crv, ccs->d, ccs->d_len, &k);
		if (rc < 0)
			return rc;
		rc = crypto_key_public(k, x, &x_len, y, &y_len);
		if (rc < 0)
			goto fail;
		/* A private key that does not belong to the public key in the
		 * same CCS would authenticate as someone else. */
		if (x_len != ccs->x_len || memcmp(x, ccs->x, x_len) != 0 ||
		    (ccs->y && (y_len != ccs->y_len || memcmp(y, ccs->y, y_len) != 0))) {
			rc = EDHOC_E_CRED_KEY_MISMATCH;
			goto fail;
		}
	} else {
		rc = crypto_key_from_public(ccs->crv, ccs->x, ccs->x_len, ccs->y, ccs->y_len, &k);
		if (rc < 0)
			return rc;
	}
	*ret = k;
	return 0;
fail:
	crypto_key_free(k);
	return rc;
}

static void hex_into(char *out, size_t cap, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 2 < cap; i++) {
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
}

int cose_cred_from_ccs(const uint8_t *ccs, size_t len, int id_label, bool allow_private,
                       cose_cred **ret)
{
	cose_ccs parsed;
	ccs_layout lay;
	cose_cred *c = NULL;
	uint8_t id_buf[COSE_ID_CRED_MAX];
	size_t id_len;
	int rc;

	if (!ret || (id_label != EDHOC_ID_CRED_KID && id_label != EDHOC_ID_CRED_KCCS))
		return EDHOC_E_INVALID_ARGUMENT;
	rc = ccs_parse(ccs, len, allow_private, &parsed, &lay);
	if (rc < 0)
		return rc;
	if (id_label == EDHOC_ID_CRED_KID && !parsed.kid)
		return EDHOC_E_CRED_MALFORMED;

	c = calloc(1, sizeof(*c));
	if (!c)
		return EDHOC_E_NOMEM;
	c->type = EDHOC_CRED_CCS;
	c->id_label = id_label;
	c->curve = parsed.crv;
	c->cred = malloc(len);
	if (!c->cred) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	if (parsed.d) {
		/* CRED_x never carries the private key: drop the d pair and
		 * rewrite the COSE_Key head with one pair less. */
		cose_writer w;
		cose_writer_init(&w, c->cred, len);
		cose_write_raw(&w, ccs, lay.key_head_off);
		cose_write_map(&w, lay.key_pairs - 1);
		cose_write_raw(&w, ccs + lay.key_head_off + lay.key_head_len,
		               lay.d_off - lay.key_head_off - lay.key_head_len);
		cose_write_raw(&w, ccs + lay.d_end, len - lay.d_end);
		rc = cose_writer_result(&w);
		if (rc < 0)
			goto out;
		c->cred_len = w.len;
	} else {
		memcpy(c->cred, ccs, len);
		c->cred_len = len;
	}
	if (parsed.sub)
		memcpy(c->sub, parsed.sub, parsed.sub_len);
	if (parsed.kid) {
		memcpy(c->kid, parsed.kid, parsed.kid_len);
		c->kid_len = parsed.kid_len;
		c->has_kid = true;
	}
	if (parsed.sub_len > 0) {
		snprintf(c->identity, sizeof(c->identity), "%.*s", (int)parsed.sub_len, parsed.sub);
	} else if (parsed.kid) {
		char hex[2 * COSE_MAX_KID + 1];
		hex_into(hex, sizeof(hex), parsed.kid, parsed.kid_len);
		snprintf(c->identity, sizeof(c->identity), "kid:%s", hex);
	}
	rc = key_from_ccs(&parsed, allow_private, &c->key);
	if (rc < 0)
		goto out;

	if (id_label == EDHOC_ID_CRED_KID)
		rc = cose_id_cred_kid(c->kid, c->kid_len, id_buf, sizeof(id_buf), &id_len);
	else
		rc = cose_id_cred_kccs(c->cred, c->cred_len, id_buf, sizeof(id_buf), &id_len);
	if (rc < 0)
		goto out;
	rc = set_id_cred(c, id_buf, id_len);
	if (rc < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	cose_cred_free(c);
	return rc;
}

/* Subject CN (else the one-line subject) as the identity.  A CN with an
 * embedded NUL (the classic "good.example\0.evil" trick) or control
 * characters is refused rather than shortened or passed to the logs. */
static int x509_identity(X509 *x, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(x);
	int n = name ? X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)cap) : -1;

	if (n > 0) {
		if (strlen(out) != (size_t)n && (size_t)n < cap)
			return EDHOC_E_CRED_MALFORMED;
		for (const char *p = out; *p; p++)
			if ((uint8_t)*p < 0x20 || *p == 0x7f)
				return EDHOC_E_CRED_MALFORMED;
		return 0;
	}
	if (!name || !X509_NAME_oneline(name, out, (int)cap))
		out[0] = '\0';
	return 0;
}

int cose_cred_from_x509(const uint8_t *const *ders, const size_t *der_lens, size_t n, int id_label,
                        cose_cred **ret)
{
	cose_cred *c = NULL;
	X509 *x = NULL;
	uint8_t *id_buf = NULL;
	size_t id_len, head;
	cose_writer w;
	int rc;

	if (!ret || !ders || !der_lens || n == 0 || n > EDHOC_MAX_CHAIN ||
	    (id_label != EDHOC_ID_CRED_X5T && id_label != EDHOC_ID_CRED_X5CHAIN &&
	     id_label != EDHOC_ID_CRED_X5BAG))
		return EDHOC_E_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (!ders[i] || der_lens[i] == 0 || der_lens[i] > COSE_CRED_MAX_BYTES)
			return EDHOC_E_CRED_MALFORMED;
	x = der_to_x509(ders[0], der_lens[0]);
	if (!x)
		return EDHOC_E_CRED_MALFORMED;

	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	c->type = EDHOC_CRED_X509;
	c->id_label = id_label;
	/* CRED_x of a certificate is its DER wrapped in a bstr (RFC 9528
	 * §3.5.2), so the transcript binds the exact encoding. */
	head = cose_head_len(der_lens[0]);
	c->cred_len = head + der_lens[0];
	c->cred = malloc(c->cred_len);
	if (!c->cred) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	cose_writer_init(&w, c->cred, c->cred_len);
	cose_write_bstr(&w, ders[0], der_lens[0]);
	rc = cose_writer_result(&w);
	if (rc < 0)
		goto out;
	c->certs[0] = c->cred + head;
	c->cert_lens[0] = der_lens[0];
	for (size_t i = 1; i < n; i++) {
		c->cert_copies[i] = malloc(der_lens[i]);
		if (!c->cert_copies[i]) {
			rc = EDHOC_E_NOMEM;
			goto out;
		}
		memcpy(c->cert_copies[i], ders[i], der_lens[i]);
		c->certs[i] = c->cert_copies[i];
		c->cert_lens[i] = der_lens[i];
	}
	c->n_certs = n;
	rc = crypto_hash(COSE_ALG_SHA_256, ders[0], der_lens[0], c->x5t_sha256);
	if (rc < 0)
		goto out;

	EVP_PKEY *pk = X509_get0_pubkey(x);
	if (!pk) {
		rc = EDHOC_E_CRED_MALFORMED;
		goto out;
	}
	rc = crypto_key_from_evp(pk, &c->key);
	if (rc < 0)
		goto out;
	c->curve = crypto_key_curve(c->key);
	rc = x509_identity(x, c->identity, sizeof(c->identity));
	if (rc < 0)
		goto out;

	id_buf = malloc(COSE_ID_CRED_MAX);
	if (!id_buf) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	if (id_label == EDHOC_ID_CRED_X5T)
		rc = cose_id_cred_x5t(COSE_ALG_SHA_256_64, ders[0], der_lens[0], id_buf,
		                      COSE_ID_CRED_MAX, &id_len);
	else
		rc = cose_id_cred_certs(id_label, c->certs, c->cert_lens, n, id_buf,
		                        COSE_ID_CRED_MAX, &id_len);
	if (rc < 0)
		goto out;
	rc = set_id_cred(c, id_buf, id_len);
	if (rc < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	free(id_buf);
	X509_free(x);
	cose_cred_free(c);
	return rc;
}

int cose_cred_from_id_cred(const edhoc_id_cred *id, cose_cred **ret)
{
	cose_cred *c = NULL;
	const uint8_t *ders[EDHOC_MAX_CHAIN];
	size_t lens[EDHOC_MAX_CHAIN], ee, n = 0;
	int rc;

	if (!id || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	switch (id->label) {
	case EDHOC_ID_CRED_KCCS:
		rc = cose_cred_from_ccs(id->ccs, id->ccs_len, EDHOC_ID_CRED_KCCS, false, &c);
		break;
	case EDHOC_ID_CRED_X5CHAIN:
	case EDHOC_ID_CRED_X5BAG:
		rc = cose_id_cred_end_entity(id, &ee);
		if (rc < 0)
			return rc;
		ders[n] = id->certs[ee];
		lens[n++] = id->cert_lens[ee];
		for (size_t i = 0; i < id->n_certs; i++) {
			if (i == ee)
				continue;
			ders[n] = id->certs[i];
			lens[n++] = id->cert_lens[i];
		}
		rc = cose_cred_from_x509(ders, lens, n, id->label, &c);
		break;
	default:
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	}
	if (rc < 0)
		return rc;
	/* The transcript holds ID_CRED_x as the peer sent it. */
	if (id->map) {
		rc = set_id_cred(c, id->map, id->map_len);
		if (rc < 0)
			goto out;
	}
	*ret = c;
	c = NULL;
out:
	cose_cred_free(c);
	return rc;
}

int cose_cred_set_private(cose_cred *c, crypto_key *priv)
{
	uint8_t x1[CRYPTO_MAX_COORD], y1[CRYPTO_MAX_COORD];
	uint8_t x2[CRYPTO_MAX_COORD], y2[CRYPTO_MAX_COORD];
	size_t x1_len, y1_len, x2_len, y2_len;
	int rc;

	if (!c || !priv || !crypto_key_has_private(priv))
		return EDHOC_E_INVALID_ARGUMENT;
	if (crypto_key_curve(priv) != c->curve)
		return EDHOC_E_CRED_KEY_MISMATCH;
	rc = crypto_key_public(priv, x1, &x1_len, y1, &y1_len);
	if (rc < 0)
		return rc;
	rc = crypto_key_public(c->key, x2, &x2_len, y2, &y2_len);
	if (rc < 0)
		return rc;
	if (x1_len != x2_len || memcmp(x1, x2, x1_len) != 0 || y1_len != y2_len ||
	    memcmp(y1, y2, y1_len) != 0)
		return EDHOC_E_CRED_KEY_MISMATCH;
	crypto_key_free(c->key);
	c->key = crypto_key_ref(priv);
	cred_update_view(c);
	return 0;
}

void cose_cred_free(cose_cred *c)
{
	if (!c)
		return;
	crypto_key_free(c->key);
	free(c->cred);
	free(c->id_cred);
	for (size_t i = 0; i < EDHOC_MAX_CHAIN; i++)
		free(c->cert_copies[i]);
	crypto_cleanse(c, sizeof(*c));
	free(c);
}

const edhoc_cred *cose_cred_edhoc(const cose_cred *c)
{
	return c ? &c->view : NULL;
}

int cose_cred_type(const cose_cred *c)
{
	return c ? c->type : 0;
}

int cose_cred_id_label(const cose_cred *c)
{
	return c ? c->id_label : 0;
}

const char *cose_cred_identity(const cose_cred *c)
{
	return c ? c->identity : "";
}

crypto_key *cose_cred_key(const cose_cred *c)
{
	return c ? c->key : NULL;
}

int cose_cred_curve(const cose_cred *c)
{
	return c ? c->curve : 0;
}

const uint8_t *cose_cred_kid(const cose_cred *c, size_t *ret_len)
{
	if (!c || !c->has_kid) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	if (ret_len)
		*ret_len = c->kid_len;
	return c->kid;
}

const char *cose_cred_sub(const cose_cred *c)
{
	return c ? c->sub : "";
}

const uint8_t *cose_cred_bytes(const cose_cred *c, size_t *ret_len)
{
	if (ret_len)
		*ret_len = c ? c->cred_len : 0;
	return c ? c->cred : NULL;
}

const uint8_t *cose_cred_id_cred(const cose_cred *c, size_t *ret_len)
{
	if (ret_len)
		*ret_len = c ? c->id_cred_len : 0;
	return c ? c->id_cred : NULL;
}

const uint8_t *cose_cred_cert(const cose_cred *c, size_t i, size_t *ret_len)
{
	if (!c || i >= c->n_certs) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	if (ret_len)
		*ret_len = c->cert_lens[i];
	return c->certs[i];
}

size_t cose_cred_n_certs(const cose_cred *c)
{
	return c ? c->n_certs : 0;
}

bool cose_cred_matches(const cose_cred *c, const edhoc_id_cred *id)
{
	size_t ee;

	if (!c || !id)
		return false;
	switch (id->label) {
	case EDHOC_ID_CRED_KID:
		return c->has_kid && id->kid && id->kid_len == c->kid_len &&
		       memcmp(id->kid, c->kid, c->kid_len) == 0;
	case EDHOC_ID_CRED_X5T:
		if (c->type != EDHOC_CRED_X509 || !id->x5t_hash)
			return false;
		if (id->x5t_alg == COSE_ALG_SHA_256_64 && id->x5t_hash_len == 8)
			return memcmp(id->x5t_hash, c->x5t_sha256, 8) == 0;
		if (id->x5t_alg == COSE_ALG_SHA_256 && id->x5t_hash_len == 32)
			return memcmp(id->x5t_hash, c->x5t_sha256, 32) == 0;
		return false;
	case EDHOC_ID_CRED_X5CHAIN:
	case EDHOC_ID_CRED_X5BAG:
		if (c->type != EDHOC_CRED_X509 || id->n_certs == 0)
			return false;
		if (cose_id_cred_end_entity(id, &ee) < 0)
			return false;
		return id->cert_lens[ee] == c->cert_lens[0] &&
		       memcmp(id->certs[ee], c->certs[0], c->cert_lens[0]) == 0;
	case EDHOC_ID_CRED_KCCS:
		return c->type == EDHOC_CRED_CCS && id->ccs && id->ccs_len == c->cred_len &&
		       memcmp(id->ccs, c->cred, c->cred_len) == 0;
	default:
		return false;
	}
}

bool cose_key_fits_suite(const crypto_key *k, const crypto_suite *s, bool static_dh)
{
	if (!k || !s)
		return false;
	int crv = crypto_key_curve(k);
	return static_dh ? crv == s->dh_curve : crv == s->sig_curve;
}
