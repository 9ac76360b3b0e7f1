/* The gateway's CoAP/UDP endpoint towards devices (RFC 7252 message layer),
 * on its own non-blocking sockets in the gateway's epoll set (io.h).
 *
 * Why not libcoap: its server side sends the empty ACK of a request the
 * handler parks itself (no piggybacked answer from a backend is possible),
 * re-arms a timerfd and draws from getrandom for every confirmable message,
 * and walks all sessions on each I/O turn.  A forwarded request cost six
 * datagrams and about 14 system calls in the gateway that way; here it is
 * two datagrams towards the device when the backend answers within
 * GW_UDP_ACK_DELAY_MS.
 *
 * What this layer does: receives datagrams (recvmmsg, a burst per wakeup),
 * decodes them with the core's strict CoAP decoder, answers pings (empty
 * CON) and malformed or unexpected CONs with RST, and hands requests to the
 * gateway together with a gw_xchg saying where the answer goes.  Answers go
 * out piggybacked on the ACK of a CON request, or as NON.  A parked request
 * (answered later, after a backend) is remembered by (peer, Message ID): a
 * retransmission of it gets an empty ACK instead of reaching the gateway
 * again, and when the answer is late the empty ACK goes out by itself after
 * GW_UDP_ACK_DELAY_MS and the answer follows as a confirmable separate
 * response.  Confirmable messages we send are retransmitted (ACK_TIMEOUT
 * with random factor, MAX_RETRANSMIT) until ACKed; an RST or no ACK at all
 * is reported to the gateway (that is how a device ends an observation).
 *
 * De-duplication of answered requests is the gateway's (rtx.h): it sees
 * every request that is not parked. */
#ifndef GW_UDP_H
#define GW_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "edhoc/oscore.h"
#include "gateway/addr.h"

#define GW_UDP_CON 0
#define GW_UDP_NON 1
#define GW_UDP_ACK 2
#define GW_UDP_RST 3

#define GW_UDP_MAX_SOCKS 16
/* Largest datagram received; longer ones are dropped as malformed. */
#define GW_UDP_MAX_DGRAM 2048
/* A parked CON request is acknowledged by itself after this long. */
#define GW_UDP_ACK_DELAY_MS 200

typedef struct gw_udp gw_udp;

/* A received request and where its answer goes. */
typedef struct gw_xchg {
	gw_addr peer;
	/* The address the request was sent to, when the socket is bound to a
	 * wildcard address (0: none; answers leave from the socket's). */
	sa_family_t local_family;
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} local;
	uint8_t sock; /* index of the socket it came in on */
	uint8_t type; /* GW_UDP_CON or GW_UDP_NON */
	uint16_t mid;
	uint8_t tok_len;
	uint8_t tok[8];
} gw_xchg;

typedef struct gw_parked gw_parked;

typedef struct gw_udp_cb {
	/* A request (code class 0, not empty).  m borrows from the receive
	 * buffer: valid during the call. */
	void (*request)(void *arg, const gw_xchg *x, const oscore_msg *m, uint64_t now_ms);
	/* A confirmable message we sent to peer with this token was answered
	 * with RST, or never acknowledged. */
	void (*nack)(void *arg, const gw_addr *peer, const uint8_t *tok, size_t tok_len);
	/* A datagram that is not a well-formed CoAP message (dropped; a CON
	 * whose header could be read got an RST). */
	void (*malformed)(void *arg, const gw_addr *peer, size_t len);
	void *arg;
} gw_udp_cb;

typedef struct gw_udp_stats {
	uint64_t received, sent;
	uint64_t malformed;
	uint64_t pings;
	uint64_t parked_dups;    /* retransmissions of parked requests */
	uint64_t piggybacked;    /* parked answers that went out on the ACK */
	uint64_t separate;       /* parked answers after an empty ACK */
	uint64_t retransmitted;  /* our confirmable messages sent again */
	uint64_t nacks;          /* RST or no ACK for them */
	uint64_t con_table_full; /* sent as NON instead */
} gw_udp_stats;

/* parked_max bounds parked requests, con_max our unacknowledged
 * confirmable messages (beyond it answers go out as NON). */
int gw_udp_create(int epfd, const gw_udp_cb *cb, size_t parked_max, size_t con_max, gw_udp **ret);

/* Closes the sockets, forgets everything (sends nothing).  NULL is a no-op. */
void gw_udp_free(gw_udp *u);

void gw_udp_set_limits(gw_udp *u, size_t parked_max, size_t con_max);

/* Binds a socket to sa (IPv6 sockets are IPv6-only).  EDHOC_E_LIMIT beyond
 * GW_UDP_MAX_SOCKS, EDHOC_E_INTERNAL when socket/bind fail (errno kept). */
int gw_udp_listen(gw_udp *u, const struct sockaddr *sa, socklen_t len);

/* Answers request x now: piggybacked on the ACK of a CON, else as NON. */
int gw_udp_respond(gw_udp *u, const gw_xchg *x, const oscore_msg *m);

/* The answer to x comes later.  EDHOC_E_LIMIT when parked_max requests are
 * parked, EDHOC_E_NOMEM. */
int gw_udp_park(gw_udp *u, const gw_xchg *x, uint64_t now_ms, gw_parked **ret);

/* Sends the answer of a parked request and forgets p: piggybacked when the
 * CON is not acknowledged yet, else as a separate response (confirmable for
 * a CON request, NON for NON).  p is gone even on error. */
int gw_udp_complete(gw_udp *u, gw_parked *p, const oscore_msg *m, uint64_t now_ms);

/* Forgets p without an answer.  NULL is a no-op. */
void gw_udp_unpark(gw_udp *u, gw_parked *p);

/* Sends m with x's token to x's peer (a notification): confirmable (tracked,
 * nack on RST or no ACK) or NON. */
int gw_udp_send(gw_udp *u, const gw_xchg *x, const oscore_msg *m, bool con, uint64_t now_ms);

/* Empty ACKs that are due, retransmissions, give-ups (nack). */
void gw_udp_tick(gw_udp *u, uint64_t now_ms);

/* Monotonic ms of the next gw_udp_tick work; UINT64_MAX when none. */
uint64_t gw_udp_next_deadline(const gw_udp *u);

size_t gw_udp_parked(const gw_udp *u);
void gw_udp_get_stats(const gw_udp *u, gw_udp_stats *ret);

#endif
