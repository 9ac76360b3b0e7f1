/* A stored OSCORE client context, so a later edhoc-client run can continue
 * an established session (e.g. across a gateway restart) without a new
 * handshake.
 *
 * Text file, mode 0600, "key = value" lines:
 *   master_secret = <hex>    master_salt = <hex>
 *   sender_id = <hex>        recipient_id = <hex>
 *   aead = <COSE alg>        hkdf = <COSE alg>
 *   sender_seq = <next sender sequence number>
 * It holds the master secret: it is written atomically (temp file + rename)
 * and never group/other readable. */
#ifndef CLIENT_CTXFILE_H
#define CLIENT_CTXFILE_H

#include <stddef.h>
#include <stdint.h>

#include "edhoc/oscore.h"

typedef struct client_ctxfile {
	uint8_t master_secret[OSCORE_MAX_MASTER_SECRET];
	size_t master_secret_len;
	uint8_t master_salt[OSCORE_MAX_MASTER_SALT];
	size_t master_salt_len;
	uint8_t sender_id[OSCORE_MAX_ID];
	size_t sender_id_len;
	uint8_t recipient_id[OSCORE_MAX_ID];
	size_t recipient_id_len;
	int aead_alg;
	int hkdf_alg;
	uint64_t sender_seq;
} client_ctxfile;

/* Reads path into ret.  Returns 0, or -1 with "path:line: what" in err. */
int client_ctxfile_load(const char *path, client_ctxfile *ret, char *err, size_t err_size);

/* Writes c to path atomically with mode 0600.  Returns 0 or -1 with err. */
int client_ctxfile_save(const char *path, const client_ctxfile *c, char *err, size_t err_size);

/* A new OSCORE context from c (continuing at c->sender_seq); the caller
 * frees it with oscore_ctx_free.  0 or the core's negative code. */
int client_ctxfile_context(const client_ctxfile *c, oscore_ctx **ret);

/* Cleanses the secrets in c. */
void client_ctxfile_clear(client_ctxfile *c);

#endif
