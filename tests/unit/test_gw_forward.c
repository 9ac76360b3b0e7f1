/* Forwarding: inner block-wise bodies (block.c) and the backend client
 * (backend.c) against an in-process libcoap backend on 127.0.0.1, and its
 * RFC 7252 messaging (retransmission, separate responses, duplicates, RST)
 * against a raw UDP socket acting as backend.
 *
 * The backend runs in its own libcoap context with libcoap's block mode on
 * (it reassembles our Block1 uploads and serves Block2); the client side
 * is gw_fwd's own sockets in an epoll set, pumped as gw_process does.  Both
 * are driven in loops bounded by a wall-clock deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edhoc/oscore.h"
#include "edhoc/result.h"
#include "gateway/block.h"
#include "gateway/forward.h"
#include "gateway/io.h"

#define WAIT_MS 3000

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- block.c ---- */

static void test_block_option_coding(void **state)
{
	gw_block_opt b = {0}, d;
	uint8_t v[3];
	(void)state;
	assert_int_equal(gw_block_encode(&b, v), 0);
	b.num = 0;
	b.more = true;
	b.szx = 6;
	assert_int_equal(gw_block_encode(&b, v), 1);
	assert_int_equal(v[0], 0x0e);
	b.num = 20;
	b.more = false;
	b.szx = 2;
	assert_int_equal(gw_block_encode(&b, v), 2);
	assert_int_equal(v[0], 0x01);
	assert_int_equal(v[1], 0x42);
	assert_int_equal(gw_block_decode(v, 2, &d), 0);
	assert_int_equal(d.num, 20);
	assert_false(d.more);
	assert_int_equal(d.szx, 2);
	b.num = 0x12345;
	b.more = true;
	b.szx = 5;
	assert_int_equal(gw_block_encode(&b, v), 3);
	assert_int_equal(gw_block_decode(v, 3, &d), 0);
	assert_int_equal(d.num, 0x12345);
	assert_true(d.more);
	/* SZX 7 (BERT) and 4-byte values are refused. */
	v[0] = 0x07;
	assert_int_equal(gw_block_decode(v, 1, &d), EDHOC_E_VALUE_RANGE);
	assert_int_equal(gw_block_decode((const uint8_t *)"\1\2\3\4", 4, &d), EDHOC_E_VALUE_RANGE);
}

static const uint8_t RID[] = {0x27};
static const uint8_t RID2[] = {0x28};

static void test_block1_reassembles_in_order(void **state)
{
	gw_blk *t = gw_blk_create(8, 4096, 1000);
	uint8_t data[2500];
	const uint8_t *body = (const uint8_t *)"x";
	size_t len = 99;
	gw_block_opt b = {0, true, 6};
	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_non_null(t);
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len), 0);
	assert_null(body);
	b.num = 1;
	assert_int_equal(gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data + 1024, 1024, 1,
	                               &body, &len),
	                 0);
	assert_null(body);
	/* The device lowers the block size: 2048 = 8 * 256. */
	b.num = 8;
	b.szx = 4;
	b.more = true;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data + 2048, 256, 2, &body, &len),
	    0);
	b.num = 9;
	b.more = false;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data + 2304, 196, 3, &body, &len),
	    0);
	assert_non_null(body);
	assert_int_equal(len, 2500);
	assert_memory_equal(body, data, 2500);
	assert_int_equal(gw_blk_count(t), 1);
	gw_blk_forget(t, RID, 1, (const uint8_t *)"k", 1);
	assert_int_equal(gw_blk_count(t), 0);
	gw_blk_free(t);
}

static void test_block1_out_of_order_and_too_large(void **state)
{
	gw_blk *t = gw_blk_create(8, 2048, 1000);
	uint8_t data[1024] = {0};
	const uint8_t *body;
	size_t len;
	gw_block_opt b = {1, true, 6};
	(void)state;
	/* Block 1 without block 0. */
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len),
	    GW_E_BLOCK_INCOMPLETE);
	b.num = 0;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len), 0);
	/* Skips block 1: the upload is dropped. */
	b.num = 2;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len),
	    GW_E_BLOCK_INCOMPLETE);
	assert_int_equal(gw_blk_count(t), 0);
	/* A non-final part must be exactly one block. */
	b.num = 0;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1000, 0, &body, &len),
	    EDHOC_E_INVALID_ARGUMENT);
	/* Past payload_max (2048): dropped. */
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len), 0);
	b.num = 1;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1024, 0, &body, &len), 0);
	b.num = 2;
	b.more = false;
	assert_int_equal(
	    gw_blk_block1(t, RID, 1, (const uint8_t *)"k", 1, &b, data, 1, 0, &body, &len),
	    EDHOC_E_MESSAGE_TOO_LARGE);
	assert_int_equal(gw_blk_count(t), 0);
	gw_blk_free(t);
}

