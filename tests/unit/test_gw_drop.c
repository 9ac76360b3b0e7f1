/* Session management of the gateway, driven in-process: the drop
 * operation (gw_drop_session, gw_drop_identity), gw_sessions_list, session
 * expiry, static contexts' pinned lease records, and the answer to a
 * Block2 continuation of a POST whose kept body is gone.
 *
 * Each test creates a real gateway (gw_create) from a configuration
 * written to a temporary directory, listening on a free 127.0.0.1 port.
 * The device is this test: the core library's EDHOC initiator and OSCORE
 * over a raw UDP socket.  A backend, where a test needs one, is another
 * raw UDP socket the test answers by hand, so it controls timing and sees
 * exactly what the gateway sends (an RST for a cancelled observation).
 * Every wait pumps gw_process/gw_tick in a loop bounded by a wall-clock
 * deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "diag/diag.h"
#include "edhoc/cred.h"
#include "edhoc/edhoc.h"
#include "edhoc/oscore.h"
#include "edhoc/result.h"
#include "gateway/gateway.h"
#include "store/store.h"
#include "tools/credfile.h"
#include "trustgen.h"

#define CODE(c, d)   ((uint8_t)(((c) << 5) | (d)))
#define WAIT_MS      3000
#define DEV_IDENTITY "dev-1"
#define ST_IDENTITY  "plain-1"
#define WHOAMI       "/.well-known/edhocd/whoami"

/* The static context of every test configuration (the ACL names its
 * identity, so it must exist).  Gateway side: Sender ID 51, Recipient ID
 * 7f00; the device's context is the mirror image. */
static const uint8_t ST_SECRET[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t ST_SALT[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t ST_GW_SID[1] = {0x51};
static const uint8_t ST_GW_RID[2] = {0x7f, 0x00};

typedef struct fx {
	char *dir;
	int port;
	int be_port;
	cfg *c;
	diag *d;
	FILE *log;
	char *logbuf;
	size_t loglen;
	gw *g;
	int fd;    /* the device's socket */
	int be_fd; /* the backend's socket */
	crypto_key *gw_key, *dev_key;
	cose_cred *gw_pub, *dev_own;
	uint16_t mid;
	uint32_t token;
	uint8_t next_c_i;
} fx;

/* What came back for one request. */
typedef struct answer {
	uint8_t outer_code;
	uint8_t code; /* inner code of a protected answer */
	bool is_protected;
	uint8_t body[2048];
	size_t body_len;
	uint8_t echo[64];
	size_t echo_len;
	uint8_t piv[8]; /* the gateway's own Partial IV, when it sent one */
	size_t piv_len;
	uint8_t block2[3];
	size_t block2_len;
} answer;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int udp_socket(int *ret_port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	if (ret_port)
		*ret_port = ntohs(a.sin_port);
	return fd;
}

/* A port that was free a moment ago (the gateway binds it itself). */
static int free_port(void)
{
	int port, fd = udp_socket(&port);
	close(fd);
	return port;
}

/* ---- gateway in the test's process ---- */

static void pump(fx *f, int ms)
{
	struct pollfd p[3] = {{gw_fd(f->g), POLLIN, 0}, {f->fd, POLLIN, 0}, {f->be_fd, POLLIN, 0}};
	uint64_t dl = gw_next_deadline(f->g), now = gw_now_ms();
	if (dl != UINT64_MAX && dl > now && dl - now < (uint64_t)ms)
		ms = (int)(dl - now);
	if (dl != UINT64_MAX && dl <= now)
		ms = 0;
	poll(p, f->be_fd >= 0 ? 3 : 2, ms);
	gw_process(f->g);
	if (gw_now_ms() >= gw_next_deadline(f->g))
		gw_tick(f->g);
}

/* Receives one datagram on fd, pumping the gateway meanwhile. */
static ssize_t recv_pumped(fx *f, int fd, uint8_t *buf, size_t cap, unsigned wait_ms)
{
	uint64_t end = mono_ms() + wait_ms;
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n >= 0)
			return n;
		if (mono_ms() >= end)
			return -1;
		pump(f, 10);
	}
}

static void write_file(const char *dir, const char *name, const char *text)
{
	tg_write_str(dir, name, text);
}

