/* The gateway's CoAP/UDP endpoint towards devices (udp.c), driven over
 * loopback by a plain UDP socket acting as the device.  Timers take
 * synthetic times: nothing here sleeps for retransmission timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edhoc/oscore.h"
#include "edhoc/result.h"
#include "gateway/io.h"
#include "gateway/udp.h"

#define T0       1000000u /* synthetic monotonic ms */
#define MAX_OPTS 8

struct fixture {
	int epfd;
	gw_udp *u;
	int dev;                       /* the device's socket */
	struct sockaddr_storage gw_sa; /* where the gateway listens */
	socklen_t gw_len;
	gw_addr dev_addr; /* the device as the gateway sees it */
	/* request callback */
	int requests;
	gw_xchg x;
	uint8_t code;
	size_t n_opts;
	uint16_t opt_num[MAX_OPTS];
	uint8_t opt_val[MAX_OPTS][16];
	size_t opt_len[MAX_OPTS];
	uint8_t payload[64];
	size_t payload_len;
	/* nack callback */
	int nacks;
	gw_addr nack_peer;
	uint8_t nack_tok[8];
	size_t nack_tok_len;
	/* malformed callback */
	int malformed;
	size_t malformed_len;
};

static void on_request(void *arg, const gw_xchg *x, const oscore_msg *m, uint64_t now_ms)
{
	struct fixture *f = arg;
	(void)now_ms;
	f->requests++;
	f->x = *x;
	f->code = m->code;
	f->n_opts = m->n_opts < MAX_OPTS ? m->n_opts : MAX_OPTS;
	for (size_t i = 0; i < f->n_opts; i++) {
		f->opt_num[i] = m->opts[i].number;
		f->opt_len[i] = m->opts[i].len < 16 ? m->opts[i].len : 16;
		if (f->opt_len[i])
			memcpy(f->opt_val[i], m->opts[i].value, f->opt_len[i]);
	}
	f->payload_len = m->payload_len < sizeof(f->payload) ? m->payload_len : sizeof(f->payload);
	if (f->payload_len)
		memcpy(f->payload, m->payload, f->payload_len);
}

static void on_nack(void *arg, const gw_addr *peer, const uint8_t *tok, size_t tok_len)
{
	struct fixture *f = arg;
	f->nacks++;
	f->nack_peer = *peer;
	f->nack_tok_len = tok_len;
	memcpy(f->nack_tok, tok, tok_len);
}

static void on_malformed(void *arg, const gw_addr *peer, size_t len)
{
	struct fixture *f = arg;
	(void)peer;
	f->malformed++;
	f->malformed_len = len;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A port on addr that was free a moment ago (bind to 0, read it back). */
static socklen_t free_addr(int family, struct sockaddr_storage *ss)
{
	socklen_t len;
	int fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return 0;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)ss, len) != 0) {
		close(fd);
		return 0;
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
	close(fd);
	return len;
}

/* A loopback UDP socket of the given family, bound to an ephemeral port. */
static int device_socket(int family, gw_addr *ret)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;
	assert_true(free_addr(family, &ss) > 0);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	gw_addr_set(ret, (struct sockaddr *)&ss, len);
	return fd;
}

static int setup_limits(void **state, size_t parked_max, size_t con_max)
{
	struct fixture *f = calloc(1, sizeof(*f));
	gw_udp_cb cb = {on_request, on_nack, on_malformed, f};
	assert_non_null(f);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->epfd >= 0);
	assert_int_equal(gw_udp_create(f->epfd, &cb, parked_max, con_max, &f->u), 0);
	/* Another process may take the port between probe and bind: retry. */
	for (int i = 0; i < 10; i++) {
		f->gw_len = free_addr(AF_INET, &f->gw_sa);
		assert_true(f->gw_len > 0);
		if (gw_udp_listen(f->u, (struct sockaddr *)&f->gw_sa, f->gw_len) == 0)
			break;
		f->gw_len = 0;
	}
	assert_true(f->gw_len > 0);
	f->dev = device_socket(AF_INET, &f->dev_addr);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_limits(state, 16, 16);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gw_udp_free(f->u);
	close(f->dev);
	close(f->epfd);
	free(f);
	return 0;
}

static uint64_t received(const gw_udp *u)
{
	gw_udp_stats st;
	gw_udp_get_stats(u, &st);
	return st.received;
}

/* Runs the gateway's event loop until it has taken in `want` more
 * datagrams (bounded by iterations and one second). */
