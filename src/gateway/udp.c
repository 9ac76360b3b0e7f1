/* The gateway's CoAP/UDP endpoint towards devices.  See udp.h. */
#include "gateway/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edhoc/result.h"
#include "gateway/hash.h"
#include "gateway/io.h"
#include "gateway/tlist.h"

/* RFC 7252 §4.8 transmission parameters. */
#define ACK_TIMEOUT_MS 2000u
#define MAX_RETRANSMIT 4u
/* Datagrams taken per recvmmsg, and per wakeup of one socket at most (the
 * other sockets and the timers get their turn). */
#define RX_BATCH 16
#define RX_BURST 256
#define TX_MAX   8192

struct sock {
	gw_io io;
	gw_udp *u;
	int fd;
	uint8_t index;
	bool wildcard; /* bound to 0.0.0.0 or ::: answers need IP_PKTINFO */
};

struct gw_parked {
	struct gw_parked *hnext;
	gw_tlink ack; /* linked while an empty ACK is owed (a CON, not yet) */
	uint64_t hash;
	gw_xchg x;
};

/* A confirmable message of ours, until ACKed. */
struct con {
	struct con *hnext;
	gw_tlink timer; /* the next retransmission */
	uint64_t hash;
	unsigned timeout_ms;
	unsigned tries;
	uint16_t mid;
	gw_xchg x; /* peer, socket, local address, token */
	size_t len;
	uint8_t data[];
};

struct gw_udp {
	int epfd;
	gw_udp_cb cb;
	struct sock socks[GW_UDP_MAX_SOCKS];
	size_t n_socks;
	uint8_t key[GW_HASH_KEY_LEN];
	/* parked requests */
	struct gw_parked **pbuckets;
	size_t n_pbuckets, n_parked, parked_max;
	gw_tlist acks; /* parked CONs owed an empty ACK */
	/* our confirmable messages */
	struct con **cbuckets;
	size_t n_cbuckets, n_cons, con_max;
	gw_tlist timers; /* our CONs by next retransmission */
	uint16_t next_mid;
	uint64_t rng;
	gw_udp_stats stats;
	uint8_t rx[RX_BATCH][GW_UDP_MAX_DGRAM];
	uint8_t tx[TX_MAX];
};

static uint64_t key_hash(const gw_udp *u, const gw_addr *peer, uint16_t mid)
{
	return gw_addr_mid_hash(u->key, peer, mid);
}

/* xorshift64*: the random factor of retransmission timeouts needs no
 * cryptographic quality, and a system call per message is what we avoid. */
static uint32_t rng_next(gw_udp *u)
{
	u->rng ^= u->rng >> 12;
	u->rng ^= u->rng << 25;
	u->rng ^= u->rng >> 27;
	return (uint32_t)((u->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* ---- sending ---- */

/* Sends from x's socket to x's peer; from the address the request was sent
 * to when the socket is bound to a wildcard address (IP_PKTINFO), so a
 * device on a multi-homed gateway hears the address it talked to. */
static int send_raw(gw_udp *u, const gw_xchg *x, const uint8_t *d, size_t len)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctrl;
	struct iovec iov = {(void *)d, len};
	struct msghdr mh;
	ssize_t n;

	if (x->sock >= u->n_socks || x->peer.len == 0)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)&x->peer.u.sa;
	mh.msg_namelen = x->peer.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (x->local_family == AF_INET || x->local_family == AF_INET6) {
		bool v4 = x->local_family == AF_INET;
		size_t size = v4 ? sizeof(x->local.v4) : sizeof(x->local.v6);
		struct cmsghdr *c;
		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(size);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
		c->cmsg_type = v4 ? IP_PKTINFO : IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(size);
		memcpy(CMSG_DATA(c), &x->local, size);
	}
	n = sendmsg(u->socks[x->sock].fd, &mh, MSG_DONTWAIT);
	if (n < 0) {
		/* A full socket buffer is a lost datagram: CoAP's own
		 * retransmissions cover it. */
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
		return EDHOC_E_INTERNAL;
	}
	u->stats.sent++;
	return 0;
}

/* m to x's peer with x's token. */
static int send_msg(gw_udp *u, const gw_xchg *x, uint8_t type, uint16_t mid, const oscore_msg *m,
                    size_t *ret_len)
{
	oscore_coap_hdr h;
	oscore_msg empty;
	size_t len = 0;
	int rc;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.mid = mid;
	if (x->tok_len > sizeof(h.token))
		return EDHOC_E_INVALID_ARGUMENT;
	memcpy(h.token, x->tok, x->tok_len);
	h.token_len = x->tok_len;
	if (!m) {
		oscore_msg_init(&empty, 0);
		m = &empty;
	}
	rc = oscore_coap_encode(&h, m, u->tx, sizeof(u->tx), &len);
	if (rc != 0)
		return rc;
	if (ret_len)
		*ret_len = len;
	return send_raw(u, x, u->tx, len);
}

static void send_empty(gw_udp *u, const gw_xchg *x, uint8_t type, uint16_t mid)
{
	uint8_t d[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8), (uint8_t)mid};
	send_raw(u, x, d, sizeof(d));
}

