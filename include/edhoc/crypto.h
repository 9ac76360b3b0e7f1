/* Cryptographic primitives of the core, on OpenSSL 3.
 *
 * Everything EDHOC and OSCORE compute goes through this interface: the
 * cipher-suite table, hashes, EDHOC_Extract/EDHOC_Expand (HKDF for SHA-2,
 * KMAC for SHAKE256), AEADs, ECDH and signatures.  Algorithms are named by
 * their COSE identifiers.  All functions return 0 or a negative edhoc_result.
 * Single-threaded use per thread: cached OpenSSL objects are thread-local. */
#ifndef EDHOC_CRYPTO_H
#define EDHOC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/result.h"

/* COSE algorithm identifiers (IANA "COSE Algorithms"). */
enum {
	COSE_ALG_A128GCM = 1,
	COSE_ALG_A256GCM = 3,
	COSE_ALG_AES_CCM_16_64_128 = 10,
	COSE_ALG_CHACHA20_POLY1305 = 24,
	COSE_ALG_AES_CCM_16_128_128 = 30,
	COSE_ALG_ES256 = -7,
	COSE_ALG_EDDSA = -8,
	COSE_ALG_SHA_256_64 = -15,
	COSE_ALG_SHA_256 = -16,
	COSE_ALG_ES384 = -35,
	COSE_ALG_SHA_384 = -43,
	COSE_ALG_SHAKE256 = -45,
};

/* COSE elliptic curves (IANA "COSE Elliptic Curves"). */
enum {
	COSE_CRV_P256 = 1,
	COSE_CRV_P384 = 2,
	COSE_CRV_X25519 = 4,
	COSE_CRV_X448 = 5,
	COSE_CRV_ED25519 = 6,
	COSE_CRV_ED448 = 7,
};

#define CRYPTO_MAX_HASH       64 /* SHAKE256 output used by EDHOC suite 25 */
#define CRYPTO_MAX_AEAD_KEY   32
#define CRYPTO_MAX_AEAD_NONCE 13
#define CRYPTO_MAX_AEAD_TAG   16
#define CRYPTO_MAX_DH_PUB     56 /* X448; P-384 x-coordinate is 48 */
#define CRYPTO_MAX_DH_PRIV    56
#define CRYPTO_MAX_DH_SECRET  56
#define CRYPTO_MAX_SIG        114 /* Ed448 */
#define CRYPTO_MAX_COORD      66

/* One row of the EDHOC cipher-suite registry (RFC 9528 §10.2). */
typedef struct crypto_suite {
	int id;
	int edhoc_aead;  /* COSE AEAD for message_3/message_4 */
	int edhoc_hash;  /* COSE hash for TH and the KDF */
	size_t hash_len; /* bytes of the hash output (SHAKE256: 64) */
	size_t mac_len;  /* EDHOC MAC length: 8 or 16 */
	int dh_curve;    /* COSE_CRV_* of the ECDH curve */
	int sig_alg;     /* COSE_ALG_* of the signature algorithm */
	int sig_curve;   /* COSE_CRV_* of the signature curve */
	int app_aead;    /* application (OSCORE) AEAD */
	int app_hash;    /* application (OSCORE) hash */
} crypto_suite;

/* Suite by number, or NULL for a suite this library does not support. */
const crypto_suite *crypto_suite_get(int id);

/* Writes up to max implemented suite numbers into ret_ids (in registry
 * order) and returns how many there are. */
size_t crypto_suite_list(int *ret_ids, size_t max);

/* Random source: fills buf with len bytes, returns 0 or EDHOC_E_RNG.
 * crypto_rng_default uses OpenSSL's RAND_bytes; tests inject their own. */
typedef int (*crypto_rng_fn)(void *ctx, uint8_t *buf, size_t len);
int crypto_rng_default(void *ctx, uint8_t *buf, size_t len);

/* Constant-time comparison: true when equal. */
bool crypto_memeq(const void *a, const void *b, size_t len);

/* Wipes a secret. */
void crypto_cleanse(void *p, size_t len);

/* Frees this thread's cached OpenSSL objects (fetched algorithms, reusable
 * contexts).  Optional: call before a thread or the program ends so leak
 * checkers stay quiet; later crypto calls fetch them again. */
void crypto_thread_cleanup(void);

/* ---- hashes and the EDHOC KDF ---- */

/* Output length of a COSE hash algorithm, 0 when unsupported. */
size_t crypto_hash_len(int hash_alg);

/* out receives crypto_hash_len(hash_alg) bytes. */
int crypto_hash(int hash_alg, const uint8_t *data, size_t len, uint8_t *out);

/* EDHOC_Extract: HKDF-Extract for SHA-2, KMAC for SHAKE256 (RFC 9528 §4.1.2).
 * prk receives crypto_hash_len(hash_alg) bytes. */
int crypto_kdf_extract(int hash_alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *prk);

/* EDHOC_Expand / HKDF-Expand: out_len bytes from prk and info. */
int crypto_kdf_expand(int hash_alg, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len);

