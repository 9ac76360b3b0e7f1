/* CoAP/UDP request-response for edhoc-client (see transport.h). */
#include "client/transport.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>

/* Poll slice: coap_io_process() treats 0 as "wait forever", so we never pass
 * it a remaining time of 0 and re-check the deadline at least this often. */
#define POLL_SLICE_MS 100
/* With send_twice: how long to wait for the second answer once the first
 * arrived (the server answers a duplicate at once or never). */
#define SECOND_ANSWER_MS 1500

/* Raw mode: ACK_TIMEOUT of RFC 7252 (no random factor: a test tool wants
 * predictable timing) and its retransmission count. */
#define RAW_ACK_TIMEOUT_MS 2000
#define RAW_MAX_RETRANSMIT 4
#define RAW_DATAGRAM       1500

struct client_transport {
	coap_context_t *ctx;
	coap_session_t *session;
	coap_address_t dst;
	/* Raw mode: our own UDP socket and CoAP framing (see
	 * client_transport_set_raw). */
	int raw_fd;
	uint16_t raw_mid;
	uint64_t deadline_ms;
	/* The request in flight: its token tells its answers from stray ones. */
	uint8_t token[8];
	size_t token_len;
	unsigned expected; /* answers to wait for: 1, or 2 with send_twice */
	int nack;          /* negative errno from the NACK handler, 0 if none */
	client_response *resp;
	client_response *second; /* scratch for the second answer of send_twice */
};

static bool log_verbose;

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t client_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *client_code_str(uint8_t code, char *buf)
{
	snprintf(buf, 8, "%u.%02u", (unsigned)CLIENT_CODE_CLASS(code),
	         (unsigned)CLIENT_CODE_DETAIL(code));
	return buf;
}

const client_option *client_response_option(const client_response *r, uint16_t number)
{
	for (size_t i = 0; i < r->n_options; i++)
		if (r->options[i].number == number)
			return &r->options[i];
	return NULL;
}

/* libcoap writes warnings to stdout by default, which would mix with the
 * response payload we print there: everything goes to stderr, and only
 * when the operator asked for it. */
static void log_handler(coap_log_t level, const char *message)
{
	if (log_verbose || level <= LOG_CRIT)
		fprintf(stderr, "libcoap: %s", message);
}

void client_transport_set_verbose(client_transport *t, bool verbose)
{
	(void)t;
	log_verbose = verbose;
	coap_set_log_handler(log_handler);
	coap_set_log_level(verbose ? LOG_WARNING : LOG_CRIT);
}

void client_transport_set_deadline(client_transport *t, uint64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
}

static void copy_answer(const coap_pdu_t *pdu, client_response *r)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	const uint8_t *data;
	size_t len;

	r->code = (uint8_t)coap_pdu_get_code(pdu);
	r->n_options = 0;
	r->options_truncated = false;
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while ((opt = coap_option_next(&it)) != NULL) {
		size_t vlen = coap_opt_length(opt);

		if (r->n_options == CLIENT_MAX_OPTIONS || vlen > CLIENT_MAX_OPTION_VALUE) {
			r->options_truncated = true;
			continue;
		}
		client_option *o = &r->options[r->n_options++];
		o->number = (uint16_t)it.number;
		o->len = vlen;
		if (vlen > 0)
			memcpy(o->value, coap_opt_value(opt), vlen);
	}
	r->payload_len = 0;
	r->payload_truncated = false;
	if (coap_get_data(pdu, &len, &data) && len > 0) {
		if (len > CLIENT_MAX_PAYLOAD) {
			len = CLIENT_MAX_PAYLOAD;
			r->payload_truncated = true;
		}
		memcpy(r->payload, data, len);
		r->payload_len = len;
	}
}

static bool same_answer(const client_response *a, const client_response *b)
{
	if (a->code != b->code || a->n_options != b->n_options || a->payload_len != b->payload_len)
		return false;
	for (size_t i = 0; i < a->n_options; i++)
		if (a->options[i].number != b->options[i].number ||
		    a->options[i].len != b->options[i].len ||
		    memcmp(a->options[i].value, b->options[i].value, a->options[i].len) != 0)
			return false;
	return memcmp(a->payload, b->payload, a->payload_len) == 0;
}

