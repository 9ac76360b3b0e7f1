/* OSCORE (RFC 8613), sans I/O: security contexts, protect/unprotect of CoAP
 * requests and responses, replay protection, leased sender sequence numbers
 * and Echo-based replay-window re-initialisation (RFC 8613 App. B.1).
 *
 * Nothing here does I/O, logs, reads a clock or keeps global state.  CoAP
 * messages are handled in a small representation of their own (oscore_msg:
 * code, options, payload) that borrows every byte it points to; the gateway
 * converts libcoap's coap_pdu_t to and from it.
 *
 * Algorithms: AEAD AES-CCM-16-64-128 (default, 10), AES-CCM-16-128-128 (30),
 * A128GCM (1), A256GCM (3), ChaCha20/Poly1305 (24); HKDF with SHA-256
 * (default, -16) or SHA-384 (-43).  HKDF is not defined over SHAKE256 (EDHOC
 * cipher suite 25's application hash): RFC 8613 §3.2.1 needs an HMAC hash,
 * so a context with hash -45 fails with OSCORE_E_ALG_UNSUPPORTED.
 *
 * A security context (sender + recipient + common context) is one fixed-size
 * heap object of oscore_ctx_size() bytes (216 on x86-64) and owns nothing
 * else; keys live inside it and are cleansed by oscore_ctx_free. */
#ifndef EDHOC_OSCORE_H
#define EDHOC_OSCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "edhoc/result.h"

#define OSCORE_MAX_OPTIONS         32 /* options per message (decode fails beyond) */
#define OSCORE_MAX_ID              7  /* Sender/Recipient ID: AEAD nonce length - 6 */
#define OSCORE_MAX_ID_CONTEXT      32 /* ID Context bytes we keep */
#define OSCORE_MAX_MASTER_SECRET   64
#define OSCORE_MAX_MASTER_SALT     64
#define OSCORE_PIV_LEN             5 /* Partial IV: at most 5 bytes */
#define OSCORE_SEQ_MAX             ((UINT64_C(1) << 40) - 1)
#define OSCORE_DEFAULT_WINDOW      32
#define OSCORE_MAX_WINDOW          64
#define OSCORE_DEFAULT_LEASE_BLOCK 256
#define OSCORE_ECHO_LEN            8  /* bytes of the Echo values we generate */
#define OSCORE_MAX_ECHO            40 /* RFC 9175 §2.2.1: Echo value 1..40 bytes */
/* Longest OSCORE option value: flags, Partial IV, s, kid context, kid. */
#define OSCORE_MAX_OPTION_VALUE (1 + OSCORE_PIV_LEN + 1 + OSCORE_MAX_ID_CONTEXT + OSCORE_MAX_ID)
/* Bytes of buf that protect needs beyond the encoded inner message (options
 * and payload as oscore_msg_encode_body writes them): code byte, AEAD tag,
 * OSCORE option value.  A request with Proxy-Uri needs its length again. */
#define OSCORE_PROTECT_OVERHEAD (1 + CRYPTO_MAX_AEAD_TAG + OSCORE_MAX_OPTION_VALUE)

/* CoAP option numbers OSCORE treats specially (others are Class E). */
enum {
	OSCORE_OPT_IF_MATCH = 1,
	OSCORE_OPT_URI_HOST = 3,
	OSCORE_OPT_ETAG = 4,
	OSCORE_OPT_IF_NONE_MATCH = 5,
	OSCORE_OPT_OBSERVE = 6,
	OSCORE_OPT_URI_PORT = 7,
	OSCORE_OPT_LOCATION_PATH = 8,
	OSCORE_OPT_OSCORE = 9,
	OSCORE_OPT_URI_PATH = 11,
	OSCORE_OPT_CONTENT_FORMAT = 12,
	OSCORE_OPT_MAX_AGE = 14,
	OSCORE_OPT_URI_QUERY = 15,
	OSCORE_OPT_HOP_LIMIT = 16,
	OSCORE_OPT_ACCEPT = 17,
	OSCORE_OPT_LOCATION_QUERY = 20,
	OSCORE_OPT_BLOCK2 = 23,
	OSCORE_OPT_BLOCK1 = 27,
	OSCORE_OPT_SIZE2 = 28,
	OSCORE_OPT_PROXY_URI = 35,
	OSCORE_OPT_PROXY_SCHEME = 39,
	OSCORE_OPT_SIZE1 = 60,
	OSCORE_OPT_ECHO = 252,
	OSCORE_OPT_NO_RESPONSE = 258,
	OSCORE_OPT_REQUEST_TAG = 292,
};

