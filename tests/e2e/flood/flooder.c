/* flooder: the load side of tests/e2e/flood.sh.
 *
 * Raw CoAP/UDP on 127.0.0.1 against edhocd, one mode per run; every wait
 * is bounded, counts go to stdout as "key=value" words for the script to
 * assert on.
 *
 *   flooder m1 PORT N HEX_MESSAGE_1
 *       N copies of one valid message_1, each from a socket (source port)
 *       of its own, in batches of 200: "c204= c503= maxage= other= none=".
 *   flooder garbage PORT N SOCKETS SEED
 *       N malformed datagrams (random bytes, random and truncated EDHOC
 *       payloads, huge declared CBOR lengths, 1472-byte datagrams, OSCORE
 *       option garbage) spread over SOCKETS source ports:
 *       "answered= c2xx= c4xx= c5xx= rst= other=".
 *   flooder rtx PORT N
 *       N invalid message_1 with distinct Message IDs from one port (each
 *       answered with an error holding a fresh ticket), then the oldest 10
 *       and the newest 10 again with their Message IDs: how many answers
 *       were the cached ones, "oldest_same= newest_same=".
 *   flooder kid PORT N
 *       N OSCORE requests with random unknown kids: "c401= other= none=".
 *   flooder ob1 PORT N
 *       N outer Block1 uploads (first 64-byte part each) of OSCORE
 *       messages with unknown kids, then the oldest and the newest one
 *       continued with a final part: "c231= first= last=" (outer codes).
 *   flooder block1 PORT CTX PATH N
 *       N inner Block1 uploads (first 64-byte part each) with distinct
 *       Request-Tags, then the oldest and the newest upload continued with
 *       a final part: "c231= first= last= last_len=" (inner codes).
 *   flooder pending PORT CTX PATH N SINK_PORT WAIT_MS
 *       binds SINK_PORT (the silent backend: it never reads), sends N
 *       requests at once, counts the answers that come within 1 s and
 *       those that come within WAIT_MS more: "early503= early_other=
 *       late504= late_other= none=".
 * The context file's sender sequence number is saved back after block1 and
 * pending.  FLOODER_SOURCE (an IPv4 address) sets the source address
 * (default 127.0.0.1).  Exit 0 when the run completed (the counts say the rest), 2 on
 * a socket or usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/ctxfile.h"
#include "edhoc/oscore.h"
#include "edhoc/result.h"
#include "gateway/block.h"

#define DGRAM_MAX  1500
#define BATCH      200
#define CODE(c, d) ((uint8_t)((c) << 5 | (d)))

static struct sockaddr_in target;
static uint32_t rng_state = 0x2545f491u;

static uint32_t rnd(void)
{
	/* xorshift32: reproducible garbage from the seed, no secrets here. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int open_sock(void)
{
	struct sockaddr_in me;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* FLOODER_SOURCE=127.0.0.2: the flood comes from another loopback
	 * address than the devices of the test. */
	if (getenv("FLOODER_SOURCE") &&
	    inet_pton(AF_INET, getenv("FLOODER_SOURCE"), &me.sin_addr) != 1) {
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
	    connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits at most ms for a datagram on fd; its length, or -1. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (now >= end)
			return -1;
		if (poll(&pf, 1, (int)(end - now)) <= 0)
			continue;
		ssize_t n = recv(fd, buf, cap, 0);
		if (n >= 4)
			return n;
	}
}

static size_t hex_decode(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (h[0] && h[1] && n < cap) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* A CON POST /.well-known/edhoc with payload p. */
static size_t edhoc_post(uint16_t mid, const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	oscore_msg m;
	oscore_coap_hdr h = {.type = 0, .mid = mid, .token_len = 2};
	size_t n = 0;
	h.token[0] = (uint8_t)(mid >> 8);
	h.token[1] = (uint8_t)mid;
	oscore_msg_init(&m, CODE(0, 2));
	oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)".well-known", 11);
	oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)"edhoc", 5);
	oscore_msg_set_payload(&m, p, len);
	if (oscore_coap_encode(&h, &m, out, cap, &n) != 0)
		return 0;
	return n;
}

/* ---- m1 ---- */

