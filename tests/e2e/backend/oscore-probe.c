/* oscore-probe: a raw-UDP OSCORE client for the forwarding e2e tests.
 *
 * edhoc-client runs handshakes and simple requests; this tool does what
 * the gateway's forwarding tests need beyond that, on a context file that
 * edhoc-client saved (--save-context) or that a test wrote for a static
 * context: inner Block1 uploads and Block2 downloads, Observe with
 * notifications and deregistration, retransmission (same MID) and replay
 * (same Partial IV, new MID), the Echo round after a gateway restart, and
 * it reports every Partial IV the gateway sends ("resp_piv=N" on stderr).
 *
 *   oscore-probe --ctx FILE [--save] [options] coap://127.0.0.1:PORT/path?query
 *     -m get|post|put|delete|fetch   -e TEXT | --len N (byte i = i*7+3)
 *     -t CF   --block1 SZX [--request-tag HEX]   --block2 SZX
 *     --observe N (N notifications, then deregister)   --retransmit   --replay
 *     -o FILE (body to FILE)   --timeout MS (default 5000)
 *     --outer-block1 SZX [--outer-gap]   --outer-block2 SZX
 *       outer block-wise (RFC 8613 §4.1.3.4.2): the protected request is
 *       sent in outer Block1 parts (Size1 on the first; --outer-gap leaves
 *       out part 1), the protected response asked for in outer Block2
 *       blocks (later blocks: the same OSCORE option, no payload) and
 *       verified once reassembled; "outer_parts=N outer_blocks=N" on
 *       stderr, "size1=N" on stdout when an answer carries Size1.
 * stdout: "code=C.DD len=N" per final answer, then the body when -o is not
 * given and it is printable; notifications as "notify observe=N body=...".
 * Exit: 0 answer 2.xx, 5 CoAP error, 2 timeout/network, 4 OSCORE failure,
 * 1 usage, 6 retransmission answers differ. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/ctxfile.h"
#include "client/options.h"
#include "edhoc/oscore.h"
#include "gateway/block.h"

#define BUF      2048
#define BODY_MAX 70000

struct probe {
	int fd;
	oscore_ctx *ctx;
	uint16_t mid;
	unsigned timeout_ms;
	char path[512];
	char query[512];
	uint8_t method;
	int cf;
	/* last datagram sent, for --retransmit / --replay */
	uint8_t last[BUF];
	size_t last_len;
	/* last answer as received (outer code, options and payload) */
	uint8_t ans[BUF];
	size_t ans_len;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void add_path(oscore_msg *m, const char *path, const char *query)
{
	/* Segments point into the caller's strings (static for a run). */
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)p, n);
		if (!e)
			break;
		p = e + 1;
	}
	p = query;
	while (*p) {
		const char *e = strchr(p, '&');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		oscore_msg_add(m, OSCORE_OPT_URI_QUERY, (const uint8_t *)p, n);
		if (!e)
			break;
		p = e + 1;
	}
}

static int send_raw(struct probe *pr, const uint8_t *d, size_t n)
{
	return send(pr->fd, d, n, 0) == (ssize_t)n ? 0 : -1;
}