/* Keys and credential files, made once per fixture. */
static void make_credentials(fx *f)
{
	uint8_t ccs[512];
	size_t len;
	char path[4096], err[256];
	cose_cred *gw_own = NULL, *dev_pub = NULL;
	const uint8_t gw_kid = 0x01, dev_kid = 0x02;

	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &f->gw_key), 0);
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &f->dev_key), 0);

	assert_int_equal(
	    cose_ccs_build(f->gw_key, "gateway", &gw_kid, 1, true, ccs, sizeof(ccs), &len), 0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, true, &gw_own), 0);
	snprintf(path, sizeof(path), "%s/gw.cred", f->dir);
	assert_int_equal(credfile_write_text(path, gw_own, true, false, err, sizeof(err)), 0);
	cose_cred_free(gw_own);
	assert_int_equal(
	    cose_ccs_build(f->gw_key, "gateway", &gw_kid, 1, false, ccs, sizeof(ccs), &len), 0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, false, &f->gw_pub), 0);

	assert_int_equal(
	    cose_ccs_build(f->dev_key, DEV_IDENTITY, &dev_kid, 1, true, ccs, sizeof(ccs), &len), 0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, true, &f->dev_own), 0);
	assert_int_equal(
	    cose_ccs_build(f->dev_key, DEV_IDENTITY, &dev_kid, 1, false, ccs, sizeof(ccs), &len),
	    0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, false, &dev_pub), 0);
	tg_mkdir(f->dir, "trust");
	snprintf(path, sizeof(path), "%s/trust/" DEV_IDENTITY ".ccs", f->dir);
	assert_int_equal(credfile_write_ccs(path, dev_pub, false, err, sizeof(err)), 0);
	cose_cred_free(dev_pub);

	write_file(f->dir, "acl.conf",
	           "[admit]\nidentities = " DEV_IDENTITY ", " ST_IDENTITY "\n\n"
	           "[rule everything]\nidentities = " DEV_IDENTITY ", " ST_IDENTITY "\n"
	           "path = /\nmethods = *\naction = allow\n");
	tg_mkdir(f->dir, "state");
	chmod(f->dir, 0700);
}

/* Writes edhocd.conf with extra lines (sections after [gateway]), loads it
 * and starts the gateway; a port taken between picking and binding is
 * retried. */
static void start_gateway(fx *f, const char *extra)
{
	char text[4096], path[4096];
	cfg_errors *errs = NULL;
	diag_options dopt;

	snprintf(path, sizeof(path), "%s/edhocd.conf", f->dir);
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc;
		f->port = free_port();
		snprintf(
		    text, sizeof(text),
		    "[gateway]\nlisten = 127.0.0.1:%d\nmethods = 0\nsuites = 2\n"
		    "credential = gw.cred\ntrust_dir = trust\nacl = acl.conf\n"
		    "state_dir = state\ncontrol_socket = %s/control.sock\n"
		    "log_target = stderr\n\n"
		    "[static s1]\nidentity = " ST_IDENTITY "\n"
		    "master_secret = 0102030405060708090a0b0c0d0e0f10\n"
		    "master_salt = 9e7ca92223786340\nsender_id = 51\nrecipient_id = 7f00\n\n"
		    "[route obs]\npath = /obs\nbackend = coap://127.0.0.1:%d\ntimeout_ms = 3000\n\n"
		    "%s",
		    f->port, f->dir, f->be_port, extra ? extra : "");
		write_file(f->dir, "edhocd.conf", text);
		cfg_unref(f->c);
		f->c = NULL;
		rc = cfg_load(path, &f->c, &errs);
		if (rc != 0 && errs) {
			for (size_t i = 0; i < cfg_errors_count(errs); i++)
				fprintf(stderr, "# %s\n", cfg_errors_get(errs, i));
		}
		cfg_errors_free(errs);
		errs = NULL;
		assert_int_equal(rc, 0);
		if (!f->d) {
			memset(&dopt, 0, sizeof(dopt));
			dopt.target = DIAG_TARGET_STDERR;
			dopt.stream = f->log;
			dopt.burst = 1000;
			assert_int_equal(diag_create(&dopt, &f->d), 0);
		}
		if (gw_create(f->c, f->d, &f->g) == 0)
			return;
	}
	fail_msg("gateway did not start");
}

static void stop_gateway(fx *f)
{
	gw_free(f->g);
	f->g = NULL;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = tg_tmpdir();
	f->log = open_memstream(&f->logbuf, &f->loglen);
	assert_non_null(f->log);
	f->fd = udp_socket(NULL);
	f->be_fd = udp_socket(&f->be_port);
	f->mid = 0x1000;
	f->next_c_i = 0x10;
	make_credentials(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	stop_gateway(f);
	diag_free(f->d);
	cfg_unref(f->c);
	fclose(f->log);
	free(f->logbuf);
	close(f->fd);
	close(f->be_fd);
	cose_cred_free(f->gw_pub);
	cose_cred_free(f->dev_own);
	crypto_key_free(f->gw_key);
	crypto_key_free(f->dev_key);
	tg_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* The diagnostics written so far (NUL-terminated). */
static const char *log_text(fx *f)
{
	fflush(f->log);
	return f->logbuf ? f->logbuf : "";
}

/* ---- the device: CoAP over a raw socket ---- */

static void add_path(oscore_msg *m, const char *path)
{
	/* Segments point into path, which outlives the encoding. */
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		assert_int_equal(oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)p, n), 0);
		if (!e)
			break;
		p = e + 1;
	}
}

/* Sends m to the gateway as a request of type (0 CON, 1 NON) with the next
 * Message ID and token; h gets its header. */
static void send_to_gw(fx *f, const oscore_msg *m, uint8_t type, oscore_coap_hdr *h)
{
	struct sockaddr_in to;
	uint8_t out[2048];
	size_t len;

	memset(h, 0, sizeof(*h));
	h->type = type;
	h->mid = ++f->mid;
	f->token++;
	memcpy(h->token, &f->token, sizeof(f->token));
	h->token_len = sizeof(f->token);
	assert_int_equal(oscore_coap_encode(h, m, out, sizeof(out), &len), 0);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)f->port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(f->fd, out, len, 0, (struct sockaddr *)&to, sizeof(to)),
	                 (ssize_t)len);
}

