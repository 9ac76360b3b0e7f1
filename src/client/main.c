/* edhoc-client: EDHOC initiator and OSCORE client over CoAP/UDP, the
 * operator's diagnosis tool and the end-to-end test driver. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ctxfile.h"
#include "client/options.h"
#include "client/run.h"
#include "client/transport.h"
#include "edhoc/crypto.h"
#include "edhoc/oscore.h"

#define CF_CID_EDHOC_CBOR_SEQ 65
#define OSCORE_BUF            (CLIENT_MAX_PAYLOAD + OSCORE_PROTECT_OVERHEAD + 512)

static const char *code_name(uint8_t code)
{
	switch (code) {
	case CLIENT_CODE(2, 1):
		return "Created";
	case CLIENT_CODE(2, 2):
		return "Deleted";
	case CLIENT_CODE(2, 3):
		return "Valid";
	case CLIENT_CODE(2, 4):
		return "Changed";
	case CLIENT_CODE(2, 5):
		return "Content";
	case CLIENT_CODE(4, 0):
		return "Bad Request";
	case CLIENT_CODE(4, 1):
		return "Unauthorized";
	case CLIENT_CODE(4, 2):
		return "Bad Option";
	case CLIENT_CODE(4, 3):
		return "Forbidden";
	case CLIENT_CODE(4, 4):
		return "Not Found";
	case CLIENT_CODE(4, 5):
		return "Method Not Allowed";
	case CLIENT_CODE(4, 13):
		return "Request Entity Too Large";
	case CLIENT_CODE(5, 0):
		return "Internal Server Error";
	case CLIENT_CODE(5, 2):
		return "Bad Gateway";
	case CLIENT_CODE(5, 3):
		return "Service Unavailable";
	case CLIENT_CODE(5, 4):
		return "Gateway Timeout";
	default:
		return "";
	}
}

static void print_code(const char *what, uint8_t code)
{
	char cbuf[8];

	fprintf(stderr, "%s%s%s %s\n", what ? what : "", what ? ": " : "",
	        client_code_str(code, cbuf), code_name(code));
}

/* Reads -f FILE (bounded) into buf. */
static long read_body_file(const char *path, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "edhoc-client: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((got = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)got;
		if (n == cap) {
			char extra;

			if (read(fd, &extra, 1) > 0) {
				fprintf(stderr, "edhoc-client: %s: more than %zu bytes\n", path,
				        cap);
				close(fd);
				return -1;
			}
			break;
		}
	}
	close(fd);
	if (got < 0) {
		fprintf(stderr, "edhoc-client: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return (long)n;
}

/* ---- --raw-hex ---- */

static int run_raw(client_run *run)
{
	const client_opts *o = run->o;
	client_req_option opts[CLIENT_MAX_OPTIONS];
	size_t n_opts = 0;
	uint8_t cf[4];
	client_request req;
	client_response *resp = malloc(sizeof(*resp));
	char segs[CLIENT_MAX_PATH];
	int r, ex;

	if (resp == NULL)
		return CLIENT_EXIT_USAGE;
	/* Default resource /.well-known/edhoc; a path in the URI replaces it. */
	snprintf(segs, sizeof(segs), "%s", run->path[0] ? run->path : ".well-known/edhoc");
	for (char *s = segs, *next; s != NULL && *s != '\0'; s = next) {
		next = strchr(s, '/');
		if (next != NULL)
			*next++ = '\0';
		if (*s != '\0' && n_opts < CLIENT_MAX_OPTIONS - 1)
			opts[n_opts++] = (client_req_option){11, (const uint8_t *)s, strlen(s)};
	}
	opts[n_opts++] = (client_req_option){CLIENT_OPT_CONTENT_FORMAT, cf,
	                                     oscore_uint_encode(CF_CID_EDHOC_CBOR_SEQ, cf)};
	memset(&req, 0, sizeof(req));
	req.code = CLIENT_CODE(0, 2);
	req.options = opts;
	req.n_options = n_opts;
	req.payload = o->raw;
	req.payload_len = o->raw_len;
	req.send_twice = o->retransmit != CLIENT_RTX_NONE;
	if (o->verbose)
		client_show_bytes("request payload", o->raw, o->raw_len, true);
	r = client_transport_request(run->t, &req, resp);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: %s\n",
		        r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
		ex = CLIENT_EXIT_NETWORK;
		goto out;
	}
	if (req.send_twice)
		client_check_retransmission(run, resp, "request");
	print_code(NULL, resp->code);
	if (resp->payload_len > 0) {
		if (!client_show_edhoc_error("answer", resp->code, resp->payload,
		                             resp->payload_len))
			client_show_bytes("answer payload", resp->payload, resp->payload_len, true);
		else if (o->verbose)
			client_show_bytes("answer payload", resp->payload, resp->payload_len, true);
	}
	ex = CLIENT_CODE_CLASS(resp->code) == 2 ? CLIENT_EXIT_OK : CLIENT_EXIT_COAP;
out:
	free(resp);
	return ex;
}