static void pump(struct fixture *f, uint64_t want)
{
	uint64_t target = received(f->u) + want, end = wall_ms() + 1000;
	for (int it = 0; it < 200 && received(f->u) < target; it++) {
		struct epoll_event ev[8];
		uint64_t now = wall_ms();
		int n;
		if (now >= end)
			break;
		n = epoll_wait(f->epfd, ev, 8, (int)(end - now));
		for (int i = 0; i < n; i++) {
			gw_io *io = ev[i].data.ptr;
			io->ready(io, ev[i].events);
		}
	}
	assert_int_equal(received(f->u), target);
}

static void dev_send_to(int fd, const struct sockaddr_storage *to, socklen_t to_len,
                        const uint8_t *d, size_t len)
{
	assert_int_equal(sendto(fd, d, len, 0, (const struct sockaddr *)to, to_len), (ssize_t)len);
}

static void dev_send(struct fixture *f, const uint8_t *d, size_t len)
{
	dev_send_to(f->dev, &f->gw_sa, f->gw_len, d, len);
}

/* Encodes and sends a message from the device; returns its length. */
static size_t dev_send_msg(struct fixture *f, uint8_t type, uint16_t mid, const uint8_t *tok,
                           size_t tok_len, const oscore_msg *m, uint8_t *out, size_t cap)
{
	oscore_coap_hdr h;
	size_t len = 0;
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.mid = mid;
	h.token_len = tok_len;
	memcpy(h.token, tok, tok_len);
	assert_int_equal(oscore_coap_encode(&h, m, out, cap, &len), 0);
	dev_send(f, out, len);
	return len;
}

/* The next datagram for the device; loopback delivery is synchronous with
 * the gateway's sendto, so a short wait is plenty. */
static size_t dev_recv_fd(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	socklen_t flen = sizeof(*from);
	ssize_t n;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &flen);
	assert_true(n >= 0);
	return (size_t)n;
}

static size_t dev_recv(struct fixture *f, uint8_t *buf, size_t cap)
{
	struct sockaddr_storage from;
	return dev_recv_fd(f->dev, buf, cap, &from);
}

static void dev_expect_nothing_fd(int fd)
{
	uint8_t buf[64];
	errno = 0;
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void dev_expect_nothing(struct fixture *f)
{
	dev_expect_nothing_fd(f->dev);
}

/* Receives an empty message and checks it byte for byte. */
static void dev_expect_empty(struct fixture *f, uint8_t type, uint16_t mid)
{
	uint8_t buf[64];
	uint8_t want[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8), (uint8_t)mid};
	size_t n = dev_recv(f, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, want, 4);
}

static const uint8_t TOK[] = {0xa1, 0xb2, 0xc3, 0xd4};
static const uint8_t PATH[] = {'t', 'e', 'm', 'p'};
static const uint8_t REQ_BODY[] = {'h', 'i'};
static const uint8_t RESP_BODY[] = {'2', '1', '.', '5'};

static void make_request(oscore_msg *m)
{
	oscore_msg_init(m, 0x02); /* POST */
	assert_int_equal(oscore_msg_add(m, 11, PATH, sizeof(PATH)), 0);
	assert_int_equal(oscore_msg_add(m, 12, NULL, 0), 0); /* text/plain: empty uint */
	oscore_msg_set_payload(m, REQ_BODY, sizeof(REQ_BODY));
}

static void make_response(oscore_msg *m)
{
	static const uint8_t cf[] = {50};
	oscore_msg_init(m, 0x45); /* 2.05 */
	assert_int_equal(oscore_msg_add(m, 12, cf, sizeof(cf)), 0);
	oscore_msg_set_payload(m, RESP_BODY, sizeof(RESP_BODY));
}

/* Receives a message, decodes it and checks type, token and the answer's
 * code and payload; returns its MID. */
static uint16_t dev_expect_answer(struct fixture *f, uint8_t type, const uint8_t *tok,
                                  size_t tok_len, uint8_t *raw, size_t *raw_len)
{
	uint8_t buf[256];
	oscore_coap_hdr h;
	oscore_msg m;
	size_t n = dev_recv(f, buf, sizeof(buf));
	assert_int_equal(oscore_coap_decode(buf, n, &h, &m), 0);
	assert_int_equal(buf[0] >> 4 & 3, type);
	assert_int_equal(h.type, type);
	assert_int_equal(h.token_len, tok_len);
	assert_memory_equal(h.token, tok, tok_len);
	assert_int_equal(m.code, 0x45);
	assert_int_equal(m.n_opts, 1);
	assert_int_equal(m.opts[0].number, 12);
	assert_int_equal(m.opts[0].len, 1);
	assert_int_equal(m.opts[0].value[0], 50);
	assert_int_equal(m.payload_len, sizeof(RESP_BODY));
	assert_memory_equal(m.payload, RESP_BODY, sizeof(RESP_BODY));
	if (raw) {
		memcpy(raw, buf, n);
		*raw_len = n;
	}
	return h.mid;
}