static coap_response_t response_handler(coap_session_t *session, const coap_pdu_t *sent,
                                        const coap_pdu_t *received, const coap_mid_t mid)
{
	client_transport *t = coap_session_get_app_data(session);
	coap_bin_const_t tok = coap_pdu_get_token(received);

	(void)sent;
	(void)mid;
	if (t == NULL || t->resp == NULL || tok.length != t->token_len ||
	    memcmp(tok.s, t->token, t->token_len) != 0)
		return COAP_RESPONSE_OK; /* stray answer to an earlier request */
	if (t->resp->received == 0) {
		copy_answer(received, t->resp);
	} else if (t->second != NULL) {
		copy_answer(received, t->second);
		t->resp->answers_identical = same_answer(t->resp, t->second);
	}
	t->resp->received++;
	return COAP_RESPONSE_OK;
}

static void nack_handler(coap_session_t *session, const coap_pdu_t *sent,
                         const coap_nack_reason_t reason, const coap_mid_t mid)
{
	client_transport *t = coap_session_get_app_data(session);

	(void)sent;
	(void)mid;
	if (t == NULL)
		return;
	switch (reason) {
	case COAP_NACK_RST:
		t->nack = -ECONNRESET;
		break;
	case COAP_NACK_TOO_MANY_RETRIES:
		t->nack = -ETIMEDOUT;
		break;
	case COAP_NACK_ICMP_ISSUE:
		t->nack = -ECONNREFUSED;
		break;
	default:
		t->nack = -EIO;
		break;
	}
}

