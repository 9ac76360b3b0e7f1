/* EDHOC (RFC 9528), sans I/O: initiator and responder state machines.
 *
 * Bytes in, bytes out, a result code.  Nothing here does I/O, logs, reads a
 * clock or keeps global state: the random source and the credential lookup
 * are callbacks in edhoc_config, so tests can inject RFC 9529's ephemeral
 * keys and get byte-exact messages.
 *
 * A handshake object has a fixed size (edhoc_handshake_size()) and owns no
 * heap memory besides itself, so a table of half-open handshakes is bounded
 * by count * size.  Secrets in it are cleansed by edhoc_handshake_free. */
#ifndef EDHOC_EDHOC_H
#define EDHOC_EDHOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/crypto.h"
#include "edhoc/result.h"

#define EDHOC_MAX_CID       16   /* bytes of a connection identifier */
#define EDHOC_MAX_SUITES    9    /* entries in SUITES_I we keep */
#define EDHOC_MAX_EAD_ITEMS 8    /* received EAD items per message (hard cap) */
#define EDHOC_MAX_EAD_BYTES 256  /* encoded EAD we send per message */
#define EDHOC_MAX_IDENTITY  64   /* peer identity name, NUL included */
#define EDHOC_MAX_MESSAGE   1024 /* default message size limit */

enum edhoc_role { EDHOC_INITIATOR = 0, EDHOC_RESPONDER = 1 };

enum edhoc_method {
	EDHOC_METHOD_SIG_SIG = 0,  /* I signature, R signature */
	EDHOC_METHOD_SIG_STAT = 1, /* I signature, R static DH */
	EDHOC_METHOD_STAT_SIG = 2, /* I static DH, R signature */
	EDHOC_METHOD_STAT_STAT = 3 /* I static DH, R static DH */
};

/* Connection identifier as its byte string (RFC 9528 §3.3.2): one byte that
 * is a valid one-byte CBOR integer (0x00-0x17, 0x20-0x37) travels as that
 * integer, anything else as a bstr.  The bytes are also the OSCORE ID. */
typedef struct edhoc_cid {
	uint8_t bytes[EDHOC_MAX_CID];
	size_t len;
} edhoc_cid;

/* Encodes C_x in its wire form (int or bstr) into out; *ret_len = bytes. */
int edhoc_cid_encode(const edhoc_cid *cid, uint8_t *out, size_t cap, size_t *ret_len);

/* Decodes a C_x at the start of buf; *ret_used = bytes consumed.  Rejects
 * a bstr of one byte that should have been an int, and non-deterministic
 * encodings. */
int edhoc_cid_decode(const uint8_t *buf, size_t len, edhoc_cid *ret, size_t *ret_used);

/* ---- credentials ---- */

enum edhoc_cred_type { EDHOC_CRED_CCS = 1, EDHOC_CRED_X509 = 2 };

/* COSE header labels usable in ID_CRED_x. */
enum edhoc_id_cred_label {
	EDHOC_ID_CRED_KID = 4,
	EDHOC_ID_CRED_KCCS = 14,
	EDHOC_ID_CRED_X5BAG = 32,
	EDHOC_ID_CRED_X5CHAIN = 33,
	EDHOC_ID_CRED_X5T = 34,
};

#define EDHOC_MAX_CHAIN 4 /* certificates in x5chain/x5bag we look at */

/* A parsed ID_CRED_x as received, for the lookup callback.  Pointers point
 * into the message and are valid only during the callback. */
typedef struct edhoc_id_cred {
	int label;          /* EDHOC_ID_CRED_* */
	const uint8_t *map; /* ID_CRED_x as a full CBOR map */
	size_t map_len;
	const uint8_t *kid; /* KID: the kid bytes */
	size_t kid_len;
	int x5t_alg; /* X5T: COSE hash alg (-15 SHA-256/64, -16 SHA-256) */
	const uint8_t *x5t_hash;
	size_t x5t_hash_len;
	const uint8_t *certs[EDHOC_MAX_CHAIN]; /* X5CHAIN/X5BAG: DER, end-entity first */
	size_t cert_lens[EDHOC_MAX_CHAIN];
	size_t n_certs;
	const uint8_t *ccs; /* KCCS: the CWT Claims Set */
	size_t ccs_len;
} edhoc_id_cred;

