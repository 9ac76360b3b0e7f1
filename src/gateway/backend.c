/* The backend client.  See backend.h. */
#include "gateway/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "edhoc/result.h"
#include "gateway/addr.h"
#include "gateway/block.h"
#include "gateway/hash.h"
#include "gateway/tlist.h"
#include "gateway/io.h"

#define CODE(c, d) ((uint8_t)(((c) << 5) | (d)))
/* Restarts of one Block2 answer whose ETag keeps changing. */
#define B2_RESTARTS_MAX 3
#define TOKEN_LEN       8
#define SCRATCH         2048
#define RECV_BUF        65536 /* the largest UDP datagram fits */
#define RECV_BURST      64    /* datagrams per ready(): other sockets get a turn */
#define SEEN_MIDS       32    /* CON MIDs remembered per backend for duplicates */
/* Room a request's datagram needs beyond its options and one block of
 * body: header, token, payload marker, Block1/Block2/Size1 options. */
#define DG_EXTRA (4 + TOKEN_LEN + 1 + 3 * (1 + 2 + 4))

enum { T_CON = 0, T_NON = 1, T_ACK = 2, T_RST = 3 };

/* Where a pend's current exchange (one confirmable request) stands. */
enum {
	EX_NONE,    /* none: an observation waiting for notifications */
	EX_UNACKED, /* sent, retransmitted until ACK or answer */
	EX_ACKED,   /* empty ACK: a separate answer will follow */
};

struct backend {
	struct backend *next;
	gw_io io;
	gw_fwd *f;
	gw_addr addr;
	int fd; /* connected: ICMP errors come back as ECONNREFUSED */
	uint16_t next_mid;
	bool refused;               /* its doomed pends are failed at the next safe point */
	struct pend *phead, *ptail; /* its pends, oldest first */
	/* Recently received CON messages and what we answered (ACK or RST):
	 * a retransmission whose ACK got lost is answered alike, not
	 * delivered again. */
	struct {
		uint16_t mid;
		uint8_t reply;
	} seen[SEEN_MIDS];
	size_t n_seen, seen_pos;
};

struct pend {
	uint64_t id;                /* our token, also the caller's handle */
	struct pend *hnext;         /* id hash */
	struct pend *mnext;         /* MID hash, while EX_UNACKED */
	gw_tlink timer;             /* deadline order, while not observing */
	struct pend *bprev, *bnext; /* the backend's list */
	bool doomed;                /* the backend reported unreachable while p was on it */
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
	unsigned b2_restarts; /* of this answer, after its ETag changed */
	unsigned timeout_ms;  /* the route's, also for a notification's blocks */
	bool observe_req;
	bool observing;
	/* The current exchange: its datagram is kept for retransmission. */
	int ex;
	uint16_t mid;
	unsigned rtx_count;
	uint64_t rtx_timeout;
	uint64_t rtx_at;
	size_t heap_idx; /* SIZE_MAX: no retransmission timer */
	uint8_t *dg;
	size_t dg_len, dg_cap;
	/* opts, body and dg live here: one allocation per request. */
	uint8_t mem[];
};

