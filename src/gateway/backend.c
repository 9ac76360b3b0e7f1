/* The backend client.  See backend.h. */
#include "gateway/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "edhoc/result.h"
#include "gateway/addr.h"
#include "gateway/block.h"
#include "gateway/forward.h"
#include "gateway/hash.h"

#define CODE(c, d)     ((uint8_t)(((c) << 5) | (d)))
#define TOKEN_LEN      8
#define NSTART_BACKEND 64
#define SCRATCH        2048

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
	gw_fwd_dev_nack_fn dev_nack;
	void *dev_nack_arg;
	uint8_t scratch[SCRATCH];
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
	if (!coap_add_token(pdu, TOKEN_LEN, tok) || gw_msg_to_pdu(pdu, &m) != 0) {
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

int gw_fwd_create(coap_context_t *ctx, int epfd, size_t pending_max, size_t payload_max,
                  gw_fwd **ret)
{
	gw_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return EDHOC_E_NOMEM;
	f->ctx = ctx;
	(void)epfd; /* libcoap's sessions live in its own epoll fd */
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

size_t gw_fwd_payload_max(const gw_fwd *f)
{
	return f->payload_max;
}

void gw_fwd_set_dev_nack(gw_fwd *f, gw_fwd_dev_nack_fn fn, void *arg)
{
	f->dev_nack = fn;
	f->dev_nack_arg = arg;
}
