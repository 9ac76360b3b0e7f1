/* Forwarding to CoAP backends: the backend client (gw_fwd_*) and the device
 * side (gw_relay_*).  See forward.h. */
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
#define TOKEN_LEN         8
#define NSTART_BACKEND    64
#define NSTART_DEVICE     8
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

/* ==== backend client ==== */

struct backend {
	struct backend *next;
	gw_addr addr;
	coap_session_t *s;
};

struct pend {
	uint64_t id; /* our token, also the caller's handle */
	struct pend *hnext;
	struct pend *tprev, *tnext; /* deadline order, while not observing */
	bool timed;
	uint64_t deadline;
	struct backend *be;
	gw_fwd_done_fn done;
	void *arg;
	/* The request: options without block options, and the body. */
	uint8_t code;
	uint8_t *opts;
	size_t opts_len;
	uint8_t *body;
	size_t body_len;
	unsigned b1_szx;
	size_t b1_sent; /* body bytes the backend acknowledged */
	bool block1;
	/* The answer being reassembled (Block2). */
	uint8_t rcode;
	uint8_t *ropts; /* options of the first block */
	size_t ropts_len;
	uint8_t *rbody;
	size_t rlen, rcap;
	uint32_t b2_next; /* 0: no Block2 transfer in progress */
	unsigned b2_szx;
	bool observe_req;
	bool observing;
};

struct gw_fwd {
	coap_context_t *ctx;
	struct pend **buckets;
	size_t n_buckets;
	struct pend *thead, *ttail;
	size_t count, observing;
	size_t pending_max, payload_max;
	struct backend *backends;
	uint64_t next_id;
	/* The relay's hook for NACKs of PDUs sent to devices. */
	void (*dev_nack)(void *arg, coap_session_t *dev, const coap_pdu_t *sent,
	                 coap_nack_reason_t reason);
	void *dev_nack_arg;
	uint8_t scratch[RELAY_BUF];
};

static size_t pbucket(const gw_fwd *f, uint64_t id)
{
	/* ids are ours (a counter under a random start), not peer-chosen. */
	return (size_t)(id ^ (id >> 29)) & (f->n_buckets - 1);
}

static struct pend *pfind(const gw_fwd *f, uint64_t id)
{
	for (struct pend *p = f->buckets[pbucket(f, id)]; p; p = p->hnext)
		if (p->id == id)
			return p;
	return NULL;
}

static void tlist_remove(gw_fwd *f, struct pend *p)
{
	if (!p->timed)
		return;
	if (p->tprev)
		p->tprev->tnext = p->tnext;
	else
		f->thead = p->tnext;
	if (p->tnext)
		p->tnext->tprev = p->tprev;
	else
		f->ttail = p->tprev;
	p->tprev = p->tnext = NULL;
	p->timed = false;
}

/* Most requests of a route share one timeout, so walking back from the tail
 * is usually one step. */
static void tlist_insert(gw_fwd *f, struct pend *p)
{
	struct pend *at = f->ttail;
	while (at && at->deadline > p->deadline)
		at = at->tprev;
	p->tprev = at;
	p->tnext = at ? at->tnext : f->thead;
	if (p->tnext)
		p->tnext->tprev = p;
	else
		f->ttail = p;
	if (at)
		at->tnext = p;
	else
		f->thead = p;
	p->timed = true;
}