/* ---- OSCORE ---- */

static void ctxfile_from_edhoc(const edhoc_oscore *p, client_ctxfile *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->master_secret, p->master_secret, p->master_secret_len);
	c->master_secret_len = p->master_secret_len;
	memcpy(c->master_salt, p->master_salt, p->master_salt_len);
	c->master_salt_len = p->master_salt_len;
	memcpy(c->sender_id, p->sender_id, p->sender_id_len);
	c->sender_id_len = p->sender_id_len;
	memcpy(c->recipient_id, p->recipient_id, p->recipient_id_len);
	c->recipient_id_len = p->recipient_id_len;
	c->aead_alg = p->aead_alg;
	c->hkdf_alg = p->hash_alg;
}

/* Builds the OSCORE context from the handshake or the --load-context file;
 * *ret_saved keeps what --save-context writes (without the sequence
 * number, which is read from the context when saving). */
static int make_context(client_run *run, client_ctxfile *ret_saved)
{
	const client_opts *o = run->o;
	char err[512];
	edhoc_oscore e;
	int r;

	if (o->load_context != NULL) {
		if (client_ctxfile_load(o->load_context, ret_saved, err, sizeof(err)) < 0) {
			fprintf(stderr, "edhoc-client: %s\n", err);
			return CLIENT_EXIT_USAGE;
		}
	} else {
		r = edhoc_oscore_params(run->hs, &e);
		if (r < 0) {
			fprintf(stderr, "edhoc-client: OSCORE parameters: %s\n",
			        edhoc_result_describe(r));
			return CLIENT_EXIT_EDHOC;
		}
		ctxfile_from_edhoc(&e, ret_saved);
		crypto_cleanse(&e, sizeof(e));
	}
	r = client_ctxfile_context(ret_saved, &run->ctx);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: OSCORE context: %s (%s)\n", edhoc_result_describe(r),
		        edhoc_result_name(r));
		return CLIENT_EXIT_OSCORE;
	}
	if (o->verbose) {
		char s[2 * OSCORE_MAX_ID + 1], rc[2 * OSCORE_MAX_ID + 1];

		client_hex_encode(ret_saved->sender_id, ret_saved->sender_id_len, s);
		client_hex_encode(ret_saved->recipient_id, ret_saved->recipient_id_len, rc);
		fprintf(stderr,
		        "edhoc-client: OSCORE context: Sender ID h'%s', Recipient ID "
		        "h'%s', next sequence number %llu\n",
		        s, rc, (unsigned long long)oscore_ctx_sender_seq(run->ctx));
	}
	return CLIENT_EXIT_OK;
}

static int save_context(client_run *run, client_ctxfile *c)
{
	char err[512];

	if (run->o->save_context == NULL)
		return 0;
	c->sender_seq = oscore_ctx_sender_seq(run->ctx);
	if (client_ctxfile_save(run->o->save_context, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "edhoc-client: %s\n", err);
		return -1;
	}
	return 0;
}

typedef struct oscore_call {
	const uint8_t *body;
	size_t body_len;
	bool combined; /* carry message_3 (first request of --combined) */
	bool twice;    /* --retransmit */
} oscore_call;

/* One OSCORE request/response; answers an Echo challenge once.  The inner
 * response payload is printed to stdout.  Returns a client_exit. */