/* Sends m as a CON request to the gateway and waits for its answer
 * (piggybacked, or separate after an empty ACK; a separate CON answer is
 * acknowledged).  Returns false on timeout.  ret_msg points into rbuf. */
static bool exchange(fx *f, const oscore_msg *m, uint8_t *rbuf, size_t rcap, oscore_msg *ret_msg,
                     unsigned wait_ms)
{
	oscore_coap_hdr h, rh;
	struct sockaddr_in to;
	uint64_t end = mono_ms() + wait_ms;

	send_to_gw(f, m, 0, &h);
	while (mono_ms() < end) {
		ssize_t n = recv_pumped(f, f->fd, rbuf, rcap, (unsigned)(end - mono_ms()) + 1);
		if (n < 0)
			return false;
		if (oscore_coap_decode(rbuf, (size_t)n, &rh, ret_msg) != 0)
			continue;
		if (rh.type == 2 && rh.mid == h.mid && ret_msg->code == 0)
			continue; /* empty ACK: the answer comes separately */
		if (rh.token_len != h.token_len || memcmp(rh.token, h.token, h.token_len) != 0)
			continue;
		if (rh.type == 0) {
			oscore_coap_hdr ack = {.type = 2, .mid = rh.mid};
			oscore_msg empty;
			uint8_t a[16];
			size_t al;
			oscore_msg_init(&empty, 0);
			assert_int_equal(oscore_coap_encode(&ack, &empty, a, sizeof(a), &al), 0);
			sendto(f->fd, a, al, 0, (struct sockaddr *)&to, sizeof(to));
		}
		return true;
	}
	return false;
}

/* The gateway's C_R and the device's OSCORE context after a complete
 * EDHOC handshake (method 0, suite 2, no message_4). */
typedef struct device {
	edhoc_cid c_r;
	oscore_ctx *ctx;
} device;