static void send_ack(struct probe *pr, uint16_t mid)
{
	uint8_t a[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
	send_raw(pr, a, 4);
}

/* Protects inner and sends it as a CON with token tok.  info is filled. */
static int send_request(struct probe *pr, const oscore_msg *inner, const uint8_t tok[8],
                        oscore_request_info *info)
{
	static uint8_t prot[BUF];
	oscore_msg outer;
	oscore_coap_hdr h;
	uint64_t seq = oscore_ctx_sender_seq(pr->ctx);
	int rc = oscore_protect_request(pr->ctx, inner, prot, sizeof(prot), &outer, info);
	if (rc != 0) {
		fprintf(stderr, "protect: %s\n", edhoc_result_name(rc));
		return 4;
	}
	fprintf(stderr, "seq=%llu\n", (unsigned long long)seq);
	memset(&h, 0, sizeof(h));
	h.type = 0;
	h.mid = ++pr->mid;
	memcpy(h.token, tok, 8);
	h.token_len = 8;
	rc = oscore_coap_encode(&h, &outer, pr->last, sizeof(pr->last), &pr->last_len);
	if (rc != 0 || send_raw(pr, pr->last, pr->last_len) != 0)
		return 2;
	return 0;
}

/* Waits for the answer with token tok (ACKing CON answers), unprotects it
 * into ret_inner (borrowing from a static buffer).  Returns 0, 2 on
 * timeout, 4 when it does not verify. */
static int wait_answer(struct probe *pr, const uint8_t tok[8], oscore_request_info *info,
                       oscore_msg *ret_inner, unsigned ms)
{
	static uint8_t dgram[BUF], plain[BUF];
	uint64_t end = mono_ms() + ms;
	for (;;) {
		struct pollfd pfd = {pr->fd, POLLIN, 0};
		uint64_t now = mono_ms();
		oscore_coap_hdr h;
		oscore_msg outer;
		ssize_t n;
		int rc;
		if (now >= end)
			return 2;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(pr->fd, dgram, sizeof(dgram), 0);
		if (n < 4 || oscore_coap_decode(dgram, (size_t)n, &h, &outer) != 0)
			continue;
		if (h.type == 3) {
			fprintf(stderr, "RST\n");
			return 2;
		}
		if (outer.code == 0)
			continue; /* empty ACK: a separate response follows */
		if (h.type == 0)
			send_ack(pr, h.mid);
		if (h.token_len != 8 || memcmp(h.token, tok, 8) != 0)
			continue;
		pr->ans_len = (size_t)n - 4 - h.token_len;
		pr->ans[0] = dgram[1]; /* the code; type and MID may differ */
		memcpy(pr->ans + 1, dgram + 4 + h.token_len, pr->ans_len);
		pr->ans_len++;
		if (!oscore_msg_find(&outer, OSCORE_OPT_OSCORE)) {
			*ret_inner = outer; /* the gateway's unprotected error */
			return 0;
		}
		{
			const oscore_option *o = oscore_msg_find(&outer, OSCORE_OPT_OSCORE);
			oscore_header oh;
			if (oscore_option_decode(o->value, o->len, &oh) == 0 && oh.piv_len) {
				uint64_t v = 0;
				for (size_t i = 0; i < oh.piv_len; i++)
					v = v << 8 | oh.piv[i];
				fprintf(stderr, "resp_piv=%llu\n", (unsigned long long)v);
			}
		}
		rc = oscore_unprotect_response(pr->ctx, info, &outer, plain, sizeof(plain),
		                               ret_inner);
		if (rc != 0) {
			fprintf(stderr, "unprotect: %s\n", edhoc_result_name(rc));
			return 4;
		}
		return 0;
	}
}

static void print_code(uint8_t c, size_t len)
{
	printf("code=%u.%02u len=%zu\n", c >> 5, c & 31, len);
}

static bool printable(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] < 0x20 && b[i] != '\n' && b[i] != '\t')
			return false;
	return true;
}

/* Waits for the datagram with token tok (ACKing CON ones) and decodes it
 * into *ret without any OSCORE processing (borrowing a static buffer). */
static int wait_raw(struct probe *pr, const uint8_t tok[8], oscore_msg *ret, unsigned ms)
{
	static uint8_t dgram[BUF];
	uint64_t end = mono_ms() + ms;
	for (unsigned guard = 0; guard < 10000; guard++) {
		struct pollfd pfd = {pr->fd, POLLIN, 0};
		uint64_t now = mono_ms();
		oscore_coap_hdr h;
		ssize_t n;
		if (now >= end)
			return 2;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(pr->fd, dgram, sizeof(dgram), 0);
		if (n < 4 || oscore_coap_decode(dgram, (size_t)n, &h, ret) != 0)
			continue;
		if (h.type == 3)
			return 2;
		if (ret->code == 0)
			continue;
		if (h.type == 0)
			send_ack(pr, h.mid);
		if (h.token_len == 8 && memcmp(h.token, tok, 8) == 0)
			return 0;
	}
	return 2;
}