/* CoAP codes as the header byte: class << 5 | detail. */
#define OSCORE_CODE(cls, detail) ((uint8_t)(((cls) << 5) | (detail)))
enum {
	OSCORE_CODE_EMPTY = 0x00,
	OSCORE_CODE_GET = 0x01,
	OSCORE_CODE_POST = 0x02,
	OSCORE_CODE_PUT = 0x03,
	OSCORE_CODE_DELETE = 0x04,
	OSCORE_CODE_FETCH = 0x05,
	OSCORE_CODE_CHANGED = 0x44,      /* 2.04 */
	OSCORE_CODE_CONTENT = 0x45,      /* 2.05 */
	OSCORE_CODE_BAD_REQUEST = 0x80,  /* 4.00 */
	OSCORE_CODE_UNAUTHORIZED = 0x81, /* 4.01 */
	OSCORE_CODE_BAD_OPTION = 0x82,   /* 4.02 */
	OSCORE_CODE_INTERNAL = 0xa0,     /* 5.00 */
};

/* Option classes of RFC 8613 §4.1 (Figure 5; Echo and Request-Tag are E by
 * RFC 9175, Hop-Limit U by RFC 8768, unknown options E). */
enum oscore_option_class {
	OSCORE_CLASS_E = 1,  /* inner only */
	OSCORE_CLASS_U = 2,  /* outer only */
	OSCORE_CLASS_EU = 3, /* inner, with an outer instance of its own */
};
int oscore_option_class(uint16_t number);

/* ---- CoAP messages ---- */

/* One option.  value is borrowed (may be NULL when len is 0). */
typedef struct oscore_option {
	uint16_t number;
	size_t len;
	const uint8_t *value;
} oscore_option;

/* A CoAP request or response without its messaging layer (type, message ID,
 * token): code, options sorted by number (instances of one number keep
 * their order), payload.  Everything is borrowed. */
typedef struct oscore_msg {
	uint8_t code;
	size_t n_opts;
	oscore_option opts[OSCORE_MAX_OPTIONS];
	const uint8_t *payload;
	size_t payload_len;
} oscore_msg;

void oscore_msg_init(oscore_msg *m, uint8_t code);

/* Inserts an option after any existing ones with the same number (so
 * repeated options keep the order they were added in).  value is borrowed.
 * EDHOC_E_LIMIT when the message already has OSCORE_MAX_OPTIONS options. */
int oscore_msg_add(oscore_msg *m, uint16_t number, const uint8_t *value, size_t len);

/* Removes every instance of number; returns how many were removed. */
size_t oscore_msg_remove(oscore_msg *m, uint16_t number);

/* First instance of number, or NULL. */
const oscore_option *oscore_msg_find(const oscore_msg *m, uint16_t number);

void oscore_msg_set_payload(oscore_msg *m, const uint8_t *p, size_t len);

/* uint option values (RFC 7252 §3.2): shortest big-endian form, 0 is empty.
 * encode returns the length written to out (at most 4). */
size_t oscore_uint_encode(uint32_t v, uint8_t out[4]);
/* EDHOC_E_VALUE_RANGE when longer than 4 bytes. */
int oscore_uint_decode(const uint8_t *v, size_t len, uint32_t *ret);

/* Options and payload in CoAP's serialisation (delta/length nibbles with
 * extended bytes, 0xff payload marker when there is a payload), as it
 * follows the token in a CoAP message and the code in the OSCORE
 * plaintext. */
int oscore_msg_encode_body(const oscore_msg *m, uint8_t *out, size_t cap, size_t *ret_len);

/* Parses options and payload from buf (ret's pointers point into buf) and
 * sets ret->code = code.  OSCORE_E_MESSAGE_MALFORMED for reserved nibbles
 * (15 other than the payload marker), truncated options, an option number
 * above 65535, or a payload marker with no payload; EDHOC_E_LIMIT for more
 * than OSCORE_MAX_OPTIONS options.  ret is untouched on failure. */