static int resolve(const char *host, uint16_t port, coap_address_t *ret)
{
	struct addrinfo hints, *res = NULL;
	char portstr[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0 || res == NULL)
		return -EHOSTUNREACH;
	coap_address_init(ret);
	if (res->ai_addrlen > sizeof(ret->addr)) {
		freeaddrinfo(res);
		return -EAFNOSUPPORT;
	}
	ret->size = res->ai_addrlen;
	memcpy(&ret->addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int client_transport_create(const char *uri, char *ret_path, char *ret_query, size_t cap,
                            client_transport **ret)
{
	coap_uri_t u;
	coap_address_t dst;
	char host[256];
	client_transport *t = NULL;
	int r;

	if (uri == NULL || ret_path == NULL || ret_query == NULL || cap == 0)
		return -EINVAL;
	if (coap_split_uri((const uint8_t *)uri, strlen(uri), &u) < 0 ||
	    u.scheme != COAP_URI_SCHEME_COAP)
		return -EINVAL; /* only plain coap:// over UDP */
	if (u.host.length == 0 || u.host.length >= sizeof(host) || u.path.length >= cap ||
	    u.query.length >= cap)
		return -EINVAL;
	memcpy(host, u.host.s, u.host.length);
	host[u.host.length] = '\0';
	/* An absent component has s == NULL: never memcpy from it. */
	if (u.path.length > 0)
		memcpy(ret_path, u.path.s, u.path.length);
	ret_path[u.path.length] = '\0';
	if (u.query.length > 0)
		memcpy(ret_query, u.query.s, u.query.length);
	ret_query[u.query.length] = '\0';

	r = resolve(host, u.port, &dst);
	if (r < 0)
		return r;

	coap_startup();
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->deadline_ms = client_now_ms() + 10000;
	t->raw_fd = -1;
	t->dst = dst;
	t->ctx = coap_new_context(NULL);
	if (t->ctx == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* Without registration libcoap rejects answers carrying these critical
	 * options (see shared LIBCOAP-NOTES). */
	coap_register_option(t->ctx, CLIENT_OPT_OSCORE);
	coap_register_option(t->ctx, CLIENT_OPT_EDHOC);
	coap_context_set_block_mode(t->ctx, 0);
	coap_register_response_handler(t->ctx, response_handler);
	coap_register_nack_handler(t->ctx, nack_handler);
	t->session = coap_new_client_session(t->ctx, NULL, &dst, COAP_PROTO_UDP);
	if (t->session == NULL) {
		r = -EIO;
		goto out;
	}
	coap_session_set_app_data(t->session, t);
	*ret = t;
	t = NULL;
	r = 0;
out:
	client_transport_free(t);
	return r;
}

void client_transport_free(client_transport *t)
{
	if (t == NULL)
		return;
	if (t->session != NULL) {
		coap_session_set_app_data(t->session, NULL);
		coap_session_release(t->session);
	}
	if (t->ctx != NULL)
		coap_free_context(t->ctx);
	if (t->raw_fd >= 0)
		close(t->raw_fd);
	free(t);
}

static int cmp_opt(const void *a, const void *b)
{
	const client_req_option *x = a, *y = b;

	return (int)x->number - (int)y->number;
}

/* Options must go out in ascending order; options with equal numbers
 * (Uri-Path segments) must keep their order, so a stable insertion sort. */
static void sort_options(const client_request *req, client_req_option *sorted)
{
	if (req->n_options == 0)
		return;
	memcpy(sorted, req->options, req->n_options * sizeof(sorted[0]));
	for (size_t i = 1; i < req->n_options; i++) {
		client_req_option k = sorted[i];
		size_t j = i;

		while (j > 0 && cmp_opt(&sorted[j - 1], &k) > 0) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = k;
	}
}

static int raw_request(client_transport *t, const client_request *req, client_response *ret);

static coap_pdu_t *build_pdu(client_transport *t, const client_request *req)
{
	client_req_option sorted[CLIENT_MAX_OPTIONS];
	coap_pdu_t *pdu;

	if (req->n_options > CLIENT_MAX_OPTIONS)
		return NULL;
	pdu = coap_pdu_init(COAP_MESSAGE_CON, req->code, coap_new_message_id(t->session),
	                    coap_session_max_pdu_size(t->session));
	if (pdu == NULL)
		return NULL;
	if (!coap_add_token(pdu, t->token_len, t->token))
		goto fail;
	sort_options(req, sorted);
	for (size_t i = 0; i < req->n_options; i++)
		if (coap_add_option(pdu, sorted[i].number, sorted[i].len, sorted[i].value) == 0)
			goto fail;
	/* coap_add_data() refuses (returns 0) a payload above the PDU size. */
	if (req->payload_len > 0 && !coap_add_data(pdu, req->payload_len, req->payload))
		goto fail;
	return pdu;
fail:
	coap_delete_pdu(pdu);
	return NULL;
}

int client_transport_request(client_transport *t, const client_request *req, client_response *ret)
{
	client_response *second = NULL;
	coap_pdu_t *pdu = NULL, *dup = NULL;
	uint64_t now, grace_end = 0;
	int r;

	if (t == NULL || req == NULL || ret == NULL)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (t->raw_fd >= 0)
		return raw_request(t, req, ret);
	coap_session_new_token(t->session, &t->token_len, t->token);
	pdu = build_pdu(t, req);
	if (pdu == NULL)
		return -EMSGSIZE;
	ret->mid = (uint16_t)coap_pdu_get_mid(pdu);
	if (req->send_twice) {
		second = malloc(sizeof(*second));
		if (second == NULL) {
			r = -ENOMEM;
			goto out;
		}
		dup = build_pdu(t, req);
		if (dup == NULL) {
			r = -EMSGSIZE;
			goto out;
		}
		/* The same MID makes it a retransmission, not a new request. */
		coap_pdu_set_mid(dup, coap_pdu_get_mid(pdu));
	}
	t->resp = ret;
	t->second = second;
	t->expected = req->send_twice ? 2 : 1;
	t->nack = 0;
	if (coap_send(t->session, pdu) == COAP_INVALID_MID) {
		pdu = NULL; /* coap_send frees it in every case */
		r = -EIO;
		goto out;
	}
	pdu = NULL;
	if (dup != NULL) {
		if (coap_send(t->session, dup) == COAP_INVALID_MID) {
			dup = NULL;
			r = -EIO;
			goto out;
		}
		dup = NULL;
	}
	for (;;) {
		if (ret->received == 1 && t->expected == 2 && grace_end == 0)
			grace_end = client_now_ms() + SECOND_ANSWER_MS;
		if (ret->received >= t->expected) {
			r = 0;
			break;
		}
		if (t->nack != 0 && ret->received == 0) {
			r = t->nack;
			break;
		}
		now = client_now_ms();
		if (now >= t->deadline_ms || (grace_end != 0 && now >= grace_end)) {
			/* With send_twice, one answer and then silence is a
			 * result to report, not a failure of the transport. */
			r = ret->received > 0 ? 0 : -ETIMEDOUT;
			break;
		}
		uint64_t left = t->deadline_ms - now;
		coap_io_process(t->ctx, (uint32_t)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS));
	}
out:
	t->resp = NULL;
	t->second = NULL;
	coap_delete_pdu(pdu);
	coap_delete_pdu(dup);
	free(second);
	return r;
}

/* ---- raw mode ---------------------------------------------------------
 *
 * libcoap drops a second ACK with the MID of the previous one as a duplicate
 * (session->last_ack_mid) before any handler sees it, so the answer to a
 * deliberately retransmitted CON cannot be observed through it.  Raw mode
 * frames CoAP itself on a socket of its own; libcoap still parses what comes
 * back.  One socket for the whole run keeps the peer address constant. */

int client_transport_set_raw(client_transport *t)
{
	int fd;

	if (t->raw_fd >= 0)
		return 0;
	fd = socket(t->dst.addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &t->dst.addr.sa, t->dst.size) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	t->raw_fd = fd;
	if (RAND_MAX >= 0xffff) {
		srandom((unsigned)client_now_ms() ^ (unsigned)getpid());
		t->raw_mid = (uint16_t)random();
	}
	return 0;
}

static size_t put_opt_part(uint8_t *out, size_t v, uint8_t *ret_nibble)
{
	if (v < 13) {
		*ret_nibble = (uint8_t)v;
		return 0;
	}
	if (v < 269) {
		*ret_nibble = 13;
		out[0] = (uint8_t)(v - 13);
		return 1;
	}
	*ret_nibble = 14;
	out[0] = (uint8_t)((v - 269) >> 8);
	out[1] = (uint8_t)(v - 269);
	return 2;
}

/* RFC 7252 §3 framing of a CON request into out; returns its length or 0
 * when it does not fit. */
static size_t raw_encode(const client_request *req, uint16_t mid, const uint8_t *token,
                         size_t token_len, uint8_t *out, size_t cap)
{
	client_req_option sorted[CLIENT_MAX_OPTIONS];
	size_t n = 0;
	uint16_t prev = 0;

	if (cap < 4 + token_len || req->n_options > CLIENT_MAX_OPTIONS)
		return 0;
	out[n++] = (uint8_t)(0x40 | token_len); /* version 1, CON */
	out[n++] = req->code;
	out[n++] = (uint8_t)(mid >> 8);
	out[n++] = (uint8_t)mid;
	memcpy(out + n, token, token_len);
	n += token_len;
	sort_options(req, sorted);
	for (size_t i = 0; i < req->n_options; i++) {
		uint8_t ext[4], dn, ln;
		size_t e = 0;

		e += put_opt_part(ext, (size_t)(sorted[i].number - prev), &dn);
		e += put_opt_part(ext + e, sorted[i].len, &ln);
		if (sorted[i].len > 65535 + 269 || n + 1 + e + sorted[i].len > cap)
			return 0;
		out[n++] = (uint8_t)(dn << 4 | ln);
		memcpy(out + n, ext, e);
		n += e;
		if (sorted[i].len > 0)
			memcpy(out + n, sorted[i].value, sorted[i].len);
		n += sorted[i].len;
		prev = sorted[i].number;
	}
	if (req->payload_len > 0) {
		if (n + 1 + req->payload_len > cap)
			return 0;
		out[n++] = 0xff;
		memcpy(out + n, req->payload, req->payload_len);
		n += req->payload_len;
	}
	return n;
}

static void raw_ack(client_transport *t, uint16_t mid)
{
	uint8_t ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};

	(void)send(t->raw_fd, ack, sizeof(ack), 0);
}

static int raw_request(client_transport *t, const client_request *req, client_response *ret)
{
	uint8_t out[RAW_DATAGRAM], in[RAW_DATAGRAM];
	uint8_t token[8];
	client_response *second = NULL;
	coap_pdu_t *pdu = NULL;
	uint64_t next_tx, grace_end = 0;
	unsigned expected = req->send_twice ? 2 : 1, tx = 0;
	bool acked = false;
	size_t n;
	int r;

	t->raw_mid++;
	for (size_t i = 0; i < sizeof(token); i++)
		token[i] = (uint8_t)random();
	n = raw_encode(req, t->raw_mid, token, sizeof(token), out, sizeof(out));
	if (n == 0)
		return -EMSGSIZE;
	ret->mid = t->raw_mid;
	second = malloc(sizeof(*second));
	if (second == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < expected; i++)
		if (send(t->raw_fd, out, n, 0) < 0) {
			r = -errno;
			goto out;
		}
	next_tx = client_now_ms() + RAW_ACK_TIMEOUT_MS;
	for (;;) {
		uint64_t now = client_now_ms(), until;
		struct pollfd p = {.fd = t->raw_fd, .events = POLLIN};
		ssize_t got;

		if (ret->received == 1 && expected == 2 && grace_end == 0)
			grace_end = now + SECOND_ANSWER_MS;
		if (ret->received >= expected) {
			r = 0;
			break;
		}
		if (now >= t->deadline_ms || (grace_end != 0 && now >= grace_end)) {
			r = ret->received > 0 ? 0 : -ETIMEDOUT;
			break;
		}
		if (!acked && ret->received == 0 && now >= next_tx) {
			if (tx++ == RAW_MAX_RETRANSMIT) {
				r = -ETIMEDOUT;
				break;
			}
			(void)send(t->raw_fd, out, n, 0);
			next_tx = now + (RAW_ACK_TIMEOUT_MS << tx);
		}
		until = t->deadline_ms;
		if (grace_end != 0 && grace_end < until)
			until = grace_end;
		if (!acked && ret->received == 0 && next_tx < until)
			until = next_tx;
		uint64_t wait = until > now ? until - now : 0;

		if (poll(&p, 1, (int)(wait < POLL_SLICE_MS ? wait : POLL_SLICE_MS)) <= 0)
			continue;
		got = recv(t->raw_fd, in, sizeof(in), 0);
		if (got < 0) {
			if (errno == ECONNREFUSED && ret->received == 0) {
				r = -ECONNREFUSED;
				break;
			}
			continue;
		}
		coap_delete_pdu(pdu);
		pdu = coap_pdu_init(0, 0, 0, RAW_DATAGRAM);
		if (pdu == NULL) {
			r = -ENOMEM;
			break;
		}
		if (!coap_pdu_parse(COAP_PROTO_UDP, in, (size_t)got, pdu))
			continue;
		coap_pdu_type_t type = coap_pdu_get_type(pdu);
		uint16_t mid = (uint16_t)coap_pdu_get_mid(pdu);
		coap_bin_const_t tok = coap_pdu_get_token(pdu);
		bool our_token =
		    tok.length == sizeof(token) && memcmp(tok.s, token, sizeof(token)) == 0;

		if (type == COAP_MESSAGE_RST && mid == t->raw_mid) {
			if (ret->received == 0) {
				r = -ECONNRESET;
				break;
			}
			continue;
		}
		if (type == COAP_MESSAGE_ACK && mid == t->raw_mid && coap_pdu_get_code(pdu) == 0) {
			acked = true; /* separate response follows */
			continue;
		}
		if (type == COAP_MESSAGE_CON)
			raw_ack(t, mid);
		if (!our_token || coap_pdu_get_code(pdu) == 0 ||
		    (type == COAP_MESSAGE_ACK && mid != t->raw_mid))
			continue;
		if (ret->received == 0) {
			copy_answer(pdu, ret);
		} else {
			copy_answer(pdu, second);
			ret->answers_identical = same_answer(ret, second);
		}
		ret->received++;
	}
out:
	coap_delete_pdu(pdu);
	free(second);
	return r;
}
