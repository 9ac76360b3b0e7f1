/* EDHOC initiator over CoAP (RFC 9528 App. A.2) for edhoc-client. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/run.h"
#include "edhoc/cbor.h"
#include "edhoc/crypto.h"

/* RFC 9528 §9.9/§9.10 Content-Formats. */
#define CF_EDHOC_CBOR_SEQ     64 /* application/edhoc+cbor-seq */
#define CF_CID_EDHOC_CBOR_SEQ 65 /* application/cid-edhoc+cbor-seq */

#define WELL_KNOWN_SEG1 ".well-known"
#define WELL_KNOWN_SEG2 "edhoc"

/* Attempts at message_1: the first, one after a Wrong Selected Cipher Suite
 * error, one after an Echo challenge; more would only loop. */
#define MAX_MESSAGE_1_ATTEMPTS 3

#define DIAG_TEXT 4096

void client_show_bytes(const char *label, const uint8_t *b, size_t len, bool cbor)
{
	char *hex = malloc(2 * len + 1);
	char diag[DIAG_TEXT];

	if (hex == NULL)
		return;
	client_hex_encode(b, len, hex);
	fprintf(stderr, "%s (%zu bytes): %s\n", label, len, hex);
	if (cbor && len > 0) {
		int r = cose_diag(b, len, diag, sizeof(diag));

		fprintf(stderr, "  diag: %s%s\n", diag, r < 0 ? " (not well-formed CBOR)" : "");
	}
	free(hex);
}

bool client_show_edhoc_error(const char *what, uint8_t code, const uint8_t *payload, size_t len)
{
	edhoc_error e;
	char cbuf[8];

	if (len == 0 || !edhoc_is_error_message(payload, len) ||
	    edhoc_error_decode(payload, len, &e) < 0)
		return false;
	fprintf(stderr, "edhoc-client: %s: EDHOC error message (%s): ERR_CODE %lld", what,
	        client_code_str(code, cbuf), (long long)e.err_code);
	if (e.err_code == EDHOC_ERR_UNSPECIFIED) {
		fputs(" \"", stderr);
		/* The text comes from the peer: no control characters to the
		 * terminal. */
		for (const char *p = e.text; *p != '\0'; p++)
			fputc((unsigned char)*p >= 0x20 && *p != 0x7f ? *p : '?', stderr);
		fputc('"', stderr);
	} else if (e.err_code == EDHOC_ERR_WRONG_SUITE) {
		fputs(" Wrong Selected Cipher Suite, SUITES_R [", stderr);
		for (size_t i = 0; i < e.n_suites; i++)
			fprintf(stderr, "%s%d", i ? ", " : "", e.suites[i]);
		fputc(']', stderr);
	} else if (e.err_code == EDHOC_ERR_UNKNOWN_CRED) {
		fputs(" Unknown credential referenced", stderr);
	}
	fputc('\n', stderr);
	return true;
}

/* ---- credentials ---- */

static int lookup_peer(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	client_run *run = ctx;
	int r;

	for (size_t i = 0; i < run->n_peers; i++) {
		const cose_cred *c = credfile_cred(run->peers[i]);

		if (cose_cred_matches(c, id)) {
			*ret_cred = *cose_cred_edhoc(c);
			return 0;
		}
	}
	if (run->o->peer_cred_path != NULL)
		return EDHOC_E_UNKNOWN_CRED;
	/* No --peer-cred: accept a credential the gateway sends by value, and
	 * say loudly that nothing vouched for it. */
	cose_cred_free(run->by_value);
	run->by_value = NULL;
	r = cose_cred_from_id_cred(id, &run->by_value);
	if (r < 0)
		return r == EDHOC_E_ID_CRED_UNSUPPORTED ? EDHOC_E_UNKNOWN_CRED : r;
	fprintf(stderr,
	        "edhoc-client: warning: gateway credential '%s' not verified "
	        "(no --peer-cred)\n",
	        cose_cred_identity(run->by_value));
	*ret_cred = *cose_cred_edhoc(run->by_value);
	return 0;
}