static int mode_m1(unsigned n, const char *hex)
{
	uint8_t body[600], d[DGRAM_MAX], a[DGRAM_MAX];
	unsigned c204 = 0, c503 = 0, maxage = 0, other = 0, none = 0;
	int fds[BATCH];
	size_t blen, dl;

	body[0] = 0xf5; /* CBOR true: message_1 (RFC 9528 App. A.2) */
	blen = 1 + hex_decode(hex, body + 1, sizeof(body) - 1);
	for (unsigned done = 0; done < n;) {
		unsigned b = n - done < BATCH ? n - done : BATCH, open = 0, got = 0;
		for (unsigned i = 0; i < b; i++) {
			fds[i] = open_sock();
			if (fds[i] < 0)
				break;
			open++;
			dl = edhoc_post((uint16_t)(done + i), body, blen, d, sizeof(d));
			if (send(fds[i], d, dl, 0) < 0)
				fprintf(stderr, "send: %s\n", strerror(errno));
		}
		if (open == 0)
			return 2;
		/* Collect one answer per socket, 3 s at most for the batch. */
		bool seen[BATCH] = {false};
		uint64_t end = mono_ms() + 3000;
		while (got < open && mono_ms() < end) {
			struct pollfd pf[BATCH];
			for (unsigned i = 0; i < open; i++)
				pf[i] =
				    (struct pollfd){.fd = seen[i] ? -1 : fds[i], .events = POLLIN};
			if (poll(pf, open, 100) <= 0)
				continue;
			for (unsigned i = 0; i < open; i++) {
				oscore_coap_hdr h;
				oscore_msg m;
				ssize_t r;
				if (!(pf[i].revents & POLLIN))
					continue;
				r = recv(fds[i], a, sizeof(a), 0);
				if (r < 4 || oscore_coap_decode(a, (size_t)r, &h, &m) != 0 ||
				    m.code == 0)
					continue; /* empty ACK: the answer follows */
				seen[i] = true;
				got++;
				if (m.code == CODE(2, 4))
					c204++;
				else if (m.code == CODE(5, 3)) {
					c503++;
					if (oscore_msg_find(&m, OSCORE_OPT_MAX_AGE))
						maxage++;
				} else {
					other++;
				}
			}
		}
		none += open - got;
		for (unsigned i = 0; i < open; i++)
			close(fds[i]);
		done += open;
	}
	printf("c204=%u c503=%u maxage=%u other=%u none=%u\n", c204, c503, maxage, other, none);
	return 0;
}

/* ---- garbage ---- */

static size_t make_garbage(unsigned i, uint8_t *d, size_t cap)
{
	uint8_t p[1472];
	size_t n, pl;
	switch (i % 7) {
	case 0: /* random bytes, any length up to a full Ethernet payload */
		n = 1 + rnd() % 1472;
		for (size_t k = 0; k < n; k++)
			d[k] = (uint8_t)rnd();
		d[0] = (uint8_t)((d[0] & 0x3f) | 0x40); /* version 1, CON */
		return n;
	case 1: /* random EDHOC payload */
		pl = 1 + rnd() % 600;
		for (size_t k = 0; k < pl; k++)
			p[k] = (uint8_t)rnd();
		return edhoc_post((uint16_t)i, p, pl, d, cap);
	case 2: /* a message_1 cut short */
		memcpy(p, "\xf5\x03\x82\x06\x02\x58\x20", 7);
		for (size_t k = 7; k < 40; k++)
			p[k] = (uint8_t)rnd();
		return edhoc_post((uint16_t)i, p, 1 + rnd() % 39, d, cap);
	case 3: /* huge declared lengths: bstr, array, map, tstr of 2^64-1 */
		memcpy(p, "\xf5\x03\x82\x06\x02", 5);
		p[5] = (uint8_t)(0x5b + 0x20 * (rnd() % 4)); /* 5b 7b 9b bb */
		memset(p + 6, 0xff, 8);
		return edhoc_post((uint16_t)i, p, 14 + rnd() % 8, d, cap);
	case 4: /* the largest datagram, declared longer still */
		memcpy(p, "\xf5\x03\x02\x59\xff\xff", 6);
		memset(p + 6, 0xa5, sizeof(p) - 6);
		n = edhoc_post((uint16_t)i, p, sizeof(p), d, cap);
		return n > 1472 ? 1472 : n;
	case 5: { /* an OSCORE option of random bytes */
		oscore_msg m;
		oscore_coap_hdr h = {.type = 0, .mid = (uint16_t)i, .token_len = 1};
		uint8_t opt[8];
		size_t ol = rnd() % 8;
		for (size_t k = 0; k < ol; k++)
			opt[k] = (uint8_t)rnd();
		pl = rnd() % 64;
		for (size_t k = 0; k < pl; k++)
			p[k] = (uint8_t)rnd();
		oscore_msg_init(&m, CODE(0, 2));
		oscore_msg_add(&m, OSCORE_OPT_OSCORE, opt, ol);
		oscore_msg_set_payload(&m, p, pl);
		if (oscore_coap_encode(&h, &m, d, cap, &n) != 0)
			return 0;
		return n;
	}
	default: /* message_3-like: a bstr then random (unknown C_R) */
		p[0] = 0x58;
		p[1] = 40;
		for (size_t k = 2; k < 42; k++)
			p[k] = (uint8_t)rnd();
		return edhoc_post((uint16_t)i, p, 42, d, cap);
	}
}

