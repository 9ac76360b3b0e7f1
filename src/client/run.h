/* State of one edhoc-client run, shared by the handshake and the OSCORE
 * request code. */
#ifndef CLIENT_RUN_H
#define CLIENT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/options.h"
#include "client/transport.h"
#include "edhoc/cred.h"
#include "edhoc/edhoc.h"
#include "edhoc/oscore.h"
#include "tools/credfile.h"

#define CLIENT_MAX_PEERS 256  /* credentials read from a --peer-cred directory */
#define CLIENT_MAX_PATH  256  /* bytes of the URI path */
#define CLIENT_MSG_BUF   2048 /* EDHOC messages we write */

typedef struct client_run {
	const client_opts *o;
	client_transport *t;
	char path[CLIENT_MAX_PATH];  /* from the URI, without the leading '/' */
	char query[CLIENT_MAX_PATH]; /* from the URI, without the '?' */

	credfile *own;
	credfile *peers[CLIENT_MAX_PEERS];
	size_t n_peers;
	cose_cred *by_value; /* peer credential received by value (no --peer-cred) */

	edhoc_config cfg;
	edhoc_handshake *hs;

	/* Prepared by the handshake for --combined: message_3 without C_R. */
	uint8_t msg3[CLIENT_MSG_BUF];
	size_t msg3_len;

	oscore_ctx *ctx;
	bool retransmit_failed; /* a --retransmit check did not hold */
} client_run;

/* Loads --cred/--cert/--key and --peer-cred.  Returns a client_exit. */
int client_load_credentials(client_run *run);

/* Runs EDHOC up to message_3 (included, unless --combined: then message_3
 * is left in run->msg3 for the combined request) and message_4 when asked.
 * On success run->hs is complete.  Returns a client_exit. */
int client_handshake(client_run *run);

/* --retransmit: reports whether the duplicate was answered, identically;
 * sets run->retransmit_failed when not. */
void client_check_retransmission(client_run *run, const client_response *resp, const char *step);

/* Verbose/diagnostic output helpers (stderr). */
void client_show_bytes(const char *label, const uint8_t *b, size_t len, bool cbor);
/* When payload is an EDHOC error message, prints it decoded and returns
 * true. */
bool client_show_edhoc_error(const char *what, uint8_t code, const uint8_t *payload, size_t len);

#endif