/* Unlinks p from the tables (not freed). */
static void punlink(gw_fwd *f, struct pend *p)
{
	for (struct pend **pp = &f->buckets[pbucket(f, p->id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	tlist_remove(f, p);
	if (p->observing)
		f->observing--;
	f->count--;
}

static void pfree(struct pend *p)
{
	if (!p)
		return;
	free(p->opts);
	free(p->body);
	free(p->ropts);
	free(p->rbody);
	free(p);
}

static void id_to_token(uint64_t id, uint8_t tok[TOKEN_LEN])
{
	for (int i = TOKEN_LEN - 1; i >= 0; i--) {
		tok[i] = (uint8_t)id;
		id >>= 8;
	}
}

static bool token_to_id(const coap_pdu_t *pdu, uint64_t *ret)
{
	coap_bin_const_t t = coap_pdu_get_token(pdu);
	uint64_t id = 0;
	if (t.length != TOKEN_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_LEN; i++)
		id = id << 8 | t.s[i];
	*ret = id;
	return true;
}

static void remove_block_opts(oscore_msg *m)
{
	oscore_msg_remove(m, OSCORE_OPT_BLOCK1);
	oscore_msg_remove(m, OSCORE_OPT_BLOCK2);
	oscore_msg_remove(m, OSCORE_OPT_SIZE1);
	oscore_msg_remove(m, OSCORE_OPT_SIZE2);
}

int gw_pdu_to_msg(const coap_pdu_t *pdu, oscore_msg *m)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	const uint8_t *data;
	size_t len;
	oscore_msg_init(m, (uint8_t)coap_pdu_get_code(pdu));
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while ((opt = coap_option_next(&it))) {
		int rc = oscore_msg_add(m, it.number, coap_opt_value(opt), coap_opt_length(opt));
		if (rc != 0)
			return rc;
	}
	if (coap_get_data(pdu, &len, &data))
		oscore_msg_set_payload(m, data, len);
	return 0;
}

static int add_msg_to_pdu(coap_pdu_t *pdu, const oscore_msg *m)
{
	for (size_t i = 0; i < m->n_opts; i++)
		if (coap_add_option(pdu, m->opts[i].number, m->opts[i].len, m->opts[i].value) == 0)
			return EDHOC_E_BUFFER_TOO_SMALL;
	if (m->payload_len && !coap_add_data(pdu, m->payload_len, m->payload))
		return EDHOC_E_BUFFER_TOO_SMALL;
	return 0;
}

static struct backend *backend_get(gw_fwd *f, const struct sockaddr *sa, socklen_t len)
{
	gw_addr a;
	coap_address_t ca;
	struct backend *b;

	gw_addr_set(&a, sa, len);
	if (a.len == 0)
		return NULL;
	for (b = f->backends; b; b = b->next)
		if (gw_addr_equal(&b->addr, &a) && b->s)
			return b;
	if (!b) {
		for (b = f->backends; b; b = b->next)
			if (gw_addr_equal(&b->addr, &a))
				break;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		b->addr = a;
		b->next = f->backends;
		f->backends = b;
	}
	coap_address_init(&ca);
	memcpy(&ca.addr, &a.u, a.len);
	ca.size = a.len;
	b->s = coap_new_client_session(f->ctx, NULL, &ca, COAP_PROTO_UDP);
	if (!b->s)
		return NULL;
	coap_session_set_app_data(b->s, f);
	/* NSTART 1 would serialise every device's request to this backend. */
	coap_session_set_nstart(b->s, NSTART_BACKEND);
	return b;
}

/* A backend session that failed (ICMP): a fresh one is made for the next
 * request, so a backend that comes back is used again. */
static void backend_reset(gw_fwd *f, coap_session_t *s)
{
	for (struct backend *b = f->backends; b; b = b->next) {
		if (b->s == s) {
			coap_session_set_app_data(s, NULL);
			coap_session_release(s);
			b->s = NULL;
			return;
		}
	}
}

/* Sends the next exchange of p: the request, its next Block1 part, or a
 * request for the next Block2 block. */
static int send_exchange(gw_fwd *f, struct pend *p)
{
	coap_session_t *s = p->be->s;
	coap_pdu_t *pdu;
	oscore_msg m;
	uint8_t tok[TOKEN_LEN], b1[3], b2[3], sz1[4];
	gw_block_opt bo;
	int rc;

	if (!s)
		return GW_E_BACKEND_UNREACHABLE;
	rc = oscore_msg_decode_body(p->code, p->opts, p->opts_len, &m);
	if (rc != 0)
		return rc;
	if (p->b2_next > 0) {
		/* Later blocks of the answer: same request, no payload. */
		bo.num = p->b2_next;
		bo.more = false;
		bo.szx = p->b2_szx;
		oscore_msg_remove(&m, OSCORE_OPT_OBSERVE);
		rc = oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2, gw_block_encode(&bo, b2));
	} else if (p->block1) {
		size_t size = gw_block_size(p->b1_szx);
		size_t n = p->body_len - p->b1_sent;
		bo.num = (uint32_t)(p->b1_sent / size);
		bo.more = n > size;
		bo.szx = p->b1_szx;
		if (n > size)
			n = size;
		rc = oscore_msg_add(&m, OSCORE_OPT_BLOCK1, b1, gw_block_encode(&bo, b1));
		if (rc == 0 && bo.num == 0)
			rc = oscore_msg_add(&m, OSCORE_OPT_SIZE1, sz1,
			                    oscore_uint_encode((uint32_t)p->body_len, sz1));
		oscore_msg_set_payload(&m, p->body + p->b1_sent, n);
	} else {
		oscore_msg_set_payload(&m, p->body, p->body_len);
	}
	if (rc != 0)
		return rc;
	pdu = coap_pdu_init(COAP_MESSAGE_CON, (coap_pdu_code_t)p->code, coap_new_message_id(s),
	                    coap_session_max_pdu_size(s));
	if (!pdu)
		return EDHOC_E_NOMEM;
	id_to_token(p->id, tok);
	if (!coap_add_token(pdu, TOKEN_LEN, tok) || add_msg_to_pdu(pdu, &m) != 0) {
		coap_delete_pdu(pdu);
		return EDHOC_E_MESSAGE_TOO_LARGE;
	}
	if (coap_send(s, pdu) == COAP_INVALID_MID)
		return GW_E_BACKEND_UNREACHABLE;
	return 0;
}

/* Ends p with an error: unlink, tell the owner, free. */
static void pfail(gw_fwd *f, struct pend *p, int result)
{
	gw_fwd_done_fn done = p->done;
	void *arg = p->arg;
	uint64_t id = p->id;
	punlink(f, p);
	pfree(p);
	done(arg, id, result, NULL);
}

static void fwd_nack(coap_session_t *session, const coap_pdu_t *sent,
                     const coap_nack_reason_t reason, const coap_mid_t mid)
{
	gw_fwd *f = coap_session_get_app_data(session);
	struct pend *p;
	uint64_t id;

	(void)mid;
	if (!f || !sent)
		return;
	if (coap_session_get_type(session) != COAP_SESSION_TYPE_CLIENT) {
		if (f->dev_nack)
			f->dev_nack(f->dev_nack_arg, session, sent, reason);
		return;
	}
	if (!token_to_id(sent, &id) || !(p = pfind(f, id)))
		return;
	if (reason == COAP_NACK_ICMP_ISSUE || reason == COAP_NACK_NOT_DELIVERABLE)
		backend_reset(f, session);
	pfail(f, p,
	      reason == COAP_NACK_TOO_MANY_RETRIES ? GW_E_BACKEND_TIMEOUT
	                                           : GW_E_BACKEND_UNREACHABLE);
}

static int append_body(gw_fwd *f, struct pend *p, const uint8_t *d, size_t n)
{
	if (p->rlen + n > f->payload_max)
		return GW_E_BACKEND_RESPONSE;
	if (p->rlen + n > p->rcap) {
		size_t cap = p->rcap ? p->rcap * 2 : 2048;
		uint8_t *nb;
		while (cap < p->rlen + n)
			cap *= 2;
		if (cap > f->payload_max)
			cap = f->payload_max;
		nb = realloc(p->rbody, cap);
		if (!nb)
			return EDHOC_E_NOMEM;
		p->rbody = nb;
		p->rcap = cap;
	}
	if (n)
		memcpy(p->rbody + p->rlen, d, n);
	p->rlen += n;
	return 0;
}

/* The answer m is complete: hand it over (block options removed). */
static void deliver(gw_fwd *f, struct pend *p, oscore_msg *m)
{
	bool keep;
	gw_fwd_done_fn done = p->done;
	void *arg = p->arg;
	uint64_t id = p->id;

	remove_block_opts(m);
	keep = p->observe_req && oscore_msg_find(m, OSCORE_OPT_OBSERVE) && (m->code >> 5) == 2;
	if (keep) {
		/* Registered: no deadline any more; later notifications come
		 * with this token. */
		tlist_remove(f, p);
		if (!p->observing) {
			p->observing = true;
			f->observing++;
		}
		done(arg, id, 0, m);
		return;
	}
	punlink(f, p);
	done(arg, id, 0, m);
	pfree(p);
}

static coap_response_t fwd_response(coap_session_t *session, const coap_pdu_t *sent,
                                    const coap_pdu_t *recv, const coap_mid_t mid)
{
	gw_fwd *f = coap_session_get_app_data(session);
	struct pend *p;
	oscore_msg m;
	const oscore_option *o;
	gw_block_opt bo;
	uint64_t id;
	int rc;

	(void)sent;
	(void)mid;
	if (!f || coap_session_get_type(session) != COAP_SESSION_TYPE_CLIENT)
		return COAP_RESPONSE_OK;
	if (!token_to_id(recv, &id) || !(p = pfind(f, id)) || p->be->s != session) {
		/* A notification nobody wants any more: RST ends it at the
		 * backend.  Late answers to timed-out requests are just
		 * dropped. */
		coap_opt_iterator_t it;
		return coap_check_option(recv, COAP_OPTION_OBSERVE, &it) ? COAP_RESPONSE_FAIL
		                                                         : COAP_RESPONSE_OK;
	}
	rc = gw_pdu_to_msg(recv, &m);
	if (rc != 0) {
		pfail(f, p, GW_E_BACKEND_RESPONSE);
		return COAP_RESPONSE_OK;
	}
	/* Block1: 2.31 Continue asks for the next part (possibly smaller). */
	if (p->block1 && p->b1_sent < p->body_len && m.code == CODE(2, 31)) {
		size_t size = gw_block_size(p->b1_szx);
		o = oscore_msg_find(&m, OSCORE_OPT_BLOCK1);
		if (!o || gw_block_decode(o->value, o->len, &bo) != 0 ||
		    bo.num != p->b1_sent / size) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return COAP_RESPONSE_OK;
		}
		p->b1_sent += size;
		if (bo.szx < p->b1_szx)
			p->b1_szx = bo.szx; /* b1_sent stays a multiple of the new size */
		if (p->b1_sent >= p->body_len) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return COAP_RESPONSE_OK;
		}
		rc = send_exchange(f, p);
		if (rc != 0)
			pfail(f, p, rc);
		return COAP_RESPONSE_OK;
	}
	if (p->block1)
		p->b1_sent = p->body_len;
	/* Block2: collect, ask for the next block. */
	o = oscore_msg_find(&m, OSCORE_OPT_BLOCK2);
	if (o && (m.code >> 5) == 2) {
		if (gw_block_decode(o->value, o->len, &bo) != 0 || bo.num != p->b2_next ||
		    (bo.more && m.payload_len != gw_block_size(bo.szx))) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return COAP_RESPONSE_OK;
		}
		if (bo.num == 0) {
			/* Keep the first block's code and options for the
			 * whole answer. */
			uint8_t *copy = NULL;
			size_t len = 0;
			oscore_msg hm = m;
			oscore_msg_set_payload(&hm, NULL, 0);
			rc = oscore_msg_encode_body(&hm, f->scratch, sizeof(f->scratch), &len);
			if (rc == 0 && len && !(copy = malloc(len)))
				rc = EDHOC_E_NOMEM;
			if (rc != 0) {
				pfail(f, p, GW_E_BACKEND_RESPONSE);
				return COAP_RESPONSE_OK;
			}
			if (len)
				memcpy(copy, f->scratch, len);
			free(p->ropts);
			p->ropts = copy;
			p->ropts_len = len;
			p->rcode = m.code;
			p->rlen = 0;
		}
		rc = append_body(f, p, m.payload, m.payload_len);
		if (rc != 0) {
			pfail(f, p, rc);
			return COAP_RESPONSE_OK;
		}
		if (bo.more) {
			p->b2_next = bo.num + 1;
			p->b2_szx = bo.szx;
			rc = send_exchange(f, p);
			if (rc != 0)
				pfail(f, p, rc);
			return COAP_RESPONSE_OK;
		}
		if (bo.num > 0 || p->ropts) {
			oscore_msg whole;
			if (oscore_msg_decode_body(p->rcode, p->ropts, p->ropts_len, &whole) != 0) {
				pfail(f, p, GW_E_BACKEND_RESPONSE);
				return COAP_RESPONSE_OK;
			}
			oscore_msg_set_payload(&whole, p->rbody, p->rlen);
			p->b2_next = 0;
			deliver(f, p, &whole);
			return COAP_RESPONSE_OK;
		}
	}
	if (m.payload_len > f->payload_max) {
		pfail(f, p, GW_E_BACKEND_RESPONSE);
		return COAP_RESPONSE_OK;
	}
	deliver(f, p, &m);
	return COAP_RESPONSE_OK;
}