/* An authentication credential: what CRED_x is in the transcript, how it is
 * identified on the wire (ID_CRED_x), and its key.  For the own credential
 * the key includes the private part.  The bytes must stay valid while the
 * handshake call that uses them runs. */
typedef struct edhoc_cred {
	int type;            /* EDHOC_CRED_CCS or EDHOC_CRED_X509 */
	const uint8_t *cred; /* CRED_x as encoded CBOR: the CCS map, or the
	                        X.509 DER wrapped in a bstr */
	size_t cred_len;
	const uint8_t *id_cred; /* ID_CRED_x as a CBOR map, e.g. {4: h'2b'} */
	size_t id_cred_len;
	crypto_key *key;      /* signature or static DH key (borrowed) */
	const char *identity; /* name for ACL and logs (copied), may be NULL */
} edhoc_cred;

/* Finds the peer credential for a received ID_CRED_x.  Fill ret_cred and
 * return 0, or return EDHOC_E_UNKNOWN_CRED, EDHOC_E_CRED_INVALID (e.g. chain
 * validation failed), EDHOC_E_CRED_REJECTED or EDHOC_E_ACCESS_DENIED.  For
 * credentials transported by value, ret_cred may point into id->certs/ccs. */
typedef int (*edhoc_cred_lookup_fn)(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred);

/* ---- EAD ---- */

typedef struct edhoc_ead_item {
	int64_t label;        /* < 0: critical; 0: padding */
	const uint8_t *value; /* NULL when the item has no value */
	size_t value_len;
} edhoc_ead_item;

/* Called for each received EAD item except padding (label 0).  Return 0 when
 * processed, 1 when the label is not recognised (the core then fails the
 * handshake with EDHOC_E_EAD_CRITICAL for a critical item and ignores a
 * non-critical one), or a negative code (e.g. EDHOC_E_EAD_REJECTED). */
typedef int (*edhoc_ead_fn)(void *ctx, int message_no, const edhoc_ead_item *item);

/* ---- configuration (shared, read-only, may back many handshakes) ---- */

typedef struct edhoc_config {
	int role;                     /* EDHOC_INITIATOR or EDHOC_RESPONDER */
	int method;                   /* initiator: method to use */
	unsigned methods;             /* responder: bit (1u << m) per accepted method */
	int suites[EDHOC_MAX_SUITES]; /* supported suites, most preferred first */
	size_t n_suites;
	const edhoc_cred *own; /* own credential, key with private part */
	edhoc_cred_lookup_fn lookup;
	void *lookup_ctx;
	edhoc_ead_fn ead; /* may be NULL: all EAD unrecognised */
	void *ead_ctx;
	crypto_rng_fn rng; /* NULL: crypto_rng_default */
	void *rng_ctx;
	size_t max_ead_items;    /* received items per message (padding included),
	                            <= EDHOC_MAX_EAD_ITEMS; 0: EDHOC_MAX_EAD_ITEMS */
	size_t max_message;      /* 0: EDHOC_MAX_MESSAGE */
	bool unknown_cred_error; /* answer ERR_CODE 3 for unknown credentials */
} edhoc_config;

typedef struct edhoc_handshake edhoc_handshake;

size_t edhoc_handshake_size(void);

/* New handshake bound to cfg (which must outlive it).  NULL when out of
 * memory. */
edhoc_handshake *edhoc_handshake_new(const edhoc_config *cfg);

/* Cleanses and frees.  NULL is a no-op. */
void edhoc_handshake_free(edhoc_handshake *h);

