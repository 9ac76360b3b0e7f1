/* Result codes of the core library (crypto, COSE/CBOR, EDHOC, OSCORE).
 *
 * Every core function returns 0 on success or one negative code from this
 * single enum.  Each code names one exact cause and belongs to exactly one
 * diagnostic category:
 *   A message field   B integrity      C credential    D access denied
 *   E internal        F auxiliary data (EAD)           G cipher suite
 *
 * Codes are listed once, in EDHOC_RESULT_LIST, so the enum, the names and the
 * categories cannot drift apart.  Ranges: -1..-49 CBOR/generic, -50..-99
 * crypto, -100..-149 COSE/credentials, -150..-249 EDHOC, -250..-349 OSCORE.
 * Add a code by adding one X() line in its range. */
#ifndef EDHOC_RESULT_H
#define EDHOC_RESULT_H

/* X(name, value, category, description) */
#define EDHOC_RESULT_LIST(X)                                                                    \
	X(EDHOC_OK, 0, 'E', "success")                                                          \
	/* CBOR / message framing: category A */                                                \
	X(EDHOC_E_CBOR_TRUNCATED, -1, 'A', "CBOR item extends past the end of the input")       \
	X(EDHOC_E_CBOR_MALFORMED, -2, 'A', "CBOR item is not well-formed")                      \
	X(EDHOC_E_CBOR_TYPE, -3, 'A', "CBOR item has the wrong major type")                     \
	X(EDHOC_E_CBOR_NOT_DETERMINISTIC, -4, 'A',                                              \
	  "CBOR item uses a non-shortest or indefinite-length encoding")                        \
	X(EDHOC_E_CBOR_TOO_LONG, -5, 'A', "CBOR item is longer than this field allows")         \
	X(EDHOC_E_TRAILING_BYTES, -6, 'A', "bytes follow the last item of the message")         \
	X(EDHOC_E_MESSAGE_TOO_LARGE, -7, 'A', "message exceeds the configured size limit")      \
	X(EDHOC_E_VALUE_RANGE, -8, 'A', "integer value out of the range this field allows")     \
	X(EDHOC_E_BUFFER_TOO_SMALL, -9, 'E', "output buffer too small")                         \
	X(EDHOC_E_INVALID_ARGUMENT, -10, 'E', "invalid argument from the caller")               \
	X(EDHOC_E_NOMEM, -11, 'E', "out of memory")                                             \
	X(EDHOC_E_INTERNAL, -12, 'E', "internal error")                                         \
	X(EDHOC_E_LIMIT, -13, 'E', "a configured limit was reached")                            \
	X(EDHOC_E_CBOR_TOO_DEEP, -14, 'A', "CBOR items are nested deeper than allowed")        \
	/* crypto */                                                                            \
	X(EDHOC_E_CRYPTO, -50, 'E', "cryptographic library failure")                            \
	X(EDHOC_E_RNG, -51, 'E', "random number generator failure")                             \
	X(EDHOC_E_INVALID_POINT, -52, 'A', "public key is not a valid point on the curve")      \
	X(EDHOC_E_LOW_ORDER_POINT, -53, 'A', "public key is a low-order point")                 \
	X(EDHOC_E_AEAD_DECRYPT, -54, 'B', "AEAD decryption or tag verification failed")         \
	X(EDHOC_E_SIGNATURE_INVALID, -55, 'B', "signature verification failed")                 \
	X(EDHOC_E_ALG_UNSUPPORTED, -56, 'G', "algorithm not supported")                         \
	X(EDHOC_E_KEY_INVALID, -57, 'C', "key material is malformed or of the wrong type")      \
	/* COSE / credentials: category C */                                                    \
	X(EDHOC_E_UNKNOWN_CRED, -100, 'C', "no credential matches ID_CRED")                     \
	X(EDHOC_E_CRED_MALFORMED, -101, 'C', "credential cannot be parsed")                     \
	X(EDHOC_E_CRED_KEY_TYPE, -102, 'C',                                                     \
	  "credential key does not fit the method and cipher suite")                            \
	X(EDHOC_E_CRED_INVALID, -103, 'C', "credential failed validation (chain, validity)")    \
	X(EDHOC_E_ID_CRED_MALFORMED, -104, 'A', "ID_CRED is not a valid map or compact kid")    \
	X(EDHOC_E_ID_CRED_UNSUPPORTED, -105, 'C', "ID_CRED uses an unsupported header label")  \
	X(EDHOC_E_CRED_MISMATCH, -106, 'C', "transported credential does not match ID_CRED")   \
	X(EDHOC_E_CRED_HAS_PRIVATE, -107, 'C', "public credential contains a private key")      \
	X(EDHOC_E_CRED_KEY_MISMATCH, -108, 'C', "private key does not match the credential")    \
	X(EDHOC_E_CRED_NO_PRIVATE, -109, 'C', "own credential has no private key")              \
	X(EDHOC_E_CRED_FILE_IO, -110, 'C', "credential file cannot be read or written")         \
	X(EDHOC_E_CRED_FILE_SYNTAX, -111, 'C', "credential file has a syntax error")            \
	X(EDHOC_E_CRED_FILE_MODE, -112, 'C', "private key file is accessible by group or others") \
	X(EDHOC_E_CRED_FILE_EXISTS, -113, 'C', "credential file exists (not overwritten)")      \
	/* EDHOC */                                                                             \
	X(EDHOC_E_METHOD_UNSUPPORTED, -150, 'A', "METHOD is not supported or not enabled")     \
	X(EDHOC_E_SUITE_NOT_SUPPORTED, -151, 'G',                                               \
	  "selected cipher suite is not supported (Wrong Selected Cipher Suite)")               \
	X(EDHOC_E_SUITES_MALFORMED, -152, 'A', "SUITES_I is malformed")                         \
	X(EDHOC_E_CONN_ID_MALFORMED, -153, 'A', "connection identifier is malformed")          \
	X(EDHOC_E_CONN_ID_SAME, -154, 'A', "C_R equals C_I")                                    \
	X(EDHOC_E_UNEXPECTED_MESSAGE, -155, 'A', "message not expected in this state")          \
	X(EDHOC_E_MAC2_MISMATCH, -156, 'B', "MAC_2 does not verify")                            \
	X(EDHOC_E_MAC3_MISMATCH, -157, 'B', "MAC_3 does not verify")                            \
	X(EDHOC_E_SIG2_INVALID, -158, 'B', "Signature_or_MAC_2 signature does not verify")      \
	X(EDHOC_E_SIG3_INVALID, -159, 'B', "Signature_or_MAC_3 signature does not verify")      \
	X(EDHOC_E_MSG3_DECRYPT, -160, 'B', "message_3 ciphertext does not decrypt")            \
	X(EDHOC_E_MSG4_DECRYPT, -161, 'B', "message_4 ciphertext does not decrypt")            \
	X(EDHOC_E_PLAINTEXT_MALFORMED, -162, 'A', "decrypted plaintext is malformed")           \
	X(EDHOC_E_EAD_CRITICAL, -163, 'F', "unknown critical EAD item")                         \
	X(EDHOC_E_EAD_MALFORMED, -164, 'F', "EAD item is malformed")                            \
	X(EDHOC_E_EAD_REJECTED, -165, 'F', "EAD item rejected by the application")              \
	X(EDHOC_E_EAD_TOO_MANY, -166, 'F', "too many EAD items")                                \
	X(EDHOC_E_PEER_ERROR, -167, 'A', "peer sent an EDHOC error message")                    \
	X(EDHOC_E_PEER_WRONG_SUITE, -168, 'G',                                                  \
	  "peer answered Wrong Selected Cipher Suite and no common suite remains")              \
	X(EDHOC_E_ERROR_MALFORMED, -169, 'A', "EDHOC error message is malformed")               \
	X(EDHOC_E_ACCESS_DENIED, -170, 'D', "peer is not authorised")                           \
	X(EDHOC_E_CRED_REJECTED, -171, 'C', "credential rejected by the application")           \
	X(EDHOC_E_EPHEMERAL_KEY_LENGTH, -172, 'A',                                              \
	  "G_X or G_Y length does not match the cipher suite's curve")                          \
	X(EDHOC_E_SIG_OR_MAC_LENGTH, -173, 'A',                                                 \
	  "Signature_or_MAC has the wrong length for the method and cipher suite")              \
	/* OSCORE */                                                                            \
	X(OSCORE_E_OPTION_MALFORMED, -250, 'A', "OSCORE option cannot be parsed")               \
	X(OSCORE_E_NO_CONTEXT, -251, 'C', "no security context for this kid")                   \
	X(OSCORE_E_REPLAY, -252, 'B', "Partial IV already received (replay)")                   \
	X(OSCORE_E_TOO_OLD, -253, 'B', "Partial IV is older than the replay window")            \
	X(OSCORE_E_DECRYPT, -254, 'B', "OSCORE decryption failed")                              \
	X(OSCORE_E_MESSAGE_MALFORMED, -255, 'A', "CoAP message or plaintext is malformed")      \
	X(OSCORE_E_SEQ_EXHAUSTED, -256, 'E', "sender sequence number space is exhausted")       \
	X(OSCORE_E_LEASE_FAILED, -257, 'E', "sequence-number lease could not be stored")        \
	X(OSCORE_E_ECHO_REQUIRED, -258, 'B',                                                    \
	  "replay window not initialised: Echo challenge required")                             \
	X(OSCORE_E_PIV_MISSING, -259, 'A', "request has no Partial IV")                         \
	X(OSCORE_E_ALG_UNSUPPORTED, -260, 'G', "AEAD or HKDF algorithm not supported")     \
	/* daemon state store (src/store): -350..-369 */                                       \
	X(STORE_E_IO, -350, 'E', "state database read or write failed")                         \
	X(STORE_E_CORRUPT, -351, 'E', "state database is corrupt or not a database")           \
	X(STORE_E_SCHEMA, -352, 'E', "state database schema is newer than this program")       \
	X(STORE_E_PERMISSIONS, -353, 'E',                                                       \
	  "state directory or database file is accessible to other users")                      \
	X(STORE_E_BUSY, -354, 'E', "state database is in use by another process")              \
	X(STORE_E_NOT_FOUND, -355, 'E', "no stored session for this Recipient ID")             \
	X(STORE_E_LEASE_BACKWARDS, -356, 'E', "sequence-number lease limit would decrease")  \
	/* gateway forwarding (src/gateway): -370..-389 */                                     \
	X(GW_E_NO_ROUTE, -370, 'A', "no route for the request path")                           \
	X(GW_E_BACKEND_TIMEOUT, -371, 'E', "backend did not answer in time")                    \
	X(GW_E_BACKEND_UNREACHABLE, -372, 'E', "backend unreachable (ICMP, RST or send error)") \
	X(GW_E_BACKEND_RESPONSE, -373, 'E', "backend response unusable (too large, bad blocks)") \
	X(GW_E_BLOCK_INCOMPLETE, -374, 'A', "block-wise transfer out of order or incomplete")   \
	X(GW_E_OBSERVE_LIMIT, -375, 'E', "observations per device limit reached")             \
	X(GW_E_NO_SESSION, -376, 'E', "no session with this Recipient ID or identity")

typedef enum {
#define EDHOC_RESULT_ENUM(name, value, cat, desc) name = value,
	EDHOC_RESULT_LIST(EDHOC_RESULT_ENUM)
#undef EDHOC_RESULT_ENUM
} edhoc_result;

/* Symbolic name of a code ("EDHOC_E_MAC2_MISMATCH"); "EDHOC_E_UNKNOWN" for
 * codes outside the list.  Static storage. */
const char *edhoc_result_name(int code);

/* One-line English description of a code.  Static storage. */
const char *edhoc_result_describe(int code);

/* Diagnostic category 'A'..'G' of a code; 'E' for codes outside the list. */
char edhoc_result_category(int code);

#endif