/* Sends a request (CON or NON) from the device and runs the gateway until it has
 * reached the request callback. */
static void dev_request(struct fixture *f, uint8_t type, uint16_t mid, uint8_t *raw,
                        size_t *raw_len)
{
	uint8_t buf[128];
	oscore_msg m;
	int before = f->requests;
	size_t n;
	make_request(&m);
	n = dev_send_msg(f, type, mid, TOK, sizeof(TOK), &m, buf, sizeof(buf));
	pump(f, 1);
	assert_int_equal(f->requests, before + 1);
	if (raw) {
		memcpy(raw, buf, n);
		*raw_len = n;
	}
}

static gw_udp_stats stats(const struct fixture *f)
{
	gw_udp_stats st;
	gw_udp_get_stats(f->u, &st);
	return st;
}

/* ---- cases ---- */

static void test_con_request_is_answered_on_its_ack(void **state)
{
	struct fixture *f = *state;
	oscore_msg resp;
	dev_request(f, GW_UDP_CON, 0x1234, NULL, NULL);
	assert_int_equal(f->code, 0x02);
	assert_int_equal(f->x.type, GW_UDP_CON);
	assert_int_equal(f->x.mid, 0x1234);
	assert_int_equal(f->x.tok_len, sizeof(TOK));
	assert_memory_equal(f->x.tok, TOK, sizeof(TOK));
	assert_int_equal(f->x.sock, 0);
	assert_true(gw_addr_equal(&f->x.peer, &f->dev_addr));
	assert_int_equal(f->n_opts, 2);
	assert_int_equal(f->opt_num[0], 11);
	assert_int_equal(f->opt_len[0], sizeof(PATH));
	assert_memory_equal(f->opt_val[0], PATH, sizeof(PATH));
	assert_int_equal(f->opt_num[1], 12);
	assert_int_equal(f->opt_len[1], 0);
	assert_int_equal(f->payload_len, sizeof(REQ_BODY));
	assert_memory_equal(f->payload, REQ_BODY, sizeof(REQ_BODY));

	make_response(&resp);
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	assert_int_equal(dev_expect_answer(f, GW_UDP_ACK, TOK, sizeof(TOK), NULL, NULL), 0x1234);
	dev_expect_nothing(f);
	assert_int_equal(stats(f).received, 1);
	assert_int_equal(stats(f).sent, 1);
	assert_int_equal(f->malformed, 0);
}

static void test_non_request_is_answered_with_non(void **state)
{
	struct fixture *f = *state;
	oscore_msg resp;
	uint16_t mid;
	dev_request(f, GW_UDP_NON, 0x2222, NULL, NULL);
	assert_int_equal(f->x.type, GW_UDP_NON);
	assert_int_equal(f->x.mid, 0x2222);
	make_response(&resp);
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	mid = dev_expect_answer(f, GW_UDP_NON, TOK, sizeof(TOK), NULL, NULL);
	assert_int_not_equal(mid, 0x2222);
	/* A second answer takes another Message ID. */
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	assert_int_not_equal(dev_expect_answer(f, GW_UDP_NON, TOK, sizeof(TOK), NULL, NULL), mid);
	dev_expect_nothing(f);
}

static void test_empty_con_is_ping_and_empty_non_is_ignored(void **state)
{
	struct fixture *f = *state;
	const uint8_t ping[] = {0x40, 0x00, 0xbe, 0xef};
	const uint8_t empty_non[] = {0x50, 0x00, 0xbe, 0xf0};
	dev_send(f, ping, sizeof(ping));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0xbeef);
	dev_send(f, empty_non, sizeof(empty_non));
	pump(f, 1);
	dev_expect_nothing(f);
	assert_int_equal(f->requests, 0);
	assert_int_equal(f->malformed, 0);
	assert_int_equal(stats(f).pings, 1);
	assert_int_equal(stats(f).received, 2);
}