static int dev_lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	fx *f = ctx;
	if (!cose_cred_matches(f->gw_pub, id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret = *cose_cred_edhoc(f->gw_pub);
	return 0;
}

static void handshake(fx *f, device *dv)
{
	edhoc_config ic;
	edhoc_handshake *h;
	edhoc_cid c_i;
	edhoc_oscore op;
	oscore_ctx_params opts;
	oscore_msg m, r;
	uint8_t buf[1024], rbuf[2048];
	size_t n, k;

	memset(&ic, 0, sizeof(ic));
	ic.role = EDHOC_INITIATOR;
	ic.method = 0;
	ic.suites[0] = 2;
	ic.n_suites = 1;
	ic.own = cose_cred_edhoc(f->dev_own);
	ic.lookup = dev_lookup;
	ic.lookup_ctx = f;
	h = edhoc_handshake_new(&ic);
	assert_non_null(h);
	memset(&c_i, 0, sizeof(c_i));
	c_i.bytes[0] = f->next_c_i++;
	c_i.len = 1;

	buf[0] = 0xf5; /* CBOR true: message_1 (RFC 9528 App. A.2) */
	assert_int_equal(edhoc_initiator_write_message_1(h, &c_i, buf + 1, sizeof(buf) - 1, &n), 0);
	oscore_msg_init(&m, OSCORE_CODE_POST);
	add_path(&m, "/.well-known/edhoc");
	oscore_msg_set_payload(&m, buf, n + 1);
	assert_true(exchange(f, &m, rbuf, sizeof(rbuf), &r, WAIT_MS));
	assert_int_equal(r.code, CODE(2, 4));
	assert_int_equal(edhoc_initiator_read_message_2(h, r.payload, r.payload_len), 0);

	dv->c_r = *edhoc_handshake_c_r(h);
	assert_int_equal(edhoc_cid_encode(&dv->c_r, buf, sizeof(buf), &k), 0);
	assert_int_equal(edhoc_initiator_write_message_3(h, buf + k, sizeof(buf) - k, &n), 0);
	oscore_msg_init(&m, OSCORE_CODE_POST);
	add_path(&m, "/.well-known/edhoc");
	oscore_msg_set_payload(&m, buf, k + n);
	assert_true(exchange(f, &m, rbuf, sizeof(rbuf), &r, WAIT_MS));
	assert_int_equal(r.code, CODE(2, 4));

	assert_int_equal(edhoc_oscore_params(h, &op), 0);
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(oscore_ctx_from_edhoc(&op, &opts, &dv->ctx), 0);
	edhoc_handshake_free(h);
}

/* The device side of the static context. */
static oscore_ctx *static_device_ctx(void)
{
	oscore_ctx_params p;
	oscore_ctx *c = NULL;
	memset(&p, 0, sizeof(p));
	p.master_secret = ST_SECRET;
	p.master_secret_len = sizeof(ST_SECRET);
	p.master_salt = ST_SALT;
	p.master_salt_len = sizeof(ST_SALT);
	p.sender_id = ST_GW_RID;
	p.sender_id_len = sizeof(ST_GW_RID);
	p.recipient_id = ST_GW_SID;
	p.recipient_id_len = sizeof(ST_GW_SID);
	assert_int_equal(oscore_ctx_new(&p, &c), 0);
	return c;
}

typedef struct req_opts {
	bool observe;        /* inner Observe 0 */
	const uint8_t *echo; /* inner Echo */
	size_t echo_len;
	bool has_block2;
	uint8_t block2;   /* one-byte Block2 value */
	unsigned wait_ms; /* 0: WAIT_MS */
} req_opts;

/* One OSCORE request; false when nothing came back in time.  An answer
 * that is not OSCORE-protected (4.01 for an unknown kid) has is_protected
 * false and only outer_code set. */
static bool request(fx *f, oscore_ctx *ctx, uint8_t method, const char *path, const char *payload,
                    const req_opts *o, answer *a)
{
	oscore_msg in, outer, r, inner;
	oscore_request_info info;
	uint8_t pbuf[2048], rbuf[2048], ubuf[2048], obs = 0;
	const oscore_option *opt;
	oscore_header rh;
	req_opts none = {0};

	if (!o)
		o = &none;
	memset(a, 0, sizeof(*a));
	oscore_msg_init(&in, method);
	if (o->observe)
		assert_int_equal(oscore_msg_add(&in, OSCORE_OPT_OBSERVE, &obs, 0), 0);
	add_path(&in, path);
	if (o->has_block2)
		assert_int_equal(oscore_msg_add(&in, OSCORE_OPT_BLOCK2, &o->block2, 1), 0);
	if (o->echo)
		assert_int_equal(oscore_msg_add(&in, OSCORE_OPT_ECHO, o->echo, o->echo_len), 0);
	if (payload)
		oscore_msg_set_payload(&in, (const uint8_t *)payload, strlen(payload));
	assert_int_equal(oscore_protect_request(ctx, &in, pbuf, sizeof(pbuf), &outer, &info), 0);
	if (!exchange(f, &outer, rbuf, sizeof(rbuf), &r, o->wait_ms ? o->wait_ms : WAIT_MS))
		return false;
	a->outer_code = r.code;
	opt = oscore_msg_find(&r, OSCORE_OPT_OSCORE);
	if (!opt)
		return true;
	if (opt->len && oscore_option_decode(opt->value, opt->len, &rh) == 0) {
		memcpy(a->piv, rh.piv, rh.piv_len);
		a->piv_len = rh.piv_len;
	}
	assert_int_equal(oscore_unprotect_response(ctx, &info, &r, ubuf, sizeof(ubuf), &inner), 0);
	a->is_protected = true;
	a->code = inner.code;
	assert_true(inner.payload_len <= sizeof(a->body));
	if (inner.payload_len)
		memcpy(a->body, inner.payload, inner.payload_len);
	a->body_len = inner.payload_len;
	opt = oscore_msg_find(&inner, OSCORE_OPT_ECHO);
	if (opt && opt->len <= sizeof(a->echo)) {
		memcpy(a->echo, opt->value, opt->len);
		a->echo_len = opt->len;
	}
	opt = oscore_msg_find(&inner, OSCORE_OPT_BLOCK2);
	if (opt && opt->len <= sizeof(a->block2)) {
		memcpy(a->block2, opt->value, opt->len);
		a->block2_len = opt->len;
	}
	return true;
}

static void expect_whoami(fx *f, oscore_ctx *ctx, const char *identity)
{
	answer a;
	assert_true(request(f, ctx, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &a));
	assert_true(a.is_protected);
	assert_int_equal(a.code, CODE(2, 5));
	assert_int_equal(a.body_len, strlen(identity));
	assert_memory_equal(a.body, identity, a.body_len);
}

/* The device's context is unknown to the gateway: unprotected 4.01. */
static void expect_no_context(fx *f, oscore_ctx *ctx)
{
	answer a;
	assert_true(request(f, ctx, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &a));
	assert_false(a.is_protected);
	assert_int_equal(a.outer_code, CODE(4, 1));
}

/* ---- the backend: a raw socket answered by hand ---- */

typedef struct be_req {
	oscore_coap_hdr h;
	uint8_t code;
	struct sockaddr_in from;
	uint8_t buf[2048];
	size_t len;
} be_req;

static bool be_receive(fx *f, be_req *q, unsigned wait_ms)
{
	uint64_t end = mono_ms() + wait_ms;
	oscore_msg m;
	for (;;) {
		socklen_t fl = sizeof(q->from);
		ssize_t n =
		    recvfrom(f->be_fd, q->buf, sizeof(q->buf), 0, (struct sockaddr *)&q->from, &fl);
		if (n >= 0 && oscore_coap_decode(q->buf, (size_t)n, &q->h, &m) == 0) {
			q->code = m.code;
			q->len = (size_t)n;
			return true;
		}
		if (mono_ms() >= end)
			return false;
		pump(f, 10);
	}
}

/* Sends a message with q's token to the gateway's backend session:
 * type 2 (ACK, q's MID) or 0/1 (CON/NON with mid). */
static void be_send(fx *f, const be_req *q, uint8_t type, uint16_t mid, uint8_t code, int observe,
                    const void *payload, size_t len)
{
	oscore_coap_hdr h = q->h;
	oscore_msg m;
	uint8_t out[2048], ov[4];
	size_t n;
	h.type = type;
	h.mid = type == 2 ? q->h.mid : mid;
	oscore_msg_init(&m, code);
	if (observe >= 0)
		oscore_msg_add(&m, OSCORE_OPT_OBSERVE, ov,
		               oscore_uint_encode((uint32_t)observe, ov));
	if (len)
		oscore_msg_set_payload(&m, payload, len);
	assert_int_equal(oscore_coap_encode(&h, &m, out, sizeof(out), &n), 0);
	assert_int_equal(
	    sendto(f->be_fd, out, n, 0, (const struct sockaddr *)&q->from, sizeof(q->from)),
	    (ssize_t)n);
}

/* Waits for the device to receive anything: true when something came. */
static bool device_hears(fx *f, unsigned wait_ms, uint8_t *ret_code)
{
	uint8_t buf[2048];
	oscore_coap_hdr h;
	oscore_msg m;
	ssize_t n = recv_pumped(f, f->fd, buf, sizeof(buf), wait_ms);
	if (n < 0 || oscore_coap_decode(buf, (size_t)n, &h, &m) != 0)
		return false;
	if (ret_code)
		*ret_code = m.code;
	return true;
}

/* ---- listing ---- */

typedef struct listing {
	size_t n, edhoc, statics;
	gw_session_info last_edhoc;
	char identity[EDHOC_MAX_IDENTITY];
} listing;

static int list_cb(void *arg, const gw_session_info *i)
{
	listing *l = arg;
	l->n++;
	if (i->kind == GW_SESSION_EDHOC) {
		l->edhoc++;
		l->last_edhoc = *i;
		/* i->identity lives during the call only. */
		snprintf(l->identity, sizeof(l->identity), "%s", i->identity);
		l->last_edhoc.identity = NULL;
	} else {
		l->statics++;
	}
	return 0;
}

static listing list_sessions(fx *f)
{
	listing l;
	memset(&l, 0, sizeof(l));
	assert_int_equal(gw_sessions_list(f->g, list_cb, &l), 0);
	return l;
}

/* Opens the (stopped) gateway's state database and reads one record. */
static int stored(fx *f, const uint8_t *rid, size_t rid_len, store_session *ret)
{
	char path[4096];
	store *st = NULL;
	int rc;
	snprintf(path, sizeof(path), "%s/state/sessions.db", f->dir);
	assert_int_equal(store_open(path, NULL, &st), 0);
	rc = store_session_get(st, rid, rid_len, ret);
	store_close(st);
	return rc;
}

/* Sets up an observation of /obs through the gateway and returns the
 * backend's view of the registration. */
static void observe(fx *f, device *dv, be_req *reg)
{
	oscore_msg in, outer, r;
	oscore_request_info info;
	oscore_coap_hdr h;
	struct sockaddr_in to;
	uint8_t pbuf[1024], rbuf[1024], obs = 0, code = 0;

	oscore_msg_init(&in, OSCORE_CODE_GET);
	oscore_msg_add(&in, OSCORE_OPT_OBSERVE, &obs, 0);
	add_path(&in, "/obs");
	assert_int_equal(oscore_protect_request(dv->ctx, &in, pbuf, sizeof(pbuf), &outer, &info),
	                 0);
	send_to_gw(f, &outer, 0, &h);
	/* The registration reaches the backend with Observe; it accepts. */
	assert_true(be_receive(f, reg, WAIT_MS));
	assert_int_equal(reg->code, OSCORE_CODE_GET);
	be_send(f, reg, 2, 0, CODE(2, 5), 1, "n1", 2);
	/* The device gets the first answer (empty ACK first, then it). */
	for (int i = 0; i < 4; i++) {
		ssize_t n = recv_pumped(f, f->fd, rbuf, sizeof(rbuf), WAIT_MS);
		oscore_coap_hdr rh;
		assert_true(n > 0);
		assert_int_equal(oscore_coap_decode(rbuf, (size_t)n, &rh, &r), 0);
		code = r.code;
		if (code == 0)
			continue;
		if (rh.type == 0) {
			oscore_coap_hdr ack = {.type = 2, .mid = rh.mid};
			oscore_msg empty;
			uint8_t a[16];
			size_t al;
			oscore_msg_init(&empty, 0);
			oscore_coap_encode(&ack, &empty, a, sizeof(a), &al);
			sendto(f->fd, a, al, 0, (struct sockaddr *)&to, sizeof(to));
		}
		break;
	}
	assert_int_equal(code, CODE(2, 5)); /* outer code of a protected notification */
}

/* A notification the backend sends after the gateway dropped the
 * session: the gateway answers it with RST (the observation is cancelled,
 * RFC 7641 §3.6) and the device hears nothing. */
static void expect_notification_refused(fx *f, const be_req *reg)
{
	be_req rst;
	be_send(f, reg, 0, 0x7001, CODE(2, 5), 3, "n3", 2);
	assert_true(be_receive(f, &rst, WAIT_MS));
	assert_int_equal(rst.h.type, 3);
	assert_int_equal(rst.h.mid, 0x7001);
	assert_false(device_hears(f, 300, NULL));
}

/* What a dropped session had in flight ends with an unprotected 4.01 each
 * (the context is gone; RFC 8613 §8.2): the parked request's answer, the
 * observation's last notification. */
static void expect_context_gone(fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t buf[2048];
		oscore_coap_hdr h;
		oscore_msg m;
		ssize_t len = recv_pumped(f, f->fd, buf, sizeof(buf), WAIT_MS);
		assert_true(len > 0);
		assert_int_equal(oscore_coap_decode(buf, (size_t)len, &h, &m), 0);
		assert_int_equal(m.code, CODE(4, 1));
		assert_null(oscore_msg_find(&m, OSCORE_OPT_OSCORE));
	}
}

