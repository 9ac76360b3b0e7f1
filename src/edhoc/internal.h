/* Private to src/edhoc: the handshake object and the helpers the initiator
 * and the responder share (key schedule, transcript hashes, ID_CRED, EAD). */
#ifndef EDHOC_INTERNAL_H
#define EDHOC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"

/* Intermediate values longer than this (PLAINTEXT_2/3, KEYSTREAM_2 when a
 * credential travels by value) are not kept for edhoc_handshake_value:
 * they are only diagnostics, and the handshake must stay small. */
#define EDHOC_TRACE_MAX 128

/* Peer ID_CRED_x kept for edhoc_handshake_peer_id_cred.  A larger map
 * (x5chain by value) is replaced by the x5t of the end-entity certificate. */
#define EDHOC_PEER_ID_CRED_MAX 256

/* Nesting depth we accept inside ID_CRED, EAD and error messages. */
#define EDHOC_MAX_DEPTH 8

enum edhoc_state {
	ST_START = 0, /* nothing done yet (initiator: also after a suite error) */
	ST_I_SENT_M1, /* initiator wrote message_1 */
	ST_I_GOT_M2,  /* initiator verified message_2 */
	ST_R_GOT_M1,  /* responder accepted message_1 */
	ST_R_SENT_M2, /* responder wrote message_2 */
	ST_DONE,      /* PRK_out derived */
	ST_DONE_M4,   /* message_4 written or read */
	ST_FAILED,    /* a step failed: nothing more is possible */
};

struct edhoc_handshake {
	const edhoc_config *cfg;
	const crypto_suite *suite;
	uint8_t state;
	uint8_t method;
	int suite_id;

	/* Initiator: SUITES_R of a Wrong Selected Cipher Suite error. */
	int suites_r[EDHOC_MAX_SUITES];
	size_t n_suites_r;
	int rejected_suite; /* the suite the error answered, -1 before */

	edhoc_cid c_i;
	edhoc_cid c_r;

	/* Ephemeral private key (X or Y) as bytes, and the own public key. */
	uint8_t eph_priv[CRYPTO_MAX_DH_PRIV];
	size_t eph_priv_len;
	uint8_t g_y[CRYPTO_MAX_DH_PUB]; /* responder: own G_Y for message_2 */
	uint8_t h_m1[CRYPTO_MAX_HASH];  /* initiator: H(message_1) until TH_2 */

	uint8_t g_xy[CRYPTO_MAX_DH_SECRET];
	size_t g_xy_len;

	uint8_t th_2[CRYPTO_MAX_HASH];
	uint8_t th_3[CRYPTO_MAX_HASH];
	uint8_t th_4[CRYPTO_MAX_HASH];
	uint8_t prk_2e[CRYPTO_MAX_HASH];
	uint8_t prk_3e2m[CRYPTO_MAX_HASH];
	uint8_t prk_4e3m[CRYPTO_MAX_HASH];
	uint8_t prk_out[CRYPTO_MAX_HASH];
	uint8_t prk_exporter[CRYPTO_MAX_HASH];
	uint8_t mac_2[CRYPTO_MAX_HASH];
	uint8_t mac_3[CRYPTO_MAX_HASH];
	size_t mac_2_len;
	size_t mac_3_len;
	uint8_t k_3[CRYPTO_MAX_AEAD_KEY];
	uint8_t iv_3[CRYPTO_MAX_AEAD_NONCE];
	uint8_t k_4[CRYPTO_MAX_AEAD_KEY];
	uint8_t iv_4[CRYPTO_MAX_AEAD_NONCE];
	/* bit per value (1u << EDHOC_V_*) that has been computed */
	uint32_t have;

	/* Diagnostic copies (EDHOC_TRACE_MAX) */
	uint8_t keystream_2[EDHOC_TRACE_MAX];
	uint8_t plaintext_2[EDHOC_TRACE_MAX];
	uint8_t plaintext_3[EDHOC_TRACE_MAX];
	size_t keystream_2_len;
	size_t plaintext_2_len;
	size_t plaintext_3_len;

