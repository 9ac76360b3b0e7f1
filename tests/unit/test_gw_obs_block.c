/* Observe notifications whose body the backend sends block-wise (RFC 7959
 * §3.4 with RFC 7641): the backend client (gw_fwd, forward.c) must deliver
 * each notification whole, and the observation must go on afterwards.
 * Backend: an in-process libcoap server with its own block mode, an
 * observable resource of 3000 bytes whose content changes per
 * notification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
#include "gateway/forward.h"
#include "gateway/io.h"

#define WAIT_MS  3000
#define OBS_SIZE 3000

struct fixture {
	coap_context_t *be;
	int epfd; /* the gateway side: gw_fwd's sockets */
	gw_fwd *fwd;
	struct sockaddr_in be_addr;
	coap_resource_t *obs;
	unsigned gen; /* content generation of the resource */
	int calls, result;
	uint8_t body[8192];
	size_t body_len;
	bool has_observe;
};

static struct fixture *F;
static uint8_t OBS_BODY[OBS_SIZE];

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fill(unsigned gen)
{
	for (size_t i = 0; i < OBS_SIZE; i++)
		OBS_BODY[i] = (uint8_t)(i * 5 + gen);
}

static void h_obs(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp)
{
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	/* libcoap cuts it into blocks (Block2 on the notification too) and
	 * answers the requests for the later blocks itself. */
	coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_OCTET_STREAM,
	                             -1, F->gen, OBS_SIZE, OBS_BODY, NULL, NULL);
}

static void done_cb(void *arg, uint64_t id, int result, const oscore_msg *m)
{
	struct fixture *f = arg;
	(void)id;
	f->calls++;
	f->result = result;
	f->body_len = 0;
	f->has_observe = false;
	if (!m)
		return;
	assert_true(m->payload_len <= sizeof(f->body));
	if (m->payload_len)
		memcpy(f->body, m->payload, m->payload_len);
	f->body_len = m->payload_len;
	f->has_observe = oscore_msg_find(m, OSCORE_OPT_OBSERVE) != NULL;
	assert_null(oscore_msg_find(m, OSCORE_OPT_BLOCK2));
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

static void run_until(struct fixture *f, int want, unsigned ms)
{
	uint64_t end = mono_ms() + ms;
	while (f->calls < want && mono_ms() < end) {
		coap_io_process(f->be, COAP_IO_NO_WAIT);
		pump_gw(f);
		usleep(200);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	socklen_t l = sizeof(f->be_addr);
	coap_address_t a;
	int fd;

	assert_non_null(f);
	F = f;
	coap_startup();
	coap_set_log_level(LOG_EMERG);
	f->be = coap_new_context(NULL);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_non_null(f->be);
	assert_true(f->epfd >= 0);
	coap_context_set_block_mode(f->be, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	/* A free port from the kernel (libcoap 4.3.1 does not report its own). */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	f->be_addr.sin_family = AF_INET;
	f->be_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&f->be_addr, &l), 0);
	close(fd);
	coap_address_init(&a);
	memcpy(&a.addr.sin, &f->be_addr, sizeof(f->be_addr));
	a.size = sizeof(struct sockaddr_in);
	assert_non_null(coap_new_endpoint(f->be, &a, COAP_PROTO_UDP));
	f->obs = coap_resource_init(coap_make_str_const("obs"), 0);
	coap_register_handler(f->obs, COAP_REQUEST_GET, h_obs);
	coap_resource_set_get_observable(f->obs, 1);
	coap_add_resource(f->be, f->obs);
	assert_int_equal(gw_fwd_create(f->epfd, 4, 8192, &f->fwd), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gw_fwd_free(f->fwd);
	close(f->epfd);
	coap_free_context(f->be);
	free(f);
	coap_cleanup();
	return 0;
}

static void test_blockwise_notifications_delivered_whole(void **state)
{
	struct fixture *f = *state;
	oscore_msg m;
	uint64_t id;
	f->gen = 0;
	fill(f->gen);
	oscore_msg_init(&m, OSCORE_CODE_GET);
	oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)"obs", 3);
	oscore_msg_add(&m, OSCORE_OPT_OBSERVE, NULL, 0);
	assert_int_equal(gw_fwd_send(f->fwd, (struct sockaddr *)&f->be_addr, sizeof(f->be_addr), &m,
	                             2000, mono_ms(), done_cb, f, &id),
	                 0);
	run_until(f, 1, WAIT_MS);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 0);
	assert_true(f->has_observe);
	assert_int_equal(f->body_len, OBS_SIZE);
	assert_memory_equal(f->body, OBS_BODY, OBS_SIZE);
	for (int n = 2; n <= 4; n++) {
		f->gen = (unsigned)n;
		fill(f->gen);
		coap_resource_notify_observers(f->obs, NULL);
		run_until(f, n, WAIT_MS);
		assert_int_equal(f->calls, n);
		assert_int_equal(f->result, 0);
		assert_true(f->has_observe);
		assert_int_equal(f->body_len, OBS_SIZE);
		assert_memory_equal(f->body, OBS_BODY, OBS_SIZE);
		assert_int_equal(gw_fwd_observing(f->fwd), 1);
	}
	gw_fwd_cancel(f->fwd, id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_blockwise_notifications_delivered_whole, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