/* ---- tests ---- */

static void test_sessions_list_reports_each_session(void **state)
{
	fx *f = *state;
	device dv;
	listing l;
	char peer[32];
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int64_t t0 = (int64_t)time(NULL);

	start_gateway(f, NULL);
	l = list_sessions(f);
	assert_int_equal(l.n, 1); /* the static context */
	assert_int_equal(l.statics, 1);
	handshake(f, &dv);
	expect_whoami(f, dv.ctx, DEV_IDENTITY);
	l = list_sessions(f);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.edhoc, 1);
	assert_int_equal(l.last_edhoc.kid_len, dv.c_r.len);
	assert_memory_equal(l.last_edhoc.kid, dv.c_r.bytes, dv.c_r.len);
	assert_int_equal(l.last_edhoc.sender_id_len, 1);
	assert_int_equal(l.last_edhoc.sender_id[0], 0x10); /* our C_I */
	assert_string_equal(l.identity, DEV_IDENTITY);
	assert_int_equal(l.last_edhoc.method, 0);
	assert_int_equal(l.last_edhoc.suite, 2);
	assert_true(l.last_edhoc.established >= t0 && l.last_edhoc.established <= t0 + 5);
	assert_true(l.last_edhoc.last_used >= l.last_edhoc.established);
	/* Default lifetime 86400 s from the handshake. */
	assert_int_equal(l.last_edhoc.expires, l.last_edhoc.established + 86400);
	assert_true(l.last_edhoc.has_peer);
	getsockname(f->fd, (struct sockaddr *)&a, &al);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	assert_string_equal(l.last_edhoc.peer, peer);
	oscore_ctx_free(dv.ctx);
}