struct gw_fwd {
	int epfd;
	struct pend **buckets;  /* by id */
	struct pend **mbuckets; /* by (backend, MID) */
	size_t n_buckets;
	gw_tlist timers; /* pending requests by deadline */
	/* Retransmission timers: a binary min-heap on rtx_at. */
	struct pend **heap;
	size_t heap_len, heap_cap;
	size_t count, observing;
	size_t pending_max, payload_max;
	struct backend *backends, *last;
	size_t n_backends;
	bool refused; /* some backend has doomed pends */
	uint64_t next_id;
	uint64_t rng;
	unsigned ack_timeout_ms, max_retransmit;
	uint8_t scratch[SCRATCH];
	uint8_t rbuf[RECV_BUF];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xorshift64*: retransmission jitter and MID starts need no secrecy, and a
 * getrandom per request is a system call per request. */
static uint64_t rnd(gw_fwd *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dull;
}

/* ---- tables ---- */

static size_t pbucket(const gw_fwd *f, uint64_t id)
{
	/* ids are ours (a counter under a random start), not peer-chosen. */
	return (size_t)(id ^ (id >> 29)) & (f->n_buckets - 1);
}

static size_t mbucket(const gw_fwd *f, const struct backend *b, uint16_t mid)
{
	/* Only our own MIDs are in the table: a peer cannot lengthen a
	 * chain, only look one up. */
	return ((size_t)mid ^ ((size_t)(uintptr_t)b >> 6) * 31u) & (f->n_buckets - 1);
}

static struct pend *pfind(const gw_fwd *f, uint64_t id)
{
	for (struct pend *p = f->buckets[pbucket(f, id)]; p; p = p->hnext)
		if (p->id == id)
			return p;
	return NULL;
}

static struct pend *mfind(const gw_fwd *f, const struct backend *b, uint16_t mid)
{
	for (struct pend *p = f->mbuckets[mbucket(f, b, mid)]; p; p = p->mnext)
		if (p->be == b && p->mid == mid)
			return p;
	return NULL;
}

static void mremove(gw_fwd *f, struct pend *p)
{
	for (struct pend **pp = &f->mbuckets[mbucket(f, p->be, p->mid)]; *pp; pp = &(*pp)->mnext) {
		if (*pp == p) {
			*pp = p->mnext;
			break;
		}
	}
	p->mnext = NULL;
}

/* Retransmission times are jittered, so unlike deadlines they do not
 * arrive in order: a heap keeps insert and removal logarithmic. */
static void heap_set(gw_fwd *f, size_t i, struct pend *p)
{
	f->heap[i] = p;
	p->heap_idx = i;
}

static void heap_up(gw_fwd *f, size_t i)
{
	struct pend *p = f->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (f->heap[parent]->rtx_at <= p->rtx_at)
			break;
		heap_set(f, i, f->heap[parent]);
		i = parent;
	}
	heap_set(f, i, p);
}

static void heap_down(gw_fwd *f, size_t i)
{
	struct pend *p = f->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= f->heap_len)
			break;
		if (c + 1 < f->heap_len && f->heap[c + 1]->rtx_at < f->heap[c]->rtx_at)
			c++;
		if (f->heap[c]->rtx_at >= p->rtx_at)
			break;
		heap_set(f, i, f->heap[c]);
		i = c;
	}
	heap_set(f, i, p);
}

static int heap_push(gw_fwd *f, struct pend *p)
{
	if (f->heap_len == f->heap_cap) {
		/* At most one entry per pend, and pends are bounded by
		 * pending_max. */
		size_t cap = f->heap_cap ? f->heap_cap * 2 : 64;
		struct pend **nh = realloc(f->heap, cap * sizeof(*nh));
		if (!nh)
			return EDHOC_E_NOMEM;
		f->heap = nh;
		f->heap_cap = cap;
	}
	f->heap[f->heap_len++] = p;
	heap_up(f, f->heap_len - 1);
	return 0;
}

static void heap_remove(gw_fwd *f, struct pend *p)
{
	size_t i = p->heap_idx;
	struct pend *last;
	if (i == SIZE_MAX)
		return;
	p->heap_idx = SIZE_MAX;
	last = f->heap[--f->heap_len];
	if (last == p)
		return;
	heap_set(f, i, last);
	heap_up(f, i);
	heap_down(f, last->heap_idx);
}

/* Leaves the current exchange: no more retransmissions, its MID no longer
 * matches ACK or RST. */
static void ex_end(gw_fwd *f, struct pend *p)
{
	if (p->ex == EX_UNACKED)
		mremove(f, p);
	heap_remove(f, p);
	p->ex = EX_NONE;
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
	gw_tlist_remove(&f->timers, &p->timer);
	ex_end(f, p);
	if (p->bprev)
		p->bprev->bnext = p->bnext;
	else
		p->be->phead = p->bnext;
	if (p->bnext)
		p->bnext->bprev = p->bprev;
	else
		p->be->ptail = p->bprev;
	if (p->observing)
		f->observing--;
	f->count--;
}

