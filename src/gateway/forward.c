/* Forwarding to CoAP backends, the device side (gw_relay_*).  See
 * forward.h. */
#include "gateway/forward.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "edhoc/result.h"
#include "gateway/block.h"
#include "gateway/hash.h"

#define CODE(c, d)        ((uint8_t)(((c) << 5) | (d)))
#define BLOCK_LIFETIME_MS 60000u
#define RELAY_BLOCK_SZX   6 /* 1024-byte blocks towards devices */
#define RELAY_BUF         2048

/* CLOCK_MONOTONIC in ms, as gw_now_ms (not linked here: forward.c is
 * tested without the rest of the gateway). */
static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One forwarded request of a device, from parking to its answer; for an
 * observation also the relationship afterwards. */
struct rq {
	struct rq *prev, *next; /* all of the relay's, for session cleanup */
	gw_relay *r;
	uint64_t fwd_id;
	bool fwd_live;   /* gw_fwd still knows fwd_id */
	gw_xchg x;       /* where answers and notifications go */
	gw_parked *park; /* the request, until its first answer */
	uint8_t rid[EDHOC_MAX_CID];
	size_t rid_len;
	oscore_request_info info;
	bool observe;    /* registration forwarded */
	bool observing;  /* backend accepted: notifications follow */
	bool has_block1; /* final answer echoes the device's last Block1 */
	gw_block_opt block1;
	bool has_block2; /* the device asked for this Block2 block */
	gw_block_opt block2;
	uint8_t key[GW_BLK_KEY_MAX]; /* body cache key */
	size_t key_len;
	gw_ob *ob; /* set when the first answer goes out in outer blocks */
	gw_ob_ref ob_ref;
};

struct gw_relay {
	gw_udp *udp;
	gw_fwd *fwd;
	gw_blk *blk;
	gw_sessions *sessions;
	gw_rtx *rtx;
	diag *diag;
	struct rq *head;
	size_t obs_per_device;
	gw_relay_stats stats;
	/* Scratch of the single-threaded path; ret_inner borrows from it. */
	oscore_msg out;
	uint8_t o_block1[3], o_block2[3], o_size[4], o_obs[4];
	uint8_t plain[RELAY_BUF];
	uint8_t prot[RELAY_BUF];
	uint8_t path[GW_FWD_MAX_OPTS_BYTES];
};

static void rq_free(gw_relay *r, struct rq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		r->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	if (q->fwd_live)
		gw_fwd_cancel(r->fwd, q->fwd_id);
	gw_udp_unpark(r->udp, q->park);
	OPENSSL_cleanse(&q->info, sizeof(q->info));
	free(q);
}

static size_t count_observations(const gw_relay *r, const uint8_t *rid, size_t rid_len)
{
	size_t n = 0;
	for (const struct rq *q = r->head; q; q = q->next)
		if (q->observe && q->rid_len == rid_len && memcmp(q->rid, rid, rid_len) == 0)
			n++;
	return n;
}

/* Options that are about the hop between device and gateway, or that the
 * gateway rewrites: never copied between the two sides. */
static bool hop_option(uint16_t n)
{
	switch (n) {
	case OSCORE_OPT_URI_HOST:
	case OSCORE_OPT_URI_PORT:
	case OSCORE_OPT_URI_PATH:
	case OSCORE_OPT_OSCORE:
	case OSCORE_OPT_HOP_LIMIT:
	case OSCORE_OPT_BLOCK1:
	case OSCORE_OPT_BLOCK2:
	case OSCORE_OPT_SIZE1:
	case OSCORE_OPT_SIZE2:
	case OSCORE_OPT_PROXY_URI:
	case OSCORE_OPT_PROXY_SCHEME:
	case OSCORE_OPT_ECHO:
	case OSCORE_OPT_NO_RESPONSE:
	case OSCORE_OPT_REQUEST_TAG:
		return true;
	default:
		return false;
	}
}

/* RFC 7252 §5.8 and RFC 8132: GET, FETCH, PUT, DELETE and iPATCH may be
 * repeated with the same effect; POST and PATCH may not. */
static bool method_idempotent(uint8_t code)
{
	return code == OSCORE_CODE_GET || code == OSCORE_CODE_PUT || code == OSCORE_CODE_DELETE ||
	       code == OSCORE_CODE_FETCH || code == CODE(0, 7) /* iPATCH */;
}

