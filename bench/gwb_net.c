/* Raw-socket CoAP/UDP load generator for gateway-bench. */
#include "gwb_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edhoc/crypto.h"
#include "gwb_proc.h"

struct gwb_pool {
	int ep;
	unsigned n;
	gwb_slot slots[GWB_MAX_SLOTS];
};

double gwb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void gwb_pool_free(gwb_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++)
		if (p->slots[i].fd >= 0)
			close(p->slots[i].fd);
	if (p->ep >= 0)
		close(p->ep);
	free(p);
}

int gwb_pool_create(const struct sockaddr_in *to, unsigned n, gwb_pool **ret)
{
	struct sockaddr_in local;
	gwb_pool *p;
	int rc = -EINVAL;

	if (n == 0 || n > GWB_MAX_SLOTS)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	for (unsigned i = 0; i < GWB_MAX_SLOTS; i++)
		p->slots[i].fd = -1;
	if (p->ep < 0) {
		rc = -errno;
		goto fail;
	}
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (unsigned i = 0; i < n; i++) {
		gwb_slot *s = &p->slots[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		uint8_t r[4];

		s->idx = i;
		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		p->n = i + 1;
		if (s->fd < 0 || bind(s->fd, (const struct sockaddr *)&local, sizeof(local)) != 0 ||
		    connect(s->fd, (const struct sockaddr *)to, sizeof(*to)) != 0 ||
		    epoll_ctl(p->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
			rc = -errno;
			goto fail;
		}
		/* Random first Message ID and token, as a real client would;
		 * a restarted bench then never collides with cached answers. */
		if (crypto_rng_default(NULL, r, sizeof(r)) != 0)
			memset(r, (int)i, sizeof(r));
		s->mid = (uint16_t)(r[0] << 8 | r[1]);
		s->token_ctr = (uint32_t)(r[2] << 8 | r[3]) << 16;
	}
	*ret = p;
	return 0;
fail:
	gwb_pool_free(p);
	return rc;
}

int gwb_slot_request(gwb_slot *s, const oscore_msg *m)
{
	oscore_coap_hdr h;
	size_t len;
	int rc;

	memset(&h, 0, sizeof(h));
	h.type = 0; /* CON */
	h.mid = ++s->mid;
	s->token_ctr++;
	s->token[0] = (uint8_t)(s->token_ctr >> 24);
	s->token[1] = (uint8_t)(s->token_ctr >> 16);
	s->token[2] = (uint8_t)(s->token_ctr >> 8);
	s->token[3] = (uint8_t)s->token_ctr;
	memcpy(h.token, s->token, 4);
	h.token_len = 4;
	rc = oscore_coap_encode(&h, m, s->dgram, sizeof(s->dgram), &len);
	if (rc != 0)
		return rc;
	s->dgram_len = len;
	s->tries = 1;
	s->deadline = gwb_now() + s->rto;
	/* A full socket buffer is a lost datagram: the retransmission timer
	 * covers it. */
	(void)send(s->fd, s->dgram, len, 0);
	return 0;
}

/* Sends an empty ACK for a separate (CON) response. */
static void send_ack(gwb_slot *s, uint16_t mid)
{
	uint8_t ack[4] = {0x60, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
	(void)send(s->fd, ack, sizeof(ack), 0);
}

struct run {
	gwb_pool *p;
	const gwb_ops *ops;
	void *arg;
	const gwb_run_opts *o;
	gwb_run_result *res;
	double first_start, last_end;
	unsigned busy;
};

static void job_end(struct run *r, gwb_slot *s, int rc)
{
	double now = gwb_now();
	s->busy = false;
	r->busy--;
	r->last_end = now;
	if (rc == 0) {
		r->res->ok++;
		r->res->latency_sum += now - s->job_start;
		return;
	}
	r->res->failed++;
	if (rc == GWB_E_TIMEOUT)
		r->res->timeouts++;
	if (!r->res->first_error)
		r->res->first_error = rc;
	if (r->ops->abort)
		r->ops->abort(r->arg, s, rc);
}

/* One datagram arrived on slot s. */
static void on_datagram(struct run *r, gwb_slot *s, const uint8_t *buf, size_t len)
{
	oscore_coap_hdr h;
	oscore_msg m;
	int rc;

	if (oscore_coap_decode(buf, len, &h, &m) != 0)
		return;
	if (h.type == 3) { /* RST */
		if (s->busy && h.mid == s->mid)
			job_end(r, s, GWB_E_RESET);
		return;
	}
	if (h.type == 0) /* a separate response: acknowledge it */
		send_ack(s, h.mid);
	if (m.code == 0) {
		/* Empty ACK: the answer comes separately; stop resending. */
		if (s->busy && h.mid == s->mid)
			s->deadline = gwb_now() + s->rto * 8;
		return;
	}
	if (!s->busy || h.token_len != 4 || memcmp(h.token, s->token, 4) != 0)
		return; /* late answer to a retransmission */
	rc = r->ops->response(r->arg, s, &h, &m);
	if (rc == 1)
		return;
	job_end(r, s, rc < 0 ? rc : 0);
}

int gwb_pool_run(gwb_pool *p, const gwb_ops *ops, void *arg, const gwb_run_opts *o,
                 gwb_run_result *ret)
{
	struct run r = {.p = p, .ops = ops, .arg = arg, .o = o, .res = ret};
	unsigned inflight = o->inflight && o->inflight < p->n ? o->inflight : p->n;
	double t0 = gwb_now(), next_watch = t0;
	double window_end = o->seconds > 0 ? t0 + o->seconds : 0;
	double hard_end = t0 + (o->hard_limit > 0 ? o->hard_limit : 3600);
	uint64_t started = 0;
	bool stop_starting = false;
	uint8_t buf[GWB_MAX_DGRAM];

	memset(ret, 0, sizeof(*ret));
	r.first_start = t0;
	r.last_end = t0;
	for (unsigned i = 0; i < p->n; i++) {
		p->slots[i].busy = false;
		p->slots[i].rto = o->rto > 0 ? o->rto : 1.0;
	}
	for (;;) {
		double now = gwb_now();

		if (o->watch_pid && now >= next_watch) {
			next_watch = now + 0.2;
			if (!gwb_proc_alive(o->watch_pid)) {
				ret->target_died = true;
				stop_starting = true;
				hard_end = now; /* nothing more will answer */
			}
		}
		if ((window_end && now >= window_end) || (o->max_jobs && started >= o->max_jobs) ||
		    (o->max_failures && ret->failed >= o->max_failures))
			stop_starting = true;
		if (now >= hard_end)
			break;
		/* Keep every slot busy. */
		for (unsigned i = 0; i < inflight && !stop_starting; i++) {
			gwb_slot *s = &p->slots[i];
			int rc;
			if (s->busy)
				continue;
			s->busy = true;
			s->job_start = gwb_now();
			r.busy++;
			rc = ops->start(arg, s);
			if (rc != 0) {
				s->busy = false;
				r.busy--;
				if (rc < 0 && !ret->first_error)
					ret->first_error = rc;
				stop_starting = true;
				break;
			}
			started++;
			if (o->max_jobs && started >= o->max_jobs)
				stop_starting = true;
		}
		if (stop_starting && r.busy == 0)
			break;
		/* Retransmissions and give-ups. */
		double next = now + 0.05;
		for (unsigned i = 0; i < inflight; i++) {
			gwb_slot *s = &p->slots[i];
			if (!s->busy)
				continue;
			if (now >= s->deadline) {
				if (s->tries >= (o->max_tries ? o->max_tries : 4)) {
					job_end(&r, s, GWB_E_TIMEOUT);
					continue;
				}
				s->tries++;
				ret->retransmits++;
				s->deadline = now + s->rto * (double)(1u << (s->tries - 1));
				(void)send(s->fd, s->dgram, s->dgram_len, 0);
			}
			if (s->deadline < next)
				next = s->deadline;
		}
		if (next > hard_end)
			next = hard_end;
		int ms = (int)((next - now) * 1000.0);
		if (ms < 0)
			ms = 0;
		struct epoll_event evs[64];
		int n = epoll_wait(p->ep, evs, 64, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int k = 0; k < n; k++) {
			gwb_slot *s = &p->slots[evs[k].data.u32];
			/* Bounded: at most 16 datagrams per socket per turn. */
			for (int j = 0; j < 16; j++) {
				ssize_t got = recv(s->fd, buf, sizeof(buf), 0);
				if (got <= 0)
					break;
				on_datagram(&r, s, buf, (size_t)got);
			}
		}
	}
	/* Whatever is still in flight (hard limit, dead target) fails. */
	for (unsigned i = 0; i < inflight; i++)
		if (p->slots[i].busy)
			job_end(&r, &p->slots[i], GWB_E_STOPPED);
	ret->wall = r.last_end - r.first_start;
	return 0;
}
