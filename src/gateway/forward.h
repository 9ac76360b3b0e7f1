/* Forwarding of verified OSCORE requests to CoAP backends.
 *
 * Two layers, both single-threaded on the gateway's libcoap context:
 *
 * The backend client (gw_fwd_*) is in backend.h.
 *
 * gw_relay_* the device side: parks the device's request with
 *            coap_register_async, forwards the plain request, and when the
 *            backend answers OSCORE-protects the answer with the device's
 *            context and sends it as a separate response (the cheap
 *            completion style of LIBCOAP-NOTES.md), also into the
 *            retransmission cache.  Inner block-wise with the device
 *            (block.h), observations (observe.h), timeouts (5.04),
 *            unreachable backends (5.02) and the pending limit (5.03).
 *
 * Both need the gateway's libcoap context; they register its response and
 * NACK handlers (the gateway sends no other client requests). */
#ifndef GW_FORWARD_H
#define GW_FORWARD_H

#include <coap3/coap.h>
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

/* Copies a PDU's code, options and payload into m; m borrows the option
 * values and payload from pdu (valid while pdu is).  The result of
 * oscore_msg_add when there are too many options. */
int gw_pdu_to_msg(const coap_pdu_t *pdu, oscore_msg *m);

/* Appends m's options and payload to pdu: EDHOC_E_BUFFER_TOO_SMALL when
 * they do not fit. */
int gw_msg_to_pdu(coap_pdu_t *pdu, const oscore_msg *m);

/* ---- device side ---- */

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
int gw_relay_create(coap_context_t *ctx, int epfd, gw_udp *udp, gw_sessions *sessions, gw_rtx *rtx,
                    diag *d, size_t pending_max, size_t payload_max, size_t observations_per_device,
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
	const gw_addr *peer;
	const char *peer_text;
	uint64_t now_ms;
	gw_ob *ob;               /* outer block-wise table (may be NULL) */
	const gw_ob_ref *ob_ref; /* this request's outer Block1/Block2 (may be NULL) */
} gw_relay_req;

#define GW_RELAY_PARKED 1

/* Forwards q.  Returns GW_RELAY_PARKED when the answer will be sent later
 * (the caller sends nothing now: libcoap acknowledges a CON with an empty
 * ACK), or 0 with *ret_inner set to an inner response the caller protects
 * and sends now: 2.31 Continue for an inner Block1 part, a block served
 * from the cache, or an error (4.08, 4.13, 5.03, 5.00).  ret_inner borrows
 * from r until the next call. */
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