/* EAD to send in message n (1..4), copied (at most EDHOC_MAX_EAD_BYTES
 * encoded).  Call before writing that message.  Only the messages this
 * side sends: 1 and 3 for the initiator, 2 and 4 for the responder.
 *
 * All step functions below: a step called out of order (or on the wrong
 * role) returns EDHOC_E_UNEXPECTED_MESSAGE and changes nothing; any other
 * failure leaves the handshake failed, so every later step answers
 * EDHOC_E_UNEXPECTED_MESSAGE.  The one exception is the initiator's
 * Wrong Selected Cipher Suite retry (see edhoc_initiator_read_message_2). */
int edhoc_handshake_set_ead(edhoc_handshake *h, int message_no, const edhoc_ead_item *items,
                            size_t n);

/* ---- responder ---- */

/* Parses and checks message_1 (method, SUITES_I, G_X, C_I, EAD_1).
 * EDHOC_E_SUITE_NOT_SUPPORTED when the selected suite is not ours: answer
 * with edhoc_error_message (ERR_CODE 2 carrying SUITES_R). */
int edhoc_responder_read_message_1(edhoc_handshake *h, const uint8_t *msg, size_t len);

/* Writes message_2 with connection identifier c_r (chosen by the caller,
 * unique among its half-open handshakes, different from C_I). */
int edhoc_responder_write_message_2(edhoc_handshake *h, const edhoc_cid *c_r, uint8_t *out,
                                    size_t cap, size_t *ret_len);

/* Verifies message_3 (without any C_R prefix): decrypts, looks up and checks
 * the initiator credential, verifies Signature_or_MAC_3, processes EAD_3.
 * On success the handshake is complete (PRK_out derived). */
int edhoc_responder_read_message_3(edhoc_handshake *h, const uint8_t *msg, size_t len);

/* Writes message_4 (optional, after a successful message_3). */
int edhoc_responder_write_message_4(edhoc_handshake *h, uint8_t *out, size_t cap, size_t *ret_len);

/* ---- initiator ---- */

/* Writes message_1 with connection identifier c_i.  After a Wrong Selected
 * Cipher Suite error, calling it again selects our most preferred suite in
 * SUITES_R and sends SUITES_I as our list up to that suite.  The own key is
 * checked against the selected suite when message_2 arrives (a first
 * message_1 may name a preferred suite our credential cannot serve). */
int edhoc_initiator_write_message_1(edhoc_handshake *h, const edhoc_cid *c_i, uint8_t *out,
                                    size_t cap, size_t *ret_len);

/* Processes message_2, or an EDHOC error message in its place:
 * EDHOC_E_PEER_WRONG_SUITE when the error was ERR_CODE 2 and no retry is
 * possible, EDHOC_E_SUITE_NOT_SUPPORTED when a retry with a new message_1 is
 * possible, EDHOC_E_PEER_ERROR for other errors. */
int edhoc_initiator_read_message_2(edhoc_handshake *h, const uint8_t *msg, size_t len);

/* Writes message_3; afterwards PRK_out is derived. */
int edhoc_initiator_write_message_3(edhoc_handshake *h, uint8_t *out, size_t cap, size_t *ret_len);

/* Processes message_4. */
int edhoc_initiator_read_message_4(edhoc_handshake *h, const uint8_t *msg, size_t len);

/* ---- results of a completed handshake ---- */

bool edhoc_handshake_complete(const edhoc_handshake *h);
int edhoc_handshake_method(const edhoc_handshake *h);
int edhoc_handshake_suite(const edhoc_handshake *h);
const edhoc_cid *edhoc_handshake_c_i(const edhoc_handshake *h);
const edhoc_cid *edhoc_handshake_c_r(const edhoc_handshake *h);
/* Identity the lookup callback gave for the peer ("" when none). */
const char *edhoc_handshake_peer_identity(const edhoc_handshake *h);
/* The peer's ID_CRED_x as a CBOR map (copied; valid while h lives).  A map
 * over 256 bytes (credential by value) is kept as the x5t {34: [-16, hash]}
 * of the end-entity certificate; a larger kccs map is not kept
 * (EDHOC_E_LIMIT: use the identity). */
int edhoc_handshake_peer_id_cred(const edhoc_handshake *h, const uint8_t **ret, size_t *ret_len);