static void test_malformed_datagrams_are_dropped_and_cons_reset(void **state)
{
	struct fixture *f = *state;
	/* Header unreadable or not version 1, or not a CON: dropped silently. */
	const uint8_t two[] = {0x40, 0x01};
	const uint8_t version2[] = {0x80, 0x01, 0x00, 0x01};
	const uint8_t non_tkl9[] = {0x59, 0x01, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	/* Readable CON headers with a broken rest: RST with their MID. */
	const uint8_t con_tkl9[] = {0x49, 0x01, 0x10, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	const uint8_t con_delta15[] = {0x40, 0x01, 0x10, 0x02, 0xf1, 0x00};
	const uint8_t con_short_token[] = {0x44, 0x01, 0x10, 0x03, 0xaa};
	const uint8_t con_marker_no_payload[] = {0x40, 0x01, 0x10, 0x04, 0xb1, 'x', 0xff};
	static uint8_t big[GW_UDP_MAX_DGRAM + 100];

	dev_send(f, two, sizeof(two));
	dev_send(f, version2, sizeof(version2));
	dev_send(f, non_tkl9, sizeof(non_tkl9));
	pump(f, 3);
	dev_expect_nothing(f);
	assert_int_equal(f->malformed, 3);
	assert_int_equal(f->malformed_len, sizeof(non_tkl9));

	dev_send(f, con_tkl9, sizeof(con_tkl9));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0x1001);
	dev_send(f, con_delta15, sizeof(con_delta15));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0x1002);
	dev_send(f, con_short_token, sizeof(con_short_token));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0x1003);
	dev_send(f, con_marker_no_payload, sizeof(con_marker_no_payload));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0x1004);
	dev_expect_nothing(f);
	assert_int_equal(f->malformed, 7);
	assert_int_equal(f->requests, 0);
	assert_int_equal(stats(f).malformed, 7);

	/* Longer than the receive buffer: malformed too (a CON gets RST). */
	memset(big, 0, sizeof(big));
	big[0] = 0x40;
	big[1] = 0x01;
	big[2] = 0x10;
	big[3] = 0x05;
	big[4] = 0xff;
	dev_send(f, big, sizeof(big));
	for (int i = 0; i < 100 && f->malformed < 8; i++) {
		struct epoll_event ev[4];
		int n = epoll_wait(f->epfd, ev, 4, 1000);
		for (int j = 0; j < n; j++)
			((gw_io *)ev[j].data.ptr)->ready(ev[j].data.ptr, ev[j].events);
		if (n <= 0)
			break;
	}
	assert_int_equal(f->malformed, 8);
	dev_expect_empty(f, GW_UDP_RST, 0x1005);
	assert_int_equal(f->requests, 0);
}

static void test_response_sent_to_gateway_as_con_is_reset(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[128];
	oscore_msg m;
	make_response(&m);
	dev_send_msg(f, GW_UDP_CON, 0x3333, TOK, sizeof(TOK), &m, buf, sizeof(buf));
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_RST, 0x3333);
	/* As NON: dropped without a word. */
	dev_send_msg(f, GW_UDP_NON, 0x3334, TOK, sizeof(TOK), &m, buf, sizeof(buf));
	pump(f, 1);
	dev_expect_nothing(f);
	assert_int_equal(f->requests, 0);
	assert_int_equal(f->malformed, 0);
}

static void test_parked_retransmission_gets_empty_ack_then_separate_con(void **state)
{
	struct fixture *f = *state;
	uint8_t req[128], raw[256], again[256];
	size_t req_len, raw_len, again_len;
	gw_parked *p;
	oscore_msg resp;
	uint16_t mid;

	dev_request(f, GW_UDP_CON, 0x4444, req, &req_len);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	assert_int_equal(gw_udp_parked(f->u), 1);
	dev_expect_nothing(f);

	/* The device's retransmission: an empty ACK, no second request. */
	dev_send(f, req, req_len);
	pump(f, 1);
	dev_expect_empty(f, GW_UDP_ACK, 0x4444);
	assert_int_equal(f->requests, 1);
	assert_int_equal(stats(f).parked_dups, 1);
	/* Acknowledged: the timer owes nothing any more. */
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS);
	dev_expect_nothing(f);
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);

	make_response(&resp);
	assert_int_equal(gw_udp_complete(f->u, p, &resp, T0 + 500), 0);
	assert_int_equal(gw_udp_parked(f->u), 0);
	mid = dev_expect_answer(f, GW_UDP_CON, TOK, sizeof(TOK), raw, &raw_len);
	assert_int_not_equal(mid, 0x4444);
	assert_int_equal(stats(f).separate, 1);
	assert_int_equal(stats(f).piggybacked, 0);
	assert_true(gw_udp_next_deadline(f->u) >= T0 + 500 + 2000);
	assert_true(gw_udp_next_deadline(f->u) < T0 + 500 + 3000);

	/* Unacknowledged, it comes again, byte for byte. */
	gw_udp_tick(f->u, gw_udp_next_deadline(f->u));
	again_len = dev_recv(f, again, sizeof(again));
	assert_int_equal(again_len, raw_len);
	assert_memory_equal(again, raw, raw_len);

	/* The device ACKs it: no more retransmissions, no nack. */
	{
		const uint8_t ack[] = {0x60, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
		dev_send(f, ack, sizeof(ack));
		pump(f, 1);
	}
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	for (uint64_t t = T0; t < T0 + 120000; t += 1000)
		gw_udp_tick(f->u, t);
	dev_expect_nothing(f);
	assert_int_equal(f->nacks, 0);
	assert_int_equal(stats(f).retransmitted, 1);
}