int gw_fwd_create(coap_context_t *ctx, size_t pending_max, size_t payload_max, gw_fwd **ret)
{
	gw_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return EDHOC_E_NOMEM;
	f->ctx = ctx;
	f->n_buckets = gw_hash_buckets(pending_max);
	f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
	if (!f->buckets) {
		free(f);
		return EDHOC_E_NOMEM;
	}
	f->pending_max = pending_max;
	f->payload_max = payload_max;
	/* A random start keeps our tokens unpredictable to backends. */
	if (getrandom(&f->next_id, sizeof(f->next_id), 0) != (ssize_t)sizeof(f->next_id))
		f->next_id = 0x6564686f63640000ull;
	coap_register_response_handler(ctx, fwd_response);
	coap_register_nack_handler(ctx, fwd_nack);
	*ret = f;
	return 0;
}

void gw_fwd_free(gw_fwd *f)
{
	struct backend *b, *nb;
	if (!f)
		return;
	for (size_t i = 0; i < f->n_buckets; i++) {
		struct pend *p = f->buckets[i], *n;
		for (; p; p = n) {
			n = p->hnext;
			pfree(p);
		}
	}
	for (b = f->backends; b; b = nb) {
		nb = b->next;
		if (b->s) {
			coap_session_set_app_data(b->s, NULL);
			coap_session_release(b->s);
		}
		free(b);
	}
	free(f->buckets);
	free(f);
}