static void test_block_bodies_keyed_bounded_expiring(void **state)
{
	gw_blk *t = gw_blk_create(2, 4096, 1000);
	uint8_t code;
	const uint8_t *o, *b;
	size_t ol, bl;
	(void)state;
	assert_int_equal(gw_blk_store(t, RID, 1, (const uint8_t *)"a", 1, 0x45,
	                              (const uint8_t *)"\xc1\x00", 2, (const uint8_t *)"AAAA", 4,
	                              0),
	                 0);
	assert_int_equal(gw_blk_store(t, RID2, 1, (const uint8_t *)"a", 1, 0x45, NULL, 0,
	                              (const uint8_t *)"BB", 2, 10),
	                 0);
	assert_true(gw_blk_lookup(t, RID, 1, (const uint8_t *)"a", 1, 20, &code, &o, &ol, &b, &bl));
	assert_int_equal(code, 0x45);
	assert_int_equal(ol, 2);
	assert_memory_equal(b, "AAAA", 4);
	/* Same key, other session: its own body. */
	assert_true(
	    gw_blk_lookup(t, RID2, 1, (const uint8_t *)"a", 1, 20, &code, &o, &ol, &b, &bl));
	assert_memory_equal(b, "BB", 2);
	assert_false(
	    gw_blk_lookup(t, RID, 1, (const uint8_t *)"b", 1, 20, &code, &o, &ol, &b, &bl));
	/* A third entry evicts the least recently used (RID's was used
	 * first, then RID2's). */
	assert_int_equal(gw_blk_store(t, RID, 1, (const uint8_t *)"c", 1, 0x45, NULL, 0,
	                              (const uint8_t *)"C", 1, 30),
	                 0);
	assert_int_equal(gw_blk_count(t), 2);
	assert_false(
	    gw_blk_lookup(t, RID, 1, (const uint8_t *)"a", 1, 30, &code, &o, &ol, &b, &bl));
	gw_blk_drop_rid(t, RID2, 1);
	assert_int_equal(gw_blk_count(t), 1);
	assert_int_equal(gw_blk_next_expiry(t), 1030);
	assert_int_equal(gw_blk_expire(t, 1029), 0);
	assert_int_equal(gw_blk_expire(t, 1030), 1);
	assert_int_equal(gw_blk_count(t), 0);
	assert_int_equal(
	    gw_blk_store(t, RID, 1, (const uint8_t *)"a", 1, 0x45, NULL, 0, NULL, 4097, 0),
	    EDHOC_E_MESSAGE_TOO_LARGE);
	gw_blk_free(t);
	gw_blk_free(NULL);
}

/* ---- backend client against an in-process backend ---- */

struct fixture {
	coap_context_t *be; /* backend */
	int epfd;           /* the gateway side: gw_fwd's sockets */
	gw_fwd *fwd;
	struct sockaddr_in be_addr;
	coap_resource_t *obs;
	int sink; /* bound UDP socket that never answers */
	struct sockaddr_in sink_addr;
	struct sockaddr_in closed_addr;
	struct sockaddr_in gw_peer; /* gw_fwd's socket, as the sink saw it */
	/* Last outcome */
	int calls;
	int result;
	uint8_t code;
	uint8_t body[8192];
	size_t body_len;
	uint32_t observe;
	bool has_observe;
	unsigned cf;
	size_t upload_len;
	uint8_t upload_first, upload_last;
};

static struct fixture *F;

static void h_echo(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp)
{
	size_t len;
	const uint8_t *data;
	coap_opt_iterator_t it;
	coap_opt_t *cf = coap_check_option(req, COAP_OPTION_CONTENT_FORMAT, &it);
	uint8_t buf[4];
	coap_pdu_set_code(resp, coap_pdu_get_code(req) == COAP_REQUEST_CODE_GET
	                            ? COAP_RESPONSE_CODE_CONTENT
	                            : COAP_RESPONSE_CODE_CHANGED);
	if (cf)
		coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT, coap_opt_length(cf),
		                coap_opt_value(cf));
	if (q)
		coap_add_option(resp, COAP_OPTION_LOCATION_QUERY, q->length, q->s);
	coap_add_option(resp, COAP_OPTION_MAXAGE, coap_encode_var_safe(buf, sizeof(buf), 7), buf);
	if (coap_get_data(req, &len, &data) && len)
		coap_add_data(resp, len, data);
}

static uint8_t BIG[5000];

static void h_big(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp)
{
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_OCTET_STREAM,
	                             -1, 0, sizeof(BIG), BIG, NULL, NULL);
}