/* A socket bound to 0.0.0.0 answers from the address the device sent to
 * (IP_PKTINFO): 127.0.0.2 here, where routing alone would pick 127.0.0.1. */
static void test_wildcard_socket_answers_from_the_address_sent_to(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_storage any, to, from;
	struct sockaddr_in *sin;
	socklen_t len = 0;
	uint8_t buf[256];
	oscore_msg m, resp;
	oscore_coap_hdr h;
	gw_parked *p;
	size_t n;

	for (int i = 0; i < 10 && len == 0; i++) {
		len = free_addr(AF_INET, &any);
		assert_true(len > 0);
		((struct sockaddr_in *)&any)->sin_addr.s_addr = htonl(INADDR_ANY);
		if (gw_udp_listen(f->u, (struct sockaddr *)&any, len) != 0)
			len = 0;
	}
	assert_true(len > 0);
	to = any;
	sin = (struct sockaddr_in *)&to;
	sin->sin_addr.s_addr = htonl(0x7f000002);

	make_request(&m);
	memset(&h, 0, sizeof(h));
	h.type = GW_UDP_CON;
	h.mid = 0xa001;
	assert_int_equal(oscore_coap_encode(&h, &m, buf, sizeof(buf), &n), 0);
	dev_send_to(f->dev, &to, len, buf, n);
	pump(f, 1);
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->x.sock, 1);
	make_response(&resp);
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	n = dev_recv_fd(f->dev, buf, sizeof(buf), &from);
	assert_int_equal(from.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&from)->sin_addr.s_addr, htonl(0x7f000002));
	assert_int_equal(((struct sockaddr_in *)&from)->sin_port, sin->sin_port);
	assert_int_equal(buf[0] >> 4 & 3, GW_UDP_ACK);
	assert_int_equal(buf[2] << 8 | buf[3], 0xa001);

	/* Empty ACK, separate response and its retransmission: the same. */
	h.mid = 0xa002;
	assert_int_equal(oscore_coap_encode(&h, &m, buf, sizeof(buf), &n), 0);
	dev_send_to(f->dev, &to, len, buf, n);
	pump(f, 1);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS);
	n = dev_recv_fd(f->dev, buf, sizeof(buf), &from);
	assert_int_equal(n, 4);
	assert_int_equal(((struct sockaddr_in *)&from)->sin_addr.s_addr, htonl(0x7f000002));
	assert_int_equal(gw_udp_complete(f->u, p, &resp, T0 + 300), 0);
	n = dev_recv_fd(f->dev, buf, sizeof(buf), &from);
	assert_int_equal(buf[0] >> 4 & 3, GW_UDP_CON);
	assert_int_equal(((struct sockaddr_in *)&from)->sin_addr.s_addr, htonl(0x7f000002));
	gw_udp_tick(f->u, gw_udp_next_deadline(f->u));
	n = dev_recv_fd(f->dev, buf, sizeof(buf), &from);
	assert_int_equal(buf[0] >> 4 & 3, GW_UDP_CON);
	assert_int_equal(((struct sockaddr_in *)&from)->sin_addr.s_addr, htonl(0x7f000002));
	assert_int_equal(((struct sockaddr_in *)&from)->sin_port, sin->sin_port);
	dev_expect_nothing(f);
}

/* RFC 7252 §4.5: each duplicate of a CON SHOULD get the same ACK.  Once
 * the empty ACK of a parked request has gone out (and was lost), the
 * device's next retransmissions must still be acknowledged. */
static void test_every_retransmission_of_parked_request_is_acked(void **state)
{
	struct fixture *f = *state;
	uint8_t req[128];
	size_t req_len;
	gw_parked *p;

	dev_request(f, GW_UDP_CON, 0x4545, req, &req_len);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	/* The empty ACK goes out by itself... */
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS);
	dev_expect_empty(f, GW_UDP_ACK, 0x4545);
	/* ...is lost, and the device retransmits: it is owed the ACK again. */
	dev_send(f, req, req_len);
	pump(f, 1);
	assert_int_equal(f->requests, 1);
	dev_expect_empty(f, GW_UDP_ACK, 0x4545);
	dev_send(f, req, req_len);
	pump(f, 1);
	assert_int_equal(f->requests, 1);
	dev_expect_empty(f, GW_UDP_ACK, 0x4545);
	gw_udp_unpark(f->u, p);
}