/* Full HKDF (extract then expand), as OSCORE uses it (RFC 8613 §3.2.1). */
int crypto_hkdf(int hash_alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* ---- AEAD ---- */

/* Key, nonce and tag lengths of a COSE AEAD; 0 when unsupported. */
size_t crypto_aead_key_len(int alg);
size_t crypto_aead_nonce_len(int alg);
size_t crypto_aead_tag_len(int alg);

/* ct receives pt_len + tag bytes (ciphertext then tag).  ct may equal pt. */
int crypto_aead_encrypt(int alg, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct);

/* ct_len includes the tag; pt receives ct_len - tag bytes.  pt may equal ct.
 * EDHOC_E_AEAD_DECRYPT when the tag does not verify (pt is then wiped). */
int crypto_aead_decrypt(int alg, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *pt);

/* ---- keys: ECDH and signatures ---- */

/* An asymmetric key (public, or private with its public part).  Parse static
 * keys once and keep the object: conversion is the expensive part. */
typedef struct crypto_key crypto_key;

void crypto_key_free(crypto_key *k); /* NULL is a no-op */

/* Takes one more reference: crypto_key_free must be called once more. */
crypto_key *crypto_key_ref(crypto_key *k);

/* COSE curve of the key (COSE_CRV_*). */
int crypto_key_curve(const crypto_key *k);
bool crypto_key_has_private(const crypto_key *k);

/* Public key as COSE coordinates: for OKP keys x only (*ret_y_len = 0), for
 * EC2 keys x and y.  Buffers must hold CRYPTO_MAX_COORD bytes. */
int crypto_key_public(const crypto_key *k, uint8_t *ret_x, size_t *ret_x_len, uint8_t *ret_y,
                      size_t *ret_y_len);

/* Raw private key bytes (OKP: the seed or scalar; EC2: the big-endian
 * scalar d, padded to the coordinate length), e.g. to write a key file.
 * ret_priv holds CRYPTO_MAX_COORD bytes; the caller wipes it.
 * EDHOC_E_KEY_INVALID for a public key. */
int crypto_key_private(const crypto_key *k, uint8_t *ret_priv, size_t *ret_len);

/* Private key from its raw bytes (OKP: the 32/56-byte seed or scalar; EC2:
 * the big-endian scalar d).  Works for DH curves and signature curves. */
int crypto_key_from_private(int curve, const uint8_t *priv, size_t len, crypto_key **ret);

/* Public key from COSE coordinates.  For EC2 keys y may be NULL: the point is
 * then decompressed from x (EDHOC's compact representation, either sign
 * gives the same ECDH result).  Validates the point: EDHOC_E_INVALID_POINT
 * when not on the curve, EDHOC_E_LOW_ORDER_POINT for low-order X25519/X448. */
int crypto_key_from_public(int curve, const uint8_t *x, size_t x_len, const uint8_t *y,
                           size_t y_len, crypto_key **ret);

/* Public key of a DER X.509 certificate (no chain validation here). */
int crypto_key_from_x509_der(const uint8_t *der, size_t len, crypto_key **ret);

/* Wraps an OpenSSL EVP_PKEY (takes a reference of its own). */
struct evp_pkey_st;
int crypto_key_from_evp(struct evp_pkey_st *pkey, crypto_key **ret);
/* The key as an OpenSSL EVP_PKEY, borrowed (owned by k).  For an EC2 public
 * key it is built on first request; NULL only if that fails. */
struct evp_pkey_st *crypto_key_evp(const crypto_key *k);

/* Length of an ECDH public key on the wire (x-coordinate for EC2). */
size_t crypto_dh_pub_len(int curve);
size_t crypto_dh_priv_len(int curve);

/* New ephemeral key pair: private bytes drawn from rng (an out-of-range
 * scalar is redrawn), public key in wire form.  ret_priv holds
 * crypto_dh_priv_len bytes, ret_pub crypto_dh_pub_len bytes.  The thread
 * keeps its last two such keys, so that crypto_dh_derive_raw and
 * crypto_key_from_private on them reuse the work, until two more keygens
 * or crypto_thread_cleanup. */
int crypto_dh_keygen(int curve, crypto_rng_fn rng, void *rng_ctx, uint8_t *ret_priv,
                     uint8_t *ret_pub);

/* Forgets the remembered ephemeral key with these private bytes, if the
 * thread still holds it: call when the key's owner wipes it, so no copy of
 * an ephemeral secret outlives its handshake (forward secrecy). */
void crypto_dh_forget(int curve, const uint8_t *priv, size_t len);

/* Wire-form public key for raw private bytes (used with injected keys). */
int crypto_dh_pub_from_priv(int curve, const uint8_t *priv, size_t len, uint8_t *ret_pub);

/* ECDH shared secret (x-coordinate for EC2).  The peer key must come from
 * crypto_key_from_public (already validated) or a certificate.
 * *ret_len = secret length.  EDHOC_E_LOW_ORDER_POINT when an X25519/X448
 * result is all zero. */
int crypto_dh_derive(const crypto_key *priv, const crypto_key *peer, uint8_t *ret_secret,
                     size_t *ret_len);

/* ECDH from raw private bytes (e.g. an ephemeral key just made by
 * crypto_dh_keygen) and an already-parsed peer key on the same curve, such
 * as a static key from a credential: no export and re-import of the peer. */
int crypto_dh_derive_priv(int curve, const uint8_t *priv, size_t priv_len, const crypto_key *peer,
                          uint8_t *ret_secret, size_t *ret_len);

/* Convenience: derive from raw private bytes and a wire-form peer key
 * (validated as crypto_key_from_public does). */
int crypto_dh_derive_raw(int curve, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
                         size_t peer_len, uint8_t *ret_secret, size_t *ret_len);

/* COSE signature (EdDSA; ECDSA as raw r||s).  ret_sig holds CRYPTO_MAX_SIG. */
int crypto_sign(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len, uint8_t *ret_sig,
                size_t *ret_sig_len);

/* 0 when valid, EDHOC_E_SIGNATURE_INVALID when not. */
int crypto_verify(const crypto_key *k, int sig_alg, const uint8_t *msg, size_t len,
                  const uint8_t *sig, size_t sig_len);

/* Signature length of a COSE signature algorithm on the key's curve. */
size_t crypto_sig_len(int sig_alg, int curve);

#endif