static void h_upload(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                     const coap_string_t *q, coap_pdu_t *resp)
{
	size_t len = 0, off = 0, total = 0;
	const uint8_t *data = NULL;
	if (coap_get_data_large(req, &len, &data, &off, &total) && data && off == 0) {
		F->upload_len = len;
		F->upload_first = data[0];
		F->upload_last = data[len - 1];
	}
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static void h_obs(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp)
{
	static char text[32];
	static unsigned n;
	int len = snprintf(text, sizeof(text), "n=%u", n++);
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data(resp, (size_t)len, (const uint8_t *)text);
}

static void done_cb(void *arg, uint64_t id, int result, const oscore_msg *m)
{
	struct fixture *f = arg;
	f->calls++;
	f->result = result;
	f->body_len = 0;
	f->has_observe = false;
	f->cf = 0xffff;
	if (!m)
		return;
	f->code = m->code;
	assert_true(m->payload_len <= sizeof(f->body));
	if (m->payload_len)
		memcpy(f->body, m->payload, m->payload_len);
	f->body_len = m->payload_len;
	for (size_t i = 0; i < m->n_opts; i++) {
		uint32_t v = 0;
		/* Block options never reach the caller. */
		assert_true(m->opts[i].number != OSCORE_OPT_BLOCK1 &&
		            m->opts[i].number != OSCORE_OPT_BLOCK2 &&
		            m->opts[i].number != OSCORE_OPT_SIZE2);
		if (m->opts[i].number == OSCORE_OPT_OBSERVE) {
			oscore_uint_decode(m->opts[i].value, m->opts[i].len, &v);
			f->observe = v;
			f->has_observe = true;
		} else if (m->opts[i].number == OSCORE_OPT_CONTENT_FORMAT) {
			oscore_uint_decode(m->opts[i].value, m->opts[i].len, &v);
			f->cf = v;
		}
	}
}

/* The gateway side as gw_process runs it: ready sockets, then timers. */
static void pump_gw(struct fixture *f)
{
	struct epoll_event ev[8];
	int n = epoll_wait(f->epfd, ev, 8, 0);
	for (int i = 0; i < n; i++) {
		gw_io *io = ev[i].data.ptr;
		io->ready(io, ev[i].events);
	}
	gw_fwd_tick(f->fwd, mono_ms());
}

/* Runs both contexts until f->calls reaches want or ms pass. */
static void run_until(struct fixture *f, int want, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	while (f->calls < want && mono_ms() < end) {
		coap_io_process(f->be, COAP_IO_NO_WAIT);
		pump_gw(f);
		usleep(200);
	}
}

static int bound_udp(struct sockaddr_in *ret)
{
	socklen_t l = sizeof(*ret);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	ret->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)ret, sizeof(*ret)) != 0 ||
	    getsockname(fd, (struct sockaddr *)ret, &l) != 0)
		return -1;
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	coap_address_t a;
	coap_endpoint_t *ep;
	coap_resource_t *r;
	int fd;

	for (size_t i = 0; i < sizeof(BIG); i++)
		BIG[i] = (uint8_t)(i * 13 + 1);
	coap_startup();
	coap_set_log_level(LOG_EMERG);
	f->be = coap_new_context(NULL);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_non_null(f->be);
	assert_true(f->epfd >= 0);
	coap_context_set_block_mode(f->be, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	/* libcoap 4.3.1 cannot report a port it chose: take a free one from
	 * the kernel and bind the endpoint to it. */
	fd = bound_udp(&f->be_addr);
	assert_true(fd >= 0);
	close(fd);
	coap_address_init(&a);
	memcpy(&a.addr.sin, &f->be_addr, sizeof(f->be_addr));
	a.size = sizeof(struct sockaddr_in);
	ep = coap_new_endpoint(f->be, &a, COAP_PROTO_UDP);
	assert_non_null(ep);
	r = coap_resource_init(coap_make_str_const("echo"), 0);
	coap_register_handler(r, COAP_REQUEST_GET, h_echo);
	coap_register_handler(r, COAP_REQUEST_POST, h_echo);
	coap_register_handler(r, COAP_REQUEST_PUT, h_echo);
	coap_register_handler(r, COAP_REQUEST_DELETE, h_echo);
	coap_add_resource(f->be, r);
	r = coap_resource_init(coap_make_str_const("big"), 0);
	coap_register_handler(r, COAP_REQUEST_GET, h_big);
	coap_add_resource(f->be, r);
	r = coap_resource_init(coap_make_str_const("upload"), 0);
	coap_register_handler(r, COAP_REQUEST_PUT, h_upload);
	coap_add_resource(f->be, r);
	f->obs = coap_resource_init(coap_make_str_const("obs"), 0);
	coap_register_handler(f->obs, COAP_REQUEST_GET, h_obs);
	coap_resource_set_get_observable(f->obs, 1);
	coap_add_resource(f->be, f->obs);

	f->sink = bound_udp(&f->sink_addr);
	assert_true(f->sink >= 0);
	/* A port nobody listens on: bind, read the number, close. */
	fd = bound_udp(&f->closed_addr);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(gw_fwd_create(f->epfd, 4, 8192, &f->fwd), 0);
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gw_fwd_free(f->fwd);
	close(f->epfd);
	coap_free_context(f->be);
	if (f->sink >= 0)
		close(f->sink);
	free(f);
	coap_cleanup();
	return 0;
}

static void req_init(oscore_msg *m, uint8_t code, const char *seg1, const char *seg2)
{
	oscore_msg_init(m, code);
	oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)seg1, strlen(seg1));
	if (seg2)
		oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)seg2, strlen(seg2));
}

