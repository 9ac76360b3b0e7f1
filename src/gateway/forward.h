/* Forwarding of verified OSCORE requests to CoAP backends: the device side
 * (gw_relay_*).  Single-threaded, on the gateway's epoll set.
 *
 * The relay turns a verified, authorised inner request into the plain
 * request for the route's backend and hands it to the backend client
 * (backend.h); the device's request is parked in the transport (udp.h).
 * When the backend answers, the answer is OSCORE-protected with the
 * device's context and goes out piggybacked on the ACK (backend answered
 * within GW_UDP_ACK_DELAY_MS) or as a separate response, and into the
 * retransmission cache.  Also here: inner block-wise with the device
 * (block.h), observations relayed as notifications, timeouts (5.04),
 * unreachable backends (5.02) and the pending limit (5.03). */
#ifndef GW_FORWARD_H
#define GW_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "diag/diag.h"
#include "edhoc/oscore.h"
#include "gateway/addr.h"
#include "gateway/backend.h"
#include "gateway/outer_block.h"
#include "gateway/rtx.h"
#include "gateway/sessions.h"
#include "gateway/udp.h"
#include "policy/routes.h"

typedef struct gw_relay gw_relay;

typedef struct gw_relay_stats {
	uint64_t forwarded;   /* requests sent to a backend */
	uint64_t answered;    /* backend answers relayed */
	uint64_t timeouts;    /* 5.04 */
	uint64_t unreachable; /* 5.02 */
	uint64_t busy;        /* 5.03 (pending_forwards_max) */
	uint64_t notifications;
	uint64_t blocks_served; /* inner Block2 answers from the cache */
} gw_relay_stats;

/* epfd: the gateway's epoll set (io.h).  sessions, rtx and d are the gateway's and must outlive the
 * relay. */
int gw_relay_create(int epfd, gw_udp *udp, gw_sessions *sessions, gw_rtx *rtx, diag *d,
                    size_t pending_max, size_t payload_max, size_t observations_per_device,
                    gw_relay **ret);

/* Drops pending requests and observations (nothing is sent).  NULL is a
 * no-op. */
void gw_relay_free(gw_relay *r);

void gw_relay_set_limits(gw_relay *r, size_t pending_max, size_t payload_max,
                         size_t observations_per_device);

/* One verified OSCORE request that the ACL allowed on route rt. */
typedef struct gw_relay_req {
	const gw_xchg *x; /* the outer request: peer, Message ID, token */
	gw_session *s;    /* its OSCORE session */
	const oscore_request_info *info;
	const oscore_msg *inner; /* the decrypted request */
	const char *path;        /* inner path ("/a/b") */
	const route *rt;
	uint64_t now_ms;
	gw_ob *ob;               /* outer block-wise table (may be NULL) */
	const gw_ob_ref *ob_ref; /* this request's outer Block1/Block2 (may be NULL) */
} gw_relay_req;

#define GW_RELAY_PARKED 1

/* Forwards q.  Returns GW_RELAY_PARKED when the answer will be sent later
 * (the caller sends nothing now: the request is parked in the transport,
 * which acknowledges a CON itself if the answer is late), or 0 with *ret_inner set to an inner
 * response the caller protects and sends now: 2.31 Continue for an inner Block1 part, a block
 * served from the cache, or an error (4.08, 4.13, 5.03, 5.00).  ret_inner borrows from r until the
 * next call. */
int gw_relay_request(gw_relay *r, const gw_relay_req *q, oscore_msg *ret_inner);

/* The session with Recipient ID rid is going away: its pending requests
 * are answered with an unprotected 4.01 (nothing can be protected without
 * the context), its observations end with a last unprotected 4.01
 * notification (and a backend RST on the next notification), its
 * block-wise state is freed. */
void gw_relay_session_gone(gw_relay *r, const uint8_t *rid, size_t rid_len);

void gw_relay_tick(gw_relay *r, uint64_t now_ms);
uint64_t gw_relay_next_deadline(const gw_relay *r);
void gw_relay_get_stats(const gw_relay *r, gw_relay_stats *ret);

/* A notification the relay sent to peer with this token was refused (RST)
 * or never acknowledged: that observation ends. */
void gw_relay_device_nack(gw_relay *r, const gw_addr *peer, const uint8_t *tok, size_t tok_len);

#endif