	/* Encoded EAD to send: [0] for message 1 or 2, [1] for 3 or 4. */
	uint8_t ead_out[2][EDHOC_MAX_EAD_BYTES];
	size_t ead_out_len[2];

	uint8_t peer_id_cred[EDHOC_PEER_ID_CRED_MAX];
	size_t peer_id_cred_len;
	char peer_identity[EDHOC_MAX_IDENTITY];
};

/* ---- scratch memory: a stack buffer, or the heap for rare large inputs ---- */

typedef struct edhoc_scratch {
	uint8_t *p;
	size_t cap;
	uint8_t *heap;
} edhoc_scratch;

/* p gets need bytes: the stack buffer when it fits, else one allocation. */
int edhoc_scratch_init(edhoc_scratch *s, uint8_t *stack, size_t stack_cap, size_t need);
/* Cleanses what was used and frees the heap part. */
void edhoc_scratch_release(edhoc_scratch *s);

/* ---- key schedule (RFC 9528 §4) ---- */

/* EDHOC_KDF(prk, label, context, length) where context is the concatenation
 * of n parts (so context_2/3 need no separate copy). */
int edhoc_kdf_parts(const edhoc_handshake *h, const uint8_t *prk, uint64_t label,
                    const uint8_t *const *parts, const size_t *part_lens, size_t n, uint8_t *out,
                    size_t out_len);
int edhoc_kdf(const edhoc_handshake *h, const uint8_t *prk, uint64_t label, const uint8_t *ctx,
              size_t ctx_len, uint8_t *out, size_t out_len);

/* TH_2 = H(G_Y, H(message_1)) and PRK_2e = EDHOC_Extract(TH_2, G_XY). */
int edhoc_th_2_prk_2e(edhoc_handshake *h, const uint8_t *g_y, const uint8_t *h_m1);

/* H(bstr(th) || a || b) for TH_3 and TH_4. */
int edhoc_th_next(edhoc_handshake *h, const uint8_t *th, const uint8_t *a, size_t a_len,
                  const uint8_t *b, size_t b_len, uint8_t *out);

/* MAC_2 or MAC_3 over context_x = ?C_R || ID_CRED || bstr(TH) || CRED || ?EAD. */
int edhoc_mac(edhoc_handshake *h, const uint8_t *prk, uint64_t label, const edhoc_cid *c_r,
              const uint8_t *id_cred, size_t id_cred_len, const uint8_t *th, const uint8_t *cred,
              size_t cred_len, const uint8_t *ead, size_t ead_len, uint8_t *out, size_t out_len);

/* COSE_Sign1 Sig_structure signing/verification of Signature_or_MAC_x. */
int edhoc_sign(edhoc_handshake *h, const crypto_key *key, const uint8_t *id_cred,
               size_t id_cred_len, const uint8_t *th, const uint8_t *cred, size_t cred_len,
               const uint8_t *ead, size_t ead_len, const uint8_t *mac, size_t mac_len, uint8_t *sig,
               size_t *sig_len);
int edhoc_verify(edhoc_handshake *h, const crypto_key *key, const uint8_t *id_cred,
                 size_t id_cred_len, const uint8_t *th, const uint8_t *cred, size_t cred_len,
                 const uint8_t *ead, size_t ead_len, const uint8_t *mac, size_t mac_len,
                 const uint8_t *sig, size_t sig_len);

/* K_x and IV_x (labels 3/4 or 8/9) and the Enc_structure ["Encrypt0", h'', TH]. */
int edhoc_aead_keys(edhoc_handshake *h, const uint8_t *prk, uint64_t key_label, const uint8_t *th,
                    uint8_t *key, uint8_t *iv);
size_t edhoc_enc_structure(const edhoc_handshake *h, const uint8_t *th, uint8_t *out, size_t cap);

/* PRK_out (label 7) and PRK_exporter (label 10) from PRK_4e3m and TH_4. */
int edhoc_derive_prk_out(edhoc_handshake *h);