static void pfree(struct pend *p)
{
	if (!p)
		return;
	free(p->ropts);
	free(p->rbody);
	free(p);
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

static void id_to_token(uint64_t id, uint8_t tok[TOKEN_LEN])
{
	for (int i = TOKEN_LEN - 1; i >= 0; i--) {
		tok[i] = (uint8_t)id;
		id >>= 8;
	}
}

static bool token_to_id(const oscore_coap_hdr *h, uint64_t *ret)
{
	uint64_t id = 0;
	if (h->token_len != TOKEN_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_LEN; i++)
		id = id << 8 | h->token[i];
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

/* ---- sockets ---- */

/* The backend is unreachable (ICMP): every pend it has now fails at the
 * next safe point (process_refused), not here, where we may be inside
 * gw_fwd_send or walking a table. */
static void backend_refused(gw_fwd *f, struct backend *b)
{
	for (struct pend *p = b->phead; p; p = p->bnext)
		p->doomed = true;
	b->refused = true;
	f->refused = true;
}

static bool unreachable_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN;
}

/* 0, also when the datagram was lost locally (EAGAIN, ENOBUFS: the
 * retransmission covers it); GW_E_BACKEND_UNREACHABLE after ICMP. */
static int xmit(gw_fwd *f, struct backend *b, const uint8_t *d, size_t len)
{
	while (send(b->fd, d, len, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (unreachable_errno(errno)) {
			backend_refused(f, b);
			return GW_E_BACKEND_UNREACHABLE;
		}
		break;
	}
	return 0;
}

static void send_empty(gw_fwd *f, struct backend *b, int type, uint16_t mid)
{
	uint8_t d[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8), (uint8_t)mid};
	xmit(f, b, d, sizeof(d));
}

static int seen_lookup(const struct backend *b, uint16_t mid)
{
	for (size_t i = 0; i < b->n_seen; i++)
		if (b->seen[i].mid == mid)
			return b->seen[i].reply;
	return -1;
}

static void seen_add(struct backend *b, uint16_t mid, int reply)
{
	b->seen[b->seen_pos].mid = mid;
	b->seen[b->seen_pos].reply = (uint8_t)reply;
	b->seen_pos = (b->seen_pos + 1) % SEEN_MIDS;
	if (b->n_seen < SEEN_MIDS)
		b->n_seen++;
}

static void backend_ready(gw_io *io, uint32_t events);

static struct backend *backend_get(gw_fwd *f, const struct sockaddr *sa, socklen_t len)
{
	gw_addr a;
	struct backend *b;
	struct epoll_event ev;

	gw_addr_set(&a, sa, len);
	if (a.len == 0)
		return NULL;
	if (f->last && gw_addr_equal(&f->last->addr, &a))
		return f->last;
	for (b = f->backends; b; b = b->next) {
		if (gw_addr_equal(&b->addr, &a)) {
			f->last = b;
			return b;
		}
	}
	if (f->n_backends >= GW_FWD_BACKENDS_MAX)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->addr = a;
	b->f = f;
	b->io.ready = backend_ready;
	b->next_mid = (uint16_t)rnd(f);
	b->fd = socket(a.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0)
		goto fail;
	/* Connected, so the kernel drops datagrams from anyone else and
	 * reports ICMP port unreachable to us. */
	if (connect(b->fd, &a.u.sa, a.len) != 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &b->io;
	if (f->epfd >= 0 && epoll_ctl(f->epfd, EPOLL_CTL_ADD, b->fd, &ev) != 0)
		goto fail;
	b->next = f->backends;
	f->backends = b;
	f->n_backends++;
	f->last = b;
	return b;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return NULL;
}

/* ---- exchanges ---- */

/* Sends the next exchange of p: the request, its next Block1 part, or a
 * request for the next Block2 block, as a new CON with a new MID. */
static int send_exchange(gw_fwd *f, struct pend *p, uint64_t now)
{
	struct backend *b = p->be;
	oscore_coap_hdr h;
	oscore_msg m;
	uint8_t b1[3], b2[3], sz1[4];
	gw_block_opt bo;
	int rc;

	ex_end(f, p);
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
	memset(&h, 0, sizeof(h));
	h.type = T_CON;
	h.mid = b->next_mid++;
	h.token_len = TOKEN_LEN;
	id_to_token(p->id, h.token);
	if (oscore_coap_encode(&h, &m, p->dg, p->dg_cap, &p->dg_len) != 0)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	p->mid = h.mid;
	p->ex = EX_UNACKED;
	p->mnext = f->mbuckets[mbucket(f, b, p->mid)];
	f->mbuckets[mbucket(f, b, p->mid)] = p;
	/* RFC 7252 §4.2: ACK_TIMEOUT times a random factor in [1, 1.5). */
	p->rtx_count = 0;
	p->rtx_timeout = f->ack_timeout_ms + (uint64_t)f->ack_timeout_ms * (rnd(f) % 1000) / 2000;
	p->rtx_at = now + p->rtx_timeout;
	/* A retransmission after the deadline would be wasted: the deadline
	 * fails the request first. */
	if (!(p->timer.linked && p->rtx_at >= p->deadline)) {
		rc = heap_push(f, p);
		if (rc != 0)
			return rc;
	}
	return xmit(f, b, p->dg, p->dg_len);
}

/* Fails the doomed pends of unreachable backends.  Called where done may
 * run: the end of ready() and of gw_fwd_tick. */
static void process_refused(gw_fwd *f)
{
	while (f->refused) {
		f->refused = false;
		for (struct backend *b = f->backends; b; b = b->next) {
			if (!b->refused)
				continue;
			b->refused = false;
			/* Pends added since (by a done callback) go to the
			 * tail undoomed, so the doomed ones are a prefix. */
			while (b->phead && b->phead->doomed)
				pfail(f, b->phead, GW_E_BACKEND_UNREACHABLE);
		}
	}
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
		gw_tlist_remove(&f->timers, &p->timer);
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

/* Whether block m carries the ETag of the first block (both none counts
 * as the same). */
static bool same_etag(const struct pend *p, const oscore_msg *m)
{
	const oscore_option *now = oscore_msg_find(m, OSCORE_OPT_ETAG), *first;
	oscore_msg hm;
	if (oscore_msg_decode_body(p->rcode, p->ropts, p->ropts_len, &hm) != 0)
		return false;
	first = oscore_msg_find(&hm, OSCORE_OPT_ETAG);
	if (!now || !first)
		return !now && !first;
	return now->len == first->len && memcmp(now->value, first->value, now->len) == 0;
}

/* An answer (or notification) m for p, whose exchange has ended. */
static void on_response(gw_fwd *f, struct pend *p, oscore_msg *m, uint64_t now)
{
	const oscore_option *o;
	gw_block_opt bo;
	int rc;

	/* Block1: 2.31 Continue asks for the next part (possibly smaller). */
	if (p->block1 && p->b1_sent < p->body_len && m->code == CODE(2, 31)) {
		size_t size = gw_block_size(p->b1_szx);
		o = oscore_msg_find(m, OSCORE_OPT_BLOCK1);
		if (!o || gw_block_decode(o->value, o->len, &bo) != 0 ||
		    bo.num != p->b1_sent / size) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return;
		}
		p->b1_sent += size;
		if (bo.szx < p->b1_szx)
			p->b1_szx = bo.szx; /* b1_sent stays a multiple of the new size */
		if (p->b1_sent >= p->body_len) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return;
		}
		rc = send_exchange(f, p, now);
		if (rc != 0)
			pfail(f, p, rc);
		return;
	}
	if (p->block1)
		p->b1_sent = p->body_len;
	/* Block2: collect, ask for the next block. */
	o = oscore_msg_find(m, OSCORE_OPT_BLOCK2);
	if (o && (m->code >> 5) == 2) {
		if (gw_block_decode(o->value, o->len, &bo) != 0 ||
		    (bo.more && m->payload_len != gw_block_size(bo.szx))) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return;
		}
		if (bo.num == 0 && p->b2_next > 0 && oscore_msg_find(m, OSCORE_OPT_OBSERVE)) {
			/* A newer notification while the blocks of the last
			 * one were being fetched: it replaces that one
			 * (RFC 7959 §3.4). */
			p->b2_next = 0;
			p->b2_restarts = 0;
		}
		if (bo.num != p->b2_next) {
			pfail(f, p, GW_E_BACKEND_RESPONSE);
			return;
		}
		if (bo.num > 0 && !same_etag(p, m)) {
			/* The representation changed between blocks (RFC
			 * 7959 §2.4): start over from block 0, a few times. */
			if (++p->b2_restarts > B2_RESTARTS_MAX) {
				pfail(f, p, GW_E_BACKEND_RESPONSE);
				return;
			}
			p->b2_next = 0;
			p->rlen = 0;
			rc = send_exchange(f, p, now);
			if (rc != 0)
				pfail(f, p, rc);
			return;
		}
		if (bo.num == 0) {
			/* Keep the first block's code and options for the
			 * whole answer. */
			uint8_t *copy = NULL;
			size_t len = 0;
			oscore_msg hm = *m;
			oscore_msg_set_payload(&hm, NULL, 0);
			rc = oscore_msg_encode_body(&hm, f->scratch, sizeof(f->scratch), &len);
			if (rc == 0 && len && !(copy = malloc(len)))
				rc = EDHOC_E_NOMEM;
			if (rc != 0) {
				pfail(f, p, GW_E_BACKEND_RESPONSE);
				return;
			}
			if (len)
				memcpy(copy, f->scratch, len);
			free(p->ropts);
			p->ropts = copy;
			p->ropts_len = len;
			p->rcode = m->code;
			p->rlen = 0;
		}
		rc = append_body(f, p, m->payload, m->payload_len);
		if (rc != 0) {
			pfail(f, p, rc);
			return;
		}
		if (bo.more) {
			p->b2_next = bo.num + 1;
			p->b2_szx = bo.szx;
			if (p->observing && !p->timer.linked)
				/* A notification's later blocks get the route's
				 * time, like a request. */
				gw_tlist_insert(&f->timers, &p->timer,
				                (p->deadline = now + p->timeout_ms));
			rc = send_exchange(f, p, now);
			if (rc != 0)
				pfail(f, p, rc);
			return;
		}
		if (bo.num > 0 || p->ropts) {
			oscore_msg whole;
			if (oscore_msg_decode_body(p->rcode, p->ropts, p->ropts_len, &whole) != 0) {
				pfail(f, p, GW_E_BACKEND_RESPONSE);
				return;
			}
			oscore_msg_set_payload(&whole, p->rbody, p->rlen);
			p->b2_next = 0;
			p->b2_restarts = 0;
			deliver(f, p, &whole);
			return;
		}
	}
	if (m->payload_len > f->payload_max) {
		pfail(f, p, GW_E_BACKEND_RESPONSE);
		return;
	}
	deliver(f, p, m);
}