static void test_dropped_session_gets_4_01_and_leaves_the_store(void **state)
{
	fx *f = *state;
	device dv, other;
	store_session ss;

	start_gateway(f, NULL);
	handshake(f, &dv);
	handshake(f, &other);
	expect_whoami(f, dv.ctx, DEV_IDENTITY);
	expect_whoami(f, other.ctx, DEV_IDENTITY);
	assert_int_equal(list_sessions(f).edhoc, 2);

	assert_int_equal(gw_drop_session(f->g, dv.c_r.bytes, dv.c_r.len), 0);
	assert_non_null(strstr(log_text(f), "closed (dropped by the operator)"));
	assert_int_equal(list_sessions(f).edhoc, 1);
	expect_no_context(f, dv.ctx);
	/* The other session of the same identity is untouched. */
	expect_whoami(f, other.ctx, DEV_IDENTITY);
	assert_int_equal(gw_drop_session(f->g, dv.c_r.bytes, dv.c_r.len), GW_E_NO_SESSION);

	/* Not restored after a restart either. */
	stop_gateway(f);
	assert_int_equal(stored(f, dv.c_r.bytes, dv.c_r.len, &ss), STORE_E_NOT_FOUND);
	assert_int_equal(stored(f, other.c_r.bytes, other.c_r.len, &ss), 0);
	assert_int_equal(ss.suite, 2);
	OPENSSL_cleanse(&ss, sizeof(ss));
	start_gateway(f, NULL);
	assert_int_equal(list_sessions(f).edhoc, 1);
	expect_no_context(f, dv.ctx);
	oscore_ctx_free(dv.ctx);
	oscore_ctx_free(other.ctx);
}

static void test_drop_identity_drops_all_its_sessions_not_the_static_lease(void **state)
{
	fx *f = *state;
	device a, b;
	size_t n = 99;
	store_session ss;
	oscore_ctx *st = static_device_ctx();
	answer r;

	start_gateway(f, NULL);
	handshake(f, &a);
	handshake(f, &b);
	assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &r));
	assert_int_equal(r.code, CODE(2, 5));
	assert_int_equal(gw_drop_identity(f->g, DEV_IDENTITY, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list_sessions(f).edhoc, 0);
	expect_no_context(f, a.ctx);
	expect_no_context(f, b.ctx);
	assert_int_equal(gw_drop_identity(f->g, DEV_IDENTITY, &n), GW_E_NO_SESSION);
	assert_int_equal(gw_drop_identity(f->g, "", &n), EDHOC_E_INVALID_ARGUMENT);

	/* Dropping the static identity resets its context: the lease record
	 * stays, so the next request meets the Echo challenge (App. B.1.2)
	 * and the gateway's own Partial IV continues above the lease. */
	assert_int_equal(gw_drop_identity(f->g, ST_IDENTITY, &n), 0);
	assert_int_equal(n, 1);
	assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &r));
	assert_true(r.is_protected);
	assert_int_equal(r.code, CODE(4, 1));
	assert_true(r.echo_len > 0);
	{
		req_opts o = {.echo = r.echo, .echo_len = r.echo_len};
		answer r2;
		assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, &o, &r2));
		assert_int_equal(r2.code, CODE(2, 5));
		assert_memory_equal(r2.body, ST_IDENTITY, strlen(ST_IDENTITY));
	}
	stop_gateway(f);
	assert_int_equal(stored(f, ST_GW_RID, sizeof(ST_GW_RID), &ss), 0);
	assert_int_equal(ss.suite, STORE_SUITE_PINNED);
	OPENSSL_cleanse(&ss, sizeof(ss));
	assert_int_equal(stored(f, a.c_r.bytes, a.c_r.len, &ss), STORE_E_NOT_FOUND);
	assert_int_equal(stored(f, b.c_r.bytes, b.c_r.len, &ss), STORE_E_NOT_FOUND);
	oscore_ctx_free(a.ctx);
	oscore_ctx_free(b.ctx);
	oscore_ctx_free(st);
}