static void test_forward_methods_byte_exact(void **state)
{
	struct fixture *f = *state;
	static const uint8_t codes[] = {OSCORE_CODE_GET, OSCORE_CODE_POST, OSCORE_CODE_PUT,
	                                OSCORE_CODE_DELETE};
	uint8_t payload[600], cf[1] = {42};
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(255 - i);
	for (size_t k = 0; k < sizeof(codes); k++) {
		oscore_msg m;
		uint64_t id;
		f->calls = 0;
		req_init(&m, codes[k], "echo", NULL);
		oscore_msg_add(&m, OSCORE_OPT_CONTENT_FORMAT, cf, 1);
		oscore_msg_add(&m, OSCORE_OPT_URI_QUERY, (const uint8_t *)"a=1", 3);
		oscore_msg_set_payload(&m, payload, 100 + 100 * k);
		assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr,
		                             sizeof(f->be_addr), &m, 2000, mono_ms(), done_cb, f,
		                             &id),
		                 0);
		assert_int_equal(gw_fwd_pending(f->fwd), 1);
		/* Never from inside gw_fwd_send. */
		assert_int_equal(f->calls, 0);
		run_until(f, 1, WAIT_MS);
		assert_int_equal(f->calls, 1);
		assert_int_equal(f->result, 0);
		assert_int_equal(f->code, codes[k] == OSCORE_CODE_GET ? 0x45 : 0x44);
		assert_int_equal(f->cf, 42);
		assert_int_equal(f->body_len, 100 + 100 * k);
		assert_memory_equal(f->body, payload, f->body_len);
		assert_int_equal(gw_fwd_pending(f->fwd), 0);
	}
}

static void test_forward_block2_answer_is_reassembled(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	req_init(&m, OSCORE_CODE_GET, "big", NULL);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->code, 0x45);
	assert_int_equal(f->cf, COAP_MEDIATYPE_APPLICATION_OCTET_STREAM);
	assert_int_equal(f->body_len, sizeof(BIG));
	assert_memory_equal(f->body, BIG, sizeof(BIG));
}

static void test_forward_block2_answer_above_payload_max_fails(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	gw_fwd_set_limits(f->fwd, 4, 4096);
	req_init(&m, OSCORE_CODE_GET, "big", NULL);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_RESPONSE);
	gw_fwd_set_limits(f->fwd, 4, 8192);
}

static void test_forward_block1_upload(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	uint8_t body[3000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i % 251);
	body[0] = 0xa5;
	body[sizeof(body) - 1] = 0x5a;
	req_init(&m, OSCORE_CODE_PUT, "upload", NULL);
	oscore_msg_set_payload(&m, body, sizeof(body));
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->code, 0x44);
	assert_int_equal(f->upload_len, sizeof(body));
	assert_int_equal(f->upload_first, 0xa5);
	assert_int_equal(f->upload_last, 0x5a);
	/* Above payload_max: refused before anything is sent. */
	{
		static uint8_t huge[8193];
		oscore_msg_set_payload(&m, huge, sizeof(huge));
		assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr,
		                             sizeof(f->be_addr), &m, 2000, mono_ms(), done_cb, f,
		                             &id),
		                 EDHOC_E_MESSAGE_TOO_LARGE);
	}
}

static void test_forward_timeout(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id, t0 = mono_ms();
	req_init(&m, OSCORE_CODE_GET, "x", NULL);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr),
	                             &m, 150, t0, done_cb, f, &id),
	                 0);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), t0 + 150);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_TIMEOUT);
	assert_true(mono_ms() - t0 >= 150);
	assert_true(mono_ms() - t0 < 1500);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
}

static void test_forward_unreachable(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	req_init(&m, OSCORE_CODE_GET, "x", NULL);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->closed_addr,
	                             sizeof(f->closed_addr), &m, 2500, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_UNREACHABLE);
	/* The session was replaced: a working backend is still usable. */
	f->calls = 0;
	req_init(&m, OSCORE_CODE_GET, "echo", NULL);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->result, 0);
}

static void test_forward_pending_limit_and_cancel(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id[5];
	req_init(&m, OSCORE_CODE_GET, "x", NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr,
		                             sizeof(f->sink_addr), &m, 100000, mono_ms(), done_cb,
		                             f, &id[i]),
		                 0);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr),
	                             &m, 100000, mono_ms(), done_cb, f, &id[4]),
	                 EDHOC_E_LIMIT);
	assert_int_equal(gw_fwd_pending(f->fwd), 4);
	for (int i = 0; i < 4; i++)
		gw_fwd_cancel(f->fwd, id[i]);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
	gw_fwd_cancel(f->fwd, id[0]); /* unknown now: ignored */
	f->calls = 0;
	gw_fwd_tick(f->fwd, mono_ms() + 200000);
	assert_int_equal(f->calls, 0);
}

static void test_forward_observe_notifications_and_cancel(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	uint32_t first;
	req_init(&m, OSCORE_CODE_GET, "obs", NULL);
	oscore_msg_add(&m, OSCORE_OPT_OBSERVE, NULL, 0);
	f->calls = 0;
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_true(f->has_observe);
	first = f->observe;
	assert_int_equal(gw_fwd_observing(f->fwd), 1);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
	/* No deadline for an established observation. */
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
	for (int n = 2; n <= 3; n++) {
		coap_resource_notify_observers(f->obs, NULL);
		run_until(f, n, WAIT_MS);
		assert_int_equal(f->calls, n);
		assert_true(f->has_observe);
		assert_true(f->observe > first);
		assert_true(f->body_len >= 3 && memcmp(f->body, "n=", 2) == 0);
	}
	/* Cancelled: the next notification is refused with RST and not
	 * delivered; afterwards the backend has no observer left. */
	gw_fwd_cancel(f->fwd, id);
	assert_int_equal(gw_fwd_observing(f->fwd), 0);
	coap_resource_notify_observers(f->obs, NULL);
	run_until(f, 4, 300);
	assert_int_equal(f->calls, 3);
}