int oscore_msg_decode_body(uint8_t code, const uint8_t *buf, size_t len, oscore_msg *ret);

/* CoAP over UDP header fields (RFC 7252 §3) for whole-datagram coding. */
typedef struct oscore_coap_hdr {
	uint8_t type; /* 0 CON, 1 NON, 2 ACK, 3 RST */
	uint16_t mid;
	uint8_t token[8];
	size_t token_len;
} oscore_coap_hdr;

/* A whole CoAP/UDP datagram: 4-byte header, token, options, payload. */
int oscore_coap_encode(const oscore_coap_hdr *h, const oscore_msg *m, uint8_t *out, size_t cap,
                       size_t *ret_len);
/* OSCORE_E_MESSAGE_MALFORMED for version != 1, TKL > 8, or a malformed body. */
int oscore_coap_decode(const uint8_t *buf, size_t len, oscore_coap_hdr *ret_hdr,
                       oscore_msg *ret_msg);

/* ---- the OSCORE option value (RFC 8613 §6.1) ---- */

typedef struct oscore_header {
	uint8_t piv[OSCORE_PIV_LEN]; /* Partial IV as sent (big-endian, no padding) */
	size_t piv_len;              /* 0: absent */
	bool has_kid;
	const uint8_t *kid; /* borrowed */
	size_t kid_len;
	bool has_kid_context;
	const uint8_t *kid_context; /* borrowed */
	size_t kid_context_len;
} oscore_header;

/* OSCORE_E_OPTION_MALFORMED for reserved flag bits, n = 6/7, truncation or
 * trailing bytes, a flag byte 0 with more bytes after it. */
int oscore_option_decode(const uint8_t *v, size_t len, oscore_header *ret);
int oscore_option_encode(const oscore_header *h, uint8_t *out, size_t cap, size_t *ret_len);

/* Reads the OSCORE option of a received request so the caller can pick the
 * security context (by kid and kid context; see oscore_ctx_matches).
 * OSCORE_E_OPTION_MALFORMED when there is none or it cannot be parsed (with
 * two OSCORE options, too), OSCORE_E_PIV_MISSING without Partial IV or kid.
 * Pointers in ret point into the option value. */
int oscore_request_header(const oscore_msg *outer, oscore_header *ret);

/* ---- security contexts ---- */

typedef struct oscore_ctx oscore_ctx;

/* Durably stores new_limit as the next sender sequence number to use after a
 * restart, BEFORE returning 0; numbers below it may then be used.  Any other
 * return fails the protect call with OSCORE_E_LEASE_FAILED (nothing sent). */
typedef int (*oscore_lease_fn)(void *arg, uint64_t new_limit);

typedef struct oscore_ctx_params {
	const uint8_t *master_secret;
	size_t master_secret_len;   /* 1..OSCORE_MAX_MASTER_SECRET */
	const uint8_t *master_salt; /* NULL or length 0: default empty salt */
	size_t master_salt_len;
	const uint8_t *sender_id;
	size_t sender_id_len; /* 0..nonce length - 6 */
	const uint8_t *recipient_id;
	size_t recipient_id_len;
	bool has_id_context; /* false: ID Context absent (nil in info) */
	const uint8_t *id_context;
	size_t id_context_len;  /* 0..OSCORE_MAX_ID_CONTEXT */
	int aead_alg;           /* 0: AES-CCM-16-64-128 */
	int hash_alg;           /* 0: SHA-256 */
	unsigned replay_window; /* 0: 32; at most OSCORE_MAX_WINDOW */
	bool send_kid_context;  /* put kid context (h flag) in our requests */
	uint64_t sender_seq;    /* first sender sequence number: 0 for a new
	                           context, the stored lease limit after a
	                           restart */
	bool restored;          /* context restored after a restart: replay
	                           window uninitialised until an Echo
	                           round trip (App. B.1.2) */
	oscore_lease_fn lease;  /* NULL: no persistence (ephemeral contexts) */
	void *lease_arg;
	uint64_t lease_block; /* K of App. B.1.1; 0: OSCORE_DEFAULT_LEASE_BLOCK */
} oscore_ctx_params;

size_t oscore_ctx_size(void);