/* ---- our confirmable messages ---- */

static struct con **cbucket(const gw_udp *u, uint64_t hash)
{
	return &u->cbuckets[(size_t)hash & (u->n_cbuckets - 1)];
}

static struct con *con_find(const gw_udp *u, const gw_addr *peer, uint16_t mid)
{
	uint64_t hash = key_hash(u, peer, mid);
	for (struct con *c = *cbucket(u, hash); c; c = c->hnext)
		if (c->hash == hash && c->mid == mid && gw_addr_equal(&c->x.peer, peer))
			return c;
	return NULL;
}

static void con_drop(gw_udp *u, struct con *c)
{
	for (struct con **pp = cbucket(u, c->hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	gw_tlist_remove(&u->timers, &c->timer);
	u->n_cons--;
	free(c);
}

/* Sends m as a confirmable message with a new Message ID and keeps it for
 * retransmission; as NON when con_max messages are outstanding. */
static int send_con(gw_udp *u, const gw_xchg *x, const oscore_msg *m, uint64_t now)
{
	uint16_t mid = u->next_mid++;
	struct con *c;
	size_t len = 0;
	int rc;

	if (u->n_cons >= u->con_max) {
		u->stats.con_table_full++;
		return send_msg(u, x, GW_UDP_NON, mid, m, NULL);
	}
	rc = send_msg(u, x, GW_UDP_CON, mid, m, &len);
	if (rc != 0)
		return rc;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return 0; /* sent once, without retransmissions */
	memset(c, 0, sizeof(*c));
	c->x = *x;
	c->mid = mid;
	c->len = len;
	memcpy(c->data, u->tx, len);
	/* RFC 7252 §4.2: ACK_TIMEOUT times a random factor in [1, 1.5). */
	c->timeout_ms = ACK_TIMEOUT_MS + rng_next(u) % (ACK_TIMEOUT_MS / 2);
	c->hash = key_hash(u, &x->peer, mid);
	c->hnext = *cbucket(u, c->hash);
	*cbucket(u, c->hash) = c;
	gw_tlist_insert(&u->timers, &c->timer, now + c->timeout_ms);
	u->n_cons++;
	return 0;
}

static void con_answered(gw_udp *u, const gw_addr *peer, uint16_t mid, bool rst)
{
	struct con *c = con_find(u, peer, mid);
	gw_xchg x;
	if (!c)
		return;
	x = c->x;
	con_drop(u, c);
	if (rst) {
		u->stats.nacks++;
		if (u->cb.nack)
			u->cb.nack(u->cb.arg, &x.peer, x.tok, x.tok_len);
	}
}

/* ---- parked requests ---- */

static struct gw_parked **pbucket(const gw_udp *u, uint64_t hash)
{
	return &u->pbuckets[(size_t)hash & (u->n_pbuckets - 1)];
}

static struct gw_parked *park_find(const gw_udp *u, const gw_addr *peer, uint16_t mid)
{
	uint64_t hash = key_hash(u, peer, mid);
	for (struct gw_parked *p = *pbucket(u, hash); p; p = p->hnext)
		if (p->hash == hash && p->x.mid == mid && gw_addr_equal(&p->x.peer, peer))
			return p;
	return NULL;
}

/* The empty ACK a parked CON is owed (RFC 7252 §5.2.2). */
static void park_ack(gw_udp *u, struct gw_parked *p)
{
	if (!p->ack.linked)
		return;
	send_empty(u, &p->x, GW_UDP_ACK, p->x.mid);
	gw_tlist_remove(&u->acks, &p->ack);
}

int gw_udp_park(gw_udp *u, const gw_xchg *x, uint64_t now_ms, gw_parked **ret)
{
	struct gw_parked *p;
	if (u->n_parked >= u->parked_max)
		return EDHOC_E_LIMIT;
	p = calloc(1, sizeof(*p));
	if (!p)
		return EDHOC_E_NOMEM;
	p->x = *x;
	p->hash = key_hash(u, &x->peer, x->mid);
	p->hnext = *pbucket(u, p->hash);
	*pbucket(u, p->hash) = p;
	u->n_parked++;
	if (x->type == GW_UDP_CON)
		gw_tlist_insert(&u->acks, &p->ack, now_ms + GW_UDP_ACK_DELAY_MS);
	*ret = p;
	return 0;
}

void gw_udp_unpark(gw_udp *u, gw_parked *p)
{
	if (!p)
		return;
	for (struct gw_parked **pp = pbucket(u, p->hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	gw_tlist_remove(&u->acks, &p->ack);
	u->n_parked--;
	free(p);
}

int gw_udp_complete(gw_udp *u, gw_parked *p, const oscore_msg *m, uint64_t now_ms)
{
	gw_xchg x = p->x;
	bool owed = p->ack.linked;
	gw_udp_unpark(u, p);
	if (owed) {
		u->stats.piggybacked++;
		return gw_udp_respond(u, &x, m);
	}
	if (x.type == GW_UDP_CON) {
		u->stats.separate++;
		return send_con(u, &x, m, now_ms);
	}
	return send_msg(u, &x, GW_UDP_NON, u->next_mid++, m, NULL);
}

int gw_udp_respond(gw_udp *u, const gw_xchg *x, const oscore_msg *m)
{
	if (x->type == GW_UDP_CON)
		return send_msg(u, x, GW_UDP_ACK, x->mid, m, NULL);
	return send_msg(u, x, GW_UDP_NON, u->next_mid++, m, NULL);
}

int gw_udp_send(gw_udp *u, const gw_xchg *x, const oscore_msg *m, bool con, uint64_t now_ms)
{
	if (con)
		return send_con(u, x, m, now_ms);
	return send_msg(u, x, GW_UDP_NON, u->next_mid++, m, NULL);
}

/* ---- receiving ---- */

static void malformed(gw_udp *u, const gw_xchg *x, const uint8_t *d, size_t len)
{
	u->stats.malformed++;
	/* RFC 7252 §4.2: a CON that cannot be processed is rejected with RST,
	 * when its header is readable. */
	if (len >= 4 && (d[0] >> 6) == 1 && ((d[0] >> 4) & 3) == GW_UDP_CON)
		send_empty(u, x, GW_UDP_RST, (uint16_t)(d[2] << 8 | d[3]));
	if (u->cb.malformed)
		u->cb.malformed(u->cb.arg, &x->peer, len);
}

/* One datagram; x holds its peer, socket and local address. */
static void handle(gw_udp *u, gw_xchg *x, const uint8_t *d, size_t len, uint64_t now)
{
	oscore_coap_hdr h;
	oscore_msg m;
	struct gw_parked *p;

	u->stats.received++;
	if (oscore_coap_decode(d, len, &h, &m) != 0) {
		malformed(u, x, d, len);
		return;
	}
	if (h.type == GW_UDP_ACK || h.type == GW_UDP_RST) {
		/* Only our confirmable messages are acknowledged to us (we
		 * send no requests on these sockets). */
		con_answered(u, &x->peer, h.mid, h.type == GW_UDP_RST);
		return;
	}
	if (m.code == 0) {
		/* CoAP ping (RFC 7252 §4.3): RST. An empty NON is ignored. */
		if (h.type == GW_UDP_CON) {
			u->stats.pings++;
			send_empty(u, x, GW_UDP_RST, h.mid);
		}
		return;
	}
	if ((m.code >> 5) != 0) {
		/* A response: we sent no request. */
		if (h.type == GW_UDP_CON)
			send_empty(u, x, GW_UDP_RST, h.mid);
		return;
	}
	p = u->n_parked ? park_find(u, &x->peer, h.mid) : NULL;
	if (p) {
		/* The device did not hear from us in time: stop its
		 * retransmissions; the answer follows.  Every duplicate gets
		 * the empty ACK (RFC 7252 §4.5), also after an earlier one
		 * that may have been lost. */
		u->stats.parked_dups++;
		if (p->x.type == GW_UDP_CON) {
			send_empty(u, &p->x, GW_UDP_ACK, p->x.mid);
			gw_tlist_remove(&u->acks, &p->ack);
		}
		return;
	}
	x->type = h.type;
	x->mid = h.mid;
	x->tok_len = (uint8_t)h.token_len;
	memcpy(x->tok, h.token, h.token_len);
	u->cb.request(u->cb.arg, x, &m, now);
}

/* The destination address of a datagram from its IP_PKTINFO /
 * IPV6_PKTINFO, as the source of our answers. */
static void local_from_cmsg(struct msghdr *mh, gw_xchg *x)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(&x->local.v4, 0, sizeof(x->local.v4));
			x->local.v4.ipi_spec_dst = pi.ipi_addr;
			x->local_family = AF_INET;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&x->local.v6, CMSG_DATA(c), sizeof(x->local.v6));
			x->local_family = AF_INET6;
		}
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sock_ready(gw_io *io, uint32_t events)
{
	struct sock *s = GW_IO_OWNER(io, struct sock, io);
	gw_udp *u = s->u;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage from[RX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
	} ctrl[RX_BATCH];
	int total = 0;

	(void)events;
	while (total < RX_BURST) {
		uint64_t now;
		int n;
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = u->rx[i];
			iov[i].iov_len = sizeof(u->rx[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			if (s->wildcard) {
				mm[i].msg_hdr.msg_control = ctrl[i].buf;
				mm[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
			}
		}
		n = recvmmsg(s->fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		now = mono_ms();
		for (int i = 0; i < n; i++) {
			gw_xchg x;
			memset(&x, 0, sizeof(x));
			gw_addr_set(&x.peer, (struct sockaddr *)&from[i],
			            mm[i].msg_hdr.msg_namelen);
			if (x.peer.len == 0)
				continue;
			x.sock = s->index;
			if (s->wildcard)
				local_from_cmsg(&mm[i].msg_hdr, &x);
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				u->stats.received++;
				malformed(u, &x, u->rx[i], sizeof(u->rx[i]));
				continue;
			}
			handle(u, &x, u->rx[i], mm[i].msg_len, now);
		}
		total += n;
		if (n < RX_BATCH)
			break;
	}
}

/* ---- setup and timers ---- */

int gw_udp_create(int epfd, const gw_udp_cb *cb, size_t parked_max, size_t con_max, gw_udp **ret)
{
	gw_udp *u = calloc(1, sizeof(*u));
	if (!u)
		return EDHOC_E_NOMEM;
	u->epfd = epfd;
	u->cb = *cb;
	u->parked_max = parked_max;
	u->con_max = con_max;
	u->n_pbuckets = gw_hash_buckets(parked_max);
	u->n_cbuckets = gw_hash_buckets(con_max);
	u->pbuckets = calloc(u->n_pbuckets, sizeof(*u->pbuckets));
	u->cbuckets = calloc(u->n_cbuckets, sizeof(*u->cbuckets));
	if (!u->pbuckets || !u->cbuckets) {
		gw_udp_free(u);
		return EDHOC_E_NOMEM;
	}
	gw_hash_key_init(u->key, 0x75);
	if (getrandom(&u->rng, sizeof(u->rng), 0) != (ssize_t)sizeof(u->rng) || u->rng == 0)
		u->rng = 0x9e3779b97f4a7c15ull;
	u->next_mid = (uint16_t)rng_next(u);
	*ret = u;
	return 0;
}

void gw_udp_free(gw_udp *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_socks; i++)
		close(u->socks[i].fd);
	while (u->timers.head)
		con_drop(u, GW_TLIST_OWNER(u->timers.head, struct con, timer));
	for (size_t i = 0; u->pbuckets && i < u->n_pbuckets; i++) {
		struct gw_parked *p = u->pbuckets[i], *n;
		for (; p; p = n) {
			n = p->hnext;
			free(p);
		}
	}
	free(u->pbuckets);
	free(u->cbuckets);
	free(u);
}

void gw_udp_set_limits(gw_udp *u, size_t parked_max, size_t con_max)
{
	/* Buckets stay: chains get longer or shorter. */
	u->parked_max = parked_max;
	u->con_max = con_max;
}

int gw_udp_listen(gw_udp *u, const struct sockaddr *sa, socklen_t len)
{
	struct sock *s;
	struct epoll_event ev;
	int fd, one = 1;
	bool wildcard = false;

	if (u->n_socks >= GW_UDP_MAX_SOCKS)
		return EDHOC_E_LIMIT;
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return EDHOC_E_INTERNAL;
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		wildcard = ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
		wildcard = IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	if (wildcard && setsockopt(fd, sa->sa_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	                           sa->sa_family == AF_INET ? IP_PKTINFO : IPV6_RECVPKTINFO, &one,
	                           sizeof(one)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return EDHOC_E_INTERNAL;
	}
	/* No SO_REUSEADDR: for UDP it would let a second daemon bind the same
	 * port and take part of the traffic instead of failing to start. */
	if (bind(fd, sa, len) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return EDHOC_E_INTERNAL;
	}
	s = &u->socks[u->n_socks];
	s->io.ready = sock_ready;
	s->u = u;
	s->fd = fd;
	s->index = (uint8_t)u->n_socks;
	s->wildcard = wildcard;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->io;
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return EDHOC_E_INTERNAL;
	}
	u->n_socks++;
	return 0;
}

void gw_udp_tick(gw_udp *u, uint64_t now_ms)
{
	/* Each step removes the head or moves it later, so these end. */
	while (u->acks.head && u->acks.head->due <= now_ms)
		park_ack(u, GW_TLIST_OWNER(u->acks.head, struct gw_parked, ack));
	while (u->timers.head && u->timers.head->due <= now_ms) {
		struct con *c = GW_TLIST_OWNER(u->timers.head, struct con, timer);
		if (c->tries >= MAX_RETRANSMIT) {
			gw_xchg x = c->x;
			con_drop(u, c);
			u->stats.nacks++;
			if (u->cb.nack)
				u->cb.nack(u->cb.arg, &x.peer, x.tok, x.tok_len);
			continue;
		}
		c->tries++;
		c->timeout_ms *= 2;
		send_raw(u, &c->x, c->data, c->len);
		u->stats.retransmitted++;
		gw_tlist_remove(&u->timers, &c->timer);
		gw_tlist_insert(&u->timers, &c->timer, now_ms + c->timeout_ms);
	}
}

uint64_t gw_udp_next_deadline(const gw_udp *u)
{
	uint64_t a = gw_tlist_next(&u->acks);
	uint64_t b = gw_tlist_next(&u->timers);
	return a < b ? a : b;
}

size_t gw_udp_parked(const gw_udp *u)
{
	return u->n_parked;
}

void gw_udp_get_stats(const gw_udp *u, gw_udp_stats *ret)
{
	*ret = u->stats;
}