void gw_fwd_set_limits(gw_fwd *f, size_t pending_max, size_t payload_max)
{
	/* Buckets stay: the chains just get longer or shorter. */
	f->pending_max = pending_max;
	f->payload_max = payload_max;
}

int gw_fwd_send(gw_fwd *f, const struct sockaddr *addr, socklen_t addr_len, const oscore_msg *req,
                unsigned timeout_ms, uint64_t now_ms, gw_fwd_done_fn done, void *arg,
                uint64_t *ret_id)
{
	struct pend *p = NULL;
	oscore_msg m = *req;
	size_t len = 0;
	const oscore_option *obs;
	int rc;

	if (f->count >= f->pending_max)
		return EDHOC_E_LIMIT;
	if (req->payload_len > f->payload_max)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	remove_block_opts(&m);
	oscore_msg_set_payload(&m, NULL, 0);
	rc = oscore_msg_encode_body(&m, f->scratch, GW_FWD_MAX_OPTS_BYTES, &len);
	if (rc != 0)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return EDHOC_E_NOMEM;
	p->be = backend_get(f, addr, addr_len);
	if (!p->be) {
		free(p);
		return GW_E_BACKEND_UNREACHABLE;
	}
	if (len && !(p->opts = malloc(len)))
		goto nomem;
	if (len)
		memcpy(p->opts, f->scratch, len);
	p->opts_len = len;
	if (req->payload_len) {
		p->body = malloc(req->payload_len);
		if (!p->body)
			goto nomem;
		memcpy(p->body, req->payload, req->payload_len);
		p->body_len = req->payload_len;
	}
	p->code = req->code;
	p->b1_szx = GW_FWD_BLOCK_SZX;
	p->block1 = p->body_len > gw_block_size(GW_FWD_BLOCK_SZX);
	obs = oscore_msg_find(req, OSCORE_OPT_OBSERVE);
	p->observe_req = obs && obs->len == 0; /* Observe: 0 registers */
	p->done = done;
	p->arg = arg;
	do
		p->id = f->next_id++;
	while (pfind(f, p->id));
	p->deadline = now_ms + (timeout_ms ? timeout_ms : 1);
	rc = send_exchange(f, p);
	if (rc != 0) {
		if (rc == GW_E_BACKEND_UNREACHABLE && p->be->s)
			backend_reset(f, p->be->s);
		pfree(p);
		return rc;
	}
	p->hnext = f->buckets[pbucket(f, p->id)];
	f->buckets[pbucket(f, p->id)] = p;
	tlist_insert(f, p);
	f->count++;
	*ret_id = p->id;
	return 0;
nomem:
	pfree(p);
	return EDHOC_E_NOMEM;
}