/* ECDH between a raw ephemeral private key and a key object. */
int edhoc_dh_eph_key(const edhoc_handshake *h, const uint8_t *priv, size_t priv_len,
                     const crypto_key *peer, uint8_t *ret_secret, size_t *ret_len);

/* PRK_3e2m (msg_no 2) or PRK_4e3m (3): a copy of the previous PRK when the
 * authenticating side signs, else extracted from its static DH key with
 * the other side's ephemeral one.  own_static is our static key when we
 * authenticate (peer: the other side's ephemeral public key); NULL when the
 * peer does (peer: its static key, with our ephemeral private key). */
int edhoc_prk_static(edhoc_handshake *h, int msg_no, const crypto_key *own_static,
                     const crypto_key *peer);

/* Whether the side that authenticates in message_2 (responder) or
 * message_3 (initiator) signs rather than using static DH. */
bool edhoc_side_signs(const edhoc_handshake *h, bool responder_side);
size_t edhoc_mac_len(const edhoc_handshake *h, bool responder_side);
/* Length Signature_or_MAC_x must have: the suite's signature or MAC length. */
size_t edhoc_som_len(const edhoc_handshake *h, bool responder_side);
bool edhoc_method_r_signs(int method);
bool edhoc_method_i_signs(int method);

/* ---- steps both sides share (message.c) ---- */

/* CBOR-level problems inside a decrypted plaintext are reported as such: the
 * peer got the encryption right but the content wrong. */
int edhoc_plaintext_code(int rc);

/* Start of every step: no handshake (INVALID_ARGUMENT) or the wrong role or
 * state (UNEXPECTED_MESSAGE) leave h as it is; bad arguments fail it. */
int edhoc_step_begin(edhoc_handshake *h, int role, int state, bool args_ok);
/* The same for a received message, which also must fit the size limit. */
int edhoc_read_begin(edhoc_handshake *h, int role, int state, const uint8_t *msg, size_t len);

/* SUITES_I (§5.2.2) or SUITES_R (§6.3.2) = suite / [min_array* suite] into
 * suites (EDHOC_MAX_SUITES); anything else is EDHOC_E_SUITES_MALFORMED.
 * SUITES_I takes min_array 2: a single suite must be sent as an int. */
int edhoc_read_suites(cose_reader *r, size_t min_array, int64_t *suites, size_t *ret_n);

/* MAC_2 (msg_no 2, with c_r) or MAC_3 (3, c_r NULL) over the own
 * credential, then Signature_or_MAC_x: a signature made into sig
 * (CRYPTO_MAX_SIG bytes) or the MAC in h.  *ret_som points at one of them. */
int edhoc_own_som(edhoc_handshake *h, int msg_no, const edhoc_cid *c_r, const uint8_t *ead,
                  size_t ead_len, uint8_t *sig, const uint8_t **ret_som, size_t *ret_som_len);
/* Writes ID_CRED_x, Signature_or_MAC_x and ? EAD_x, the end of PLAINTEXT_2
 * and PLAINTEXT_3. */
void edhoc_write_auth_fields(cose_writer *w, const edhoc_cred *own, const uint8_t *som,
                             size_t som_len, const uint8_t *ead, size_t ead_len);
/* Reads them back: CBOR problems give EDHOC_E_PLAINTEXT_MALFORMED, a
 * Signature_or_MAC_x of the wrong length EDHOC_E_SIG_OR_MAC_LENGTH. */
int edhoc_read_auth_fields(edhoc_handshake *h, int msg_no, cose_reader *r, edhoc_id_cred *id,
                           uint8_t *mapbuf, size_t mapcap, const uint8_t **ret_som,
                           size_t *ret_som_len, const uint8_t **ret_ead, size_t *ret_ead_len);
/* The peer's side of message_2 or message_3: credential lookup into cred
 * and its checks, PRK_3e2m / PRK_4e3m, MAC_x, Signature_or_MAC_x (SIGx_INVALID
 * or MACx_MISMATCH), then EAD_x to the application. */