static void test_drop_cancels_observation_and_pending_forward(void **state)
{
	fx *f = *state;
	device dv;
	be_req reg, pend;
	oscore_msg in, outer;
	oscore_request_info info;
	oscore_coap_hdr h;
	uint8_t pbuf[1024], code = 0;

	start_gateway(f, NULL);
	handshake(f, &dv);
	observe(f, &dv, &reg);
	/* While the session lives, notifications reach the device. */
	be_send(f, &reg, 1, 0x7000, CODE(2, 5), 2, "n2", 2);
	assert_true(device_hears(f, WAIT_MS, &code));
	assert_int_equal(code, CODE(2, 5));

	/* A forward in flight: the backend gets it and keeps it waiting. */
	oscore_msg_init(&in, OSCORE_CODE_GET);
	add_path(&in, "/obs/slow");
	assert_int_equal(oscore_protect_request(dv.ctx, &in, pbuf, sizeof(pbuf), &outer, &info), 0);
	send_to_gw(f, &outer, 1, &h);
	assert_true(be_receive(f, &pend, WAIT_MS));
	assert_int_equal(pend.code, OSCORE_CODE_GET);

	assert_int_equal(gw_drop_session(f->g, dv.c_r.bytes, dv.c_r.len), 0);
	expect_context_gone(f, 2);
	expect_notification_refused(f, &reg);
	/* The late answer to the dropped forward goes nowhere. */
	be_send(f, &pend, pend.h.type == 0 ? 2 : 1, 0x7002, CODE(2, 5), -1, "late", 4);
	assert_false(device_hears(f, 300, NULL));
	expect_no_context(f, dv.ctx);
	oscore_ctx_free(dv.ctx);
}

static void test_expired_session_is_dropped_everywhere(void **state)
{
	fx *f = *state;
	device dv;
	be_req reg;
	store_session ss;
	uint64_t t0, end;
	listing l;

	start_gateway(f, "[oscore]\nsession_lifetime_s = 3\n");
	t0 = mono_ms();
	handshake(f, &dv);
	l = list_sessions(f);
	assert_int_equal(l.edhoc, 1);
	assert_int_equal(l.last_edhoc.expires, l.last_edhoc.established + 3);
	expect_whoami(f, dv.ctx, DEV_IDENTITY);
	observe(f, &dv, &reg);
	/* No request needed: the gateway's own timer drops it (lifetime
	 * counted in whole seconds, plus at most one sweep interval). */
	end = t0 + 6000;
	while (list_sessions(f).edhoc > 0 && mono_ms() < end)
		pump(f, 50);
	assert_int_equal(list_sessions(f).edhoc, 0);
	fprintf(stderr, "# expired session dropped %llu ms after the handshake began\n",
	        (unsigned long long)(mono_ms() - t0));
	assert_true(mono_ms() - t0 >= 1900);
	assert_true(mono_ms() - t0 <= 4500);
	assert_non_null(strstr(log_text(f), "closed (lifetime over)"));
	assert_non_null(strstr(log_text(f), "1 session(s) expired"));
	expect_context_gone(f, 1);
	expect_notification_refused(f, &reg);
	expect_no_context(f, dv.ctx);
	/* The static context has no lifetime. */
	assert_int_equal(list_sessions(f).statics, 1);
	stop_gateway(f);
	assert_int_equal(stored(f, dv.c_r.bytes, dv.c_r.len, &ss), STORE_E_NOT_FOUND);
	oscore_ctx_free(dv.ctx);
}