static void test_early_completion_is_piggybacked(void **state)
{
	struct fixture *f = *state;
	gw_parked *p;
	oscore_msg resp;
	dev_request(f, GW_UDP_CON, 0x5555, NULL, NULL);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS - 1);
	dev_expect_nothing(f);
	make_response(&resp);
	assert_int_equal(gw_udp_complete(f->u, p, &resp, T0 + GW_UDP_ACK_DELAY_MS - 1), 0);
	assert_int_equal(dev_expect_answer(f, GW_UDP_ACK, TOK, sizeof(TOK), NULL, NULL), 0x5555);
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	for (uint64_t t = T0; t < T0 + 120000; t += 1000)
		gw_udp_tick(f->u, t);
	dev_expect_nothing(f);
	assert_int_equal(stats(f).piggybacked, 1);
	assert_int_equal(stats(f).separate, 0);
	assert_int_equal(gw_udp_parked(f->u), 0);
}

static void test_late_parked_con_gets_empty_ack_by_timer(void **state)
{
	struct fixture *f = *state;
	gw_parked *p, *q;
	gw_xchg y;
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	dev_request(f, GW_UDP_CON, 0x6666, NULL, NULL);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	assert_int_equal(gw_udp_next_deadline(f->u), T0 + GW_UDP_ACK_DELAY_MS);
	dev_request(f, GW_UDP_CON, 0x6667, NULL, NULL);
	y = f->x;
	assert_int_equal(gw_udp_park(f->u, &y, T0 + 50, &q), 0);
	assert_int_equal(gw_udp_next_deadline(f->u), T0 + GW_UDP_ACK_DELAY_MS);

	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS - 1);
	dev_expect_nothing(f);
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS);
	dev_expect_empty(f, GW_UDP_ACK, 0x6666);
	dev_expect_nothing(f);
	assert_int_equal(gw_udp_next_deadline(f->u), T0 + 50 + GW_UDP_ACK_DELAY_MS);
	gw_udp_tick(f->u, T0 + 50 + GW_UDP_ACK_DELAY_MS);
	dev_expect_empty(f, GW_UDP_ACK, 0x6667);
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	gw_udp_tick(f->u, T0 + 10000);
	dev_expect_nothing(f);
	assert_int_equal(gw_udp_parked(f->u), 2);

	/* A parked NON request owes no ACK: no deadline. */
	dev_request(f, GW_UDP_NON, 0x6668, NULL, NULL);
	y = f->x;
	gw_parked *r;
	assert_int_equal(gw_udp_park(f->u, &y, T0 + 100, &r), 0);
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	gw_udp_unpark(f->u, p);
	gw_udp_unpark(f->u, q);
	gw_udp_unpark(f->u, r);
	assert_int_equal(gw_udp_parked(f->u), 0);
}

static void test_con_notification_retransmits_then_nacks(void **state)
{
	struct fixture *f = *state;
	uint8_t first[256], again[256];
	size_t first_len, again_len;
	oscore_msg m;
	uint64_t due, timeout;
	gw_xchg x;

	memset(&x, 0, sizeof(x));
	x.peer = f->dev_addr;
	x.sock = 0;
	x.type = GW_UDP_CON;
	x.tok_len = sizeof(TOK);
	memcpy(x.tok, TOK, sizeof(TOK));
	make_response(&m);
	assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0), 0);
	dev_expect_answer(f, GW_UDP_CON, TOK, sizeof(TOK), first, &first_len);

	due = gw_udp_next_deadline(f->u);
	timeout = due - T0;
	assert_true(timeout >= 2000 && timeout < 3000);
	for (int i = 0; i < 4; i++) {
		gw_udp_tick(f->u, due - 1);
		dev_expect_nothing(f);
		gw_udp_tick(f->u, due);
		again_len = dev_recv(f, again, sizeof(again));
		assert_int_equal(again_len, first_len);
		assert_memory_equal(again, first, first_len);
		dev_expect_nothing(f);
		assert_int_equal(f->nacks, 0);
		timeout *= 2;
		assert_int_equal(gw_udp_next_deadline(f->u), due + timeout);
		due += timeout;
	}
	assert_int_equal(stats(f).retransmitted, 4);
	gw_udp_tick(f->u, due - 1);
	assert_int_equal(f->nacks, 0);
	gw_udp_tick(f->u, due);
	dev_expect_nothing(f);
	assert_int_equal(f->nacks, 1);
	assert_true(gw_addr_equal(&f->nack_peer, &f->dev_addr));
	assert_int_equal(f->nack_tok_len, sizeof(TOK));
	assert_memory_equal(f->nack_tok, TOK, sizeof(TOK));
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
	assert_int_equal(stats(f).nacks, 1);

	/* An RST from the device ends it at once. */
	{
		static const uint8_t tok2[] = {0x77};
		uint16_t mid;
		x.tok_len = 1;
		x.tok[0] = tok2[0];
		assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0 + 100000), 0);
		mid = dev_expect_answer(f, GW_UDP_CON, tok2, 1, NULL, NULL);
		const uint8_t rst[] = {0x70, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
		dev_send(f, rst, sizeof(rst));
		pump(f, 1);
		assert_int_equal(f->nacks, 2);
		assert_int_equal(f->nack_tok_len, 1);
		assert_int_equal(f->nack_tok[0], 0x77);
		assert_true(gw_addr_equal(&f->nack_peer, &f->dev_addr));
		assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
		assert_int_equal(stats(f).nacks, 2);
	}
	/* A NON notification is not tracked. */
	assert_int_equal(gw_udp_send(f->u, &x, &m, false, T0 + 200000), 0);
	dev_expect_answer(f, GW_UDP_NON, x.tok, 1, NULL, NULL);
	assert_int_equal(gw_udp_next_deadline(f->u), UINT64_MAX);
}

