/* Authentication credentials for EDHOC (RFC 9528 §3.5): CWT Claims Sets
 * (RFC 8392) with a COSE_Key in cnf, X.509 certificates (RFC 9360), and the
 * ID_CRED_x maps that identify them.
 *
 * Part of the pure core: nothing here reads files or logs.  A cose_cred is
 * an owned object holding CRED_x exactly as it enters the transcript, its
 * ID_CRED_x, its key and an identity; cose_cred_edhoc() gives the
 * edhoc_cred view the state machines take.  Peer-supplied bytes (a CCS or a
 * certificate transported by value) are parsed strictly with the cose_reader
 * and bounded by COSE_CRED_MAX_BYTES. */
#ifndef EDHOC_CRED_H
#define EDHOC_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "edhoc/result.h"

#define COSE_CRED_MAX_BYTES 2048 /* a CCS or one certificate (DER) */
#define COSE_MAX_KID        16   /* bytes of a COSE kid we accept */
#define COSE_MAX_SUB        64   /* bytes of a CCS subject (claim 2) */
/* An ID_CRED_x map; by value it holds the credential(s) themselves. */
#define COSE_ID_CRED_MAX (EDHOC_MAX_CHAIN * (COSE_CRED_MAX_BYTES + 3) + 8)

/* COSE_Key labels and values used in a CCS (RFC 9052 §7, RFC 9053). */
enum {
	COSE_KEY_KTY = 1,
	COSE_KEY_KID = 2,
	COSE_KEY_CRV = -1,
	COSE_KEY_X = -2,
	COSE_KEY_Y = -3,
	COSE_KEY_D = -4,
	COSE_KTY_OKP = 1,
	COSE_KTY_EC2 = 2,
};

/* CWT claim keys used here (RFC 8392, RFC 8747). */
enum {
	COSE_CLAIM_SUB = 2,
	COSE_CLAIM_CNF = 8,
	COSE_CNF_COSE_KEY = 1,
};

/* ---- CCS ---- */

/* A parsed CCS.  Pointers point into the parsed buffer. */
typedef struct cose_ccs {
	const char *sub; /* claim 2, not NUL-terminated; NULL when absent */
	size_t sub_len;
	const uint8_t *kid; /* COSE_Key kid; NULL when absent */
	size_t kid_len;
	int kty; /* COSE_KTY_OKP or COSE_KTY_EC2 */
	int crv; /* COSE_CRV_* */
	const uint8_t *x;
	size_t x_len;
	const uint8_t *y; /* EC2 only; NULL when absent */
	size_t y_len;
	const uint8_t *d; /* private key; NULL when absent */
	size_t d_len;
} cose_ccs;

/* Parses a CCS strictly: one CBOR map, nothing after it, integer claim keys
 * (other claims are skipped, nesting bounded), no duplicate keys, cnf
 * holding exactly a COSE_Key whose kty, crv and coordinate lengths agree.
 * A private key (d) is refused with EDHOC_E_CRED_HAS_PRIVATE unless
 * allow_private.  Codes: the cose_reader's CBOR codes, EDHOC_E_CRED_MALFORMED
 * (missing/duplicate/ill-typed fields), EDHOC_E_ALG_UNSUPPORTED (kty/crv),
 * EDHOC_E_KEY_INVALID (coordinate lengths), EDHOC_E_CRED_HAS_PRIVATE. */
int cose_ccs_parse(const uint8_t *buf, size_t len, bool allow_private, cose_ccs *ret);

/* Builds a public CCS deterministically:
 *   {2: sub, 8: {1: {1: kty, 2: kid, -1: crv, -2: x, -3: y}}}
 * (sub and kid omitted when NULL; y only for EC2 keys) - the layout of
 * RFC 9529 trace 2's CRED_I/CRED_R.  With include_private the key's d is
 * appended (-4), for own-credential files only. */
int cose_ccs_build(const crypto_key *key, const char *sub, const uint8_t *kid, size_t kid_len,
                   bool include_private, uint8_t *out, size_t cap, size_t *ret_len);

/* COSE kty for a curve (COSE_KTY_OKP or COSE_KTY_EC2), 0 when unknown. */
int cose_curve_kty(int crv);

/* Curve by name ("P-256", "P-384", "X25519", "X448", "Ed25519", "Ed448",
 * case-insensitive) or 0; and the name of a curve (static, "?" if unknown). */
int cose_curve_from_name(const char *name);
const char *cose_curve_name(int crv);

/* Bytes of an x (and y) coordinate, and of the private key d, in a COSE_Key
 * of that curve; 0 when unknown. */
size_t cose_curve_coord_len(int crv);
size_t cose_curve_priv_len(int crv);

/* New private key on a curve (signature or DH), random bytes from rng
 * (NULL: crypto_rng_default); an out-of-range P-256/P-384 scalar is
 * redrawn.  Caller frees with crypto_key_free. */
int cose_key_generate(int crv, crypto_rng_fn rng, void *rng_ctx, crypto_key **ret);

/* ---- ID_CRED_x ---- */

/* {4: kid} */
int cose_id_cred_kid(const uint8_t *kid, size_t kid_len, uint8_t *out, size_t cap, size_t *ret_len);
/* {14: CCS} (the CCS map embedded as is) */
int cose_id_cred_kccs(const uint8_t *ccs, size_t ccs_len, uint8_t *out, size_t cap,
                      size_t *ret_len);