static void test_static_lease_record_survives_store_eviction(void **state)
{
	fx *f = *state;
	device dv[3];
	oscore_ctx *st = static_device_ctx();
	store_session ss;
	answer r;
	uint64_t piv = 0;

	/* Two sessions fit; the static context counts in memory, not in the
	 * store. */
	start_gateway(f, "[limits]\nsessions_max = 2\n\n[oscore]\nseq_lease_block = 16\n");
	assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &r));
	assert_int_equal(r.code, CODE(2, 5));
	for (int i = 0; i < 3; i++) {
		handshake(f, &dv[i]);
		expect_whoami(f, dv[i].ctx, DEV_IDENTITY);
	}
	/* The table pushed the static context out of memory, and the store
	 * made room for the sessions, but never by dropping the static
	 * context's lease record: it comes back with the Echo challenge and
	 * its own Partial IV at or above the lease (never again from 0). */
	assert_int_equal(list_sessions(f).statics, 0);
	expect_no_context(f, dv[0].ctx);
	assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, NULL, &r));
	assert_true(r.is_protected);
	assert_int_equal(r.code, CODE(4, 1));
	assert_true(r.echo_len > 0);
	assert_true(r.piv_len > 0);
	for (size_t i = 0; i < r.piv_len; i++)
		piv = piv << 8 | r.piv[i];
	assert_true(piv >= 16);
	{
		req_opts o = {.echo = r.echo, .echo_len = r.echo_len};
		answer r2;
		assert_true(request(f, st, OSCORE_CODE_GET, WHOAMI, NULL, &o, &r2));
		assert_int_equal(r2.code, CODE(2, 5));
	}
	stop_gateway(f);
	assert_int_equal(stored(f, ST_GW_RID, sizeof(ST_GW_RID), &ss), 0);
	assert_int_equal(ss.suite, STORE_SUITE_PINNED);
	assert_true(ss.seq_limit > piv);
	OPENSSL_cleanse(&ss, sizeof(ss));
	/* The store holds the two newest sessions. */
	assert_int_equal(stored(f, dv[0].c_r.bytes, dv[0].c_r.len, &ss), STORE_E_NOT_FOUND);
	assert_int_equal(stored(f, dv[2].c_r.bytes, dv[2].c_r.len, &ss), 0);
	OPENSSL_cleanse(&ss, sizeof(ss));
	for (int i = 0; i < 3; i++)
		oscore_ctx_free(dv[i].ctx);
	oscore_ctx_free(st);
}

/* Serves one backend request with a 200-byte answer (bytes i*3). */
static void be_answer_200(fx *f, uint8_t method)
{
	be_req q;
	uint8_t body[200];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 3);
	assert_true(be_receive(f, &q, WAIT_MS));
	assert_int_equal(q.code, method);
	be_send(f, &q, q.h.type == 0 ? 2 : 1, 0x7100, CODE(2, 5), -1, body, sizeof(body));
}

/* Sends an OSCORE request without waiting, for requests the backend must
 * answer first. */
static void send_request(fx *f, oscore_ctx *ctx, uint8_t method, const char *path, uint8_t block2,
                         oscore_request_info *info)
{
	oscore_msg in, outer;
	oscore_coap_hdr h;
	uint8_t pbuf[1024];

	oscore_msg_init(&in, method);
	add_path(&in, path);
	oscore_msg_add(&in, OSCORE_OPT_BLOCK2, &block2, 1);
	assert_int_equal(oscore_protect_request(ctx, &in, pbuf, sizeof(pbuf), &outer, info), 0);
	send_to_gw(f, &outer, 1, &h);
}

static void test_block2_continuation_of_a_lost_post_body_is_not_forwarded(void **state)
{
	fx *f = *state;
	device dv;
	oscore_request_info info;
	be_req none;
	answer a;
	req_opts o = {.has_block2 = true};

	/* One kept body at a time. */
	start_gateway(f, "[limits]\npending_forwards_max = 1\n");
	handshake(f, &dv);
	/* POST with Block2 SZX 2 (64 bytes): the 200-byte answer is kept and
	 * its first block sent. */
	send_request(f, dv.ctx, OSCORE_CODE_POST, "/obs/post", 0x02, &info);
	be_answer_200(f, OSCORE_CODE_POST);
	assert_true(device_hears(f, WAIT_MS, NULL));
	/* A GET's answer takes the only body slot. */
	send_request(f, dv.ctx, OSCORE_CODE_GET, "/obs/get", 0x02, &info);
	be_answer_200(f, OSCORE_CODE_GET);
	assert_true(device_hears(f, WAIT_MS, NULL));
	/* Block 1 of the POST: 4.08, and the POST is not executed again. */
	o.block2 = 0x12; /* num 1, SZX 2 */
	assert_true(request(f, dv.ctx, OSCORE_CODE_POST, "/obs/post", NULL, &o, &a));
	assert_true(a.is_protected);
	assert_int_equal(a.code, CODE(4, 8));
	assert_false(be_receive(f, &none, 300));
	/* Block 1 of the GET is still served from the kept body. */
	assert_true(request(f, dv.ctx, OSCORE_CODE_GET, "/obs/get", NULL, &o, &a));
	assert_int_equal(a.code, CODE(2, 5));
	assert_int_equal(a.body_len, 64);
	assert_int_equal(a.body[0], (uint8_t)(64 * 3));
	assert_int_equal(a.block2_len, 1);
	assert_int_equal(a.block2[0], 0x1a); /* num 1, more, SZX 2 */
	assert_false(be_receive(f, &none, 100));
	oscore_ctx_free(dv.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sessions_list_reports_each_session, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_session_gets_4_01_and_leaves_the_store,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_drop_identity_drops_all_its_sessions_not_the_static_lease, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_cancels_observation_and_pending_forward,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expired_session_is_dropped_everywhere, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_static_lease_record_survives_store_eviction, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_block2_continuation_of_a_lost_post_body_is_not_forwarded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