static int setup_small(void **state)
{
	return setup_limits(state, 2, 2);
}

static void test_parked_max_and_con_max_are_enforced(void **state)
{
	struct fixture *f = *state;
	gw_parked *p[3];
	oscore_msg m;
	gw_xchg x;

	for (int i = 0; i < 2; i++) {
		dev_request(f, GW_UDP_CON, (uint16_t)(0x7000 + i), NULL, NULL);
		assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p[i]), 0);
	}
	dev_request(f, GW_UDP_CON, 0x7002, NULL, NULL);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p[2]), EDHOC_E_LIMIT);
	assert_int_equal(gw_udp_parked(f->u), 2);
	gw_udp_unpark(f->u, p[0]);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p[2]), 0);
	gw_udp_unpark(f->u, p[1]);
	gw_udp_unpark(f->u, p[2]);
	assert_int_equal(gw_udp_parked(f->u), 0);

	memset(&x, 0, sizeof(x));
	x.peer = f->dev_addr;
	x.type = GW_UDP_CON;
	x.tok_len = sizeof(TOK);
	memcpy(x.tok, TOK, sizeof(TOK));
	make_response(&m);
	assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0), 0);
	dev_expect_answer(f, GW_UDP_CON, TOK, sizeof(TOK), NULL, NULL);
	assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0), 0);
	dev_expect_answer(f, GW_UDP_CON, TOK, sizeof(TOK), NULL, NULL);
	assert_int_equal(stats(f).con_table_full, 0);
	assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0), 0);
	dev_expect_answer(f, GW_UDP_NON, TOK, sizeof(TOK), NULL, NULL);
	assert_int_equal(stats(f).con_table_full, 1);

	/* Raised at run time: confirmable again. */
	gw_udp_set_limits(f->u, 2, 3);
	assert_int_equal(gw_udp_send(f->u, &x, &m, true, T0), 0);
	dev_expect_answer(f, GW_UDP_CON, TOK, sizeof(TOK), NULL, NULL);
	assert_int_equal(stats(f).con_table_full, 1);
}

static void test_free_with_parked_and_outstanding_entries(void **state)
{
	struct fixture *f = *state;
	gw_parked *p, *q;
	oscore_msg m;
	gw_xchg y;

	dev_request(f, GW_UDP_CON, 0x8000, NULL, NULL);
	assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
	dev_request(f, GW_UDP_NON, 0x8001, NULL, NULL);
	y = f->x;
	assert_int_equal(gw_udp_park(f->u, &y, T0, &q), 0);
	gw_udp_unpark(f->u, q);
	gw_udp_unpark(f->u, NULL);
	dev_request(f, GW_UDP_CON, 0x8002, NULL, NULL);
	y = f->x;
	assert_int_equal(gw_udp_park(f->u, &y, T0, &q), 0);
	gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS); /* both acknowledged */
	dev_expect_empty(f, GW_UDP_ACK, 0x8000);
	dev_expect_empty(f, GW_UDP_ACK, 0x8002);
	dev_request(f, GW_UDP_CON, 0x8003, NULL, NULL);
	y = f->x;
	assert_int_equal(gw_udp_park(f->u, &y, T0 + 1000, &q), 0);
	make_response(&m);
	assert_int_equal(gw_udp_send(f->u, &y, &m, true, T0), 0);
	assert_int_equal(gw_udp_send(f->u, &y, &m, true, T0 + 1), 0);
	assert_int_equal(gw_udp_parked(f->u), 3);
	/* teardown frees all of it; the sanitizer build reports leaks. */
	gw_udp_free(NULL);
}