static bool is_cred_file(const char *name)
{
	static const char *const exts[] = {".ccs", ".cred", ".pem", ".crt", ".der"};
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

static int load_peer(client_run *run, const char *path, bool from_dir)
{
	char err[512];
	credfile *f = NULL;
	int r;

	if (run->n_peers == CLIENT_MAX_PEERS) {
		fprintf(stderr, "edhoc-client: %s: more than %d credentials\n", path,
		        CLIENT_MAX_PEERS);
		return -1;
	}
	err[0] = '\0';
	r = credfile_load(path, NULL, &f, err, sizeof(err));
	if (r < 0) {
		/* A directory may hold other things (a CA, keys of its own):
		 * skip what is not a peer credential, but say so. */
		if (from_dir) {
			if (run->o->verbose)
				fprintf(stderr, "edhoc-client: skipping %s\n", err[0] ? err : path);
			return 0;
		}
		fprintf(stderr, "edhoc-client: %s (%s)\n", err[0] ? err : path,
		        edhoc_result_name(r));
		return -1;
	}
	run->peers[run->n_peers++] = f;
	if (run->o->verbose)
		fprintf(stderr, "edhoc-client: peer credential %s: %s\n", path,
		        cose_cred_identity(credfile_cred(f)));
	return 0;
}

static int load_peers(client_run *run)
{
	const char *p = run->o->peer_cred_path;
	struct dirent **names = NULL;
	char full[4096];
	struct stat st;
	int n, r = 0;

	if (stat(p, &st) != 0) {
		fprintf(stderr, "edhoc-client: %s: %s\n", p, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_peer(run, p, false);
	n = scandir(p, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "edhoc-client: %s: %s\n", p, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (r == 0 && is_cred_file(names[i]->d_name) &&
		    (size_t)snprintf(full, sizeof(full), "%s/%s", p, names[i]->d_name) <
		        sizeof(full))
			r = load_peer(run, full, true);
		free(names[i]);
	}
	free(names);
	if (r == 0 && run->n_peers == 0) {
		fprintf(stderr, "edhoc-client: %s: no credentials found\n", p);
		return -1;
	}
	return r;
}

int client_load_credentials(client_run *run)
{
	const client_opts *o = run->o;
	credfile_opts copts;
	char err[512];
	int r;

	memset(&copts, 0, sizeof(copts));
	copts.own = true;
	copts.key_path = o->key_path;
	err[0] = '\0';
	r = credfile_load(o->cred_path != NULL ? o->cred_path : o->cert_path, &copts, &run->own,
	                  err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "edhoc-client: %s (%s)\n",
		        err[0] ? err : (o->cred_path ? o->cred_path : o->cert_path),
		        edhoc_result_name(r));
		return CLIENT_EXIT_USAGE;
	}
	if (o->verbose)
		fprintf(stderr, "edhoc-client: own credential: %s\n",
		        cose_cred_identity(credfile_cred(run->own)));
	if (o->peer_cred_path != NULL && load_peers(run) < 0)
		return CLIENT_EXIT_USAGE;
	return CLIENT_EXIT_OK;
}

/* ---- the handshake ---- */

/* Registry order, but the suites most gateways offer first. */
static const int default_order[] = {2, 0, 3, 1, 6, 4, 5, 24, 25};

static void pick_default_suites(client_run *run)
{
	crypto_key *k = cose_cred_key(credfile_cred(run->own));
	bool static_dh =
	    run->cfg.method == EDHOC_METHOD_STAT_SIG || run->cfg.method == EDHOC_METHOD_STAT_STAT;

	run->cfg.n_suites = 0;
	for (size_t i = 0; i < sizeof(default_order) / sizeof(default_order[0]); i++) {
		const crypto_suite *s = crypto_suite_get(default_order[i]);

		if (s != NULL && cose_key_fits_suite(k, s, static_dh) &&
		    run->cfg.n_suites < EDHOC_MAX_SUITES)
			run->cfg.suites[run->cfg.n_suites++] = s->id;
	}
}

static int show_ead(void *ctx, int message_no, const edhoc_ead_item *item)
{
	client_run *run = ctx;

	if (run->o->verbose) {
		fprintf(stderr, "edhoc-client: EAD_%d item label %lld", message_no,
		        (long long)item->label);
		if (item->value != NULL) {
			char hex[2 * 64 + 1];
			size_t n = item->value_len < 64 ? item->value_len : 64;

			client_hex_encode(item->value, n, hex);
			fprintf(stderr, " value %s%s", hex, n < item->value_len ? "..." : "");
		}
		fputc('\n', stderr);
	}
	return 1; /* not recognised: the core fails critical items */
}

static int set_ead(client_run *run, int message_no, const client_ead_opt *opts, size_t n)
{
	edhoc_ead_item items[CLIENT_MAX_EAD];

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		items[i].label = opts[i].label;
		items[i].value = opts[i].has_value ? opts[i].value : NULL;
		items[i].value_len = opts[i].value_len;
	}
	return edhoc_handshake_set_ead(run->hs, message_no, items, n);
}

static void random_c_i(edhoc_cid *c)
{
	uint8_t b = 0;

	/* A one-byte C_I that travels as a CBOR int (0x00-0x17): the most
	 * compact choice, as RFC 9528 §3.3.2 recommends. */
	(void)crypto_rng_default(NULL, &b, 1);
	c->bytes[0] = (uint8_t)(b % 0x18);
	c->len = 1;
}

static void show_value(client_run *run, const char *name, int which)
{
	const uint8_t *v;
	size_t len;

	if (edhoc_handshake_value(run->hs, which, &v, &len) == 0)
		client_show_bytes(name, v, len, false);
}

static int exit_for_transport(int r, const char *step)
{
	fprintf(stderr, "edhoc-client: %s: %s\n", step,
	        r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
	return CLIENT_EXIT_NETWORK;
}

static void request_well_known(client_req_option *opts, size_t *n, const char *path)
{
	/* The URI's path is ignored for EDHOC: the resource is fixed. */
	(void)path;
	opts[(*n)++] =
	    (client_req_option){11, (const uint8_t *)WELL_KNOWN_SEG1, sizeof(WELL_KNOWN_SEG1) - 1};
	opts[(*n)++] =
	    (client_req_option){11, (const uint8_t *)WELL_KNOWN_SEG2, sizeof(WELL_KNOWN_SEG2) - 1};
}

static int send_message_1(client_run *run, const edhoc_cid *c_i, const client_option *echo,
                          client_response *resp)
{
	uint8_t msg[CLIENT_MSG_BUF + 1];
	uint8_t cf[4];
	client_req_option opts[5];
	size_t n_opts = 0, len = 0;
	client_request req;
	int r;

	msg[0] = 0xf5; /* CBOR true: "this is message_1" (App. A.2) */
	r = edhoc_initiator_write_message_1(run->hs, c_i, msg + 1, sizeof(msg) - 1, &len);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: writing message_1: %s (%s)\n",
		        edhoc_result_describe(r), edhoc_result_name(r));
		return CLIENT_EXIT_EDHOC;
	}
	if (run->o->verbose)
		client_show_bytes("message_1", msg + 1, len, true);
	request_well_known(opts, &n_opts, run->path);
	opts[n_opts++] = (client_req_option){CLIENT_OPT_CONTENT_FORMAT, cf,
	                                     oscore_uint_encode(CF_CID_EDHOC_CBOR_SEQ, cf)};
	if (echo != NULL)
		opts[n_opts++] = (client_req_option){CLIENT_OPT_ECHO, echo->value, echo->len};
	memset(&req, 0, sizeof(req));
	req.code = CLIENT_CODE(0, 2);
	req.options = opts;
	req.n_options = n_opts;
	req.payload = msg;
	req.payload_len = len + 1;
	req.send_twice = (run->o->retransmit & CLIENT_RTX_MESSAGE_1) != 0;
	r = client_transport_request(run->t, &req, resp);
	if (r < 0)
		return exit_for_transport(r, "message_1");
	/* Identical answers mean the same message_2: one ephemeral key, one
	 * half-open handshake on the gateway. */
	if (req.send_twice)
		client_check_retransmission(run, resp, "message_1");
	return CLIENT_EXIT_OK;
}