/* Sends m as a CON with a new MID and a new token (kept in tok). */
static int send_outer(struct probe *pr, const oscore_msg *m, uint8_t tok[8])
{
	static uint8_t d[BUF];
	oscore_coap_hdr h;
	size_t n;
	if (getrandom(tok, 8, 0) != 8)
		return 2;
	memset(&h, 0, sizeof(h));
	h.mid = ++pr->mid;
	memcpy(h.token, tok, 8);
	h.token_len = 8;
	if (oscore_coap_encode(&h, m, d, sizeof(d), &n) != 0 || send_raw(pr, d, n) != 0)
		return 2;
	return 0;
}

static void print_size1(const oscore_msg *m)
{
	const oscore_option *o = oscore_msg_find(m, OSCORE_OPT_SIZE1);
	uint32_t v = 0;
	if (o && oscore_uint_decode(o->value, o->len, &v) == 0)
		printf("size1=%u\n", v);
}

/* Outer block-wise exchange (no Echo round): protects inner whole, sends
 * it in outer Block1 parts of b1_szx (-1: one datagram), asks for the
 * answer in outer Block2 blocks of b2_szx (-1: not), reassembles and
 * unprotects it into *ret.  An unprotected answer (a transport error) is
 * returned as it is. */
static int outer_exchange(struct probe *pr, const oscore_msg *inner, uint8_t tok[8],
                          oscore_request_info *info, oscore_msg *ret, int b1_szx, int b2_szx,
                          bool gap)
{
	static uint8_t prot[BODY_MAX + 2 * BUF], resp[BODY_MAX + 2 * BUF], plain[BODY_MAX + BUF];
	static uint8_t head[BUF];
	uint8_t b1v[3], b2v[3], s1v[4];
	oscore_msg outer, m, a, hm;
	size_t off = 0, size, parts = 0, blocks = 0, got = 0, head_len = 0;
	uint8_t code;
	uint64_t seq = oscore_ctx_sender_seq(pr->ctx);
	int rc = oscore_protect_request(pr->ctx, inner, prot, sizeof(prot), &outer, info);
	if (rc != 0) {
		fprintf(stderr, "protect: %s\n", edhoc_result_name(rc));
		return 4;
	}
	fprintf(stderr, "seq=%llu\nprotected=%zu\n", (unsigned long long)seq, outer.payload_len);
	size = b1_szx >= 0 ? gw_block_size((unsigned)b1_szx) : outer.payload_len;
	for (uint32_t num = 0;; num++) {
		size_t n = outer.payload_len - off > size ? size : outer.payload_len - off;
		gw_block_opt b = {num, off + n < outer.payload_len,
		                  b1_szx >= 0 ? (unsigned)b1_szx : 0};
		m = outer;
		oscore_msg_set_payload(&m, outer.payload + off, n);
		if (b1_szx >= 0) {
			oscore_msg_add(&m, OSCORE_OPT_BLOCK1, b1v, gw_block_encode(&b, b1v));
			if (num == 0)
				oscore_msg_add(
				    &m, OSCORE_OPT_SIZE1, s1v,
				    oscore_uint_encode((uint32_t)outer.payload_len, s1v));
		}
		if (!b.more && b2_szx >= 0) {
			gw_block_opt c = {0, false, (unsigned)b2_szx};
			oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&c, b2v));
		}
		off += n;
		if (gap && num == 1 && b.more)
			continue; /* part 1 never sent */
		parts++;
		rc = send_outer(pr, &m, tok);
		if (rc == 0)
			rc = wait_raw(pr, tok, &a, pr->timeout_ms);
		if (rc != 0)
			return rc;
		if (!b.more || a.code != OSCORE_CODE(2, 31))
			break;
	}
	fprintf(stderr, "outer_parts=%zu\n", parts);
	/* Keep the answer's code and options (they borrow the receive buffer). */
	code = a.code;
	hm = a;
	oscore_msg_remove(&hm, OSCORE_OPT_BLOCK2);
	oscore_msg_remove(&hm, OSCORE_OPT_SIZE2);
	oscore_msg_set_payload(&hm, NULL, 0);
	if (oscore_msg_encode_body(&hm, head, sizeof(head), &head_len) != 0)
		return 1;
	for (unsigned guard = 0; guard < 4096; guard++) {
		const oscore_option *o = oscore_msg_find(&a, OSCORE_OPT_BLOCK2);
		gw_block_opt b;
		blocks++;
		if (got + a.payload_len > sizeof(resp))
			return 1;
		if (a.payload_len)
			memcpy(resp + got, a.payload, a.payload_len);
		got += a.payload_len;
		if (!o || !oscore_msg_find(&a, OSCORE_OPT_OSCORE) ||
		    gw_block_decode(o->value, o->len, &b) != 0 || !b.more)
			break;
		/* The next block: the same OSCORE option, outer Block2 only. */
		b.num++;
		b.more = false;
		m = outer;
		oscore_msg_set_payload(&m, NULL, 0);
		oscore_msg_add(&m, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
		rc = send_outer(pr, &m, tok);
		if (rc == 0)
			rc = wait_raw(pr, tok, &a, pr->timeout_ms);
		if (rc != 0)
			return rc;
		if (a.code != code) {
			/* An error instead of the next block. */
			static uint8_t keep[BUF];
			size_t kl = 0;
			oscore_msg_encode_body(&a, keep, sizeof(keep), &kl);
			oscore_msg_decode_body(a.code, keep, kl, ret);
			fprintf(stderr, "outer_blocks=%zu (aborted)\n", blocks);
			return 0;
		}
	}
	fprintf(stderr, "outer_blocks=%zu\n", blocks);
	if (oscore_msg_decode_body(code, head, head_len, &a) != 0)
		return 1;
	oscore_msg_set_payload(&a, resp, got);
	if (!oscore_msg_find(&a, OSCORE_OPT_OSCORE)) {
		*ret = a; /* the gateway's unprotected error */
		return 0;
	}
	rc = oscore_unprotect_response(pr->ctx, info, &a, plain, sizeof(plain), ret);
	if (rc != 0) {
		fprintf(stderr, "unprotect: %s\n", edhoc_result_name(rc));
		return 4;
	}
	return 0;
}