void gw_fwd_cancel(gw_fwd *f, uint64_t id)
{
	struct pend *p = pfind(f, id);
	if (!p)
		return;
	punlink(f, p);
	pfree(p);
}

void gw_fwd_tick(gw_fwd *f, uint64_t now_ms)
{
	/* Each failure unlinks the head, so this ends. */
	while (f->thead && f->thead->deadline <= now_ms)
		pfail(f, f->thead, GW_E_BACKEND_TIMEOUT);
}

uint64_t gw_fwd_next_deadline(const gw_fwd *f)
{
	return f->thead ? f->thead->deadline : UINT64_MAX;
}

size_t gw_fwd_pending(const gw_fwd *f)
{
	return f->count - f->observing;
}

size_t gw_fwd_observing(const gw_fwd *f)
{
	return f->observing;
}

/* ==== device side ==== */

/* One forwarded request of a device, from parking to its answer; for an
 * observation also the relationship afterwards. */
struct rq {
	struct rq *prev, *next; /* all of the relay's, for session cleanup */
	gw_relay *r;
	uint64_t fwd_id;
	bool fwd_live;       /* gw_fwd still knows fwd_id */
	coap_session_t *dev; /* referenced while we hold rq */
	coap_async_t *async; /* parked request, until the first answer */
	uint8_t tok[8];
	size_t tok_len;
	bool con;
	uint16_t mid; /* the request's, for the retransmission cache */
	gw_addr peer;
	char peer_text[GW_ADDR_STRLEN];
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
	coap_context_t *ctx;
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
	if (q->async)
		coap_free_async(q->dev, q->async);
	if (q->dev)
		coap_session_release(q->dev);
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

static void relay_fail(gw_relay *r, const char *peer, const char *identity, int code,
                       const char *detail)
{
	diag_event ev = {
	    .code = code, .step = "forward", .peer = peer, .identity = identity, .detail = detail};
	diag_failure(r->diag, &ev, NULL);
}

/* Sends outer (protected) to the device as a separate response or a
 * notification. */
static int send_to_device(gw_relay *r, struct rq *q, const oscore_msg *outer, bool cache,
                          uint64_t now)
{
	coap_pdu_t *pdu;
	bool con = q->con || q->observing;
	pdu = coap_pdu_init(con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, (coap_pdu_code_t)outer->code,
	                    coap_new_message_id(q->dev), coap_session_max_pdu_size(q->dev));
	if (!pdu)
		return EDHOC_E_NOMEM;
	if (!coap_add_token(pdu, q->tok_len, q->tok) || add_msg_to_pdu(pdu, outer) != 0) {
		coap_delete_pdu(pdu);
		return EDHOC_E_MESSAGE_TOO_LARGE;
	}
	/* Our hook for RST / no ACK from the device (ends observations). */
	coap_session_set_app_data(q->dev, r->fwd);
	if (coap_send(q->dev, pdu) == COAP_INVALID_MID)
		return GW_E_BACKEND_UNREACHABLE;
	/* A late retransmission of the request gets this answer piggybacked,
	 * not a replay error. */
	if (cache)
		gw_rtx_store_msg(r->rtx, &q->peer, q->mid, outer, now);
	return 0;
}

/* The backend answered (or failed) for q. */
static void relay_done(void *arg, uint64_t id, int result, const oscore_msg *resp)
{
	struct rq *q = arg;
	gw_relay *r = q->r;
	gw_session *s = gw_sessions_find(r->sessions, q->rid, q->rid_len);
	uint64_t now = now_ms();
	bool first = q->async != NULL;
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
		relay_fail(r, q->peer_text, s->identity, result, NULL);
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
			relay_fail(r, q->peer_text, s->identity, orc,
			           "answer cannot be kept for outer Block2");
		outer = cut;
	}
	if (rc == 0)
		rc = send_to_device(r, q, &outer, first, now);
	free(big);
	if (rc != 0)
		relay_fail(r, q->peer_text, s->identity, rc, "answer to the device not sent");
	if (first) {
		coap_free_async(q->dev, q->async);
		q->async = NULL;
	}
	if (ends || rc != 0) {
		rq_free(r, q);
		return;
	}
	q->observing = true;
}