/* One datagram from backend b (RFC 7252 §4 client side). */
static void on_datagram(gw_fwd *f, struct backend *b, const uint8_t *d, size_t len, uint64_t now)
{
	oscore_coap_hdr h;
	oscore_msg m;
	struct pend *p;
	uint64_t id;
	bool con;
	int reply;

	if (oscore_coap_decode(d, len, &h, &m) != 0)
		return;
	if (h.type == T_ACK || h.type == T_RST) {
		p = mfind(f, b, h.mid);
		if (!p)
			return; /* late or duplicate: that exchange is over */
		if (h.type == T_RST) {
			pfail(f, p, GW_E_BACKEND_UNREACHABLE);
			return;
		}
		if (m.code == OSCORE_CODE_EMPTY) {
			/* A separate answer follows; the deadline still
			 * applies. */
			ex_end(f, p);
			p->ex = EX_ACKED;
			return;
		}
		if ((m.code >> 5) == 0 || !token_to_id(&h, &id) || id != p->id)
			return; /* a request in an ACK, or not our token */
		ex_end(f, p);
		on_response(f, p, &m, now);
		return;
	}
	con = h.type == T_CON;
	if ((m.code >> 5) == 0) {
		/* Ping (empty CON) or a request: we serve nothing here. */
		if (con)
			send_empty(f, b, T_RST, h.mid);
		return;
	}
	if (con && (reply = seen_lookup(b, h.mid)) >= 0) {
		send_empty(f, b, reply, h.mid);
		return;
	}
	if (!token_to_id(&h, &id) || !(p = pfind(f, id)) || p->be != b ||
	    (p->ex == EX_NONE && !p->observing)) {
		/* A notification nobody wants any more: RST ends it at the
		 * backend (RFC 7641 §3.6).  A late answer to a request that
		 * timed out is only acknowledged. */
		reply = oscore_msg_find(&m, OSCORE_OPT_OBSERVE) ? T_RST : T_ACK;
		if (con || reply == T_RST)
			send_empty(f, b, reply, h.mid);
		if (con)
			seen_add(b, h.mid, reply);
		return;
	}
	if (con) {
		send_empty(f, b, T_ACK, h.mid);
		seen_add(b, h.mid, T_ACK);
	}
	/* An answer also acknowledges the request (RFC 7252 §5.2.2). */
	ex_end(f, p);
	on_response(f, p, &m, now);
}

