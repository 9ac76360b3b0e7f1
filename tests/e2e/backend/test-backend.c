/* A small CoAP backend for the forwarding e2e tests, where the tests need
 * control that coap-server-openssl does not give: byte-exact echo of any
 * size (libcoap's block mode reassembles Block1 and serves Block2 here),
 * chosen delays, a request counter, and an observable resource.
 *
 *   test-backend -p PORT
 *   /echo      any method: the request payload and Content-Format back
 *              (2.05 for GET/FETCH, 2.04 POST/PUT, 2.02 DELETE)
 *   /slow?ms=N answers "slow" after N ms (separate response)
 *   /hits      GET: how many requests reached /echo and /slow so far
 *   /obs       observable counter, one notification every 200 ms
 *   /big?n=N   N bytes: byte i is (i * 7 + 3) mod 256
 *
 * Stops on SIGTERM/SIGINT.  Test tool only: no limits beyond libcoap's. */
#include <coap3/coap.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t quit;
static unsigned long hits;
static coap_resource_t *obs_res;
static unsigned obs_n;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void release(coap_session_t *s, void *p)
{
	(void)s;
	free(p);
}

static void h_echo(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp)
{
	size_t len = 0, off = 0, total = 0;
	const uint8_t *data = NULL;
	coap_opt_iterator_t it;
	coap_opt_t *cf = coap_check_option(req, COAP_OPTION_CONTENT_FORMAT, &it);
	coap_pdu_code_t c = coap_pdu_get_code(req);
	int fmt = cf ? (int)coap_decode_var_bytes(coap_opt_value(cf), coap_opt_length(cf)) : -1;
	uint8_t *copy;

	hits++;
	coap_get_data_large(req, &len, &data, &off, &total);
	if (c == COAP_REQUEST_CODE_GET || c == COAP_REQUEST_CODE_FETCH)
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	else if (c == COAP_REQUEST_CODE_DELETE)
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_DELETED);
	else
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
	if (len == 0 && fmt < 0)
		return;
	/* libcoap reads the body again for later Block2 requests, after the
	 * request (which data points into) is gone: hand it a copy. */
	copy = malloc(len ? len : 1);
	if (!copy) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	coap_add_data_large_response(r, s, req, resp, q, fmt < 0 ? COAP_MEDIATYPE_TEXT_PLAIN : fmt,
	                             -1, 0, len, copy, release, copy);
}

static long query_num(const coap_string_t *q, const char *name)
{
	size_t n = strlen(name);
	if (!q || q->length <= n + 1 || memcmp(q->s, name, n) != 0 || q->s[n] != '=')
		return -1;
	{
		char buf[32];
		size_t l = q->length - n - 1;
		if (l >= sizeof(buf))
			return -1;
		memcpy(buf, q->s + n + 1, l);
		buf[l] = 0;
		return strtol(buf, NULL, 10);
	}
}

static void h_slow(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp)
{
	coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
	long ms = query_num(q, "ms");
	if (!a) {
		hits++;
		if (ms > 0) {
			if (ms > 60000)
				ms = 60000;
			/* Called again with the same request after ms. */
			coap_register_async(s, req, (coap_tick_t)ms * COAP_TICKS_PER_SECOND / 1000);
			return;
		}
	}
	/* A triggered async is removed by libcoap once this returns (freeing
	 * it here is a double free in 4.3.1). */
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data(resp, 4, (const uint8_t *)"slow");
}

static void h_hits(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%lu", hits);
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static void h_obs(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "tick %u", obs_n);
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static void h_big(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp)
{
	static uint8_t body[65536];
	long n = query_num(q, "n");
	if (n < 0 || n > (long)sizeof(body)) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_BAD_REQUEST);
		return;
	}
	for (long i = 0; i < n; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_OCTET_STREAM,
	                             -1, 0, (size_t)n, body, NULL, NULL);
}

static void add(coap_context_t *ctx, const char *name, coap_method_handler_t h, bool all)
{
	coap_resource_t *r = coap_resource_init(coap_make_str_const(name), 0);
	coap_register_handler(r, COAP_REQUEST_GET, h);
	if (all) {
		coap_register_handler(r, COAP_REQUEST_POST, h);
		coap_register_handler(r, COAP_REQUEST_PUT, h);
		coap_register_handler(r, COAP_REQUEST_DELETE, h);
		coap_register_handler(r, COAP_REQUEST_FETCH, h);
	}
	coap_add_resource(ctx, r);
	if (strcmp(name, "obs") == 0) {
		coap_resource_set_get_observable(r, 1);
		obs_res = r;
	}
}

int main(int argc, char **argv)
{
	coap_context_t *ctx;
	coap_address_t a;
	int port = 0, opt;
	struct timespec last, now;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "usage: test-backend -p PORT\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	coap_startup();
	coap_set_log_level(LOG_ERR);
	ctx = coap_new_context(NULL);
	if (!ctx)
		return 1;
	coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	coap_address_init(&a);
	a.addr.sin.sin_family = AF_INET;
	a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.addr.sin.sin_port = htons((uint16_t)port);
	a.size = sizeof(struct sockaddr_in);
	if (!coap_new_endpoint(ctx, &a, COAP_PROTO_UDP)) {
		fprintf(stderr, "test-backend: cannot bind 127.0.0.1:%d\n", port);
		return 1;
	}
	add(ctx, "echo", h_echo, true);
	add(ctx, "slow", h_slow, false);
	add(ctx, "hits", h_hits, false);
	add(ctx, "obs", h_obs, false);
	add(ctx, "big", h_big, false);
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!quit) {
		coap_io_process(ctx, 50);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >=
		    200) {
			last = now;
			obs_n++;
			coap_resource_notify_observers(obs_res, NULL);
		}
	}
	coap_free_context(ctx);
	coap_cleanup();
	return 0;
}