/* ---- RFC 7252 messaging against a raw UDP backend (the sink) ---- */

#define RAW_MAX 2048

/* Pumps the gateway side until the sink receives a datagram or ms pass;
 * its length, or -1.  Remembers where it came from. */
static ssize_t raw_recv(struct fixture *f, uint8_t *buf, size_t cap, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	do {
		socklen_t l = sizeof(f->gw_peer);
		ssize_t n =
		    recvfrom(f->sink, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&f->gw_peer, &l);
		if (n >= 0)
			return n;
		pump_gw(f);
		usleep(200);
	} while (mono_ms() < end);
	return -1;
}

static void raw_send(struct fixture *f, const uint8_t *d, size_t len)
{
	assert_int_equal(
	    sendto(f->sink, d, len, 0, (struct sockaddr *)&f->gw_peer, sizeof(f->gw_peer)),
	    (ssize_t)len);
}

/* A response datagram: type, code, MID, the token of req, payload. */
static size_t raw_response(uint8_t *out, int type, uint8_t code, uint16_t mid, const uint8_t *req,
                           bool observe, const char *payload)
{
	size_t o = 0, n = payload ? strlen(payload) : 0;
	out[o++] = (uint8_t)(0x40 | type << 4 | (req[0] & 0x0f));
	out[o++] = code;
	out[o++] = (uint8_t)(mid >> 8);
	out[o++] = (uint8_t)mid;
	memcpy(out + o, req + 4, req[0] & 0x0f);
	o += req[0] & 0x0f;
	if (observe) {
		out[o++] = 0x61; /* Observe (6), one byte */
		out[o++] = 7;
	}
	if (n) {
		out[o++] = 0xff;
		memcpy(out + o, payload, n);
		o += n;
	}
	return o;
}

static uint16_t mid_of(const uint8_t *d)
{
	return (uint16_t)(d[2] << 8 | d[3]);
}

static void send_get_to_sink(struct fixture *f, unsigned timeout_ms, uint64_t *ret_id)
{
	oscore_msg m;
	req_init(&m, OSCORE_CODE_GET, "raw", NULL);
	f->calls = 0;
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr),
	                             &m, timeout_ms, mono_ms(), done_cb, f, ret_id),
	                 0);
}

static void test_lost_request_is_retransmitted_same_mid_and_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t d1[RAW_MAX], d2[RAW_MAX], r[RAW_MAX];
	ssize_t n1, n2;
	uint64_t id, t1;
	size_t rl;
	gw_fwd_set_timing(f->fwd, 100, 4);
	send_get_to_sink(f, 3000, &id);
	n1 = raw_recv(f, d1, sizeof(d1), 1000);
	t1 = mono_ms();
	assert_true(n1 > 12);
	assert_int_equal(d1[0], 0x48); /* CON, 8-byte token */
	/* Ignored: the retransmission comes after ACK_TIMEOUT * [1, 1.5). */
	n2 = raw_recv(f, d2, sizeof(d2), 1000);
	assert_int_equal(n2, n1);
	assert_memory_equal(d1, d2, (size_t)n1);
	assert_true(mono_ms() - t1 >= 90);
	assert_true(mono_ms() - t1 < 400);
	assert_int_equal(f->calls, 0);
	rl = raw_response(r, 2, 0x45, mid_of(d2), d2, false, "hi");
	raw_send(f, r, rl);
	raw_send(f, r, rl); /* a duplicate ACK changes nothing */
	run_until(f, 1, 1000);
	run_until(f, 2, 200);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->code, 0x45);
	assert_int_equal(f->body_len, 2);
	assert_memory_equal(f->body, "hi", 2);
	/* Answered: no more retransmissions. */
	assert_true(raw_recv(f, d2, sizeof(d2), 400) < 0);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
}

static void test_empty_ack_then_separate_con_response_acked_once_delivered(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX], a[RAW_MAX];
	uint8_t ack[4] = {0x60, 0, 0, 0};
	uint64_t id;
	size_t rl;
	gw_fwd_set_timing(f->fwd, 100, 4);
	send_get_to_sink(f, 3000, &id);
	assert_true(raw_recv(f, d, sizeof(d), 1000) > 12);
	ack[2] = d[2];
	ack[3] = d[3];
	raw_send(f, ack, sizeof(ack));
	/* Acknowledged: no retransmission, still pending. */
	assert_true(raw_recv(f, a, sizeof(a), 500) < 0);
	assert_int_equal(f->calls, 0);
	assert_int_equal(gw_fwd_pending(f->fwd), 1);
	rl = raw_response(r, 0, 0x45, 0x1234, d, false, "late");
	raw_send(f, r, rl);
	run_until(f, 1, 1000);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->body_len, 4);
	assert_memory_equal(f->body, "late", 4);
	/* Our empty ACK for the backend's CON. */
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x60);
	assert_int_equal(a[1], 0);
	assert_int_equal(mid_of(a), 0x1234);
	/* The backend did not get it and sends the CON again: ACKed again,
	 * not delivered again. */
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x60);
	assert_int_equal(mid_of(a), 0x1234);
	run_until(f, 2, 200);
	assert_int_equal(f->calls, 1);
}