/* A busy gateway (5.03, its half-open table full) says in Max-Age when a
 * new attempt can succeed. */
static void show_max_age(const client_response *resp)
{
	const client_option *ma = client_response_option(resp, CLIENT_OPT_MAX_AGE);
	uint32_t secs = 0;

	if (resp->code != CLIENT_CODE(5, 3) || ma == NULL ||
	    oscore_uint_decode(ma->value, ma->len, &secs) != 0)
		return;
	fprintf(stderr, "edhoc-client: the gateway is busy; retry in %u s (Max-Age)\n",
	        (unsigned)secs);
}

/* message_1 -> message_2, with suite negotiation and an Echo round trip. */
static int exchange_1_2(client_run *run, const edhoc_cid *c_i, client_response *resp)
{
	const client_option *echo = NULL;
	client_option echo_copy;
	char cbuf[8];
	int r;

	for (int attempt = 0; attempt < MAX_MESSAGE_1_ATTEMPTS; attempt++) {
		r = send_message_1(run, c_i, echo, resp);
		if (r != CLIENT_EXIT_OK)
			return r;
		echo = NULL;
		if (run->o->verbose)
			fprintf(stderr, "edhoc-client: message_1 answered %s\n",
			        client_code_str(resp->code, cbuf));
		if (resp->code == CLIENT_CODE(4, 1) &&
		    client_response_option(resp, CLIENT_OPT_ECHO) != NULL) {
			/* The gateway wants proof that we see its answers
			 * before it keeps half-open state for us. */
			echo_copy = *client_response_option(resp, CLIENT_OPT_ECHO);
			echo = &echo_copy;
			if (run->o->verbose)
				fprintf(stderr,
				        "edhoc-client: Echo challenge, repeating message_1\n");
			continue;
		}
		if (CLIENT_CODE_CLASS(resp->code) != 2) {
			if (!client_show_edhoc_error("message_1", resp->code, resp->payload,
			                             resp->payload_len)) {
				fprintf(stderr, "edhoc-client: message_1 answered %s",
				        client_code_str(resp->code, cbuf));
				if (resp->payload_len > 0)
					fprintf(stderr, ": %.*s", (int)resp->payload_len,
					        (const char *)resp->payload);
				fputc('\n', stderr);
				show_max_age(resp);
				return CLIENT_EXIT_EDHOC;
			}
		} else if (run->o->verbose) {
			client_show_bytes("message_2", resp->payload, resp->payload_len, true);
		}
		r = edhoc_initiator_read_message_2(run->hs, resp->payload, resp->payload_len);
		if (r == EDHOC_E_SUITE_NOT_SUPPORTED) {
			if (run->o->verbose)
				fprintf(stderr,
				        "edhoc-client: retrying with a suite from SUITES_R\n");
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "edhoc-client: message_2: %s (%s, category %c)\n",
			        edhoc_result_describe(r), edhoc_result_name(r),
			        edhoc_result_category(r));
			return CLIENT_EXIT_EDHOC;
		}
		if (CLIENT_CODE_CLASS(resp->code) != 2)
			return CLIENT_EXIT_EDHOC; /* an error the core did not flag */
		return CLIENT_EXIT_OK;
	}
	fprintf(stderr, "edhoc-client: message_1: giving up after %d attempts\n",
	        MAX_MESSAGE_1_ATTEMPTS);
	return CLIENT_EXIT_EDHOC;
}