int edhoc_peer_auth(edhoc_handshake *h, int msg_no, const edhoc_id_cred *id, edhoc_cred *cred,
                    const uint8_t *som, size_t som_len, const uint8_t *ead, size_t ead_len);

/* message_3 or message_4 = bstr(CIPHERTEXT_x) into out, with K_x and IV_x
 * derived into h; *ret_len is the message length. */
int edhoc_encrypt_message(edhoc_handshake *h, int msg_no, const uint8_t *pt, size_t pt_len,
                          uint8_t *out, size_t cap, size_t *ret_len);
/* Reads and decrypts message_3 or message_4 into s (from stack when it
 * fits; the caller releases s).  A peer's error message gives
 * EDHOC_E_PEER_ERROR, a failed decryption MSG3_DECRYPT or MSG4_DECRYPT. */
int edhoc_decrypt_message(edhoc_handshake *h, int msg_no, const uint8_t *msg, size_t len,
                          uint8_t *stack, size_t stack_cap, edhoc_scratch *s, size_t *ret_pt_len);

/* ---- ID_CRED (RFC 9528 §3.5.3) ---- */

/* Reads a received ID_CRED_x (compact kid as int/bstr, or a full map).
 * For a compact kid the full map {4: kid} is written into mapbuf (which
 * must hold 3 + EDHOC kid bytes) and id->map points to it. */
int edhoc_id_cred_read(cose_reader *r, edhoc_id_cred *ret, uint8_t *mapbuf, size_t mapcap);

/* Writes an own ID_CRED_x: the compact form when it is {4: kid}, else the
 * map as it is. */
int edhoc_id_cred_write(cose_writer *w, const uint8_t *map, size_t map_len);

/* Writes a byte string the way C_x and compact kids travel. */
void edhoc_write_compact_bytes(cose_writer *w, const uint8_t *p, size_t len);
/* Reads one (one-byte int or bstr of at most cap bytes); code `malformed`
 * for anything else, including a bstr that should have been an int. */
int edhoc_read_compact_bytes(cose_reader *r, uint8_t *bytes, size_t cap, size_t *ret_len,
                             int malformed);

/* Checks the credential the lookup callback gave, copies identity and the
 * peer ID_CRED into h. */
int edhoc_peer_cred_accept(edhoc_handshake *h, const edhoc_id_cred *id, const edhoc_cred *cred,
                           bool peer_signs);
/* Checks that the own credential fits the method and suite. */
int edhoc_own_cred_check(const edhoc_handshake *h, bool own_signs);

/* ---- EAD (RFC 9528 §3.8) ---- */

/* Reads the EAD items that remain in r (structure only, count limited). */
int edhoc_ead_parse(const edhoc_handshake *h, cose_reader *r, const uint8_t **ret_ead,
                    size_t *ret_len);
/* Hands each item but padding to the application callback. */
int edhoc_ead_process(const edhoc_handshake *h, int message_no, const uint8_t *ead, size_t len);

/* The EAD this handshake sends in message n (may be empty). */
void edhoc_ead_out(const edhoc_handshake *h, int message_no, const uint8_t **ret, size_t *ret_len);

/* Marks a value as available. */
static inline void edhoc_have(edhoc_handshake *h, int which)
{
	h->have |= 1u << which;
}

/* Wipes the ephemeral private key, including the crypto layer's remembered
 * copy of it. */
void edhoc_wipe_eph(edhoc_handshake *h);

/* Records a failed step; returns rc for "return edhoc_fail(h, rc)". */
int edhoc_fail(edhoc_handshake *h, int rc);

/* Copies a trace value if it fits. */
void edhoc_trace_copy(uint8_t *dst, size_t *dst_len, const uint8_t *src, size_t len);

/* Limits from the configuration. */
size_t edhoc_max_message(const edhoc_handshake *h);

/* Checks suite, role and that the suite's algorithms exist. */
const crypto_suite *edhoc_suite_checked(int id);

#endif
