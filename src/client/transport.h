/* CoAP/UDP request-response for edhoc-client, on libcoap 4.3.1.
 *
 * One client session to one server; one request at a time, waited for
 * synchronously with an absolute deadline, so the tool can never hang.
 * libcoap's block-wise mode is off: EDHOC and OSCORE payloads travel as
 * they are.  Options 9 (OSCORE) and 21 (EDHOC) are registered so responses
 * carrying them are not rejected as unknown critical options. */
#ifndef CLIENT_TRANSPORT_H
#define CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_MAX_OPTIONS      16   /* options kept from one response */
#define CLIENT_MAX_OPTION_VALUE 64   /* bytes kept per option value */
#define CLIENT_MAX_PAYLOAD      4096 /* response payload bytes kept */

#define CLIENT_OPT_OSCORE         9
#define CLIENT_OPT_CONTENT_FORMAT 12
#define CLIENT_OPT_MAX_AGE        14
#define CLIENT_OPT_EDHOC          21
#define CLIENT_OPT_ECHO           252

/* CoAP code as class * 32 + detail (2.04 = 0x44). */
#define CLIENT_CODE(c, d)     ((uint8_t)(((c) << 5) | (d)))
#define CLIENT_CODE_CLASS(x)  ((x) >> 5)
#define CLIENT_CODE_DETAIL(x) ((x)&0x1f)

typedef struct client_option {
	uint16_t number;
	uint8_t value[CLIENT_MAX_OPTION_VALUE];
	size_t len;
} client_option;

/* Options of a request; values are borrowed.  Any order: sorted on send. */
typedef struct client_req_option {
	uint16_t number;
	const uint8_t *value;
	size_t len;
} client_req_option;

typedef struct client_request {
	uint8_t code; /* CLIENT_CODE(0, 2) = POST, ... */
	const client_req_option *options;
	size_t n_options;
	const uint8_t *payload;
	size_t payload_len;
	/* Send the identical datagram (same MID and token) a second time right
	 * after the first, to exercise the server's retransmission cache; the
	 * call then waits for both answers. */
	bool send_twice;
} client_request;

typedef struct client_response {
	uint8_t code;
	client_option options[CLIENT_MAX_OPTIONS];
	size_t n_options;
	bool options_truncated; /* more options, or longer values, than kept */
	uint8_t payload[CLIENT_MAX_PAYLOAD];
	size_t payload_len;
	bool payload_truncated;
	uint16_t mid;           /* MID of the request this answers */
	unsigned received;      /* answers received (2 when send_twice worked) */
	bool answers_identical; /* send_twice: both answers had the same code,
	                           options and payload */
} client_response;

typedef struct client_transport client_transport;

/* Parses coap://host[:port][/path][?query] (IPv4/IPv6 literal or name) and
 * opens a UDP client session.  On success ret_path holds the URI path
 * (without the leading '/', possibly empty) and ret_query the query
 * (without '?', possibly empty), both NUL-terminated, in buffers of cap
 * bytes each. */
int client_transport_create(const char *uri, char *ret_path, char *ret_query, size_t cap,
                            client_transport **ret);

/* Closes the session and frees everything.  NULL is a no-op. */
void client_transport_free(client_transport *t);

/* Absolute deadline (CLOCK_MONOTONIC, milliseconds) after which requests
 * fail with -ETIMEDOUT. */
void client_transport_set_deadline(client_transport *t, uint64_t deadline_ms);

/* Routes libcoap's own log lines to stderr (verbose) or drops them. */
void client_transport_set_verbose(client_transport *t, bool verbose);

/* Switches to raw mode: requests go out on a UDP socket of our own with our
 * own CoAP framing (libcoap still parses answers).  Needed for send_twice,
 * whose second answer libcoap would discard as a duplicate.  Raw mode
 * retransmits a CON after 2, 4, 8, 16 s like RFC 7252 without the random
 * factor. */
int client_transport_set_raw(client_transport *t);

/* Sends a CON request and waits for its answer.  Returns 0 with *ret
 * filled, -ETIMEDOUT when no answer came before the deadline, -ECONNRESET
 * when the server answered with RST, -EMSGSIZE when the request does not
 * fit in one datagram, or another negative errno. */
int client_transport_request(client_transport *t, const client_request *req, client_response *ret);

/* First option with this number in a response, or NULL. */
const client_option *client_response_option(const client_response *r, uint16_t number);

/* Milliseconds and microseconds on CLOCK_MONOTONIC. */
uint64_t client_now_ms(void);
uint64_t client_now_us(void);

/* "2.05" style text of a code; buf must hold 8 bytes. */
const char *client_code_str(uint8_t code, char *buf);

#endif