/* One request/answer exchange with Echo handling (App. B.1.2: a 4.01 with
 * an inner Echo is answered by repeating the request with that Echo). */
static int exchange(struct probe *pr, oscore_msg *inner, const uint8_t tok[8],
                    oscore_request_info *info, oscore_msg *ret)
{
	static uint8_t echo[OSCORE_MAX_ECHO];
	int rc = send_request(pr, inner, tok, info);
	const oscore_option *e;
	if (rc == 0)
		rc = wait_answer(pr, tok, info, ret, pr->timeout_ms);
	if (rc != 0 || ret->code != OSCORE_CODE_UNAUTHORIZED)
		return rc;
	e = oscore_msg_find(ret, OSCORE_OPT_ECHO);
	if (!e || e->len > sizeof(echo))
		return rc;
	memcpy(echo, e->value, e->len);
	fprintf(stderr, "echo round\n");
	oscore_msg_add(inner, OSCORE_OPT_ECHO, echo, e->len);
	rc = send_request(pr, inner, tok, info);
	if (rc == 0)
		rc = wait_answer(pr, tok, info, ret, pr->timeout_ms);
	oscore_msg_remove(inner, OSCORE_OPT_ECHO);
	return rc;
}

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
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", path, edhoc_result_name(rc));
	return rc;
}