static int send_message_3(client_run *run, const uint8_t *payload, size_t len, bool twice,
                          client_response *resp, const char *step)
{
	client_req_option opts[3];
	size_t n_opts = 0;
	uint8_t cf[4];
	client_request req;
	int r;

	request_well_known(opts, &n_opts, run->path);
	opts[n_opts++] = (client_req_option){CLIENT_OPT_CONTENT_FORMAT, cf,
	                                     oscore_uint_encode(CF_CID_EDHOC_CBOR_SEQ, cf)};
	memset(&req, 0, sizeof(req));
	req.code = CLIENT_CODE(0, 2);
	req.options = opts;
	req.n_options = n_opts;
	req.payload = payload;
	req.payload_len = len;
	req.send_twice = twice;
	r = client_transport_request(run->t, &req, resp);
	if (r < 0)
		return exit_for_transport(r, step);
	return CLIENT_EXIT_OK;
}

void client_check_retransmission(client_run *run, const client_response *resp, const char *step)
{
	if (resp->received < 2) {
		fprintf(stderr,
		        "edhoc-client: retransmitted %s (MID %u): no answer to the "
		        "duplicate\n",
		        step, (unsigned)resp->mid);
		run->retransmit_failed = true;
	} else if (!resp->answers_identical) {
		fprintf(stderr,
		        "edhoc-client: retransmitted %s (MID %u): the two answers "
		        "differ\n",
		        step, (unsigned)resp->mid);
		run->retransmit_failed = true;
	} else {
		fprintf(stderr, "edhoc-client: retransmitted %s (MID %u): identical answers\n",
		        step, (unsigned)resp->mid);
	}
}