/* Derives Sender Key, Recipient Key and Common IV (RFC 8613 §3.2.1).
 * EDHOC_E_INVALID_ARGUMENT for bad lengths (an ID longer than nonce - 6
 * included), OSCORE_E_ALG_UNSUPPORTED for other algorithms, EDHOC_E_NOMEM.
 * The caller owns *ret (oscore_ctx_free). */
int oscore_ctx_new(const oscore_ctx_params *p, oscore_ctx **ret);

/* The same from EDHOC's OSCORE parameters (edhoc_oscore_params, App. A.1):
 * master secret/salt, IDs and algorithms come from e; the rest (window,
 * lease, restored, sender_seq) from opts, which may be NULL (defaults). */
int oscore_ctx_from_edhoc(const edhoc_oscore *e, const oscore_ctx_params *opts, oscore_ctx **ret);

/* Cleanses and frees.  NULL is a no-op. */
void oscore_ctx_free(oscore_ctx *c);

/* Borrowed views of the identifiers; id_context NULL when absent. */
const uint8_t *oscore_ctx_sender_id(const oscore_ctx *c, size_t *ret_len);
const uint8_t *oscore_ctx_recipient_id(const oscore_ctx *c, size_t *ret_len);
const uint8_t *oscore_ctx_id_context(const oscore_ctx *c, size_t *ret_len);
int oscore_ctx_aead_alg(const oscore_ctx *c);

/* True when h's kid equals our Recipient ID and h's kid context, if any,
 * equals our ID Context (a kid context with no ID Context never matches). */
bool oscore_ctx_matches(const oscore_ctx *c, const oscore_header *h);

/* Next sender sequence number, and the durably leased limit above it. */
uint64_t oscore_ctx_sender_seq(const oscore_ctx *c);
uint64_t oscore_ctx_lease_limit(const oscore_ctx *c);

/* Leases a block now if the next number is not yet covered (e.g. to fail
 * fast when a context is installed).  OSCORE_E_LEASE_FAILED. */
int oscore_ctx_lease(oscore_ctx *c);

/* False for a restored context until an Echo round trip completed. */
bool oscore_ctx_window_ready(const oscore_ctx *c);

/* For tests and diagnostics tools only: copies the derived keys (each
 * crypto_aead_key_len bytes) and Common IV (nonce length).  Any pointer may
 * be NULL. */
void oscore_ctx_export_keys(const oscore_ctx *c, uint8_t *ret_sender_key,
                            uint8_t *ret_recipient_key, uint8_t *ret_common_iv);

/* ---- protect / unprotect ---- */

/* What a response needs from its request (request_kid, request_piv), kept by
 * the caller between the two (e.g. with the forwarded request). */
typedef struct oscore_request_info {
	uint8_t kid[OSCORE_MAX_ID]; /* request_kid: the client's Sender ID */
	size_t kid_len;
	uint8_t piv[OSCORE_PIV_LEN]; /* request_piv */
	size_t piv_len;
	bool observe;              /* the request carried an inner Observe */
	bool must_use_piv;         /* server: the response must carry its own
	                              Partial IV (request accepted before the
	                              replay window was initialised) */
	bool have_notification;    /* client: a notification with a PIV was seen */
	uint64_t notification_num; /* client: highest notification PIV */
} oscore_request_info;

/* Client: protects request into ret_outer (RFC 8613 §8.1).  Class E options
 * go inside, U options stay outside (Proxy-Uri is decomposed, §4.1.3.3),
 * Observe is both; the outer code becomes 0.02 POST, or 0.05 FETCH with
 * Observe.  The ciphertext, the OSCORE option value and any decomposed
 * Proxy-Uri parts are written to buf (see OSCORE_PROTECT_OVERHEAD);
 * ret_outer borrows from buf and from request.  Uses and consumes one
 * sender sequence number (leasing a block first when needed:
 * OSCORE_E_LEASE_FAILED, OSCORE_E_SEQ_EXHAUSTED). */
int oscore_protect_request(oscore_ctx *c, const oscore_msg *request, uint8_t *buf, size_t cap,
                           oscore_msg *ret_outer, oscore_request_info *ret_info);