static void backend_ready(gw_io *io, uint32_t events)
{
	struct backend *b = GW_IO_OWNER(io, struct backend, io);
	gw_fwd *f = b->f;
	uint64_t now = mono_ms();

	(void)events;
	for (int i = 0; i < RECV_BURST; i++) {
		ssize_t n = recv(b->fd, f->rbuf, sizeof(f->rbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (unreachable_errno(errno))
				backend_refused(f, b);
			break;
		}
		on_datagram(f, b, f->rbuf, (size_t)n, now);
	}
	process_refused(f);
}

/* ---- API ---- */

int gw_fwd_create(int epfd, size_t pending_max, size_t payload_max, gw_fwd **ret)
{
	uint64_t seed[2];
	gw_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return EDHOC_E_NOMEM;
	f->epfd = epfd;
	f->n_buckets = gw_hash_buckets(pending_max);
	f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
	f->mbuckets = calloc(f->n_buckets, sizeof(*f->mbuckets));
	if (!f->buckets || !f->mbuckets) {
		free(f->buckets);
		free(f->mbuckets);
		free(f);
		return EDHOC_E_NOMEM;
	}
	f->pending_max = pending_max;
	f->payload_max = payload_max;
	f->ack_timeout_ms = GW_FWD_ACK_TIMEOUT_MS;
	f->max_retransmit = GW_FWD_MAX_RETRANSMIT;
	/* A random start keeps our tokens unpredictable to backends. */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		seed[0] = 0x6564686f63640000ull ^ mono_ms();
		seed[1] = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)f;
	}
	f->next_id = seed[0];
	f->rng = seed[1] ? seed[1] : 1; /* xorshift stays at 0 */
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
		close(b->fd); /* leaves the epoll set with it */
		free(b);
	}
	free(f->heap);
	free(f->buckets);
	free(f->mbuckets);
	free(f);
}