static int save_seq(const char *path, const oscore_ctx *c)
{
	client_ctxfile cf;
	char err[256];
	int rc;
	if (client_ctxfile_load(path, &cf, err, sizeof(err)) != 0)
		return -1;
	cf.sender_seq = oscore_ctx_sender_seq(c);
	rc = client_ctxfile_save(path, &cf, err, sizeof(err));
	client_ctxfile_clear(&cf);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"ctx", required_argument, NULL, 'c'},
	    {"save", no_argument, NULL, 'S'},
	    {"len", required_argument, NULL, 'L'},
	    {"block1", required_argument, NULL, '1'},
	    {"block2", required_argument, NULL, '2'},
	    {"request-tag", required_argument, NULL, 'R'},
	    {"observe", required_argument, NULL, 'O'},
	    {"retransmit", no_argument, NULL, 'X'},
	    {"replay", no_argument, NULL, 'Y'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"outer-block1", required_argument, NULL, 'P'},
	    {"outer-block2", required_argument, NULL, 'Q'},
	    {"outer-gap", no_argument, NULL, 'G'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t body[BODY_MAX], got[BODY_MAX];
	struct probe pr;
	const char *ctx_path = NULL, *out_path = NULL, *uri;
	bool save = false, retransmit = false, replay = false;
	size_t body_len = 0, got_len = 0;
	int b1_szx = -1, b2_szx = -1, observe = -1, opt, rc = 1;
	int ob1_szx = -1, ob2_szx = -1;
	bool outer_gap = false;
	uint8_t rtag[8], tok[8], cfb[4], b1v[3], b2v[3], obsv[1] = {1};
	size_t rtag_len = 0;
	oscore_request_info info;
	oscore_msg inner, ans;
	struct sockaddr_in sa;
	char host[64];
	unsigned port = 0;

	memset(&pr, 0, sizeof(pr));
	pr.method = OSCORE_CODE_GET;
	pr.cf = -1;
	pr.timeout_ms = 5000;
	while ((opt = getopt_long(argc, argv, "m:e:t:o:", lo, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctx_path = optarg;
			break;
		case 'S':
			save = true;
			break;
		case 'm':
			pr.method = client_method_from_name(optarg);
			break;
		case 'e':
			body_len = strlen(optarg);
			if (body_len > sizeof(body))
				return 1;
			memcpy(body, optarg, body_len);
			break;
		case 'L':
			body_len = strtoul(optarg, NULL, 10);
			if (body_len > sizeof(body))
				return 1;
			for (size_t i = 0; i < body_len; i++)
				body[i] = (uint8_t)(i * 7 + 3);
			break;
		case 't':
			pr.cf = atoi(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case '1':
			b1_szx = atoi(optarg);
			break;
		case '2':
			b2_szx = atoi(optarg);
			break;
		case 'R': {
			long n = client_hex_decode(optarg, rtag, sizeof(rtag));
			if (n < 0)
				return 1;
			rtag_len = (size_t)n;
			break;
		}
		case 'O':
			observe = atoi(optarg);
			break;
		case 'X':
			retransmit = true;
			break;
		case 'Y':
			replay = true;
			break;
		case 'T':
			pr.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'P':
			ob1_szx = atoi(optarg);
			break;
		case 'Q':
			ob2_szx = atoi(optarg);
			break;
		case 'G':
			outer_gap = true;
			break;
		default:
			return 1;
		}
	}
	if (optind + 1 != argc || !ctx_path || pr.method == 0 || b1_szx > 6 || b2_szx > 6 ||
	    ob1_szx > 6 || ob2_szx > 6) {
		fprintf(stderr,
		        "usage: oscore-probe --ctx FILE [options] coap://127.0.0.1:PORT/path\n");
		return 1;
	}
	uri = argv[optind];
	if (sscanf(uri, "coap://%63[0-9.]:%u%511[^?]", host, &port, pr.path) < 2)
		return 1;
	{
		const char *q = strchr(uri, '?');
		snprintf(pr.query, sizeof(pr.query), "%s", q ? q + 1 : "");
	}
	if (load_ctx(ctx_path, &pr.ctx) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return 1;
	pr.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (pr.fd < 0 || connect(pr.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 2;
	if (getrandom(&pr.mid, sizeof(pr.mid), 0) < 0 || getrandom(tok, sizeof(tok), 0) < 0)
		return 1;

	oscore_msg_init(&inner, pr.method);
	add_path(&inner, pr.path, pr.query);
	if (pr.cf >= 0)
		oscore_msg_add(&inner, OSCORE_OPT_CONTENT_FORMAT, cfb,
		               oscore_uint_encode((uint32_t)pr.cf, cfb));
	if (observe >= 0)
		oscore_msg_add(&inner, OSCORE_OPT_OBSERVE, NULL, 0);
	if (rtag_len)
		oscore_msg_add(&inner, OSCORE_OPT_REQUEST_TAG, rtag, rtag_len);

	if (ob1_szx >= 0 || ob2_szx >= 0) {
		oscore_msg_set_payload(&inner, body, body_len);
		rc = outer_exchange(&pr, &inner, tok, &info, &ans, ob1_szx, ob2_szx, outer_gap);
		if (rc != 0)
			goto out;
	} else if (b1_szx >= 0 && body_len > 0) {
		/* Inner Block1 upload: one OSCORE request per block. */
		size_t size = gw_block_size((unsigned)b1_szx), off = 0;
		gw_block_opt b = {0, false, (unsigned)b1_szx};
		for (;; b.num++) {
			size_t n = body_len - off > size ? size : body_len - off;
			b.more = off + n < body_len;
			oscore_msg_remove(&inner, OSCORE_OPT_BLOCK1);
			oscore_msg_add(&inner, OSCORE_OPT_BLOCK1, b1v, gw_block_encode(&b, b1v));
			oscore_msg_set_payload(&inner, body + off, n);
			rc = exchange(&pr, &inner, tok, &info, &ans);
			if (rc != 0)
				goto out;
			if (b.more && ans.code != OSCORE_CODE(2, 31)) {
				print_code(ans.code, ans.payload_len);
				rc = 5;
				goto out;
			}
			off += n;
			if (!b.more)
				break;
			getrandom(tok, sizeof(tok), 0);
		}
		oscore_msg_remove(&inner, OSCORE_OPT_BLOCK1);
	} else {
		oscore_msg_set_payload(&inner, body, body_len);
		if (b2_szx >= 0) {
			gw_block_opt b = {0, false, (unsigned)b2_szx};
			oscore_msg_add(&inner, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
		}
		rc = exchange(&pr, &inner, tok, &info, &ans);
		if (rc != 0)
			goto out;
	}
	/* Inner Block2: fetch the rest of the answer. */
	for (unsigned guard = 0; guard < 4096; guard++) {
		const oscore_option *o = oscore_msg_find(&ans, OSCORE_OPT_BLOCK2);
		gw_block_opt b;
		if (got_len + ans.payload_len > sizeof(got)) {
			rc = 1;
			goto out;
		}
		if (ans.payload_len)
			memcpy(got + got_len, ans.payload, ans.payload_len);
		got_len += ans.payload_len;
		if (!o || gw_block_decode(o->value, o->len, &b) != 0 || !b.more)
			break;
		b.num++;
		b.more = false;
		oscore_msg_remove(&inner, OSCORE_OPT_BLOCK2);
		oscore_msg_remove(&inner, OSCORE_OPT_OBSERVE);
		oscore_msg_add(&inner, OSCORE_OPT_BLOCK2, b2v, gw_block_encode(&b, b2v));
		oscore_msg_set_payload(&inner, NULL, 0);
		getrandom(tok, sizeof(tok), 0);
		rc = exchange(&pr, &inner, tok, &info, &ans);
		if (rc != 0)
			goto out;
	}
	print_code(ans.code, got_len);
	if (ob1_szx >= 0 || ob2_szx >= 0)
		print_size1(&ans);
	if (out_path) {
		FILE *f = fopen(out_path, "wb");
		if (!f || fwrite(got, 1, got_len, f) != got_len)
			rc = 1;
		if (f)
			fclose(f);
	} else if (got_len && printable(got, got_len)) {
		printf("%.*s\n", (int)got_len, (const char *)got);
	}
	fflush(stdout);
	rc = (ans.code >> 5) == 2 ? 0 : 5;

	if (retransmit) {
		/* Same datagram, same MID: the cached answer, byte for byte. */
		uint8_t first[BUF];
		size_t first_len = pr.ans_len;
		oscore_msg again;
		memcpy(first, pr.ans, first_len);
		if (send_raw(&pr, pr.last, pr.last_len) != 0 ||
		    wait_answer(&pr, tok, &info, &again, pr.timeout_ms) == 2) {
			printf("retransmit: no answer\n");
			rc = 6;
		} else if (pr.ans_len == first_len && memcmp(pr.ans, first, first_len) == 0) {
			printf("retransmit: identical\n");
		} else {
			printf("retransmit: different\n");
			rc = 6;
		}
	}
	if (replay) {
		/* Same OSCORE request (same Partial IV), new MID. */
		oscore_msg r2;
		uint16_t m = ++pr.mid;
		pr.last[2] = (uint8_t)(m >> 8);
		pr.last[3] = (uint8_t)m;
		if (send_raw(&pr, pr.last, pr.last_len) != 0 ||
		    wait_answer(&pr, tok, &info, &r2, pr.timeout_ms) != 0) {
			printf("replay: no answer\n");
		} else {
			printf("replay: code=%u.%02u\n", r2.code >> 5, r2.code & 31);
		}
	}
	if (observe >= 0 && rc == 0) {
		/* Notifications, then deregistration with the same token. */
		for (int i = 0; i < observe; i++) {
			oscore_msg nm;
			const oscore_option *o;
			uint32_t v = 0;
			int r2 = wait_answer(&pr, tok, &info, &nm, pr.timeout_ms);
			if (r2 != 0) {
				printf("notify: none (%d)\n", r2);
				rc = r2;
				break;
			}
			o = oscore_msg_find(&nm, OSCORE_OPT_OBSERVE);
			if (o)
				oscore_uint_decode(o->value, o->len, &v);
			printf("notify code=%u.%02u observe=%s%u body=%.*s\n", nm.code >> 5,
			       nm.code & 31, o ? "" : "none/", v, (int)nm.payload_len,
			       (const char *)nm.payload);
			fflush(stdout);
		}
		if (rc == 0) {
			oscore_msg dm;
			oscore_msg_remove(&inner, OSCORE_OPT_OBSERVE);
			oscore_msg_remove(&inner, OSCORE_OPT_BLOCK2);
			oscore_msg_add(&inner, OSCORE_OPT_OBSERVE, obsv, 1);
			rc = exchange(&pr, &inner, tok, &info, &dm);
			if (rc == 0) {
				printf("deregister code=%u.%02u observe=%s\n", dm.code >> 5,
				       dm.code & 31,
				       oscore_msg_find(&dm, OSCORE_OPT_OBSERVE) ? "yes" : "no");
				rc = (dm.code >> 5) == 2 ? 0 : 5;
			}
		}
	}
out:
	if (rc == 2)
		printf("timeout\n");
	if (save && save_seq(ctx_path, pr.ctx) != 0)
		rc = 1;
	oscore_ctx_free(pr.ctx);
	close(pr.fd);
	return rc;
}