/* EDHOC_Exporter(label, context, length) (RFC 9528 §4.2.1). */
int edhoc_exporter(const edhoc_handshake *h, uint64_t label, const uint8_t *context,
                   size_t context_len, uint8_t *out, size_t out_len);

/* EDHOC_KeyUpdate(context): new PRK_out and PRK_exporter (RFC 9528 App. H). */
int edhoc_key_update(edhoc_handshake *h, const uint8_t *context, size_t context_len);

/* OSCORE parameters by RFC 9528 App. A.1, from this party's point of view:
 * sender_id is the peer's connection identifier. */
typedef struct edhoc_oscore {
	uint8_t master_secret[32];
	size_t master_secret_len; /* key length of the application AEAD (16 for
	                             AES-CCM-16-64-128, 32 for A256GCM) */
	uint8_t master_salt[16];
	size_t master_salt_len; /* 8 */
	uint8_t sender_id[EDHOC_MAX_CID];
	size_t sender_id_len;
	uint8_t recipient_id[EDHOC_MAX_CID];
	size_t recipient_id_len;
	int aead_alg; /* application AEAD of the suite */
	int hash_alg; /* application hash of the suite */
} edhoc_oscore;

int edhoc_oscore_params(const edhoc_handshake *h, edhoc_oscore *ret);

/* Intermediate values, for tests and --verbose tools.  Only values the
 * handshake has computed are available (EDHOC_E_INVALID_ARGUMENT otherwise);
 * KEYSTREAM_2, PLAINTEXT_2 and PLAINTEXT_3 only when at most 128 bytes. */
enum edhoc_value {
	EDHOC_V_TH_2,
	EDHOC_V_TH_3,
	EDHOC_V_TH_4,
	EDHOC_V_PRK_2E,
	EDHOC_V_PRK_3E2M,
	EDHOC_V_PRK_4E3M,
	EDHOC_V_PRK_OUT,
	EDHOC_V_PRK_EXPORTER,
	EDHOC_V_MAC_2,
	EDHOC_V_MAC_3,
	EDHOC_V_K_3,
	EDHOC_V_IV_3,
	EDHOC_V_K_4,
	EDHOC_V_IV_4,
	EDHOC_V_KEYSTREAM_2,
	EDHOC_V_G_XY,
	EDHOC_V_PLAINTEXT_2,
	EDHOC_V_PLAINTEXT_3,
};
int edhoc_handshake_value(const edhoc_handshake *h, int which, const uint8_t **ret,
                          size_t *ret_len);

/* ---- error messages (RFC 9528 §6) ---- */

enum edhoc_err_code {
	EDHOC_ERR_UNSPECIFIED = 1,
	EDHOC_ERR_WRONG_SUITE = 2,
	EDHOC_ERR_UNKNOWN_CRED = 3
};

/* The error message the peer should get for a failed step: ERR_CODE 2 with
 * SUITES_R after EDHOC_E_SUITE_NOT_SUPPORTED, ERR_CODE 3 for an unknown
 * credential when cfg->unknown_cred_error, else ERR_CODE 1 with diag_text
 * (may be NULL). */
int edhoc_error_message(const edhoc_handshake *h, int result, const char *diag_text, uint8_t *out,
                        size_t cap, size_t *ret_len);

/* Generic encoder: ERR_CODE 1 with text, 2 with suites, 3 with true. */
int edhoc_error_encode(int err_code, const char *text, const int *suites, size_t n_suites,
                       uint8_t *out, size_t cap, size_t *ret_len);

typedef struct edhoc_error {
	int64_t err_code;
	char text[128];               /* ERR_CODE 1: diagnostic text (truncated) */
	int suites[EDHOC_MAX_SUITES]; /* ERR_CODE 2: SUITES_R */
	size_t n_suites;
} edhoc_error;

/* Decodes an error message; EDHOC_E_ERROR_MALFORMED if it is not one. */
int edhoc_error_decode(const uint8_t *msg, size_t len, edhoc_error *ret);

/* True when msg looks like an error message (first item an int). */
bool edhoc_is_error_message(const uint8_t *msg, size_t len);

#endif