static void test_rst_to_request_is_unreachable(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX];
	uint8_t rst[4] = {0x70, 0, 0, 0};
	uint64_t id;
	send_get_to_sink(f, 3000, &id);
	assert_true(raw_recv(f, d, sizeof(d), 1000) > 12);
	/* An RST with another MID is not about our request. */
	rst[2] = (uint8_t)(d[2] ^ 0x55);
	rst[3] = d[3];
	raw_send(f, rst, sizeof(rst));
	run_until(f, 1, 200);
	assert_int_equal(f->calls, 0);
	rst[2] = d[2];
	raw_send(f, rst, sizeof(rst));
	run_until(f, 1, 1000);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_UNREACHABLE);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
}

static void test_closed_port_fails_all_its_requests_before_deadline(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id, t0 = mono_ms();
	int accepted = 0, rc;
	req_init(&m, OSCORE_CODE_GET, "x", NULL);
	f->calls = 0;
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->closed_addr,
	                             sizeof(f->closed_addr), &m, 10000, t0, done_cb, f, &id),
	                 0);
	accepted++;
	/* On loopback the ICMP error is usually back already, and this send
	 * reports it: refused at once, and the first request fails too. */
	rc = gw_fwd_send(f->fwd, (struct sockaddr *)&f->closed_addr, sizeof(f->closed_addr), &m,
	                 10000, t0, done_cb, f, &id);
	if (rc == 0)
		accepted++;
	else
		assert_int_equal(rc, GW_E_BACKEND_UNREACHABLE);
	assert_int_equal(f->calls, 0);
	run_until(f, accepted, 2000);
	assert_int_equal(f->calls, accepted);
	assert_int_equal(f->result, GW_E_BACKEND_UNREACHABLE);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
	/* Each request failed once: nothing more comes. */
	f->calls = 0;
	run_until(f, 1, 100);
	assert_int_equal(f->calls, 0);
}

static void test_no_answer_times_out_at_deadline_after_max_retransmit(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], first[RAW_MAX];
	ssize_t n, n0 = -1;
	int got = 0;
	uint64_t id, t0 = mono_ms(), end = t0 + 5000;
	/* Retransmissions at about 100, 300, 700, 1500 ms (times 1..1.5):
	 * all four before the deadline, the exhaustion (3100+) after it. */
	gw_fwd_set_timing(f->fwd, 100, 4);
	send_get_to_sink(f, 2600, &id);
	while (f->calls == 0 && mono_ms() < end) {
		socklen_t l = sizeof(f->gw_peer);
		n = recvfrom(f->sink, d, sizeof(d), MSG_DONTWAIT, (struct sockaddr *)&f->gw_peer,
		             &l);
		if (n >= 0) {
			if (got++ == 0) {
				n0 = n;
				memcpy(first, d, (size_t)n);
			} else {
				assert_int_equal(n, n0);
				assert_memory_equal(d, first, (size_t)n);
			}
		}
		pump_gw(f);
		usleep(200);
	}
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_TIMEOUT);
	assert_int_equal(got, 1 + 4);
	assert_true(mono_ms() - t0 >= 2600);
	assert_true(mono_ms() - t0 < 3000);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
}

static void test_notification_for_unknown_token_gets_rst(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX], a[RAW_MAX];
	uint8_t other[RAW_MAX];
	uint64_t id;
	size_t rl;
	/* A first exchange makes the socket and tells us its address. */
	send_get_to_sink(f, 3000, &id);
	assert_true(raw_recv(f, d, sizeof(d), 1000) > 12);
	rl = raw_response(r, 2, 0x45, mid_of(d), d, false, "ok");
	raw_send(f, r, rl);
	run_until(f, 1, 1000);
	assert_int_equal(f->result, 0);
	/* A token we never used (the last byte changed). */
	memcpy(other, d, 12);
	other[11] ^= 0xa5;
	rl = raw_response(r, 0, 0x45, 0x4321, other, true, "n=1");
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x70);
	assert_int_equal(a[1], 0);
	assert_int_equal(mid_of(a), 0x4321);
	/* NON too (RFC 7641 §3.6). */
	rl = raw_response(r, 1, 0x45, 0x4322, other, true, "n=2");
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x70);
	assert_int_equal(mid_of(a), 0x4322);
	/* A late CON answer without Observe (the request answered already)
	 * is only acknowledged. */
	rl = raw_response(r, 0, 0x45, 0x4323, d, false, "again");
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x60);
	assert_int_equal(mid_of(a), 0x4323);
	assert_int_equal(f->calls, 1);
}