void gw_fwd_set_limits(gw_fwd *f, size_t pending_max, size_t payload_max)
{
	/* Buckets stay: the chains just get longer or shorter. */
	f->pending_max = pending_max;
	f->payload_max = payload_max;
}

void gw_fwd_set_timing(gw_fwd *f, unsigned ack_timeout_ms, unsigned max_retransmit)
{
	f->ack_timeout_ms = ack_timeout_ms ? ack_timeout_ms : 1;
	f->max_retransmit = max_retransmit;
}

int gw_fwd_send(gw_fwd *f, const struct sockaddr *addr, socklen_t addr_len, const oscore_msg *req,
                unsigned timeout_ms, uint64_t now_ms, gw_fwd_done_fn done, void *arg,
                uint64_t *ret_id)
{
	struct pend *p;
	struct backend *b;
	oscore_msg m = *req;
	size_t len = 0, first, dg_cap;
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
	b = backend_get(f, addr, addr_len);
	if (!b)
		return GW_E_BACKEND_UNREACHABLE;
	first = req->payload_len;
	if (first > gw_block_size(GW_FWD_BLOCK_SZX))
		first = gw_block_size(GW_FWD_BLOCK_SZX);
	dg_cap = DG_EXTRA + len + first;
	/* Bounded: options by GW_FWD_MAX_OPTS_BYTES, the body by
	 * payload_max, the datagram by one block. */
	p = malloc(sizeof(*p) + len + req->payload_len + dg_cap);
	if (!p)
		return EDHOC_E_NOMEM;
	memset(p, 0, sizeof(*p));
	p->heap_idx = SIZE_MAX;
	p->opts = p->mem;
	p->opts_len = len;
	if (len)
		memcpy(p->opts, f->scratch, len);
	p->body = p->mem + len;
	p->body_len = req->payload_len;
	if (req->payload_len)
		memcpy(p->body, req->payload, req->payload_len);
	p->dg = p->body + req->payload_len;
	p->dg_cap = dg_cap;
	p->be = b;
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
	p->timeout_ms = timeout_ms ? timeout_ms : 1;
	p->deadline = now_ms + p->timeout_ms;
	p->hnext = f->buckets[pbucket(f, p->id)];
	f->buckets[pbucket(f, p->id)] = p;
	gw_tlist_insert(&f->timers, &p->timer, p->deadline);
	p->bprev = b->ptail;
	if (b->ptail)
		b->ptail->bnext = p;
	else
		b->phead = p;
	b->ptail = p;
	f->count++;
	rc = send_exchange(f, p, now_ms);
	if (rc != 0) {
		/* Other pends of an unreachable backend fail from the next
		 * gw_fwd_tick (gw_fwd_next_deadline says it is due). */
		punlink(f, p);
		pfree(p);
		return rc;
	}
	*ret_id = p->id;
	return 0;
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
	while (f->timers.head && f->timers.head->due <= now_ms)
		pfail(f, GW_TLIST_OWNER(f->timers.head, struct pend, timer), GW_E_BACKEND_TIMEOUT);
	while (f->heap_len && f->heap[0]->rtx_at <= now_ms) {
		struct pend *p = f->heap[0];
		if (p->rtx_count >= f->max_retransmit) {
			/* The last retransmission went unanswered too. */
			pfail(f, p, GW_E_BACKEND_TIMEOUT);
			continue;
		}
		p->rtx_count++;
		p->rtx_timeout *= 2;
		p->rtx_at = now_ms + p->rtx_timeout;
		if (p->timer.linked && p->rtx_at >= p->deadline)
			heap_remove(f, p);
		else
			heap_down(f, 0);
		/* Same MID, same bytes (RFC 7252 §4.2).  An unreachable
		 * backend dooms p with the rest, failed below. */
		xmit(f, p->be, p->dg, p->dg_len);
	}
	process_refused(f);
}

uint64_t gw_fwd_next_deadline(const gw_fwd *f)
{
	uint64_t t = gw_tlist_next(&f->timers);
	if (f->refused)
		return 0;
	if (f->heap_len && f->heap[0]->rtx_at < t)
		t = f->heap[0]->rtx_at;
	return t;
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