/* {34: [alg, hash(der)]}, alg COSE_ALG_SHA_256_64 or COSE_ALG_SHA_256 */
int cose_id_cred_x5t(int alg, const uint8_t *der, size_t der_len, uint8_t *out, size_t cap,
                     size_t *ret_len);
/* {33: bstr} for one certificate, {33: [bstr, ...]} for more (end-entity
 * first); label EDHOC_ID_CRED_X5CHAIN or EDHOC_ID_CRED_X5BAG (32). */
int cose_id_cred_certs(int label, const uint8_t *const *ders, const size_t *der_lens, size_t n,
                       uint8_t *out, size_t cap, size_t *ret_len);

/* Parses an ID_CRED_x map: exactly one of the labels 4, 14, 32, 33, 34
 * (other labels are skipped if no supported one is present: then
 * EDHOC_E_ID_CRED_UNSUPPORTED).  x5chain/x5bag certificates beyond
 * EDHOC_MAX_CHAIN give EDHOC_E_LIMIT.  Pointers point into map. */
int cose_id_cred_parse(const uint8_t *map, size_t len, edhoc_id_cred *ret);

/* x5t hash of a DER certificate: alg COSE_ALG_SHA_256_64 (8 bytes) or
 * COSE_ALG_SHA_256 (32); out holds 32 bytes. */
int cose_x5t_hash(int alg, const uint8_t *der, size_t der_len, uint8_t *out, size_t *ret_len);

/* Index in id->certs of the end-entity certificate of an x5chain (always
 * 0) or x5bag (the one certificate that issued none of the others).
 * EDHOC_E_CRED_MALFORMED when a certificate does not parse or no single
 * end-entity certificate can be found. */
int cose_id_cred_end_entity(const edhoc_id_cred *id, size_t *ret_index);

/* ---- credentials ---- */

typedef struct cose_cred cose_cred;

/* Credential from a CCS (copied), identified by id_label EDHOC_ID_CRED_KID
 * (needs a kid in the CCS) or EDHOC_ID_CRED_KCCS.  A CCS with a private key
 * (own credential): CRED_x is the CCS without d, and the key is private.
 * Identity: sub, else "kid:<hex>". */
int cose_cred_from_ccs(const uint8_t *ccs, size_t len, int id_label, bool allow_private,
                       cose_cred **ret);

/* Credential from DER certificates (copied), end-entity first, n >= 1 and
 * <= EDHOC_MAX_CHAIN; id_label EDHOC_ID_CRED_X5T (SHA-256/64),
 * EDHOC_ID_CRED_X5CHAIN or EDHOC_ID_CRED_X5BAG.  CRED_x = bstr(end-entity
 * DER).  Identity: subject CN, else the one-line subject.  Chain validation
 * is the caller's job. */
int cose_cred_from_x509(const uint8_t *const *ders, const size_t *der_lens, size_t n, int id_label,
                        cose_cred **ret);

/* Credential transported by value in a received ID_CRED_x (KCCS, X5CHAIN,
 * X5BAG): the CCS, or the end-entity certificate with the other
 * certificates kept as intermediates.  Its ID_CRED_x is the received map.
 * EDHOC_E_ID_CRED_UNSUPPORTED for kid/x5t (they need a trust store). */
int cose_cred_from_id_cred(const edhoc_id_cred *id, cose_cred **ret);

/* Attaches a private key (takes a reference) after checking that its public
 * part equals the credential's: EDHOC_E_CRED_KEY_MISMATCH otherwise. */
int cose_cred_set_private(cose_cred *c, crypto_key *priv);

/* Cleanses and frees; NULL is a no-op. */
void cose_cred_free(cose_cred *c);

/* The view EDHOC takes; valid while c lives. */
const edhoc_cred *cose_cred_edhoc(const cose_cred *c);

int cose_cred_type(const cose_cred *c); /* EDHOC_CRED_CCS or EDHOC_CRED_X509 */
int cose_cred_id_label(const cose_cred *c);
const char *cose_cred_identity(const cose_cred *c); /* never NULL */
crypto_key *cose_cred_key(const cose_cred *c);      /* borrowed */
int cose_cred_curve(const cose_cred *c);
/* CCS fields (NULL/0 for X.509).  kid: NULL when the CCS has none. */
const uint8_t *cose_cred_kid(const cose_cred *c, size_t *ret_len);
const char *cose_cred_sub(const cose_cred *c); /* "" when none */
/* CRED_x and ID_CRED_x bytes. */
const uint8_t *cose_cred_bytes(const cose_cred *c, size_t *ret_len);
const uint8_t *cose_cred_id_cred(const cose_cred *c, size_t *ret_len);
/* X.509: certificate i (0 = end-entity, then intermediates), DER; NULL past
 * the end or for CCS. */
const uint8_t *cose_cred_cert(const cose_cred *c, size_t i, size_t *ret_len);
size_t cose_cred_n_certs(const cose_cred *c);

/* True when a received ID_CRED_x designates this credential: same kid
 * (KID), same hash of the end-entity certificate (X5T, either alg), same
 * end-entity certificate (X5CHAIN/X5BAG), or byte-identical CCS (KCCS). */
bool cose_cred_matches(const cose_cred *c, const edhoc_id_cred *id);

/* Whether the key can serve the suite: as a static DH key (dh_curve), or
 * as a signature key (sig_curve).  P-256/P-384 keys serve both roles. */
bool cose_key_fits_suite(const crypto_key *k, const crypto_suite *s, bool static_dh);

#endif