static void test_unreachable_backend_ends_its_observations(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX];
	oscore_msg m;
	uint64_t obs_id, id;
	size_t rl;
	int want;
	req_init(&m, OSCORE_CODE_GET, "obs", NULL);
	oscore_msg_add(&m, OSCORE_OPT_OBSERVE, NULL, 0);
	f->calls = 0;
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr),
	                             &m, 3000, mono_ms(), done_cb, f, &obs_id),
	                 0);
	assert_true(raw_recv(f, d, sizeof(d), 1000) > 12);
	rl = raw_response(r, 2, 0x45, mid_of(d), d, true, "n=0");
	raw_send(f, r, rl);
	run_until(f, 1, 1000);
	assert_int_equal(f->result, 0);
	assert_true(f->has_observe);
	assert_int_equal(gw_fwd_observing(f->fwd), 1);
	/* The backend goes away; the next request to it draws ICMP port
	 * unreachable, which ends the observation as well. */
	close(f->sink);
	f->sink = -1;
	req_init(&m, OSCORE_CODE_GET, "x", NULL);
	f->calls = 0;
	want = gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr), &m, 3000,
	                   mono_ms(), done_cb, f, &id) == 0
	           ? 2
	           : 1;
	run_until(f, want, 1000);
	assert_int_equal(f->calls, want);
	assert_int_equal(f->result, GW_E_BACKEND_UNREACHABLE);
	assert_int_equal(gw_fwd_observing(f->fwd), 0);
	assert_int_equal(gw_fwd_pending(f->fwd), 0);
}

/* A block of an answer with ETag etag (NULL: none), Observe obs (< 0:
 * none), Block2 num/more with SZX 0 (16-byte blocks), for request req
 * (its token), as a message of type with MID mid. */
static size_t raw_block(uint8_t *out, int type, uint16_t mid, const uint8_t *req, const char *etag,
                        int obs, uint32_t num, bool more, const char *payload)
{
	oscore_coap_hdr h;
	oscore_msg m;
	uint8_t ov[4], bv[3];
	gw_block_opt b = {num, more, 0};
	size_t len = 0;
	memset(&h, 0, sizeof(h));
	h.type = (uint8_t)type;
	h.mid = mid;
	h.token_len = req[0] & 0x0f;
	memcpy(h.token, req + 4, h.token_len);
	oscore_msg_init(&m, 0x45);
	if (etag)
		oscore_msg_add(&m, OSCORE_OPT_ETAG, (const uint8_t *)etag, strlen(etag));
	if (obs >= 0)
		oscore_msg_add(&m, OSCORE_OPT_OBSERVE, ov, oscore_uint_encode((uint32_t)obs, ov));
	oscore_msg_add(&m, OSCORE_OPT_BLOCK2, bv, gw_block_encode(&b, bv));
	oscore_msg_set_payload(&m, (const uint8_t *)payload, strlen(payload));
	assert_int_equal(oscore_coap_encode(&h, &m, out, RAW_MAX, &len), 0);
	return len;
}

/* The Block2 number a request asks for (-1: no Block2 option). */
static int asked_block(const uint8_t *d, size_t len)
{
	oscore_coap_hdr h;
	oscore_msg m;
	const oscore_option *o;
	gw_block_opt b;
	assert_int_equal(oscore_coap_decode(d, len, &h, &m), 0);
	o = oscore_msg_find(&m, OSCORE_OPT_BLOCK2);
	if (!o)
		return -1;
	assert_int_equal(gw_block_decode(o->value, o->len, &b), 0);
	return (int)b.num;
}

#define BLK_A "AAAAAAAAAAAAAAAA"
#define BLK_B "BBBBBBBBBBBBBBBB"

/* RFC 7959 §2.4: the representation changed between blocks (another
 * ETag): the client starts over from block 0 and relays one consistent
 * body. */
static void test_block2_etag_change_restarts_from_block_0(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX];
	ssize_t n;
	uint64_t id;
	size_t rl;
	send_get_to_sink(f, 3000, &id);
	n = raw_recv(f, d, sizeof(d), 1000);
	assert_true(n > 12);
	assert_int_equal(asked_block(d, (size_t)n), -1);
	rl = raw_block(r, 2, mid_of(d), d, "A", -1, 0, true, BLK_A);
	raw_send(f, r, rl);
	n = raw_recv(f, d, sizeof(d), 1000);
	assert_int_equal(asked_block(d, (size_t)n), 1);
	rl = raw_block(r, 2, mid_of(d), d, "B", -1, 1, false, "bb");
	raw_send(f, r, rl);
	/* Asked again from the start (the original request, no Block2). */
	n = raw_recv(f, d, sizeof(d), 1000);
	assert_true(n > 12);
	assert_int_equal(asked_block(d, (size_t)n), -1);
	assert_int_equal(f->calls, 0);
	rl = raw_block(r, 2, mid_of(d), d, "B", -1, 0, true, BLK_B);
	raw_send(f, r, rl);
	n = raw_recv(f, d, sizeof(d), 1000);
	assert_int_equal(asked_block(d, (size_t)n), 1);
	rl = raw_block(r, 2, mid_of(d), d, "B", -1, 1, false, "bb");
	raw_send(f, r, rl);
	run_until(f, 1, 1000);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->body_len, 18);
	assert_memory_equal(f->body, BLK_B "bb", 18);
}