/* Body cache key: method, path, queries, Accept (and the Request-Tag for
 * uploads), each length-prefixed so no two requests share a key. */
static bool make_key(const oscore_msg *in, const char *path, bool upload, uint8_t *out,
                     size_t *ret_len)
{
	size_t o = 0, n = strlen(path);
	if (n + 4 > GW_BLK_KEY_MAX)
		return false;
	out[o++] = upload ? 'U' : 'D';
	out[o++] = in->code;
	out[o++] = (uint8_t)(n >> 8);
	out[o++] = (uint8_t)n;
	memcpy(out + o, path, n);
	o += n;
	for (size_t i = 0; i < in->n_opts; i++) {
		const oscore_option *op = &in->opts[i];
		if (op->number != OSCORE_OPT_URI_QUERY && op->number != OSCORE_OPT_ACCEPT &&
		    !(upload && op->number == OSCORE_OPT_REQUEST_TAG))
			continue;
		if (o + 4 + op->len > GW_BLK_KEY_MAX)
			return false;
		out[o++] = (uint8_t)op->number;
		out[o++] = (uint8_t)(op->len >> 8);
		out[o++] = (uint8_t)op->len;
		if (op->len)
			memcpy(out + o, op->value, op->len);
		o += op->len;
	}
	*ret_len = o;
	return true;
}

static void out_code(gw_relay *r, uint8_t code)
{
	oscore_msg_init(&r->out, code);
}

static void out_text(gw_relay *r, uint8_t code, const char *text)
{
	out_code(r, code);
	oscore_msg_set_payload(&r->out, (const uint8_t *)text, strlen(text));
}

/* One block of body (from a backend answer with code and options hm) into
 * r->out: Block2 and Size2 added, payload the block's slice.  A block past
 * the end gives 4.02 Bad Option (RFC 7959 §2.2). */
static void out_block(gw_relay *r, const oscore_msg *hm, const uint8_t *body, size_t len,
                      const gw_block_opt *want)
{
	gw_block_opt b = *want;
	size_t size, off;
	if (b.szx > RELAY_BLOCK_SZX)
		b.szx = RELAY_BLOCK_SZX;
	size = gw_block_size(b.szx);
	off = (size_t)b.num * size;
	if (off >= len && !(off == 0 && len == 0)) {
		out_text(r, CODE(4, 2), "Block out of range");
		return;
	}
	r->out = *hm;
	b.more = off + size < len;
	oscore_msg_add(&r->out, OSCORE_OPT_BLOCK2, r->o_block2, gw_block_encode(&b, r->o_block2));
	oscore_msg_add(&r->out, OSCORE_OPT_SIZE2, r->o_size,
	               oscore_uint_encode((uint32_t)len, r->o_size));
	oscore_msg_set_payload(&r->out, body + off, b.more ? size : len - off);
}

static void relay_fail(gw_relay *r, const gw_addr *peer, const char *identity, int code,
                       const char *detail)
{
	char text[GW_ADDR_STRLEN];
	diag_event ev = {.code = code,
	                 .step = "forward",
	                 .peer = gw_addr_format(peer, text, sizeof(text)),
	                 .identity = identity,
	                 .detail = detail};
	diag_failure(r->diag, &ev, NULL);
}

/* Sends outer (protected) to the device: the answer of the parked request
 * (piggybacked or separate), or a notification (confirmable). */
static int send_to_device(gw_relay *r, struct rq *q, const oscore_msg *outer, bool first,
                          uint64_t now)
{
	int rc;
	if (!first)
		return gw_udp_send(r->udp, &q->x, outer, true, now);
	rc = gw_udp_complete(r->udp, q->park, outer, now);
	q->park = NULL;
	/* A late retransmission of the request gets this answer again, not a
	 * replay error. */
	if (rc == 0)
		gw_rtx_store_msg(r->rtx, &q->x.peer, q->x.mid, outer, now);
	return rc;
}

