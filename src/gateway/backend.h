/* The backend client: plain CoAP requests to backend addresses over the
 * gateway's own non-blocking UDP sockets (one connected socket per backend,
 * in the gateway's epoll set), RFC 7252 confirmable messaging with
 * retransmission and de-duplication done here, a bounded table of pending
 * requests keyed by our own 8-byte token, per-request deadlines, block-wise
 * transfer towards the backend, and Observe relationships with the backend.
 * It knows nothing about OSCORE, devices or libcoap: libcoap cost a system
 * call or two more per forwarded request than the datagram itself. */
#ifndef GW_BACKEND_H
#define GW_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "edhoc/oscore.h"

/* Largest block we send to / ask from a backend: SZX 6, 1024 bytes, which
 * fits a 1152-byte CoAP message (libcoap's default) with room for options. */
#define GW_FWD_BLOCK_SZX      6
#define GW_FWD_MAX_OPTS_BYTES 1024 /* option bytes of one forwarded request */

/* RFC 7252 §4.8 defaults (gw_fwd_set_timing changes them). */
#define GW_FWD_ACK_TIMEOUT_MS 2000
#define GW_FWD_MAX_RETRANSMIT 4
/* Backend sockets at most: the routes bound them, this bounds the routes. */
#define GW_FWD_BACKENDS_MAX 256

typedef struct gw_fwd gw_fwd;

/* A request's outcome.  result 0: resp is the backend's answer (for a
 * block-wise answer the reassembled body, its Block2/Size2 options
 * removed); otherwise GW_E_BACKEND_TIMEOUT, GW_E_BACKEND_UNREACHABLE,
 * GW_E_BACKEND_RESPONSE (too large, inconsistent blocks) and resp NULL.
 * resp and what it points to are valid during the call only.
 * For an Observe registration that the backend accepted (the answer has
 * Observe), done is called again for every notification until
 * gw_fwd_cancel, or once more with an error when the observation ends
 * (the backend stops it with an answer without Observe, or becomes
 * unreachable). */
typedef void (*gw_fwd_done_fn)(void *arg, uint64_t id, int result, const oscore_msg *resp);

/* epfd: the gateway's epoll set (io.h).  Each backend's socket goes there
 * on first use (EPOLLIN) with a gw_io whose ready() the caller runs when it
 * is readable.  pending_max bounds requests in flight plus observations,
 * payload_max request and response bodies. */
int gw_fwd_create(int epfd, size_t pending_max, size_t payload_max, gw_fwd **ret);

/* Drops every pending request without calling done, closes the backend
 * sockets (which takes them out of the epoll set).  NULL is a no-op. */
void gw_fwd_free(gw_fwd *f);

void gw_fwd_set_limits(gw_fwd *f, size_t pending_max, size_t payload_max);

/* ACK_TIMEOUT (at least 1 ms) and MAX_RETRANSMIT for exchanges started
 * from now on: RFC 7252's 2000 ms and 4 unless changed (tests shorten
 * them). */
void gw_fwd_set_timing(gw_fwd *f, unsigned ack_timeout_ms, unsigned max_retransmit);

/* Sends req (code, options including the backend's Uri-Path/Uri-Query,
 * payload up to payload_max; its Block1/Block2/Size options are ignored)
 * to addr as a confirmable request.  done(arg, id, ...) is called exactly
 * once (or, for an Observe registration, as above) from gw_fwd_tick or a
 * backend socket's ready(), never from inside gw_fwd_send.  EDHOC_E_LIMIT
 * when pending_max requests are pending, EDHOC_E_MESSAGE_TOO_LARGE for a
 * payload above payload_max or options above GW_FWD_MAX_OPTS_BYTES,
 * GW_E_BACKEND_UNREACHABLE when no socket can be made for addr (or there
 * are GW_FWD_BACKENDS_MAX already) or the send reports the backend
 * unreachable.  Later, ICMP port unreachable from the backend fails all
 * its requests and observations with GW_E_BACKEND_UNREACHABLE, and a
 * backend that does not answer gives GW_E_BACKEND_TIMEOUT at the deadline
 * or when the retransmissions are used up, whichever comes first.
 * *ret_id identifies the request. */
int gw_fwd_send(gw_fwd *f, const struct sockaddr *addr, socklen_t addr_len, const oscore_msg *req,
                unsigned timeout_ms, uint64_t now_ms, gw_fwd_done_fn done, void *arg,
                uint64_t *ret_id);

/* Forgets request or observation id: done is not called for it again.  A
 * later notification for it is answered with RST, which ends the
 * backend's observation.  Unknown ids are ignored. */
void gw_fwd_cancel(gw_fwd *f, uint64_t id);

/* Fails requests whose deadline passed (GW_E_BACKEND_TIMEOUT) or whose
 * retransmissions are used up, sends the retransmissions that are due. */
void gw_fwd_tick(gw_fwd *f, uint64_t now_ms);

/* When gw_fwd_tick has work (monotonic ms): the earliest deadline or
 * retransmission; UINT64_MAX when there is none. */
uint64_t gw_fwd_next_deadline(const gw_fwd *f);

/* Requests in flight (observations not counted once established). */
size_t gw_fwd_pending(const gw_fwd *f);
size_t gw_fwd_observing(const gw_fwd *f);

/* The largest request or response body (the limit in force). */
size_t gw_fwd_payload_max(const gw_fwd *f);

#endif
