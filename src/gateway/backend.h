/* The backend client: plain CoAP requests to backend addresses through one
 * libcoap client session per backend (NSTART raised), a bounded table of
 * pending requests keyed by our own 8-byte token, per-request deadlines,
 * block-wise transfer towards the backend done here (libcoap's block mode
 * is off: it mixes up concurrent transfers), and Observe relationships with
 * the backend.  It knows nothing about OSCORE or devices. */
#ifndef GW_BACKEND_H
#define GW_BACKEND_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "edhoc/oscore.h"

/* Largest block we send to / ask from a backend: SZX 6, 1024 bytes, which
 * fits libcoap's default 1152-byte PDU with room for options. */
#define GW_FWD_BLOCK_SZX      6
#define GW_FWD_MAX_OPTS_BYTES 1024 /* option bytes of one forwarded request */

typedef struct gw_fwd gw_fwd;

/* A request's outcome.  result 0: resp is the backend's answer (for a
 * block-wise answer the reassembled body, its Block2/Size2 options
 * removed); otherwise GW_E_BACKEND_TIMEOUT, GW_E_BACKEND_UNREACHABLE,
 * GW_E_BACKEND_RESPONSE (too large, inconsistent blocks) and resp NULL.
 * resp and what it points to are valid during the call only.
 * For an Observe registration that the backend accepted (the answer has
 * Observe), done is called again for every notification until
 * gw_fwd_cancel, or once more with an error when the observation ends
 * (the backend stops it with an answer without Observe, or RST). */
typedef void (*gw_fwd_done_fn)(void *arg, uint64_t id, int result, const oscore_msg *resp);

/* ctx: the libcoap context (its response and NACK handlers are set here,
 * its app data must stay the caller's); epfd: the gateway's epoll set
 * (io.h), where the client's own sockets go.  pending_max bounds requests in
 * flight plus observations, payload_max request and response bodies. */
int gw_fwd_create(coap_context_t *ctx, int epfd, size_t pending_max, size_t payload_max,
                  gw_fwd **ret);

/* Drops every pending request without calling done, releases the backend
 * sessions.  NULL is a no-op.  Call before coap_free_context. */
void gw_fwd_free(gw_fwd *f);

void gw_fwd_set_limits(gw_fwd *f, size_t pending_max, size_t payload_max);

/* Sends req (code, options including the backend's Uri-Path/Uri-Query,
 * payload up to payload_max; its Block1/Block2/Size options are ignored)
 * to addr.  done(arg, id, ...) is called exactly once (or, for an Observe
 * registration, as above) from gw_fwd_tick or libcoap's handlers, never
 * from inside gw_fwd_send.  EDHOC_E_LIMIT when pending_max requests are
 * pending, EDHOC_E_MESSAGE_TOO_LARGE for a payload above payload_max or
 * options above GW_FWD_MAX_OPTS_BYTES, GW_E_BACKEND_UNREACHABLE when no
 * session can be made.  *ret_id identifies the request. */
int gw_fwd_send(gw_fwd *f, const struct sockaddr *addr, socklen_t addr_len, const oscore_msg *req,
                unsigned timeout_ms, uint64_t now_ms, gw_fwd_done_fn done, void *arg,
                uint64_t *ret_id);

/* Forgets request or observation id: done is not called for it again.  A
 * later notification for it is answered with RST, which ends the
 * backend's observation.  Unknown ids are ignored. */
void gw_fwd_cancel(gw_fwd *f, uint64_t id);

/* Fails requests whose deadline passed (GW_E_BACKEND_TIMEOUT). */
void gw_fwd_tick(gw_fwd *f, uint64_t now_ms);

/* Earliest deadline (monotonic ms); UINT64_MAX when nothing is pending. */
uint64_t gw_fwd_next_deadline(const gw_fwd *f);

/* Requests in flight (observations not counted once established). */
size_t gw_fwd_pending(const gw_fwd *f);
size_t gw_fwd_observing(const gw_fwd *f);

/* The largest request or response body (the limit in force). */
size_t gw_fwd_payload_max(const gw_fwd *f);

/* Where libcoap's NACKs for PDUs sent on server (device) sessions go:
 * libcoap has one NACK handler per context, and this client registers it. */
typedef void (*gw_fwd_dev_nack_fn)(void *arg, coap_session_t *dev, const coap_pdu_t *sent,
                                   coap_nack_reason_t reason);
void gw_fwd_set_dev_nack(gw_fwd *f, gw_fwd_dev_nack_fn fn, void *arg);

#endif