/* An ETag that changes on every block: a few restarts, then the request
 * fails instead of fetching forever. */
static void test_block2_etag_flapping_fails(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX];
	char tag[2] = "a";
	ssize_t n;
	uint64_t id;
	size_t rl;
	int i;
	send_get_to_sink(f, 3000, &id);
	for (i = 0; i < 20 && f->calls == 0; i++) {
		n = raw_recv(f, d, sizeof(d), 500);
		if (n < 0)
			break;
		tag[0] = (char)('a' + i % 26);
		if (asked_block(d, (size_t)n) == 1)
			rl = raw_block(r, 2, mid_of(d), d, tag, -1, 1, false, "z");
		else
			rl = raw_block(r, 2, mid_of(d), d, tag, -1, 0, true, BLK_A);
		raw_send(f, r, rl);
		run_until(f, 1, 20);
	}
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, GW_E_BACKEND_RESPONSE);
	/* 1 + 3 restarts, two exchanges each. */
	assert_int_equal(i, 8);
}

/* A notification's later blocks: a newer notification in the middle
 * replaces the one being fetched (RFC 7959 §3.4); later blocks that never
 * come end the observation at the route's timeout (5.04 for the device),
 * not never. */
static void test_notification_blocks_newer_wins_and_time_out(void **state)
{
	struct fixture *f = *state;
	uint8_t d[RAW_MAX], r[RAW_MAX], a[RAW_MAX];
	oscore_msg m;
	ssize_t n;
	uint64_t id, t0;
	size_t rl;
	gw_fwd_set_timing(f->fwd, 100, 4);
	req_init(&m, OSCORE_CODE_GET, "obs", NULL);
	oscore_msg_add(&m, OSCORE_OPT_OBSERVE, NULL, 0);
	f->calls = 0;
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->sink_addr, sizeof(f->sink_addr),
	                             &m, 400, mono_ms(), done_cb, f, &id),
	                 0);
	n = raw_recv(f, d, sizeof(d), 1000);
	assert_true(n > 12);
	rl = raw_response(r, 2, 0x45, mid_of(d), d, true, "n=0");
	raw_send(f, r, rl);
	run_until(f, 1, 1000);
	assert_int_equal(f->result, 0);
	assert_int_equal(gw_fwd_observing(f->fwd), 1);
	/* Notification 8, first of two blocks: acknowledged, block 1 asked. */
	rl = raw_block(r, 0, 0x5001, d, "X", 8, 0, true, BLK_A);
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(a[0], 0x60);
	n = raw_recv(f, a, sizeof(a), 500);
	assert_int_equal(asked_block(a, (size_t)n), 1);
	/* Notification 9 before that block came: it wins. */
	rl = raw_block(r, 0, 0x5002, d, "Y", 9, 0, true, BLK_B);
	raw_send(f, r, rl);
	assert_int_equal(raw_recv(f, a, sizeof(a), 500), 4);
	assert_int_equal(mid_of(a), 0x5002);
	n = raw_recv(f, a, sizeof(a), 500);
	assert_int_equal(asked_block(a, (size_t)n), 1);
	rl = raw_block(r, 2, mid_of(a), a, "Y", -1, 1, false, "yy");
	raw_send(f, r, rl);
	run_until(f, 2, 1000);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->result, 0);
	assert_int_equal(f->body_len, 18);
	assert_memory_equal(f->body, BLK_B "yy", 18);
	assert_int_equal(gw_fwd_observing(f->fwd), 1);
	/* Notification 10's second block never comes. */
	t0 = mono_ms();
	rl = raw_block(r, 0, 0x5003, d, "Z", 10, 0, true, BLK_A);
	raw_send(f, r, rl);
	run_until(f, 3, 2000);
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->result, GW_E_BACKEND_TIMEOUT);
	assert_true(mono_ms() - t0 >= 350);
	assert_true(mono_ms() - t0 < 1500);
	assert_int_equal(gw_fwd_observing(f->fwd), 0);
	assert_int_equal(gw_fwd_next_deadline(f->fwd), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_option_coding),
	    cmocka_unit_test(test_block1_reassembles_in_order),
	    cmocka_unit_test(test_block1_out_of_order_and_too_large),
	    cmocka_unit_test(test_block_bodies_keyed_bounded_expiring),
	    cmocka_unit_test_setup_teardown(test_forward_methods_byte_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_block2_answer_is_reassembled, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_forward_block2_answer_above_payload_max_fails,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_block1_upload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_pending_limit_and_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_observe_notifications_and_cancel, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_lost_request_is_retransmitted_same_mid_and_bytes,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_empty_ack_then_separate_con_response_acked_once_delivered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_to_request_is_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_port_fails_all_its_requests_before_deadline,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_answer_times_out_at_deadline_after_max_retransmit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notification_for_unknown_token_gets_rst, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable_backend_ends_its_observations, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_block2_etag_change_restarts_from_block_0, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_block2_etag_flapping_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notification_blocks_newer_wins_and_time_out, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