/* The backend answered (or failed) for q. */
static void relay_done(void *arg, uint64_t id, int result, const oscore_msg *resp)
{
	struct rq *q = arg;
	gw_relay *r = q->r;
	gw_session *s = gw_sessions_find(r->sessions, q->rid, q->rid_len);
	uint64_t now = now_ms();
	bool first = q->park != NULL;
	bool ends = true;
	oscore_msg outer;
	uint8_t *big = NULL;
	int rc;

	(void)id;
	if (result != 0 || !resp || !q->observe || !oscore_msg_find(resp, OSCORE_OPT_OBSERVE) ||
	    (resp->code >> 5) != 2)
		q->fwd_live = false; /* gw_fwd dropped it */
	if (!s || !s->ctx) {
		rq_free(r, q);
		return;
	}
	if (result != 0) {
		out_code(r, result == GW_E_BACKEND_TIMEOUT ? CODE(5, 4) : CODE(5, 2));
		if (result == GW_E_BACKEND_TIMEOUT)
			r->stats.timeouts++;
		else
			r->stats.unreachable++;
		relay_fail(r, &q->x.peer, s->identity, result, NULL);
	} else {
		oscore_msg in = *resp;
		for (size_t i = in.n_opts; i-- > 0;)
			if (i < in.n_opts && hop_option(in.opts[i].number))
				oscore_msg_remove(&in, in.opts[i].number);
		if (q->has_block1) {
			gw_block_opt b = q->block1;
			b.more = false;
			oscore_msg_add(&in, OSCORE_OPT_BLOCK1, r->o_block1,
			               gw_block_encode(&b, r->o_block1));
		}
		ends = !(q->observe && oscore_msg_find(&in, OSCORE_OPT_OBSERVE) &&
		         (in.code >> 5) == 2);
		if (first && q->ob && q->ob_ref.want_b2 && !q->has_block2) {
			/* The device takes the whole answer in outer blocks
			 * (gw_ob_response cuts the protected message). */
			r->out = in;
		} else if (in.payload_len > gw_block_size(RELAY_BLOCK_SZX) ||
		           (q->has_block2 && in.payload_len > gw_block_size(q->block2.szx))) {
			/* Too large for one message to the device: keep it
			 * and serve it block by block. */
			gw_block_opt want = {0, false, RELAY_BLOCK_SZX};
			oscore_msg hm = in;
			size_t hl = 0;
			if (q->has_block2)
				want = q->block2;
			oscore_msg_remove(&hm, OSCORE_OPT_OBSERVE);
			oscore_msg_set_payload(&hm, NULL, 0);
			if (oscore_msg_encode_body(&hm, r->plain, GW_BLK_OPTS_MAX, &hl) == 0)
				gw_blk_store(r->blk, q->rid, q->rid_len, q->key, q->key_len,
				             in.code, r->plain, hl, in.payload, in.payload_len,
				             now);
			out_block(r, &in, in.payload, in.payload_len, &want);
		} else {
			r->out = in;
		}
		if (first)
			r->stats.answered++;
		else
			r->stats.notifications++;
	}
	if (first && q->ob && r->out.payload_len + 1024 > sizeof(r->prot)) {
		/* Larger than the scratch buffer: only with outer Block2. */
		size_t cap = r->out.payload_len + GW_FWD_MAX_OPTS_BYTES + OSCORE_PROTECT_OVERHEAD;
		big = malloc(cap);
		rc = big ? oscore_protect_response(s->ctx, &q->info, &r->out, false, big, cap,
		                                   &outer)
		         : EDHOC_E_NOMEM;
	} else {
		rc = oscore_protect_response(s->ctx, &q->info, &r->out, !first, r->prot,
		                             sizeof(r->prot), &outer);
	}
	if (rc == 0 && first && q->ob) {
		oscore_msg cut;
		int orc = gw_ob_response(q->ob, &q->ob_ref, &outer, now, &cut);
		if (orc != 0) /* cut is an unprotected 5.00 then */
			relay_fail(r, &q->x.peer, s->identity, orc,
			           "answer cannot be kept for outer Block2");
		outer = cut;
	}
	if (rc == 0)
		rc = send_to_device(r, q, &outer, first, now);
	free(big);
	if (rc != 0)
		relay_fail(r, &q->x.peer, s->identity, rc, "answer to the device not sent");
	if (ends || rc != 0) {
		rq_free(r, q);
		return;
	}
	q->observing = true;
}