static void show_oscore_ids(client_run *run)
{
	edhoc_oscore p;
	char s[2 * EDHOC_MAX_CID + 1], rcp[2 * EDHOC_MAX_CID + 1];

	if (edhoc_oscore_params(run->hs, &p) < 0)
		return;
	client_hex_encode(p.sender_id, p.sender_id_len, s);
	client_hex_encode(p.recipient_id, p.recipient_id_len, rcp);
	fprintf(stderr,
	        "edhoc-client: OSCORE Sender ID h'%s', Recipient ID h'%s', AEAD %d, "
	        "HKDF %d\n",
	        s, rcp, p.aead_alg, p.hash_alg);
	crypto_cleanse(&p, sizeof(p));
}

int client_handshake(client_run *run)
{
	const client_opts *o = run->o;
	client_response *resp = NULL;
	uint8_t payload[CLIENT_MSG_BUF + EDHOC_MAX_CID + 2];
	size_t c_r_len = 0, m3_len = 0;
	edhoc_cid c_i;
	char cbuf[8];
	int r, ex;

	memset(&run->cfg, 0, sizeof(run->cfg));
	run->cfg.role = EDHOC_INITIATOR;
	run->cfg.method = o->method;
	run->cfg.own = credfile_edhoc(run->own);
	run->cfg.lookup = lookup_peer;
	run->cfg.lookup_ctx = run;
	run->cfg.ead = show_ead;
	run->cfg.ead_ctx = run;
	run->cfg.max_ead_items = EDHOC_MAX_EAD_ITEMS;
	if (o->n_suites > 0) {
		memcpy(run->cfg.suites, o->suites, o->n_suites * sizeof(o->suites[0]));
		run->cfg.n_suites = o->n_suites;
	} else {
		pick_default_suites(run);
		if (run->cfg.n_suites == 0) {
			fprintf(stderr,
			        "edhoc-client: no cipher suite fits the own key and "
			        "method %d\n",
			        o->method);
			return CLIENT_EXIT_USAGE;
		}
	}
	run->hs = edhoc_handshake_new(&run->cfg);
	resp = malloc(sizeof(*resp));
	if (run->hs == NULL || resp == NULL) {
		ex = CLIENT_EXIT_USAGE;
		fprintf(stderr, "edhoc-client: out of memory\n");
		goto out;
	}
	if (o->has_c_i)
		c_i = o->c_i;
	else
		random_c_i(&c_i);
	r = set_ead(run, 1, o->ead1, o->n_ead1);
	if (r == 0)
		r = set_ead(run, 3, o->ead3, o->n_ead3);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: --ead: %s\n", edhoc_result_describe(r));
		ex = CLIENT_EXIT_USAGE;
		goto out;
	}

	ex = exchange_1_2(run, &c_i, resp);
	if (ex != CLIENT_EXIT_OK)
		goto out;
	if (o->verbose) {
		fprintf(stderr, "edhoc-client: gateway identity '%s', method %d, suite %d\n",
		        edhoc_handshake_peer_identity(run->hs), edhoc_handshake_method(run->hs),
		        edhoc_handshake_suite(run->hs));
		show_value(run, "TH_2", EDHOC_V_TH_2);
	}

	/* message_3, prefixed with C_R as the gateway chose it. */
	r = edhoc_cid_encode(edhoc_handshake_c_r(run->hs), payload, sizeof(payload), &c_r_len);
	if (r == 0)
		r = edhoc_initiator_write_message_3(run->hs, payload + c_r_len,
		                                    sizeof(payload) - c_r_len, &m3_len);
	if (r < 0) {
		fprintf(stderr, "edhoc-client: writing message_3: %s (%s, category %c)\n",
		        edhoc_result_describe(r), edhoc_result_name(r), edhoc_result_category(r));
		ex = CLIENT_EXIT_EDHOC;
		goto out;
	}
	if (o->verbose) {
		show_value(run, "TH_3", EDHOC_V_TH_3);
		client_show_bytes("message_3", payload + c_r_len, m3_len, true);
		show_oscore_ids(run);
	}
	if (o->combined) {
		if (m3_len > sizeof(run->msg3)) {
			ex = CLIENT_EXIT_USAGE;
			goto out;
		}
		memcpy(run->msg3, payload + c_r_len, m3_len);
		run->msg3_len = m3_len;
		ex = CLIENT_EXIT_OK;
		goto out;
	}

	ex = send_message_3(run, payload, c_r_len + m3_len,
	                    (o->retransmit & CLIENT_RTX_MESSAGE_3) != 0, resp, "message_3");
	if (ex != CLIENT_EXIT_OK)
		goto out;
	if ((o->retransmit & CLIENT_RTX_MESSAGE_3) != 0)
		client_check_retransmission(run, resp, "message_3");
	if (o->verbose)
		fprintf(stderr, "edhoc-client: message_3 answered %s\n",
		        client_code_str(resp->code, cbuf));
	if (CLIENT_CODE_CLASS(resp->code) != 2) {
		if (!client_show_edhoc_error("message_3", resp->code, resp->payload,
		                             resp->payload_len))
			fprintf(stderr, "edhoc-client: message_3 answered %s\n",
			        client_code_str(resp->code, cbuf));
		ex = CLIENT_EXIT_EDHOC;
		goto out;
	}
	if (o->message_4 || resp->payload_len > 0) {
		if (o->verbose)
			client_show_bytes("message_4", resp->payload, resp->payload_len, true);
		if (resp->payload_len == 0) {
			fprintf(stderr, "edhoc-client: expected message_4, got an empty %s\n",
			        client_code_str(resp->code, cbuf));
			ex = CLIENT_EXIT_EDHOC;
			goto out;
		}
		r = edhoc_initiator_read_message_4(run->hs, resp->payload, resp->payload_len);
		if (r < 0) {
			fprintf(stderr, "edhoc-client: message_4: %s (%s, category %c)\n",
			        edhoc_result_describe(r), edhoc_result_name(r),
			        edhoc_result_category(r));
			ex = CLIENT_EXIT_EDHOC;
			goto out;
		}
		if (o->verbose) {
			show_value(run, "TH_4", EDHOC_V_TH_4);
			fprintf(stderr, "edhoc-client: message_4 verified\n");
		}
	}
	if (o->replay_message_3) {
		/* The same message_3 as a new request (new MID and token): a
		 * replay the gateway must not turn into a second session. */
		ex = send_message_3(run, payload, c_r_len + m3_len, false, resp,
		                    "replayed message_3");
		if (ex != CLIENT_EXIT_OK)
			goto out;
		fprintf(stderr, "edhoc-client: replayed message_3 answered %s\n",
		        client_code_str(resp->code, cbuf));
		client_show_edhoc_error("replayed message_3", resp->code, resp->payload,
		                        resp->payload_len);
	}
	ex = CLIENT_EXIT_OK;
out:
	crypto_cleanse(payload, sizeof(payload));
	free(resp);
	return ex;
}