static int oscore_request(client_run *run, const oscore_call *call, client_ctxfile *saved)
{
	const client_opts *o = run->o;
	uint8_t *pbuf = NULL, *ubuf = NULL, *comb = NULL;
	client_response *resp = NULL;
	client_req_option opts[OSCORE_MAX_OPTIONS];
	char segs[CLIENT_MAX_PATH], qbuf[CLIENT_MAX_PATH];
	uint8_t cf[4], acc[4], echo[OSCORE_MAX_ECHO];
	size_t echo_len = 0;
	bool have_echo = false;
	char cbuf[8];
	int r, ex = CLIENT_EXIT_USAGE;

	pbuf = malloc(OSCORE_BUF);
	ubuf = malloc(OSCORE_BUF);
	comb = malloc(OSCORE_BUF + CLIENT_MSG_BUF);
	resp = malloc(sizeof(*resp));
	if (pbuf == NULL || ubuf == NULL || comb == NULL || resp == NULL)
		goto out;

	for (int attempt = 0; attempt < 2; attempt++) {
		oscore_msg inner, outer, answer, plain;
		oscore_request_info info;
		client_request req;
		size_t n_opts = 0;

		oscore_msg_init(&inner, o->coap_method);
		snprintf(segs, sizeof(segs), "%s", run->path[0] ? run->path : CLIENT_DEFAULT_PATH);
		for (char *s = segs, *next; s != NULL && *s != '\0'; s = next) {
			next = strchr(s, '/');
			if (next != NULL)
				*next++ = '\0';
			if (*s != '\0' && oscore_msg_add(&inner, OSCORE_OPT_URI_PATH,
			                                 (const uint8_t *)s, strlen(s)) < 0)
				goto too_many;
		}
		snprintf(qbuf, sizeof(qbuf), "%s", run->query);
		for (char *q = qbuf, *next; q != NULL && *q != '\0'; q = next) {
			next = strchr(q, '&');
			if (next != NULL)
				*next++ = '\0';
			if (*q != '\0' && oscore_msg_add(&inner, OSCORE_OPT_URI_QUERY,
			                                 (const uint8_t *)q, strlen(q)) < 0)
				goto too_many;
		}
		if (o->content_format >= 0 &&
		    oscore_msg_add(&inner, OSCORE_OPT_CONTENT_FORMAT, cf,
		                   oscore_uint_encode((uint32_t)o->content_format, cf)) < 0)
			goto too_many;
		if (o->accept >= 0 &&
		    oscore_msg_add(&inner, OSCORE_OPT_ACCEPT, acc,
		                   oscore_uint_encode((uint32_t)o->accept, acc)) < 0)
			goto too_many;
		if (have_echo && oscore_msg_add(&inner, OSCORE_OPT_ECHO, echo, echo_len) < 0)
			goto too_many;
		oscore_msg_set_payload(&inner, call->body, call->body_len);

		r = oscore_protect_request(run->ctx, &inner, pbuf, OSCORE_BUF, &outer, &info);
		if (r < 0) {
			fprintf(stderr, "edhoc-client: OSCORE protect: %s (%s)\n",
			        edhoc_result_describe(r), edhoc_result_name(r));
			ex = CLIENT_EXIT_OSCORE;
			goto out;
		}
		/* The sequence number is spent: store it before anything can
		 * fail, so a later run never reuses a nonce. */
		if (save_context(run, saved) < 0)
			goto out;
		for (size_t i = 0; i < outer.n_opts; i++)
			opts[n_opts++] = (client_req_option){
			    outer.opts[i].number, outer.opts[i].value, outer.opts[i].len};
		memset(&req, 0, sizeof(req));
		req.code = outer.code;
		req.payload = outer.payload;
		req.payload_len = outer.payload_len;
		if (call->combined && attempt == 0) {
			/* RFC 9668 §3.2: EDHOC option, payload message_3 ||
			 * OSCORE ciphertext. */
			if (n_opts == OSCORE_MAX_OPTIONS)
				goto too_many;
			opts[n_opts++] = (client_req_option){CLIENT_OPT_EDHOC, NULL, 0};
			memcpy(comb, run->msg3, run->msg3_len);
			memcpy(comb + run->msg3_len, outer.payload, outer.payload_len);
			req.payload = comb;
			req.payload_len = run->msg3_len + outer.payload_len;
		}
		req.options = opts;
		req.n_options = n_opts;
		req.send_twice = call->twice;
		if (o->verbose) {
			fprintf(stderr, "edhoc-client: OSCORE request, sequence number %llu%s\n",
			        (unsigned long long)(oscore_ctx_sender_seq(run->ctx) - 1),
			        call->combined && attempt == 0 ? " (combined with message_3)" : "");
		}
		r = client_transport_request(run->t, &req, resp);
		if (r < 0) {
			fprintf(stderr, "edhoc-client: OSCORE request: %s\n",
			        r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
			ex = CLIENT_EXIT_NETWORK;
			goto out;
		}
		if (call->twice)
			client_check_retransmission(run, resp, "OSCORE request");
		if (client_response_option(resp, CLIENT_OPT_OSCORE) == NULL) {
			/* Not protected: the gateway could not or would not
			 * process it (no context, an EDHOC error for the
			 * combined request, ...). */
			print_code("unprotected answer", resp->code);
			if (client_show_edhoc_error(call->combined ? "combined request" : "request",
			                            resp->code, resp->payload, resp->payload_len)) {
				ex = CLIENT_EXIT_EDHOC;
			} else {
				if (resp->payload_len > 0)
					fprintf(stderr, "edhoc-client: diagnostic payload: %.*s\n",
					        (int)resp->payload_len,
					        (const char *)resp->payload);
				ex = CLIENT_CODE_CLASS(resp->code) == 2 ? CLIENT_EXIT_OSCORE
				                                        : CLIENT_EXIT_COAP;
			}
			goto out;
		}
		if (resp->options_truncated || resp->payload_truncated) {
			fprintf(stderr, "edhoc-client: answer too large for this tool\n");
			ex = CLIENT_EXIT_OSCORE;
			goto out;
		}
		oscore_msg_init(&answer, resp->code);
		for (size_t i = 0; i < resp->n_options; i++)
			if (oscore_msg_add(&answer, resp->options[i].number, resp->options[i].value,
			                   resp->options[i].len) < 0)
				goto too_many;
		oscore_msg_set_payload(&answer, resp->payload, resp->payload_len);
		r = oscore_unprotect_response(run->ctx, &info, &answer, ubuf, OSCORE_BUF, &plain);
		if (r < 0) {
			fprintf(stderr,
			        "edhoc-client: OSCORE unprotect of the %s answer: %s (%s)\n",
			        client_code_str(resp->code, cbuf), edhoc_result_describe(r),
			        edhoc_result_name(r));
			ex = CLIENT_EXIT_OSCORE;
			goto out;
		}
		const oscore_option *e = oscore_msg_find(&plain, OSCORE_OPT_ECHO);

		if (plain.code == OSCORE_CODE_UNAUTHORIZED && e != NULL && attempt == 0 &&
		    e->len > 0 && e->len <= sizeof(echo)) {
			/* RFC 8613 App. B.1.2: the gateway lost its replay window
			 * (restart); repeating with its Echo value proves
			 * freshness. */
			memcpy(echo, e->value, e->len);
			echo_len = e->len;
			have_echo = true;
			if (o->verbose)
				fprintf(stderr, "edhoc-client: Echo challenge, repeating the "
				                "request\n");
			continue;
		}
		if (o->verbose || CLIENT_CODE_CLASS(plain.code) != 2)
			print_code(NULL, plain.code);
		if (plain.payload_len > 0) {
			if (CLIENT_CODE_CLASS(plain.code) == 2) {
				fwrite(plain.payload, 1, plain.payload_len, stdout);
				/* One answer per line, also with --requests. */
				if (plain.payload[plain.payload_len - 1] != '\n')
					fputc('\n', stdout);
			} else {
				fprintf(stderr, "edhoc-client: diagnostic payload: %.*s\n",
				        (int)plain.payload_len, (const char *)plain.payload);
			}
		}
		fflush(stdout);
		ex = CLIENT_CODE_CLASS(plain.code) == 2 ? CLIENT_EXIT_OK : CLIENT_EXIT_COAP;
		goto out;
	}
	fprintf(stderr, "edhoc-client: the gateway repeated its Echo challenge\n");
	ex = CLIENT_EXIT_OSCORE;
	goto out;
too_many:
	fprintf(stderr, "edhoc-client: too many options\n");
	ex = CLIENT_EXIT_USAGE;
out:
	free(pbuf);
	free(ubuf);
	free(comb);
	free(resp);
	return ex;
}

static int run_oscore(client_run *run)
{
	const client_opts *o = run->o;
	uint8_t body[CLIENT_MAX_BODY];
	client_ctxfile saved;
	oscore_call call;
	unsigned long done = 0;
	uint64_t t0 = 0;
	int ex;

	memset(&call, 0, sizeof(call));
	if (o->payload_file != NULL) {
		long n = read_body_file(o->payload_file, body, sizeof(body));

		if (n < 0)
			return CLIENT_EXIT_USAGE;
		call.body = body;
		call.body_len = (size_t)n;
	} else if (o->payload != NULL) {
		call.body = (const uint8_t *)o->payload;
		call.body_len = strlen(o->payload);
		if (call.body_len > CLIENT_MAX_BODY) {
			fprintf(stderr, "edhoc-client: -e: more than %d bytes\n", CLIENT_MAX_BODY);
			return CLIENT_EXIT_USAGE;
		}
	}
	ex = make_context(run, &saved);
	if (ex != CLIENT_EXIT_OK)
		goto out;
	if (save_context(run, &saved) < 0) {
		ex = CLIENT_EXIT_USAGE;
		goto out;
	}
	t0 = client_now_us();
	for (unsigned long i = 0; i < o->requests; i++) {
		call.combined = o->combined && i == 0;
		call.twice = (o->retransmit & CLIENT_RTX_OSCORE) != 0 ||
		             (call.combined && (o->retransmit & CLIENT_RTX_MESSAGE_3) != 0);
		ex = oscore_request(run, &call, &saved);
		if (ex != CLIENT_EXIT_OK)
			break;
		done++;
	}
	if (o->verbose && done > 0) {
		uint64_t us = client_now_us() - t0;

		fprintf(stderr,
		        "edhoc-client: timing: %lu OSCORE request(s) in %.3f ms, %.1f us each\n",
		        done, (double)us / 1000.0, (double)us / (double)done);
	}
out:
	client_ctxfile_clear(&saved);
	return ex;
}

int main(int argc, char **argv)
{
	client_opts *o = calloc(1, sizeof(*o));
	client_run *run = calloc(1, sizeof(*run));
	char err[512];
	int r, ex = CLIENT_EXIT_USAGE;

	if (o == NULL || run == NULL) {
		fprintf(stderr, "edhoc-client: out of memory\n");
		goto out;
	}
	r = client_opts_parse(argc, argv, o, err, sizeof(err));
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "edhoc-client: %s\n", err);
		ex = r > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
		goto out;
	}
	run->o = o;
	r = client_transport_create(o->uri, run->path, run->query, sizeof(run->path), &run->t);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: %s: %s\n", o->uri,
		        r == -EINVAL ? "expected coap://HOST[:PORT][/PATH][?QUERY]" : strerror(-r));
		goto out;
	}
	client_transport_set_verbose(run->t, o->verbose);
	client_transport_set_deadline(run->t, client_now_ms() + o->timeout_ms);
	if (o->retransmit != CLIENT_RTX_NONE) {
		r = client_transport_set_raw(run->t);
		if (r < 0) {
			fprintf(stderr, "edhoc-client: socket: %s\n", strerror(-r));
			goto out;
		}
	}
	if (o->has_raw) {
		ex = run_raw(run);
		goto out;
	}
	if (o->load_context == NULL) {
		ex = client_load_credentials(run);
		if (ex != CLIENT_EXIT_OK)
			goto out;
		uint64_t t0 = client_now_us();

		ex = client_handshake(run);
		if (ex != CLIENT_EXIT_OK)
			goto out;
		if (o->verbose)
			fprintf(stderr, "edhoc-client: timing: EDHOC handshake in %.3f ms\n",
			        (double)(client_now_us() - t0) / 1000.0);
		if (o->verbose || o->no_oscore)
			fprintf(stderr,
			        "edhoc-client: EDHOC handshake complete (method %d, suite "
			        "%d)\n",
			        edhoc_handshake_method(run->hs), edhoc_handshake_suite(run->hs));
		if (o->no_oscore)
			goto out;
	}
	ex = run_oscore(run);
out:
	if (ex == CLIENT_EXIT_OK && run != NULL && run->retransmit_failed)
		ex = CLIENT_EXIT_RETRANSMIT;
	if (run != NULL) {
		oscore_ctx_free(run->ctx);
		edhoc_handshake_free(run->hs);
		credfile_free(run->own);
		for (size_t i = 0; i < run->n_peers; i++)
			credfile_free(run->peers[i]);
		cose_cred_free(run->by_value);
		client_transport_free(run->t);
	}
	free(run);
	free(o);
	return ex;
}
