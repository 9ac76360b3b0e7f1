/* Peer transport addresses as the gateway's tables keep them.
 *
 * The tables depend on no socket layer: the transport copies the sender's
 * sockaddr into a gw_addr, so the tables can be unit-tested alone. */
#ifndef GW_ADDR_H
#define GW_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gateway/hash.h"

typedef struct gw_addr {
	socklen_t len; /* 0: no address */
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
} gw_addr;

/* Longest text gw_addr_format writes: "[v6%scope]:port" and the NUL. */
#define GW_ADDR_STRLEN (INET6_ADDRSTRLEN + 24)

/* Copies a socket address (IPv4 or IPv6; anything else gives len 0). */
void gw_addr_set(gw_addr *a, const struct sockaddr *sa, socklen_t len);

/* True when both hold the same family, address and port (IPv6 scope
 * included). */
bool gw_addr_equal(const gw_addr *a, const gw_addr *b);

/* The bytes that identify the address (family, address, port) for hashing:
 * writes at most 20 bytes into out and returns how many. */
size_t gw_addr_key(const gw_addr *a, uint8_t out[20]);

/* The keyed hash of (address, Message ID): the key of the tables that
 * match CoAP messages of a peer (retransmission cache, parked requests,
 * our confirmable messages). */
uint64_t gw_addr_mid_hash(const uint8_t key[GW_HASH_KEY_LEN], const gw_addr *a, uint16_t mid);

/* "192.0.2.1:5683" or "[2001:db8::1]:5683" into out (always terminated);
 * returns out. */
char *gw_addr_format(const gw_addr *a, char *out, size_t size);

/* Parses "host:port", "[v6]:port", "v4" or "v6" (port defaults to
 * default_port).  Returns 0 or EDHOC_E_INVALID_ARGUMENT. */
int gw_addr_parse(const char *text, uint16_t default_port, gw_addr *ret);

#endif