static void relay_dev_nack(void *arg, coap_session_t *dev, const coap_pdu_t *sent,
                           coap_nack_reason_t reason)
{
	gw_relay *r = arg;
	coap_bin_const_t t = coap_pdu_get_token(sent);
	(void)reason;
	/* RST or no ACK to a notification: the device is not listening. */
	for (struct rq *q = r->head; q; q = q->next) {
		if (q->dev == dev && q->observing && q->tok_len == t.length &&
		    memcmp(q->tok, t.s, t.length) == 0) {
			rq_free(r, q);
			return;
		}
	}
}

int gw_relay_create(coap_context_t *ctx, gw_sessions *sessions, gw_rtx *rtx, diag *d,
                    size_t pending_max, size_t payload_max, size_t observations_per_device,
                    gw_relay **ret)
{
	gw_relay *r = calloc(1, sizeof(*r));
	int rc;
	if (!r)
		return EDHOC_E_NOMEM;
	r->ctx = ctx;
	r->sessions = sessions;
	r->rtx = rtx;
	r->diag = d;
	r->obs_per_device = observations_per_device;
	rc = gw_fwd_create(ctx, pending_max, payload_max, &r->fwd);
	if (rc == 0) {
		r->blk = gw_blk_create(pending_max, payload_max, BLOCK_LIFETIME_MS);
		if (!r->blk)
			rc = EDHOC_E_NOMEM;
	}
	if (rc != 0) {
		gw_relay_free(r);
		return rc;
	}
	r->fwd->dev_nack = relay_dev_nack;
	r->fwd->dev_nack_arg = r;
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
	coap_bin_const_t tok = coap_pdu_get_token(q->pdu);
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
			relay_fail(r, q->peer_text, q->s->identity, GW_E_BLOCK_INCOMPLETE,
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
			size_t n = oscore_uint_encode((uint32_t)r->fwd->payload_max, r->o_size);
			out_code(r, CODE(4, 13));
			oscore_msg_add(&r->out, OSCORE_OPT_SIZE1, r->o_size, n);
			relay_fail(r, q->peer_text, q->s->identity, rc, "Block1 upload too large");
			goto answer;
		}
		if (rc != 0) {
			out_text(r, CODE(4, 8), "Request Entity Incomplete");
			relay_fail(r, q->peer_text, q->s->identity,
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
	} else if (len > r->fwd->payload_max) {
		size_t n = oscore_uint_encode((uint32_t)r->fwd->payload_max, r->o_size);
		out_code(r, CODE(4, 13));
		oscore_msg_add(&r->out, OSCORE_OPT_SIZE1, r->o_size, n);
		goto answer;
	}
	if (o_obs && (in->code == OSCORE_CODE_GET || in->code == OSCORE_CODE_FETCH)) {
		/* A new registration, or a re-registration / deregistration
		 * with the token of an existing one (RFC 7641 §3.3.1, §3.6). */
		for (struct rq *x = r->head; x; x = x->next) {
			if (x->observe && x->dev == q->dev && x->tok_len == tok.length &&
			    memcmp(x->tok, tok.s, tok.length) == 0 && x->rid_len == rid_len &&
			    memcmp(x->rid, rid, rid_len) == 0) {
				rq_free(r, x);
				break;
			}
		}
		if (obs == 0) {
			if (count_observations(r, rid, rid_len) < r->obs_per_device)
				observe = true;
			else
				relay_fail(r, q->peer_text, q->s->identity, GW_E_OBSERVE_LIMIT,
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
	rq->con = coap_pdu_get_type(q->pdu) == COAP_MESSAGE_CON;
	rq->mid = (uint16_t)coap_pdu_get_mid(q->pdu);
	rq->peer = *q->peer;
	snprintf(rq->peer_text, sizeof(rq->peer_text), "%s", q->peer_text);
	if (tok.length > sizeof(rq->tok) || rid_len > sizeof(rq->rid)) {
		free(rq);
		out_code(r, CODE(4, 0));
		goto answer;
	}
	memcpy(rq->tok, tok.s, tok.length);
	rq->tok_len = tok.length;
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
		relay_fail(r, q->peer_text, q->s->identity, rc, q->rt->name);
		goto answer;
	}
	rq->fwd_live = true;
	rq->async = coap_register_async(q->dev, q->pdu, 0);
	if (!rq->async) {
		gw_fwd_cancel(r->fwd, rq->fwd_id);
		free(rq);
		out_code(r, CODE(5, 0));
		goto answer;
	}
	rq->dev = coap_session_reference(q->dev);
	/* NSTART 1 would hold every further separate response to this device
	 * behind an unacknowledged one. */
	coap_session_set_nstart(q->dev, NSTART_DEVICE);
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
	for (; q; q = n) {
		n = q->next;
		if (q->rid_len == rid_len && memcmp(q->rid, rid, rid_len) == 0)
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