int gw_relay_create(int epfd, gw_udp *udp, gw_sessions *sessions, gw_rtx *rtx, diag *d,
                    size_t pending_max, size_t payload_max, size_t observations_per_device,
                    gw_relay **ret)
{
	gw_relay *r = calloc(1, sizeof(*r));
	int rc;
	if (!r)
		return EDHOC_E_NOMEM;
	r->udp = udp;
	r->sessions = sessions;
	r->rtx = rtx;
	r->diag = d;
	r->obs_per_device = observations_per_device;
	rc = gw_fwd_create(epfd, pending_max, payload_max, &r->fwd);
	if (rc == 0) {
		r->blk = gw_blk_create(pending_max, payload_max, BLOCK_LIFETIME_MS);
		if (!r->blk)
			rc = EDHOC_E_NOMEM;
	}
	if (rc != 0) {
		gw_relay_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void gw_relay_free(gw_relay *r)
{
	if (!r)
		return;
	while (r->head)
		rq_free(r, r->head);
	gw_fwd_free(r->fwd);
	gw_blk_free(r->blk);
	OPENSSL_cleanse(r->plain, sizeof(r->plain));
	free(r);
}

void gw_relay_set_limits(gw_relay *r, size_t pending_max, size_t payload_max,
                         size_t observations_per_device)
{
	gw_fwd_set_limits(r->fwd, pending_max, payload_max);
	gw_blk_set_limits(r->blk, pending_max, payload_max);
	r->obs_per_device = observations_per_device;
}

/* The plain request for the backend: inner method, options except the
 * hop-by-hop ones, the backend path as Uri-Path, body. */
static int backend_request(gw_relay *r, const gw_relay_req *q, const uint8_t *body, size_t len,
                           bool observe, oscore_msg *m)
{
	char *path = (char *)r->path;
	size_t seg;
	int rc = route_backend_path(q->rt, q->path, path, sizeof(r->path));
	if (rc != 0)
		return rc;
	oscore_msg_init(m, q->inner->code);
	for (size_t i = 0; i < q->inner->n_opts; i++) {
		const oscore_option *o = &q->inner->opts[i];
		if (hop_option(o->number) || o->number == OSCORE_OPT_OBSERVE)
			continue;
		rc = oscore_msg_add(m, o->number, o->value, o->len);
		if (rc != 0)
			return rc;
	}
	if (observe) {
		rc = oscore_msg_add(m, OSCORE_OPT_OBSERVE, NULL, 0);
		if (rc != 0)
			return rc;
	}
	/* "/a/b" -> Uri-Path "a", "b"; "/" -> none.  Segments point into
	 * r->path, which lives until the request is encoded. */
	for (char *p = path; *p == '/' && p[1];) {
		char *e = strchr(p + 1, '/');
		seg = e ? (size_t)(e - p - 1) : strlen(p + 1);
		rc = oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)p + 1, seg);
		if (rc != 0)
			return rc;
		if (!e)
			break;
		p = e;
	}
	oscore_msg_set_payload(m, body, len);
	return 0;
}