static void test_answers_leave_from_the_socket_the_request_came_in_on(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_storage sa6, from;
	socklen_t len6 = 0;
	uint8_t buf[256];
	oscore_msg m, resp;
	oscore_coap_hdr h;
	gw_addr dev6;
	size_t n;
	int fd6;

	for (int i = 0; i < 10 && len6 == 0; i++) {
		len6 = free_addr(AF_INET6, &sa6);
		if (len6 == 0) {
			/* No IPv6 loopback here.  Not cmocka's skip(): this
			 * cmocka prints "not ok N # SKIP", which automake's
			 * tap-driver counts as a failure. */
			print_message("# no IPv6 loopback: the ::1 half is not run\n");
			return;
		}
		if (gw_udp_listen(f->u, (struct sockaddr *)&sa6, len6) != 0)
			len6 = 0;
	}
	assert_true(len6 > 0);
	fd6 = device_socket(AF_INET6, &dev6);

	make_request(&m);
	memset(&h, 0, sizeof(h));
	h.type = GW_UDP_CON;
	h.mid = 0x9006;
	h.token_len = 2;
	h.token[0] = 6;
	h.token[1] = 6;
	assert_int_equal(oscore_coap_encode(&h, &m, buf, sizeof(buf), &n), 0);
	dev_send_to(fd6, &sa6, len6, buf, n);
	pump(f, 1);
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->x.sock, 1);
	assert_true(gw_addr_equal(&f->x.peer, &dev6));
	make_response(&resp);
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	n = dev_recv_fd(fd6, buf, sizeof(buf), &from);
	assert_int_equal(from.ss_family, AF_INET6);
	assert_memory_equal(&((struct sockaddr_in6 *)&from)->sin6_addr,
	                    &((struct sockaddr_in6 *)&sa6)->sin6_addr, sizeof(struct in6_addr));
	assert_int_equal(((struct sockaddr_in6 *)&from)->sin6_port,
	                 ((struct sockaddr_in6 *)&sa6)->sin6_port);
	assert_int_equal(buf[0] >> 4 & 3, GW_UDP_ACK);
	assert_int_equal(buf[2] << 8 | buf[3], 0x9006);

	/* And the IPv4 device still through the IPv4 socket. */
	dev_request(f, GW_UDP_CON, 0x9004, NULL, NULL);
	assert_int_equal(f->x.sock, 0);
	assert_int_equal(gw_udp_respond(f->u, &f->x, &resp), 0);
	n = dev_recv_fd(f->dev, buf, sizeof(buf), &from);
	assert_int_equal(from.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&from)->sin_port,
	                 ((struct sockaddr_in *)&f->gw_sa)->sin_port);
	assert_int_equal(buf[2] << 8 | buf[3], 0x9004);
	dev_expect_nothing_fd(fd6);

	/* A separate response to a parked request goes the same way. */
	{
		gw_parked *p;
		dev_send_to(fd6, &sa6, len6, (uint8_t[]){0}, 0); /* empty: malformed */
		pump(f, 1);
		assert_int_equal(f->malformed, 1);
		h.mid = 0x9007;
		assert_int_equal(oscore_coap_encode(&h, &m, buf, sizeof(buf), &n), 0);
		dev_send_to(fd6, &sa6, len6, buf, n);
		pump(f, 1);
		assert_int_equal(f->x.sock, 1);
		assert_int_equal(gw_udp_park(f->u, &f->x, T0, &p), 0);
		gw_udp_tick(f->u, T0 + GW_UDP_ACK_DELAY_MS);
		n = dev_recv_fd(fd6, buf, sizeof(buf), &from);
		assert_int_equal(n, 4);
		assert_int_equal(from.ss_family, AF_INET6);
		assert_int_equal(gw_udp_complete(f->u, p, &resp, T0 + 300), 0);
		n = dev_recv_fd(fd6, buf, sizeof(buf), &from);
		assert_int_equal(from.ss_family, AF_INET6);
		assert_int_equal(buf[0] >> 4 & 3, GW_UDP_CON);
	}
	dev_expect_nothing(f);
	close(fd6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_con_request_is_answered_on_its_ack, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_non_request_is_answered_with_non, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_con_is_ping_and_empty_non_is_ignored, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_datagrams_are_dropped_and_cons_reset,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_response_sent_to_gateway_as_con_is_reset, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_parked_retransmission_gets_empty_ack_then_separate_con, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_early_completion_is_piggybacked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_parked_con_gets_empty_ack_by_timer, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_con_notification_retransmits_then_nacks, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_parked_max_and_con_max_are_enforced, setup_small,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_parked_and_outstanding_entries, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_answers_leave_from_the_socket_the_request_came_in_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wildcard_socket_answers_from_the_address_sent_to,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_retransmission_of_parked_request_is_acked,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
