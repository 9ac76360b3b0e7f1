/* Command line of edhoc-client (see man/edhoc-client.1). */
#ifndef CLIENT_OPTIONS_H
#define CLIENT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/edhoc.h"

#define CLIENT_MAX_EAD       8    /* --ead items per message */
#define CLIENT_MAX_EAD_VALUE 128  /* bytes of one --ead value */
#define CLIENT_MAX_RAW       1400 /* bytes of --raw-hex (one datagram) */
#define CLIENT_MAX_BODY      1024 /* bytes of -e / -f request payload */
#define CLIENT_MAX_REQUESTS  100000
#define CLIENT_DEFAULT_PATH  ".well-known/edhocd/whoami"

/* Exit statuses: distinct per failure class so scripts can tell them apart. */
enum client_exit {
	CLIENT_EXIT_OK = 0,        /* every answer was 2.xx */
	CLIENT_EXIT_USAGE = 1,     /* bad options, unreadable files, local errors */
	CLIENT_EXIT_NETWORK = 2,   /* no answer before the deadline, RST, ICMP */
	CLIENT_EXIT_EDHOC = 3,     /* handshake failed (incl. an EDHOC error message) */
	CLIENT_EXIT_OSCORE = 4,    /* protect/unprotect failed */
	CLIENT_EXIT_COAP = 5,      /* the (inner) answer was a CoAP error 4.xx/5.xx */
	CLIENT_EXIT_RETRANSMIT = 6 /* --retransmit: answers missing or different */
};

/* What --retransmit repeats with the same MID (bit flags). */
enum client_rtx {
	CLIENT_RTX_NONE = 0,
	CLIENT_RTX_MESSAGE_3 = 1, /* message_3 (or the combined request) */
	CLIENT_RTX_OSCORE = 2,    /* every OSCORE request */
	CLIENT_RTX_MESSAGE_1 = 4, /* message_1 */
	CLIENT_RTX_ALL = 7,
};

typedef struct client_ead_opt {
	int64_t label;
	uint8_t value[CLIENT_MAX_EAD_VALUE];
	size_t value_len;
	bool has_value;
} client_ead_opt;

typedef struct client_opts {
	const char *uri;
	const char *cred_path;      /* --cred */
	const char *cert_path;      /* --cert */
	const char *key_path;       /* --key */
	const char *peer_cred_path; /* --peer-cred: file or directory */
	int method;
	int suites[EDHOC_MAX_SUITES];
	size_t n_suites;
	edhoc_cid c_i;
	bool has_c_i;
	bool combined;
	bool message_4;
	client_ead_opt ead1[CLIENT_MAX_EAD];
	size_t n_ead1;
	client_ead_opt ead3[CLIENT_MAX_EAD];
	size_t n_ead3;
	uint8_t coap_method;      /* inner request code: 1 GET ... 5 FETCH */
	const char *payload;      /* -e */
	const char *payload_file; /* -f */
	int content_format;       /* -t, -1 when absent */
	int accept;               /* -A, -1 when absent */
	bool verbose;
	bool no_oscore;
	unsigned long requests; /* --requests, default 1 */
	const char *save_context;
	const char *load_context;
	uint8_t raw[CLIENT_MAX_RAW];
	size_t raw_len;
	bool has_raw;
	int retransmit; /* enum client_rtx */
	bool replay_message_3;
	unsigned timeout_ms; /* overall deadline, default 10 s */
} client_opts;

/* Parses argv into ret (defaults filled first).  On error writes a message
 * to err and returns -1; returns 1 when --help or --version was handled
 * (text written to stdout), 0 otherwise. */
int client_opts_parse(int argc, char **argv, client_opts *ret, char *err, size_t err_size);

/* Hex string (upper or lower case, optional spaces or colons between
 * bytes) into out.  Returns the byte count, or -1 for bad input or more
 * than cap bytes. */
long client_hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Lower-case hex of in into out (2 * len + 1 bytes). */
void client_hex_encode(const uint8_t *in, size_t len, char *out);

/* "get", "post", "put", "delete", "fetch" (any case) -> 1..5, else 0. */
uint8_t client_method_from_name(const char *name);

/* Content-Format by number or by a few names ("text/plain", "cbor",
 * "json", "octet-stream", "link-format"); -1 when unknown. */
int client_content_format_from_name(const char *name);

#endif