int gw_relay_request(gw_relay *r, const gw_relay_req *q, oscore_msg *ret_inner)
{
	const oscore_msg *in = q->inner;
	const oscore_option *o_obs = oscore_msg_find(in, OSCORE_OPT_OBSERVE);
	const oscore_option *o_b1 = oscore_msg_find(in, OSCORE_OPT_BLOCK1);
	const oscore_option *o_b2 = oscore_msg_find(in, OSCORE_OPT_BLOCK2);
	const uint8_t *body = in->payload;
	size_t len = in->payload_len;
	struct rq *rq = NULL;
	oscore_msg breq;
	gw_block_opt b1, b2;
	uint32_t obs = 0;
	bool observe = false, has_b1 = false, has_b2 = false;
	uint8_t key[GW_BLK_KEY_MAX], ukey[GW_BLK_KEY_MAX];
	size_t key_len = 0, ukey_len = 0;
	const gw_xchg *x = q->x;
	const uint8_t *rid = q->s->rid.bytes;
	size_t rid_len = q->s->rid.len;
	int rc;

	if ((o_b1 && gw_block_decode(o_b1->value, o_b1->len, &b1) != 0) ||
	    (o_b2 && gw_block_decode(o_b2->value, o_b2->len, &b2) != 0) ||
	    (o_obs && oscore_uint_decode(o_obs->value, o_obs->len, &obs) != 0)) {
		out_text(r, CODE(4, 2), "Bad Block or Observe option");
		goto answer;
	}
	has_b1 = o_b1 != NULL;
	has_b2 = o_b2 != NULL;
	if (!make_key(in, q->path, false, key, &key_len)) {
		out_text(r, CODE(4, 14), "Path too long");
		goto answer;
	}
	/* Later blocks of a kept answer come from the cache. */
	if (has_b2 && b2.num > 0) {
		uint8_t code;
		const uint8_t *opts, *kb;
		size_t opts_len, kl;
		oscore_msg hm;
		if (gw_blk_lookup(r->blk, rid, rid_len, key, key_len, q->now_ms, &code, &opts,
		                  &opts_len, &kb, &kl) &&
		    oscore_msg_decode_body(code, opts, opts_len, &hm) == 0) {
			out_block(r, &hm, kb, kl, &b2);
			r->stats.blocks_served++;
			goto answer;
		}
		if (!method_idempotent(in->code)) {
			/* The kept answer is gone (expired or pushed out).
			 * Forwarding again would execute a POST a second time
			 * just to cut one block from a new answer: the device
			 * has to start over from block 0 instead. */
			out_text(r, CODE(4, 8), "Body expired, restart from block 0");
			relay_fail(r, &q->x->peer, q->s->identity, GW_E_BLOCK_INCOMPLETE,
			           "Block2 continuation of an answer no longer kept");
			goto answer;
		}
	}
	if (has_b1) {
		const uint8_t *whole = NULL;
		size_t wl = 0;
		if (!make_key(in, q->path, true, ukey, &ukey_len)) {
			out_text(r, CODE(4, 14), "Path too long");
			goto answer;
		}
		rc = gw_blk_block1(r->blk, rid, rid_len, ukey, ukey_len, &b1, in->payload,
		                   in->payload_len, q->now_ms, &whole, &wl);
		if (rc == EDHOC_E_MESSAGE_TOO_LARGE) {
			size_t n =
			    oscore_uint_encode((uint32_t)gw_fwd_payload_max(r->fwd), r->o_size);
			out_code(r, CODE(4, 13));
			oscore_msg_add(&r->out, OSCORE_OPT_SIZE1, r->o_size, n);
			relay_fail(r, &q->x->peer, q->s->identity, rc, "Block1 upload too large");
			goto answer;
		}
		if (rc != 0) {
			out_text(r, CODE(4, 8), "Request Entity Incomplete");
			relay_fail(r, &q->x->peer, q->s->identity,
			           rc == EDHOC_E_NOMEM ? rc : GW_E_BLOCK_INCOMPLETE, NULL);
			goto answer;
		}
		if (!whole) {
			/* RFC 7959 §2.3: acknowledge the part, ask for more. */
			out_code(r, CODE(2, 31));
			oscore_msg_add(&r->out, OSCORE_OPT_BLOCK1, r->o_block1,
			               gw_block_encode(&b1, r->o_block1));
			goto answer;
		}
		body = whole;
		len = wl;
	} else if (len > gw_fwd_payload_max(r->fwd)) {
		size_t n = oscore_uint_encode((uint32_t)gw_fwd_payload_max(r->fwd), r->o_size);
		out_code(r, CODE(4, 13));
		oscore_msg_add(&r->out, OSCORE_OPT_SIZE1, r->o_size, n);
		goto answer;
	}
	if (o_obs && (in->code == OSCORE_CODE_GET || in->code == OSCORE_CODE_FETCH)) {
		/* A new registration, or a re-registration / deregistration
		 * with the token of an existing one (RFC 7641 §3.3.1, §3.6). */
		for (struct rq *o = r->head; o; o = o->next) {
			if (o->observe && gw_addr_equal(&o->x.peer, &x->peer) &&
			    o->x.tok_len == x->tok_len &&
			    memcmp(o->x.tok, x->tok, x->tok_len) == 0 && o->rid_len == rid_len &&
			    memcmp(o->rid, rid, rid_len) == 0) {
				rq_free(r, o);
				break;
			}
		}
		if (obs == 0) {
			if (count_observations(r, rid, rid_len) < r->obs_per_device)
				observe = true;
			else
				relay_fail(r, &q->x->peer, q->s->identity, GW_E_OBSERVE_LIMIT,
				           "answered without Observe");
		}
	}
	rq = calloc(1, sizeof(*rq));
	if (!rq) {
		out_code(r, CODE(5, 0));
		goto answer;
	}
	rq->r = r;
	rq->observe = observe;
	rq->x = *x;
	if (rid_len > sizeof(rq->rid)) {
		free(rq);
		out_code(r, CODE(4, 0));
		goto answer;
	}
	memcpy(rq->rid, rid, rid_len);
	rq->rid_len = rid_len;
	rq->info = *q->info;
	rq->has_block1 = has_b1;
	rq->block1 = has_b1 ? b1 : (gw_block_opt){0};
	rq->has_block2 = has_b2;
	rq->block2 = has_b2 ? b2 : (gw_block_opt){0};
	memcpy(rq->key, key, key_len);
	rq->key_len = key_len;
	if (q->ob && q->ob_ref && (q->ob_ref->has_b1 || q->ob_ref->want_b2)) {
		rq->ob = q->ob;
		rq->ob_ref = *q->ob_ref;
	}
	rc = backend_request(r, q, body, len, observe, &breq);
	if (rc == 0)
		rc = gw_fwd_send(r->fwd, (const struct sockaddr *)&q->rt->addr, q->rt->addr_len,
		                 &breq, q->rt->timeout_ms, q->now_ms, relay_done, rq, &rq->fwd_id);
	if (has_b1 && ukey_len)
		gw_blk_forget(r->blk, rid, rid_len, ukey, ukey_len);
	if (rc != 0) {
		free(rq);
		if (rc == EDHOC_E_LIMIT) {
			out_code(r, CODE(5, 3));
			r->stats.busy++;
		} else if (rc == GW_E_BACKEND_UNREACHABLE) {
			out_code(r, CODE(5, 2));
			r->stats.unreachable++;
		} else {
			out_code(r, CODE(5, 0));
		}
		relay_fail(r, &q->x->peer, q->s->identity, rc, q->rt->name);
		goto answer;
	}
	rq->fwd_live = true;
	rc = gw_udp_park(r->udp, x, q->now_ms, &rq->park);
	if (rc != 0) {
		gw_fwd_cancel(r->fwd, rq->fwd_id);
		free(rq);
		out_code(r, rc == EDHOC_E_LIMIT ? CODE(5, 3) : CODE(5, 0));
		goto answer;
	}
	rq->next = r->head;
	if (r->head)
		r->head->prev = rq;
	r->head = rq;
	r->stats.forwarded++;
	return GW_RELAY_PARKED;
answer:
	*ret_inner = r->out;
	return 0;
}