static int mode_garbage(unsigned n, unsigned socks, unsigned seed)
{
	uint8_t d[DGRAM_MAX], a[DGRAM_MAX];
	unsigned answered = 0, c2 = 0, c4 = 0, c5 = 0, rst = 0, other = 0;
	int *fds;

	if (socks == 0 || socks > 1000)
		return 2;
	rng_state = seed ? seed : 1;
	fds = calloc(socks, sizeof(*fds));
	if (!fds)
		return 2;
	for (unsigned i = 0; i < socks; i++)
		if ((fds[i] = open_sock()) < 0)
			return 2;
	/* Send all, draining answers as they come; then drain for 1.5 s. */
	for (unsigned i = 0; i <= n; i++) {
		if (i < n) {
			size_t len = make_garbage(i, d, sizeof(d));
			if (len && send(fds[i % socks], d, len, 0) < 0 && errno != EAGAIN &&
			    errno != ECONNREFUSED)
				fprintf(stderr, "send: %s\n", strerror(errno));
		}
		uint64_t end = mono_ms() + (i == n ? 1500 : 0);
		do {
			bool any = false;
			for (unsigned k = 0; k < socks; k++) {
				ssize_t r = recv(fds[k], a, sizeof(a), MSG_DONTWAIT);
				oscore_coap_hdr h;
				oscore_msg m;
				if (r < 4)
					continue;
				any = true;
				if (oscore_coap_decode(a, (size_t)r, &h, &m) != 0) {
					other++;
					continue;
				}
				if (h.type == 3) {
					rst++;
					continue;
				}
				if (m.code == 0)
					continue; /* empty ACK */
				answered++;
				if (m.code >> 5 == 2)
					c2++;
				else if (m.code >> 5 == 4)
					c4++;
				else if (m.code >> 5 == 5)
					c5++;
				else
					other++;
			}
			if (!any && i == n)
				usleep(20000);
		} while (mono_ms() < end);
		if (i % 64 == 63)
			usleep(2000); /* a flood, not a kernel buffer overflow test */
	}
	printf("answered=%u c2xx=%u c4xx=%u c5xx=%u rst=%u other=%u\n", answered, c2, c4, c5, rst,
	       other);
	for (unsigned i = 0; i < socks; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

/* ---- rtx ---- */

struct answer {
	uint8_t b[256];
	size_t len;
};

/* Sends d, returns the first non-empty answer with Message ID mid. */
static bool exchange_raw(int fd, const uint8_t *d, size_t dl, uint16_t mid, struct answer *ret)
{
	uint8_t a[DGRAM_MAX];
	uint64_t end = mono_ms() + 2000;
	if (send(fd, d, dl, 0) < 0)
		return false;
	while (mono_ms() < end) {
		ssize_t r = recv_wait(fd, a, sizeof(a), 200);
		oscore_coap_hdr h;
		oscore_msg m;
		if (r < 4 || oscore_coap_decode(a, (size_t)r, &h, &m) != 0 || m.code == 0)
			continue;
		if (h.type == 2 && h.mid != mid)
			continue;
		ret->len = (size_t)r < sizeof(ret->b) ? (size_t)r : sizeof(ret->b);
		memcpy(ret->b, a, ret->len);
		return true;
	}
	return false;
}

static int mode_rtx(unsigned n)
{
	static const uint8_t bad[2] = {0xf5, 0x00}; /* message_1 that is just an int */
	uint8_t d[64];
	unsigned oldest_same = 0, newest_same = 0, answered = 0;
	struct answer *ans = calloc(n, sizeof(*ans));
	int fd = open_sock();
	if (!ans || fd < 0 || n < 20)
		return 2;
	for (unsigned i = 0; i < n; i++) {
		size_t dl = edhoc_post((uint16_t)(i + 1), bad, sizeof(bad), d, sizeof(d));
		if (exchange_raw(fd, d, dl, (uint16_t)(i + 1), &ans[i]))
			answered++;
	}
	for (unsigned k = 0; k < 20; k++) {
		unsigned i = k < 10 ? k : n - 20 + k;
		struct answer again;
		size_t dl = edhoc_post((uint16_t)(i + 1), bad, sizeof(bad), d, sizeof(d));
		if (!exchange_raw(fd, d, dl, (uint16_t)(i + 1), &again))
			continue;
		bool same = again.len == ans[i].len && memcmp(again.b, ans[i].b, again.len) == 0;
		if (same)
			*(k < 10 ? &oldest_same : &newest_same) += 1;
	}
	printf("answered=%u oldest_same=%u newest_same=%u\n", answered, oldest_same, newest_same);
	close(fd);
	free(ans);
	return 0;
}

/* ---- kid ---- */

static int mode_kid(unsigned n)
{
	uint8_t d[128], p[32], opt[8];
	unsigned c401 = 0, other = 0, none = 0;
	int fd = open_sock();
	if (fd < 0)
		return 2;
	for (unsigned i = 0; i < n; i++) {
		oscore_msg m;
		oscore_coap_hdr h = {.type = 0, .mid = (uint16_t)i, .token_len = 2};
		struct answer a;
		oscore_coap_hdr ah;
		oscore_msg am;
		size_t dl;
		uint32_t kid = rnd();
		h.token[0] = (uint8_t)(i >> 8);
		h.token[1] = (uint8_t)i;
		opt[0] = 0x09; /* kid present, 1-byte Partial IV */
		opt[1] = (uint8_t)i;
		memcpy(opt + 2, &kid, 4);
		for (size_t k = 0; k < sizeof(p); k++)
			p[k] = (uint8_t)rnd();
		oscore_msg_init(&m, CODE(0, 2));
		oscore_msg_add(&m, OSCORE_OPT_OSCORE, opt, 6);
		oscore_msg_set_payload(&m, p, sizeof(p));
		if (oscore_coap_encode(&h, &m, d, sizeof(d), &dl) != 0)
			return 2;
		if (!exchange_raw(fd, d, dl, h.mid, &a)) {
			none++;
			continue;
		}
		if (oscore_coap_decode(a.b, a.len, &ah, &am) == 0 && am.code == CODE(4, 1))
			c401++;
		else
			other++;
	}
	printf("c401=%u other=%u none=%u\n", c401, other, none);
	close(fd);
	return 0;
}

/* ---- ob1 ---- */

static uint8_t ob1_part(int fd, uint32_t i, uint32_t num, bool more, uint16_t mid)
{
	uint8_t d[256], p[64], opt[6], bv[3];
	gw_block_opt b = {num, more, 2};
	oscore_msg m;
	oscore_coap_hdr h = {.type = 0, .mid = mid, .token_len = 4}, ah;
	struct answer a;
	size_t dl, len = more ? 64 : 10;
	uint32_t kid = 0xf1000000u | i;
	memcpy(h.token, &mid, 2);
	memcpy(h.token + 2, &i, 2);
	opt[0] = 0x09; /* kid present, 1-byte Partial IV */
	opt[1] = 1;
	memcpy(opt + 2, &kid, 4);
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)rnd();
	oscore_msg_init(&m, CODE(0, 2));
	oscore_msg_add(&m, OSCORE_OPT_OSCORE, opt, sizeof(opt));
	oscore_msg_add(&m, OSCORE_OPT_BLOCK1, bv, gw_block_encode(&b, bv));
	oscore_msg_set_payload(&m, p, len);
	if (oscore_coap_encode(&h, &m, d, sizeof(d), &dl) != 0 ||
	    !exchange_raw(fd, d, dl, mid, &a) || oscore_coap_decode(a.b, a.len, &ah, &m) != 0)
		return 0;
	return m.code;
}

static int mode_ob1(unsigned n)
{
	unsigned c231 = 0;
	uint16_t mid = 1;
	uint8_t first, last;
	int fd = open_sock();
	if (fd < 0)
		return 2;
	for (unsigned i = 0; i < n; i++)
		if (ob1_part(fd, i, 0, true, mid++) == CODE(2, 31))
			c231++;
	first = ob1_part(fd, 0, 1, false, mid++);
	last = ob1_part(fd, n - 1, 1, false, mid++);
	printf("c231=%u first=%u.%02u last=%u.%02u\n", c231, first >> 5, first & 31, last >> 5,
	       last & 31);
	close(fd);
	return 0;
}

/* ---- OSCORE modes ---- */

static int load_ctx(const char *path, oscore_ctx **ret)
{
	client_ctxfile cf;
	char err[256];
	int rc;
	if (client_ctxfile_load(path, &cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	rc = client_ctxfile_context(&cf, ret);
	client_ctxfile_clear(&cf);
	return rc;
}

static void save_seq(const char *path, const oscore_ctx *c)
{
	client_ctxfile cf;
	char err[256];
	if (client_ctxfile_load(path, &cf, err, sizeof(err)) != 0)
		return;
	cf.sender_seq = oscore_ctx_sender_seq(c);
	if (client_ctxfile_save(path, &cf, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	client_ctxfile_clear(&cf);
}

static void add_path(oscore_msg *m, const char *path)
{
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)p, n);
		p += n;
		while (*p == '/')
			p++;
	}
}

/* Protects inner as a CON with token = idx (4 bytes) and Message ID mid
 * into d; fills info. */
static size_t protect(oscore_ctx *c, const oscore_msg *inner, uint32_t idx, uint16_t mid,
                      oscore_request_info *info, uint8_t *d, size_t cap)
{
	static uint8_t prot[DGRAM_MAX];
	oscore_msg outer;
	oscore_coap_hdr h = {.type = 0, .mid = mid, .token_len = 4};
	size_t n;
	memcpy(h.token, &idx, 4);
	if (oscore_protect_request(c, inner, prot, sizeof(prot), &outer, info) != 0 ||
	    oscore_coap_encode(&h, &outer, d, cap, &n) != 0)
		return 0;
	return n;
}

/* The inner code of an answer (its outer code when it is not protected);
 * 0 when it does not verify.  ret_len: the inner payload length. */
static uint8_t inner_code(oscore_ctx *c, oscore_request_info *info, const oscore_msg *outer,
                          size_t *ret_len)
{
	static uint8_t plain[DGRAM_MAX];
	oscore_msg in;
	*ret_len = 0;
	if (!oscore_msg_find(outer, OSCORE_OPT_OSCORE))
		return outer->code;
	if (oscore_unprotect_response(c, info, outer, plain, sizeof(plain), &in) != 0)
		return 0;
	*ret_len = in.payload_len;
	return in.code;
}

static uint8_t block1_part(int fd, oscore_ctx *c, const char *path, uint32_t tag, uint32_t num,
                           bool more, uint16_t mid, size_t *ret_len)
{
	uint8_t d[DGRAM_MAX], body[64], bv[3];
	oscore_msg inner, outer;
	oscore_request_info info;
	oscore_coap_hdr h;
	struct answer a;
	gw_block_opt b = {num, more, 2};
	size_t dl, len = more ? 64 : 10;
	for (size_t k = 0; k < len; k++)
		body[k] = (uint8_t)('a' + (num * 64 + k) % 26);
	oscore_msg_init(&inner, CODE(0, 2));
	add_path(&inner, path);
	oscore_msg_add(&inner, OSCORE_OPT_BLOCK1, bv, gw_block_encode(&b, bv));
	oscore_msg_add(&inner, OSCORE_OPT_REQUEST_TAG, (const uint8_t *)&tag, 4);
	oscore_msg_set_payload(&inner, body, len);
	dl = protect(c, &inner, tag, mid, &info, d, sizeof(d));
	if (dl == 0 || !exchange_raw(fd, d, dl, mid, &a))
		return 0;
	if (oscore_coap_decode(a.b, a.len, &h, &outer) != 0)
		return 0;
	return inner_code(c, &info, &outer, ret_len);
}

static int mode_block1(const char *ctxpath, const char *path, unsigned n)
{
	oscore_ctx *c = NULL;
	unsigned c231 = 0;
	uint16_t mid = 1;
	size_t len;
	uint8_t first, last;
	int fd = open_sock();
	if (fd < 0 || load_ctx(ctxpath, &c) != 0)
		return 2;
	for (unsigned i = 0; i < n; i++)
		if (block1_part(fd, c, path, i, 0, true, mid++, &len) == CODE(2, 31))
			c231++;
	first = block1_part(fd, c, path, 0, 1, false, mid++, &len);
	last = block1_part(fd, c, path, n - 1, 1, false, mid++, &len);
	printf("c231=%u first=%u.%02u last=%u.%02u last_len=%zu\n", c231, first >> 5, first & 31,
	       last >> 5, last & 31, len);
	save_seq(ctxpath, c);
	oscore_ctx_free(c);
	close(fd);
	return 0;
}

static int mode_pending(const char *ctxpath, const char *path, unsigned n, unsigned sink_port,
                        unsigned wait_ms)
{
	uint8_t d[DGRAM_MAX], a[DGRAM_MAX];
	oscore_ctx *c = NULL;
	oscore_request_info *info = calloc(n, sizeof(*info));
	bool *seen = calloc(n, sizeof(*seen));
	unsigned e503 = 0, eother = 0, l504 = 0, lother = 0, got = 0;
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sink_port)};
	int sink = socket(AF_INET, SOCK_DGRAM, 0), fd = open_sock();
	uint64_t t0, early_end, end;

	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!info || !seen || fd < 0 || sink < 0 ||
	    bind(sink, (struct sockaddr *)&s, sizeof(s)) != 0 || load_ctx(ctxpath, &c) != 0) {
		fprintf(stderr, "pending: setup failed\n");
		return 2;
	}
	for (unsigned i = 0; i < n; i++) {
		oscore_msg inner;
		size_t dl;
		oscore_msg_init(&inner, CODE(0, 1));
		add_path(&inner, path);
		dl = protect(c, &inner, i, (uint16_t)(i + 1), &info[i], d, sizeof(d));
		if (dl == 0 || send(fd, d, dl, 0) < 0)
			return 2;
		if (i % 32 == 31)
			usleep(1000);
	}
	t0 = mono_ms();
	early_end = t0 + 1000;
	end = early_end + wait_ms;
	while (got < n && mono_ms() < end) {
		oscore_coap_hdr h;
		oscore_msg m;
		uint32_t idx;
		size_t len;
		ssize_t r = recv_wait(fd, a, sizeof(a), 100);
		if (r < 4 || oscore_coap_decode(a, (size_t)r, &h, &m) != 0)
			continue;
		if (h.type == 0) { /* a separate CON answer: ACK it */
			uint8_t ack[4] = {0x60, 0, (uint8_t)(h.mid >> 8), (uint8_t)h.mid};
			send(fd, ack, 4, 0);
		}
		if (m.code == 0 || h.token_len != 4)
			continue;
		memcpy(&idx, h.token, 4);
		if (idx >= n || seen[idx])
			continue;
		seen[idx] = true;
		got++;
		uint8_t code = inner_code(c, &info[idx], &m, &len);
		if (mono_ms() < early_end)
			*(code == CODE(5, 3) ? &e503 : &eother) += 1;
		else
			*(code == CODE(5, 4) ? &l504 : &lother) += 1;
	}
	printf("early503=%u early_other=%u late504=%u late_other=%u none=%u\n", e503, eother, l504,
	       lother, n - got);
	save_seq(ctxpath, c);
	oscore_ctx_free(c);
	close(fd);
	close(sink);
	free(info);
	free(seen);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: see tests/e2e/flood/flooder.c\n");
		return 2;
	}
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ctx_mode = strcmp(argv[1], "block1") == 0 || strcmp(argv[1], "pending") == 0;
	unsigned n = (unsigned)strtoul(argv[ctx_mode && argc >= 6 ? 5 : 3], NULL, 10);
	if (n == 0 || n > 100000)
		return 2;
	if (strcmp(argv[1], "m1") == 0 && argc == 5)
		return mode_m1(n, argv[4]);
	if (strcmp(argv[1], "garbage") == 0 && argc == 6)
		return mode_garbage(n, (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));
	if (strcmp(argv[1], "rtx") == 0)
		return mode_rtx(n);
	if (strcmp(argv[1], "kid") == 0)
		return mode_kid(n);
	if (strcmp(argv[1], "ob1") == 0)
		return mode_ob1(n);
	/* OSCORE modes: flooder MODE PORT CTX PATH N ... */
	if (ctx_mode && argc >= 6) {
		if (strcmp(argv[1], "block1") == 0)
			return mode_block1(argv[3], argv[4], n);
		if (strcmp(argv[1], "pending") == 0 && argc == 8)
			return mode_pending(argv[3], argv[4], n, (unsigned)atoi(argv[6]),
			                    (unsigned)atoi(argv[7]));
	}
	fprintf(stderr, "flooder: bad arguments\n");
	return 2;
}