/* Server: verifies and decrypts an OSCORE request whose context the caller
 * picked with oscore_request_header/oscore_ctx_matches (§8.2).  ret_inner is
 * the original request: the decrypted code, options and payload merged with
 * the outer Class U options (Uri-Host, Uri-Port, Proxy-Scheme, Proxy-Uri,
 * Hop-Limit); it borrows from buf and outer.  Results:
 *   OSCORE_E_OPTION_MALFORMED / OSCORE_E_PIV_MISSING  (4.02)
 *   OSCORE_E_NO_CONTEXT   kid or kid context not this context's (4.01)
 *   OSCORE_E_REPLAY, OSCORE_E_TOO_OLD  (4.01, window untouched)
 *   OSCORE_E_DECRYPT      (4.00; also a payload shorter than the tag)
 *   OSCORE_E_MESSAGE_MALFORMED  decrypted plaintext malformed (4.02)
 *   OSCORE_E_ECHO_REQUIRED  restored context, no or wrong inner Echo: the
 *     request decrypted fine and ret_inner/ret_info are filled, but it must
 *     not be processed; answer with oscore_protect_echo_response.
 * A request whose inner Echo matches the challenge initialises the window
 * with its Partial IV as the lower limit (it and everything below count as
 * received); the consumed Echo option is removed from ret_inner.
 * The replay window is only updated after successful decryption. */
int oscore_unprotect_request(oscore_ctx *c, const oscore_msg *outer, uint8_t *buf, size_t cap,
                             oscore_msg *ret_inner, oscore_request_info *ret_info);

/* Server: protects response to the request described by req (§8.3).  The
 * outer code becomes 2.04, or 2.05 with Observe (then also an outer Max-Age
 * 0 so proxies do not cache notifications, §4.1.3.1).  Without own_piv the
 * request nonce is reused and the OSCORE option is empty; with own_piv (or
 * when req->must_use_piv, or the response carries Observe) a new sender
 * sequence number is used and sent.  buf and ret_outer as for
 * oscore_protect_request. */
int oscore_protect_response(oscore_ctx *c, const oscore_request_info *req,
                            const oscore_msg *response, bool own_piv, uint8_t *buf, size_t cap,
                            oscore_msg *ret_outer);

/* Client: verifies and decrypts a response to the request described by req
 * (§8.4).  OSCORE_E_DECRYPT, OSCORE_E_OPTION_MALFORMED,
 * OSCORE_E_MESSAGE_MALFORMED (e.g. inner Observe in a response to a
 * non-Observe request), OSCORE_E_REPLAY for a notification whose Partial IV
 * is not above req->notification_num (updated on success). */
int oscore_unprotect_response(oscore_ctx *c, oscore_request_info *req, const oscore_msg *outer,
                              uint8_t *buf, size_t cap, oscore_msg *ret_inner);

/* ---- Echo (RFC 9175, RFC 8613 App. B.1.2) ---- */

/* Draws a fresh Echo value (OSCORE_ECHO_LEN bytes) from rng (NULL:
 * crypto_rng_default), remembers it in c as the pending challenge and
 * copies it to ret_value. */
int oscore_echo_challenge(oscore_ctx *c, crypto_rng_fn rng, void *rng_ctx,
                          uint8_t ret_value[OSCORE_ECHO_LEN]);

/* The whole answer to OSCORE_E_ECHO_REQUIRED: a 4.01 Unauthorized response
 * with a fresh inner Echo option (oscore_echo_challenge), protected with the
 * server's own Partial IV.  buf/ret_outer as for oscore_protect_response. */
int oscore_protect_echo_response(oscore_ctx *c, const oscore_request_info *req, crypto_rng_fn rng,
                                 void *rng_ctx, uint8_t *buf, size_t cap, oscore_msg *ret_outer);

/* ---- errors to the peer (§8.2, §8.4) ---- */

/* CoAP response code (header byte) for a failed unprotect:
 * OPTION_MALFORMED, PIV_MISSING, MESSAGE_MALFORMED, EDHOC_E_LIMIT -> 4.02;
 * NO_CONTEXT, REPLAY, TOO_OLD, ECHO_REQUIRED -> 4.01; DECRYPT -> 4.00;
 * anything else -> 5.00.  0 for 0. */
uint8_t oscore_result_coap_code(int result);

/* Short diagnostic payload RFC 8613 suggests for that response ("Replay
 * detected", "Decryption failed", ...).  Static storage. */
const char *oscore_result_diagnostic(int result);

#endif