void gw_relay_session_gone(gw_relay *r, const uint8_t *rid, size_t rid_len)
{
	struct rq *q = r->head, *n;
	uint64_t now = now_ms();
	for (; q; q = n) {
		n = q->next;
		if (q->rid_len != rid_len || memcmp(q->rid, rid, rid_len) != 0)
			continue;
		/* The context is gone, so nothing can be protected any more: the
		 * device hears what a new request would get (RFC 8613 §8.2: an
		 * unprotected 4.01), instead of waiting for its own timeout.  For
		 * an observation it is the last notification (not 2.xx: RFC 7641
		 * §3.2 ends it there). */
		out_text(r, CODE(4, 1), oscore_result_diagnostic(OSCORE_E_NO_CONTEXT));
		if (q->park) {
			gw_udp_complete(r->udp, q->park, &r->out, now);
			q->park = NULL;
		} else if (q->observing) {
			gw_udp_send(r->udp, &q->x, &r->out, false, now);
		}
		rq_free(r, q);
	}
	gw_blk_drop_rid(r->blk, rid, rid_len);
}

void gw_relay_tick(gw_relay *r, uint64_t now_ms)
{
	gw_fwd_tick(r->fwd, now_ms);
	gw_blk_expire(r->blk, now_ms);
}

uint64_t gw_relay_next_deadline(const gw_relay *r)
{
	uint64_t a = gw_fwd_next_deadline(r->fwd);
	uint64_t b = gw_blk_next_expiry(r->blk);
	return a < b ? a : b;
}

void gw_relay_get_stats(const gw_relay *r, gw_relay_stats *ret)
{
	*ret = r->stats;
}

void gw_relay_device_nack(gw_relay *r, const gw_addr *peer, const uint8_t *tok, size_t tok_len)
{
	/* RST or no ACK to a notification: the device is not listening. */
	for (struct rq *q = r->head; q; q = q->next) {
		if (q->observing && q->x.tok_len == tok_len &&
		    memcmp(q->x.tok, tok, tok_len) == 0 && gw_addr_equal(&q->x.peer, peer)) {
			rq_free(r, q);
			return;
		}
	}
}
