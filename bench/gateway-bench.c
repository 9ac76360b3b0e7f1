/* gateway-bench: the gateway end to end over loopback.
 *
 * Drives a running edhocd (and a plain CoAP backend) with a load generator
 * of its own (raw UDP sockets, the core's CoAP framing, the core's EDHOC
 * initiator and OSCORE client) and prints, from one run:
 *
 *  1. EDHOC handshakes/s through edhocd beside the in-process rate of the
 *     responder side of the same method and suite (same credentials, the
 *     core called directly), both in wall-clock time and in CPU time: the
 *     load generator's own crypto shares the machine's cores with the
 *     daemon, so the daemon's CPU seconds per handshake (utime + stime from
 *     /proc) say what the daemon costs, independent of who else runs.
 *  2. Memory: bytes of our own state per half-open handshake and per
 *     session from the daemon's sizes, and edhocd's RSS growth per session
 *     while many sessions are established through it.
 *  3. OSCORE requests/s through the gateway beside plain CoAP requests sent
 *     to the backend directly, and the per-request cost with all sessions
 *     established against the cost with 10.
 *
 * Measurements that are compared are interleaved in rounds, and medians of
 * the rounds are reported, so load from elsewhere on a shared machine hits
 * both sides of a ratio alike.  It is started by scripts/bench-gateway,
 * which makes credentials, configs and the processes; see
 * docs/benchmarks.md. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "edhoc/cred.h"
#include "edhoc/edhoc.h"
#include "edhoc/oscore.h"
#include "gateway/addr.h"
#include "gateway/sessions.h"
#include "gwb_net.h"
#include "gwb_proc.h"
#include "tools/credfile.h"

#define MAX_IDENTS   1024
#define MAX_ROUNDS   15
#define MAX_SEGS     8
#define CF_CID_EDHOC 65
#define CODE_CHANGED 0x44
#define CODE_CONTENT 0x45
#define GWB_E_STATUS (-9100) /* a response code we did not expect */

static const char WELL_KNOWN[] = ".well-known";
static const char EDHOC_SEG[] = "edhoc";
static const char WHOAMI_PATH[] = "/.well-known/edhocd/whoami";

/* ---- options ---- */

static struct {
	const char *creds;
	double window; /* seconds per measured window */
	unsigned rounds;
	unsigned inflight; /* handshakes and requests in flight */
	uint64_t sessions; /* total sessions to establish on gateway A */
	const char *oscore_path;
	const char *backend_path;
	bool message_4; /* the gateway sends message_4: in-process does too */
} opt = {.window = 3.0,
         .rounds = 3,
         .inflight = 32,
         .sessions = 100000,
         .oscore_path = NULL,
         .backend_path = "/time"};

/* ---- targets ---- */

typedef struct ident {
	credfile *f;
	edhoc_config cfg;
} ident;

typedef struct target {
	const char *name;
	bool set;
	struct sockaddr_in addr;
	pid_t pid;
	credfile *gw; /* the gateway's own credential (private part included) */
	int method, suite;
	ident ids[MAX_IDENTS];
	size_t n_ids;
	gwb_pool *pool;
} target;

static target gw_a = {.name = "A", .method = 3, .suite = 2};
static target gw_b = {.name = "B", .method = 0, .suite = 0};
static struct {
	bool set;
	struct sockaddr_in addr;
	pid_t pid;
	gwb_pool *pool;
} backend;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double s[MAX_ROUNDS];
	if (n == 0)
		return 0;
	memcpy(s, v, n * sizeof(v[0]));
	qsort(s, n, sizeof(s[0]), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* "PORT:PID" */
static int parse_port_pid(const char *arg, struct sockaddr_in *addr, pid_t *pid)
{
	char *end;
	long port = strtol(arg, &end, 10), p;
	if (*end != ':' || port <= 0 || port > 65535)
		return -1;
	p = strtol(end + 1, &end, 10);
	if (*end || p <= 0)
		return -1;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*pid = (pid_t)p;
	return 0;
}

static int lookup_gateway(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	const target *t = ctx;
	if (!cose_cred_matches(credfile_cred(t->gw), id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret_cred = *credfile_edhoc(t->gw);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads DIR/gw-NAME.cred and every *.cred in DIR/clients-NAME. */
static int load_target(target *t, const char *tag)
{
	char path[4096], err[256], *names[MAX_IDENTS];
	size_t n = 0;
	credfile_opts own = {.own = true};
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/gw-%s.cred", opt.creds, tag);
	if (credfile_load(path, &own, &t->gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "gateway-bench: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/clients-%s", opt.creds, tag);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "gateway-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && n < MAX_IDENTS) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".cred") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (size_t i = 0; i < n; i++) {
		ident *id = &t->ids[t->n_ids];
		snprintf(path, sizeof(path), "%s/clients-%s/%s", opt.creds, tag, names[i]);
		free(names[i]);
		if (rc != 0)
			continue;
		if (credfile_load(path, &own, &id->f, err, sizeof(err)) != 0) {
			fprintf(stderr, "gateway-bench: %s\n", err);
			rc = -1;
			continue;
		}
		id->cfg = (edhoc_config){.role = EDHOC_INITIATOR,
		                         .method = t->method,
		                         .suites = {t->suite},
		                         .n_suites = 1,
		                         .own = credfile_edhoc(id->f),
		                         .lookup = lookup_gateway,
		                         .lookup_ctx = t};
		t->n_ids++;
	}
	if (rc == 0 && t->n_ids == 0) {
		fprintf(stderr, "gateway-bench: no client credentials in %s/clients-%s\n",
		        opt.creds, tag);
		rc = -1;
	}
	return rc;
}

static void free_target(target *t)
{
	for (size_t i = 0; i < t->n_ids; i++)
		credfile_free(t->ids[i].f);
	credfile_free(t->gw);
	gwb_pool_free(t->pool);
}

static bool target_alive(const target *t)
{
	return gwb_proc_alive(t->pid);
}

/* ---- client-side sessions (OSCORE contexts of gateway A) ---- */

static oscore_ctx **sessions;
static size_t n_sessions, cap_sessions;

/* ---- a request's Uri-Path ---- */

typedef struct upath {
	char text[256];
	char buf[256];
	const char *seg[MAX_SEGS];
	size_t len[MAX_SEGS];
	size_t n;
} upath;

static int upath_parse(const char *path, upath *ret)
{
	char *p, *save = NULL;
	memset(ret, 0, sizeof(*ret));
	if (strlen(path) >= sizeof(ret->buf))
		return -1;
	strcpy(ret->buf, path);
	strcpy(ret->text, path);
	for (p = strtok_r(ret->buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (ret->n >= MAX_SEGS)
			return -1;
		ret->seg[ret->n] = p;
		ret->len[ret->n++] = strlen(p);
	}
	return 0;
}

static void upath_add(const upath *u, oscore_msg *m)
{
	for (size_t i = 0; i < u->n; i++)
		oscore_msg_add(m, OSCORE_OPT_URI_PATH, (const uint8_t *)u->seg[i], u->len[i]);
}

/* ---- job: one EDHOC handshake (message_1 .. message_4) ---- */

typedef struct hs_run {
	target *t;
	bool keep; /* keep the OSCORE context (sessions[]) */
	uint64_t next_ident;
	edhoc_handshake *h[GWB_MAX_SLOTS];
	int step[GWB_MAX_SLOTS];
	/* Handshakes in flight that will add to sessions[] (keep): counted
	 * against cap_sessions when they start, or the ones still in flight
	 * when the cap is reached would write past the array. */
	size_t pending;
	bool kept[GWB_MAX_SLOTS]; /* this slot's handshake counts in pending */
	bool fill;                /* keep: stop at the cap (establish) instead of keeping no more */
	bool saw_message_4;
	char first_err[200];
} hs_run;

static void hs_note(hs_run *r, const oscore_msg *m, const char *what, int rc)
{
	edhoc_error e;
	if (r->first_err[0])
		return;
	if (m && m->payload_len && edhoc_error_decode(m->payload, m->payload_len, &e) == 0)
		snprintf(r->first_err, sizeof(r->first_err), "%s: %d.%02d, EDHOC error %lld \"%s\"",
		         what, m->code >> 5, m->code & 31, (long long)e.err_code, e.text);
	else if (m)
		snprintf(r->first_err, sizeof(r->first_err), "%s: %d.%02d (%s)", what, m->code >> 5,
		         m->code & 31, rc ? edhoc_result_name(rc) : "unexpected code");
	else
		snprintf(r->first_err, sizeof(r->first_err), "%s: %s", what, edhoc_result_name(rc));
}

/* Frees the slot's handshake, once. */
static void hs_release(hs_run *r, size_t idx)
{
	if (!r->h[idx])
		return;
	edhoc_handshake_free(r->h[idx]);
	r->h[idx] = NULL;
	if (r->kept[idx])
		r->pending--;
	r->kept[idx] = false;
}

static int hs_start(void *arg, gwb_slot *s)
{
	hs_run *r = arg;
	ident *id = &r->t->ids[r->next_ident++ % r->t->n_ids];
	uint8_t payload[EDHOC_MAX_MESSAGE + 1], cf[4];
	edhoc_cid c_i = {.bytes = {(uint8_t)(s->idx % 24)}, .len = 1};
	oscore_msg m;
	size_t len;
	int rc;

	bool room = n_sessions + r->pending < cap_sessions;

	if (r->keep && r->fill && !room)
		return 1;
	hs_release(r, s->idx); /* a handshake left behind by an error return */
	r->h[s->idx] = edhoc_handshake_new(&id->cfg);
	if (!r->h[s->idx])
		return EDHOC_E_NOMEM;
	if (r->keep && room) {
		r->kept[s->idx] = true;
		r->pending++;
	}
	payload[0] = 0xf5; /* CBOR true: message_1 follows (RFC 9528 App. A.2) */
	rc = edhoc_initiator_write_message_1(r->h[s->idx], &c_i, payload + 1, sizeof(payload) - 1,
	                                     &len);
	if (rc == 0) {
		oscore_msg_init(&m, OSCORE_CODE_POST);
		oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)WELL_KNOWN,
		               sizeof(WELL_KNOWN) - 1);
		oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)EDHOC_SEG,
		               sizeof(EDHOC_SEG) - 1);
		oscore_msg_add(&m, OSCORE_OPT_CONTENT_FORMAT, cf,
		               oscore_uint_encode(CF_CID_EDHOC, cf));
		oscore_msg_set_payload(&m, payload, len + 1);
		rc = gwb_slot_request(s, &m);
	}
	if (rc != 0) {
		hs_release(r, s->idx);
		return rc;
	}
	r->step[s->idx] = 1;
	return 0;
}

static int hs_response(void *arg, gwb_slot *s, const oscore_coap_hdr *hdr, const oscore_msg *in)
{
	hs_run *r = arg;
	edhoc_handshake *h = r->h[s->idx];
	uint8_t payload[EDHOC_MAX_MESSAGE + EDHOC_MAX_CID + 2], cf[4];
	oscore_msg m;
	size_t used, len;
	int rc;

	(void)hdr;
	if (in->code != CODE_CHANGED) {
		hs_note(r, in, r->step[s->idx] == 1 ? "message_1" : "message_3", 0);
		return GWB_E_STATUS;
	}
	if (r->step[s->idx] == 1) {
		rc = edhoc_initiator_read_message_2(h, in->payload, in->payload_len);
		if (rc == 0)
			rc = edhoc_cid_encode(edhoc_handshake_c_r(h), payload, sizeof(payload),
			                      &used);
		if (rc == 0)
			rc = edhoc_initiator_write_message_3(h, payload + used,
			                                     sizeof(payload) - used, &len);
		if (rc != 0) {
			hs_note(r, NULL, "message_2/3 (initiator)", rc);
			return rc;
		}
		oscore_msg_init(&m, OSCORE_CODE_POST);
		oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)WELL_KNOWN,
		               sizeof(WELL_KNOWN) - 1);
		oscore_msg_add(&m, OSCORE_OPT_URI_PATH, (const uint8_t *)EDHOC_SEG,
		               sizeof(EDHOC_SEG) - 1);
		oscore_msg_add(&m, OSCORE_OPT_CONTENT_FORMAT, cf,
		               oscore_uint_encode(CF_CID_EDHOC, cf));
		oscore_msg_set_payload(&m, payload, used + len);
		rc = gwb_slot_request(s, &m);
		if (rc != 0)
			return rc;
		r->step[s->idx] = 2;
		return 1;
	}
	/* An empty 2.04 when the gateway sends no message_4 (its default). */
	rc = 0;
	if (in->payload_len) {
		rc = edhoc_initiator_read_message_4(h, in->payload, in->payload_len);
		r->saw_message_4 = true;
	}
	if (rc == 0 && r->kept[s->idx]) {
		edhoc_oscore op;
		oscore_ctx *c = NULL;
		rc = edhoc_oscore_params(h, &op);
		if (rc == 0)
			rc = oscore_ctx_from_edhoc(&op, NULL, &c);
		OPENSSL_cleanse(&op, sizeof(op));
		if (rc == 0 && n_sessions < cap_sessions)
			sessions[n_sessions++] = c;
		else
			oscore_ctx_free(c);
	}
	if (rc != 0)
		hs_note(r, NULL, "message_4 (initiator)", rc);
	hs_release(r, s->idx);
	return rc;
}

static void hs_abort(void *arg, gwb_slot *s, int why)
{
	hs_run *r = arg;
	if (!r->first_err[0] && (why == GWB_E_TIMEOUT || why == GWB_E_RESET))
		snprintf(r->first_err, sizeof(r->first_err), "step %d: %s", r->step[s->idx],
		         why == GWB_E_TIMEOUT ? "no answer (timeout)" : "reset");
	hs_release(r, s->idx);
}

static const gwb_ops hs_ops = {hs_start, hs_response, hs_abort};

/* ---- job: one OSCORE request through the gateway ---- */

enum pick { PICK_FIRST, PICK_RANDOM };

typedef struct os_run {
	const upath *path;
	int pick; /* PICK_FIRST: round robin over the first n_pick */
	size_t n_pick;
	size_t rr;
	uint64_t rng; /* xorshift64 state for PICK_RANDOM */
	size_t sess[GWB_MAX_SLOTS];
	oscore_request_info info[GWB_MAX_SLOTS];
	uint8_t last_code; /* inner code of the last answer */
	char first_err[160];
} os_run;

static uint8_t os_buf[2048];

static int os_start(void *arg, gwb_slot *s)
{
	os_run *r = arg;
	oscore_msg req, outer;
	size_t i;
	int rc;

	if (r->pick == PICK_RANDOM) {
		r->rng ^= r->rng << 13;
		r->rng ^= r->rng >> 7;
		r->rng ^= r->rng << 17;
		i = (size_t)(r->rng % r->n_pick);
	} else {
		i = r->rr++ % r->n_pick;
	}
	r->sess[s->idx] = i;
	oscore_msg_init(&req, OSCORE_CODE_GET);
	upath_add(r->path, &req);
	rc = oscore_protect_request(sessions[i], &req, os_buf, sizeof(os_buf), &outer,
	                            &r->info[s->idx]);
	if (rc == 0)
		rc = gwb_slot_request(s, &outer);
	return rc;
}

static int os_response(void *arg, gwb_slot *s, const oscore_coap_hdr *hdr, const oscore_msg *in)
{
	os_run *r = arg;
	oscore_msg inner;
	int rc;

	(void)hdr;
	rc = oscore_unprotect_response(sessions[r->sess[s->idx]], &r->info[s->idx], in, os_buf,
	                               sizeof(os_buf), &inner);
	if (rc != 0) {
		if (!r->first_err[0])
			snprintf(r->first_err, sizeof(r->first_err), "outer %d.%02d: %s",
			         in->code >> 5, in->code & 31, edhoc_result_name(rc));
		return rc;
	}
	r->last_code = inner.code;
	if (inner.code >> 5 != 2) {
		if (!r->first_err[0])
			snprintf(r->first_err, sizeof(r->first_err), "inner %d.%02d",
			         inner.code >> 5, inner.code & 31);
		return GWB_E_STATUS;
	}
	return 0;
}

static const gwb_ops os_ops = {os_start, os_response, NULL};

/* ---- job: one plain CoAP GET to the backend ---- */

typedef struct plain_run {
	const upath *path;
	char first_err[64];
} plain_run;

static int plain_start(void *arg, gwb_slot *s)
{
	plain_run *r = arg;
	oscore_msg req;
	oscore_msg_init(&req, OSCORE_CODE_GET);
	upath_add(r->path, &req);
	return gwb_slot_request(s, &req);
}

static int plain_response(void *arg, gwb_slot *s, const oscore_coap_hdr *hdr, const oscore_msg *in)
{
	plain_run *r = arg;
	(void)s;
	(void)hdr;
	if (in->code >> 5 != 2) {
		if (!r->first_err[0])
			snprintf(r->first_err, sizeof(r->first_err), "%d.%02d", in->code >> 5,
			         in->code & 31);
		return GWB_E_STATUS;
	}
	return 0;
}

static const gwb_ops plain_ops = {plain_start, plain_response, NULL};

/* ---- measuring a window ---- */

typedef struct window {
	gwb_run_result res;
	double server_cpu; /* seconds of the server process in the window */
	double server_sys; /* of which system time */
	double self_cpu;   /* seconds of this process */
	double rate;       /* successful jobs per wall second */
	double server_per; /* server CPU seconds per successful job */
	double server_sys_per;
	double backend_per; /* backend CPU seconds per job (OSCORE windows) */
	double self_per;
} window;

static int measure(gwb_pool *pool, pid_t server, const gwb_ops *ops, void *arg, double seconds,
                   uint64_t max_jobs, uint64_t max_failures, window *w)
{
	gwb_run_opts o = {.seconds = seconds,
	                  .max_jobs = max_jobs,
	                  .inflight = opt.inflight,
	                  .watch_pid = server,
	                  .rto = 2.0,
	                  .max_tries = 4,
	                  .max_failures = max_failures,
	                  .hard_limit = (seconds > 0 ? seconds : 600) + 40};
	double u0, k0, u1, k1, s0 = self_cpu();
	int rc;

	memset(w, 0, sizeof(*w));
	if (gwb_proc_cpu_split(server, &u0, &k0) != 0)
		return -ESRCH;
	rc = gwb_pool_run(pool, ops, arg, &o, &w->res);
	w->self_cpu = self_cpu() - s0;
	if (rc != 0)
		return rc;
	if (w->res.target_died || gwb_proc_cpu_split(server, &u1, &k1) != 0) {
		w->res.target_died = true;
		return -ESRCH;
	}
	w->server_cpu = (u1 - u0) + (k1 - k0);
	w->server_sys = k1 - k0;
	if (w->res.ok) {
		w->rate = w->res.wall > 0 ? (double)w->res.ok / w->res.wall : 0;
		w->server_per = w->server_cpu / (double)w->res.ok;
		w->server_sys_per = w->server_sys / (double)w->res.ok;
		w->self_per = w->self_cpu / (double)w->res.ok;
	}
	return 0;
}

/* ---- in-process: the same handshake with the core called directly ---- */

typedef struct inproc {
	uint64_t n;
	double resp_cpu;  /* responder CPU seconds per handshake */
	double resp_wall; /* responder wall seconds per handshake */
	double both_wall; /* initiator + responder, wall */
} inproc;

static const cose_cred *inproc_peer;

static int lookup_initiator(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	(void)ctx;
	if (!cose_cred_matches(inproc_peer, id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret_cred = *cose_cred_edhoc(inproc_peer);
	return 0;
}

/* Times the responder's calls (object creation and free included) in
 * thread CPU time and in wall time. */
#define TIMED(acc_cpu, acc_wall, call)                 \
	do {                                           \
		double c_ = cpu_now(), w_ = gwb_now(); \
		call;                                  \
		acc_wall += gwb_now() - w_;            \
		acc_cpu += cpu_now() - c_;             \
	} while (0)

static int inproc_run(target *t, double seconds, inproc *ret)
{
	const ident *id = &t->ids[0];
	edhoc_config rcfg = {.role = EDHOC_RESPONDER,
	                     .methods = 1u << t->method,
	                     .suites = {t->suite},
	                     .n_suites = 1,
	                     .own = credfile_edhoc(t->gw),
	                     .lookup = lookup_initiator};
	edhoc_cid c_i = {.bytes = {0x0e}, .len = 1}, c_r = {.bytes = {0x18}, .len = 1};
	uint8_t m1[EDHOC_MAX_MESSAGE], m2[EDHOC_MAX_MESSAGE], m3[EDHOC_MAX_MESSAGE], m4[256];
	size_t l1, l2, l3, l4;
	double rc_cpu = 0, rc_wall = 0, t0 = gwb_now(), t_end = t0 + seconds;
	uint64_t n = 0;
	int rc = 0;

	inproc_peer = credfile_cred(id->f);
	/* Bounded by time and by count. */
	while (rc == 0 && n < 10000000 && (gwb_now() < t_end || n < 3)) {
		edhoc_handshake *hi = edhoc_handshake_new(&id->cfg), *hr = NULL;
		TIMED(rc_cpu, rc_wall, hr = edhoc_handshake_new(&rcfg));
		if (!hi || !hr)
			rc = EDHOC_E_NOMEM;
		if (rc == 0)
			rc = edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1);
		if (rc == 0)
			TIMED(rc_cpu, rc_wall, rc = edhoc_responder_read_message_1(hr, m1, l1));
		if (rc == 0)
			TIMED(rc_cpu, rc_wall,
			      rc = edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2));
		if (rc == 0)
			rc = edhoc_initiator_read_message_2(hi, m2, l2);
		if (rc == 0)
			rc = edhoc_initiator_write_message_3(hi, m3, sizeof(m3), &l3);
		if (rc == 0)
			TIMED(rc_cpu, rc_wall, rc = edhoc_responder_read_message_3(hr, m3, l3));
		/* message_4 (when the gateway is configured to send it) and
		 * the OSCORE context belong to the responder's work. */
		if (rc == 0 && opt.message_4)
			TIMED(rc_cpu, rc_wall,
			      rc = edhoc_responder_write_message_4(hr, m4, sizeof(m4), &l4));
		if (rc == 0) {
			edhoc_oscore op;
			oscore_ctx *c = NULL;
			TIMED(rc_cpu, rc_wall, {
				rc = edhoc_oscore_params(hr, &op);
				if (rc == 0)
					rc = oscore_ctx_from_edhoc(&op, NULL, &c);
				OPENSSL_cleanse(&op, sizeof(op));
				oscore_ctx_free(c);
			});
		}
		if (rc == 0 && opt.message_4)
			rc = edhoc_initiator_read_message_4(hi, m4, l4);
		edhoc_handshake_free(hi);
		TIMED(rc_cpu, rc_wall, edhoc_handshake_free(hr));
		n++;
	}
	if (rc != 0) {
		fprintf(stderr, "gateway-bench: in-process handshake failed: %s\n",
		        edhoc_result_name(rc));
		return rc;
	}
	ret->n = n;
	ret->resp_cpu = rc_cpu / (double)n;
	ret->resp_wall = rc_wall / (double)n;
	ret->both_wall = (gwb_now() - t0) / (double)n;
	return 0;
}

/* ---- part 1: handshakes ---- */

typedef struct hs_summary {
	bool done;
	double in_cpu_us, in_wall_us, in_both_us;
	double gw_rate, gw_cpu_us, gw_sys_us, self_us;
	double ratio_cpu, ratio_wall;
	uint64_t ok, failed;
} hs_summary;

static int part_handshakes(target *t, bool keep, hs_summary *sum)
{
	double in_cpu[MAX_ROUNDS], in_wall[MAX_ROUNDS], in_both[MAX_ROUNDS];
	double rate[MAX_ROUNDS], gcpu[MAX_ROUNDS], gsys[MAX_ROUNDS], self[MAX_ROUNDS];
	double rcpu[MAX_ROUNDS], rwall[MAX_ROUNDS];
	unsigned n = 0;

	printf("\n[1] EDHOC method %d, suite %d: gateway %s (pid %ld), %u in flight, "
	       "%zu client identities\n",
	       t->method, t->suite, t->name, (long)t->pid, opt.inflight, t->n_ids);
	printf("    round | in-process responder   | through edhocd                                "
	       "| ratios\n");
	printf(
	    "          |  CPU us/hs  wall us/hs |   hs/s  edhocd CPU us/hs (sys)  generator us/hs "
	    "|  CPU   wall\n");
	for (unsigned k = 0; k < opt.rounds; k++) {
		inproc ip;
		window w;
		hs_run *r = calloc(1, sizeof(*r));
		int rc;

		if (!r)
			return -ENOMEM;
		rc = inproc_run(t, opt.window / 3, &ip);
		if (rc == 0) {
			r->t = t;
			r->keep = keep;
			r->next_ident = (uint64_t)k * 7919u;
			rc = measure(t->pool, t->pid, &hs_ops, r, opt.window, 0, 100, &w);
		}
		if (rc != 0 || w.res.ok == 0) {
			printf("    %5u | failed: %s%s%s\n", k + 1,
			       rc == -ESRCH ? "edhocd died"
			       : rc         ? edhoc_result_name(rc)
			                    : "no handshake",
			       r->first_err[0] ? "; first error: " : "", r->first_err);
			free(r);
			return -1;
		}
		in_cpu[n] = ip.resp_cpu * 1e6;
		in_wall[n] = ip.resp_wall * 1e6;
		in_both[n] = ip.both_wall * 1e6;
		rate[n] = w.rate;
		gcpu[n] = w.server_per * 1e6;
		gsys[n] = w.server_sys_per * 1e6;
		self[n] = w.self_per * 1e6;
		/* CPU: handshakes per edhocd CPU second / per responder CPU
		 * second in-process.  Wall: through-edhocd rate / in-process
		 * responder rate. */
		rcpu[n] = in_cpu[n] / gcpu[n];
		rwall[n] = rate[n] * ip.resp_wall;
		printf("    %5u | %10.1f %11.1f | %6.0f %16.1f %6.1f %16.1f | %5.3f %5.3f%s\n",
		       k + 1, in_cpu[n], in_wall[n], rate[n], gcpu[n], gsys[n], self[n], rcpu[n],
		       rwall[n], w.res.failed ? "  (failures)" : "");
		if (w.res.failed)
			printf("          | %llu failed, %llu retransmissions; first: %s\n",
			       (unsigned long long)w.res.failed,
			       (unsigned long long)w.res.retransmits, r->first_err);
		if (r->saw_message_4 != opt.message_4)
			printf(
			    "          | note: the gateway %s message_4 but the in-process side %s "
			    "(--message-4)\n",
			    r->saw_message_4 ? "sends" : "does not send",
			    opt.message_4 ? "does" : "does not");
		sum->ok += w.res.ok;
		sum->failed += w.res.failed;
		n++;
		free(r);
	}
	sum->done = true;
	sum->in_cpu_us = median(in_cpu, n);
	sum->in_wall_us = median(in_wall, n);
	sum->in_both_us = median(in_both, n);
	sum->gw_rate = median(rate, n);
	sum->gw_cpu_us = median(gcpu, n);
	sum->gw_sys_us = median(gsys, n);
	sum->self_us = median(self, n);
	sum->ratio_cpu = median(rcpu, n);
	sum->ratio_wall = median(rwall, n);
	printf("   median | %10.1f %11.1f | %6.0f %16.1f %6.1f %16.1f | %5.3f %5.3f\n",
	       sum->in_cpu_us, sum->in_wall_us, sum->gw_rate, sum->gw_cpu_us, sum->gw_sys_us,
	       sum->self_us, sum->ratio_cpu, sum->ratio_wall);
	printf("          | CPU ratio = in-process responder CPU/hs / edhocd CPU/hs (the target's "
	       "metric);\n"
	       "          | wall ratio = hs/s through edhocd / in-process responder hs/s (wall)\n");
	return 0;
}

/* ---- part 3: OSCORE through the gateway vs plain CoAP to the backend ---- */

typedef struct os_summary {
	bool done;
	double os_rate, os_cpu_us, os_backend_us;
	double plain_rate, plain_cpu_us;
	double ratio_wall, ratio_cpu;
} os_summary;

static int os_window(const upath *path, int pick, size_t n_pick, uint64_t seed, window *w,
                     char *err, size_t err_size)
{
	os_run *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->path = path;
	r->pick = pick;
	r->n_pick = n_pick;
	r->rng = seed | 1;
	/* With forwarding the backend works for each request too. */
	double b0 = 0, b1 = 0;
	bool have_b = backend.set && gwb_proc_cpu(backend.pid, &b0) == 0;
	rc = measure(gw_a.pool, gw_a.pid, &os_ops, r, opt.window, 0, 100, w);
	if (rc == 0 && have_b && w->res.ok && gwb_proc_cpu(backend.pid, &b1) == 0)
		w->backend_per = (b1 - b0) / (double)w->res.ok;
	if (err)
		snprintf(err, err_size, "%s", r->first_err);
	free(r);
	return rc;
}

static int part_oscore_plain(const upath *op, const upath *bp, os_summary *sum)
{
	double orate[MAX_ROUNDS], ocpu[MAX_ROUNDS], obk[MAX_ROUNDS], prate[MAX_ROUNDS];
	double pcpu[MAX_ROUNDS], rw[MAX_ROUNDS], rc_[MAX_ROUNDS];
	unsigned n = 0;
	char err[160];

	printf("\n[3] OSCORE GET %s through gateway A (10 sessions) vs plain CoAP GET %s to "
	       "the backend (pid %ld), %u in flight\n",
	       op->text, bp->text, (long)backend.pid, opt.inflight);
	printf("    round | OSCORE req/s  CPU us/req: edhocd + backend | plain req/s  backend "
	       "CPU us/req | ratios: wall  CPU\n");
	for (unsigned k = 0; k < opt.rounds; k++) {
		window wo, wp;
		plain_run pr = {.path = bp};
		int rc = os_window(op, PICK_FIRST, 10, 0, &wo, err, sizeof(err));
		if (rc != 0 || wo.res.ok == 0) {
			printf("    %5u | OSCORE failed: %s %s\n", k + 1,
			       rc == -ESRCH ? "edhocd died" : "no answers", err);
			return -1;
		}
		rc = measure(backend.pool, backend.pid, &plain_ops, &pr, opt.window, 0, 100, &wp);
		if (rc != 0 || wp.res.ok == 0) {
			printf("    %5u | plain CoAP failed: %s %s\n", k + 1,
			       rc == -ESRCH ? "backend died" : "no answers", pr.first_err);
			return -1;
		}
		orate[n] = wo.rate;
		ocpu[n] = wo.server_per * 1e6;
		obk[n] = wo.backend_per * 1e6;
		prate[n] = wp.rate;
		pcpu[n] = wp.server_per * 1e6;
		rw[n] = orate[n] / prate[n];
		/* Requests per CPU second of everything serving them. */
		rc_[n] = pcpu[n] / (ocpu[n] + obk[n]);
		printf("    %5u | %12.0f %19.1f %9.1f | %11.0f %18.1f | %12.3f %5.3f%s\n", k + 1,
		       orate[n], ocpu[n], obk[n], prate[n], pcpu[n], rw[n], rc_[n],
		       wo.res.failed || wp.res.failed ? "  (failures)" : "");
		if (wo.res.failed)
			printf("          | OSCORE: %llu failed; first: %s\n",
			       (unsigned long long)wo.res.failed, err);
		n++;
	}
	sum->done = true;
	sum->os_rate = median(orate, n);
	sum->os_cpu_us = median(ocpu, n);
	sum->os_backend_us = median(obk, n);
	sum->plain_rate = median(prate, n);
	sum->plain_cpu_us = median(pcpu, n);
	sum->ratio_wall = median(rw, n);
	sum->ratio_cpu = median(rc_, n);
	printf("   median | %12.0f %19.1f %9.1f | %11.0f %18.1f | %12.3f %5.3f\n", sum->os_rate,
	       sum->os_cpu_us, sum->os_backend_us, sum->plain_rate, sum->plain_cpu_us,
	       sum->ratio_wall, sum->ratio_cpu);
	return 0;
}

/* ---- part 2: memory ---- */

/* glibc malloc chunk for a request of n bytes on 64-bit: n + 8 bytes of
 * header rounded up to 16, at least 32. */
static size_t chunk(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

/* Private structs of src/gateway, mirrored here to size them (the gateway
 * keeps them out of its headers).  Keep in step with halfopen.c's struct
 * entry and gateway.c's struct lease_ref. */
struct mirror_halfopen_entry {
	edhoc_cid c_r;
	void *hs, *ref;
	gw_addr peer;
	uint64_t created_ms;
	void *hnext, *prev, *next;
};
struct mirror_lease_ref {
	void *g;
	uint8_t rid[EDHOC_MAX_CID];
	size_t rid_len;
};

typedef struct mem_summary {
	size_t half_open_bytes, session_bytes;
	long rss_10_kib, rss_end_kib;
	uint64_t sessions_10, sessions_end;
	double growth_per_session; /* bytes */
	double slope_per_session;  /* bytes, between the bulk checkpoints */
	double bulk_seconds;
	double bulk_rate;
	char stop_reason[320];
} mem_summary;

static void print_sizes(mem_summary *m)
{
	size_t hs = edhoc_handshake_size(), oc = oscore_ctx_size();
	size_t he = sizeof(struct mirror_halfopen_entry), se = sizeof(gw_session);
	size_t lr = sizeof(struct mirror_lease_ref);

	/* A half-open handshake: the handshake object and its table entry,
	 * one bucket pointer share, one bit of the C_R bitmap. */
	m->half_open_bytes = chunk(hs) + chunk(he);
	/* A session: table entry, OSCORE context, lease-callback argument
	 * (state_dir set), a bucket pointer in the session hash. */
	m->session_bytes = chunk(se) + chunk(oc) + chunk(lr) + sizeof(void *);
	printf("\n[2] memory: our own state (sizes from the code, x86-64, glibc malloc chunks)\n");
	printf("    edhoc_handshake_size()  %5zu B  (chunk %zu)\n", hs, chunk(hs));
	printf("    half-open table entry   %5zu B  (chunk %zu)\n", he, chunk(he));
	printf("    oscore_ctx_size()       %5zu B  (chunk %zu)\n", oc, chunk(oc));
	printf("    gw_session              %5zu B  (chunk %zu)\n", se, chunk(se));
	printf("    lease callback argument %5zu B  (chunk %zu)\n", lr, chunk(lr));
	printf("    => per half-open handshake %zu B, per established session %zu B "
	       "(+ hash buckets sized by the limits at start)\n",
	       m->half_open_bytes, m->session_bytes);
}

static int establish(target *t, uint64_t count, uint64_t max_failures, window *w, char *err,
                     size_t err_size)
{
	hs_run *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->t = t;
	r->keep = true;
	r->fill = true;
	r->next_ident = n_sessions;
	rc = measure(t->pool, t->pid, &hs_ops, r, 0, count, max_failures, w);
	snprintf(err, err_size, "%s", r->first_err);
	free(r);
	return rc;
}

static int part_bulk(mem_summary *m)
{
	const uint64_t step = 10000;
	double t0 = gwb_now();
	uint64_t start_n = n_sessions, mark_n = 0;
	long mark_rss = 0, rss = 0;
	char err[200] = "";

	printf("\n[2] establishing sessions on gateway A up to %llu (%u in flight)\n",
	       (unsigned long long)opt.sessions, opt.inflight);
	printf("    sessions |   hs/s  edhocd CPU us/hs (sys) | edhocd RSS MiB  elapsed s\n");
	/* Part [1] may have reached a small --sessions already. */
	gwb_proc_rss_kib(gw_a.pid, &rss);
	while (n_sessions < opt.sessions) {
		uint64_t want = opt.sessions - n_sessions;
		window w;
		int rc;
		if (want > step)
			want = step;
		rc = establish(&gw_a, want, 200, &w, err, sizeof(err));
		if (rc != 0 || gwb_proc_rss_kib(gw_a.pid, &rss) != 0) {
			snprintf(m->stop_reason, sizeof(m->stop_reason), "edhocd died");
			printf("    edhocd died\n");
			return -1;
		}
		printf("    %8zu | %6.0f %16.1f %6.1f | %14.1f %10.1f%s\n", n_sessions, w.rate,
		       w.server_per * 1e6, w.server_sys_per * 1e6, (double)rss / 1024.0,
		       gwb_now() - t0, w.res.failed ? "  (failures)" : "");
		fflush(stdout);
		/* The first checkpoint past the retransmission cache's and
		 * libcoap's fixed costs starts the marginal slope. */
		if (!mark_n && n_sessions - start_n >= step) {
			mark_n = n_sessions;
			mark_rss = rss;
		}
		if (w.res.failed) {
			snprintf(m->stop_reason, sizeof(m->stop_reason),
			         "%llu handshakes failed at %zu sessions; first: %s",
			         (unsigned long long)w.res.failed, n_sessions, err);
			printf("    stopped: %s\n", m->stop_reason);
			if (w.res.failed >= 200 || w.res.ok == 0)
				break;
		}
	}
	m->bulk_seconds = gwb_now() - t0;
	m->bulk_rate = (double)(n_sessions - start_n) / m->bulk_seconds;
	m->sessions_end = n_sessions;
	m->rss_end_kib = rss;
	if (m->sessions_end > m->sessions_10)
		m->growth_per_session = (double)(m->rss_end_kib - m->rss_10_kib) * 1024.0 /
		                        (double)(m->sessions_end - m->sessions_10);
	if (mark_n && n_sessions > mark_n)
		m->slope_per_session =
		    (double)(rss - mark_rss) * 1024.0 / (double)(n_sessions - mark_n);
	printf("    %zu sessions in %.1f s (%.0f handshakes/s, fsynced session store)\n",
	       n_sessions - start_n, m->bulk_seconds, m->bulk_rate);
	printf("    RSS %ld KiB at %llu sessions -> %ld KiB at %llu: %.0f B per session "
	       "(marginal %.0f B from %llu on)\n",
	       m->rss_10_kib, (unsigned long long)m->sessions_10, m->rss_end_kib,
	       (unsigned long long)m->sessions_end, m->growth_per_session, m->slope_per_session,
	       (unsigned long long)mark_n);
	return 0;
}

/* ---- part 3b: per-request cost with all sessions vs with 10 ---- */

typedef struct scale_summary {
	bool done;
	double all_rate, all_cpu_us, hot_rate, hot_cpu_us;
	double ratio_cpu, ratio_wall; /* all sessions / 10 sessions before */
	/* All sessions / the same 10 in the same rounds (interleaved, so a
	 * machine whose load drifts in the minutes between the first OSCORE
	 * part and this one hits both sides alike); median of the rounds. */
	double ratio_cpu_hot;
} scale_summary;

static int part_scale(const upath *op, const os_summary *before, scale_summary *sum)
{
	double arate[MAX_ROUNDS], acpu[MAX_ROUNDS], hrate[MAX_ROUNDS], hcpu[MAX_ROUNDS];
	double rhot[MAX_ROUNDS];
	unsigned n = 0;
	char err[160];

	printf("\n[3] OSCORE per-request cost with %zu sessions established\n", n_sessions);
	printf("    round | random session of all: req/s  edhocd CPU us/req | same 10 as "
	       "before: req/s  CPU us/req\n");
	for (unsigned k = 0; k < opt.rounds; k++) {
		window wa, wh;
		int rc = os_window(op, PICK_RANDOM, n_sessions, 0x9e3779b97f4a7c15ull * (k + 1),
		                   &wa, err, sizeof(err));
		if (rc == 0 && wa.res.ok)
			rc = os_window(op, PICK_FIRST, 10, 0, &wh, err, sizeof(err));
		if (rc != 0 || wa.res.ok == 0 || wh.res.ok == 0) {
			printf("    %5u | failed: %s %s\n", k + 1,
			       rc == -ESRCH ? "edhocd died" : "no answers", err);
			return -1;
		}
		arate[n] = wa.rate;
		acpu[n] = wa.server_per * 1e6;
		hrate[n] = wh.rate;
		hcpu[n] = wh.server_per * 1e6;
		rhot[n] = hcpu[n] > 0 ? acpu[n] / hcpu[n] : 0;
		printf("    %5u | %29.0f %18.1f | %25.0f %11.1f%s\n", k + 1, arate[n], acpu[n],
		       hrate[n], hcpu[n], wa.res.failed || wh.res.failed ? "  (failures)" : "");
		if (wa.res.failed)
			printf("          | %llu failed; first: %s\n",
			       (unsigned long long)wa.res.failed, err);
		n++;
	}
	sum->done = true;
	sum->all_rate = median(arate, n);
	sum->all_cpu_us = median(acpu, n);
	sum->hot_rate = median(hrate, n);
	sum->hot_cpu_us = median(hcpu, n);
	sum->ratio_cpu = sum->all_cpu_us / before->os_cpu_us;
	sum->ratio_wall = before->os_rate / sum->all_rate;
	sum->ratio_cpu_hot = median(rhot, n);
	printf("   median | %29.0f %18.1f | %25.0f %11.1f\n", sum->all_rate, sum->all_cpu_us,
	       sum->hot_rate, sum->hot_cpu_us);
	return 0;
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: gateway-bench --creds DIR --gw-a PORT:PID [--gw-b PORT:PID]\n"
	        "                     [--backend PORT:PID] [--sessions N] [--inflight N]\n"
	        "                     [--window SECONDS] [--rounds N] [--oscore-path PATH]\n"
	        "                     [--backend-path PATH] [--message-4]\n"
	        "Normally started by scripts/bench-gateway (see docs/benchmarks.md).\n"
	        "  gateway A: P-256 credential DIR/gw-s2.cred, clients DIR/clients-s2/*.cred,\n"
	        "             method 3 suite 2; OSCORE and memory parts run on it\n"
	        "  gateway B: Ed25519 credential DIR/gw-s0.cred, clients DIR/clients-s0/*.cred,\n"
	        "             method 0 suite 0\n");
}

static const char *verdict(bool ok)
{
	return ok ? "met" : "NOT met";
}

/* Sends one OSCORE request on session 0 to path; true when the inner
 * answer is 2.xx. */
static bool probe_path(const upath *path, char *err, size_t err_size)
{
	window w;
	os_run *r = calloc(1, sizeof(*r));
	bool ok;
	if (!r)
		return false;
	r->path = path;
	r->pick = PICK_FIRST;
	r->n_pick = 1;
	ok = measure(gw_a.pool, gw_a.pid, &os_ops, r, 0, 1, 1, &w) == 0 && w.res.ok == 1;
	snprintf(err, err_size, "%s", r->first_err);
	free(r);
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {{"creds", required_argument, NULL, 'c'},
	                                      {"gw-a", required_argument, NULL, 'a'},
	                                      {"gw-b", required_argument, NULL, 'b'},
	                                      {"backend", required_argument, NULL, 'k'},
	                                      {"sessions", required_argument, NULL, 'n'},
	                                      {"inflight", required_argument, NULL, 'i'},
	                                      {"window", required_argument, NULL, 'w'},
	                                      {"rounds", required_argument, NULL, 'r'},
	                                      {"oscore-path", required_argument, NULL, 'o'},
	                                      {"backend-path", required_argument, NULL, 'p'},
	                                      {"message-4", no_argument, NULL, '4'},
	                                      {"help", no_argument, NULL, 'h'},
	                                      {NULL, 0, NULL, 0}};
	hs_summary hs_a = {0}, hs_b = {0};
	os_summary os = {0};
	scale_summary sc = {0};
	mem_summary mem = {0};
	upath op, bp;
	char err[200];
	int c, status = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.creds = optarg;
			break;
		case 'a':
		case 'b':
		case 'k': {
			struct sockaddr_in *a = c == 'a'   ? &gw_a.addr
			                        : c == 'b' ? &gw_b.addr
			                                   : &backend.addr;
			pid_t *p = c == 'a' ? &gw_a.pid : c == 'b' ? &gw_b.pid : &backend.pid;
			if (parse_port_pid(optarg, a, p) != 0) {
				fprintf(stderr, "gateway-bench: expected PORT:PID, got %s\n",
				        optarg);
				return 2;
			}
			*(c == 'a' ? &gw_a.set : c == 'b' ? &gw_b.set : &backend.set) = true;
			break;
		}
		case 'n':
			opt.sessions = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			opt.inflight = (unsigned)atoi(optarg);
			break;
		case 'w':
			opt.window = atof(optarg);
			break;
		case 'r':
			opt.rounds = (unsigned)atoi(optarg);
			break;
		case 'o':
			opt.oscore_path = optarg;
			break;
		case 'p':
			opt.backend_path = optarg;
			break;
		case '4':
			opt.message_4 = true;
			break;
		default:
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!opt.creds || !gw_a.set || opt.inflight < 1 || opt.inflight > GWB_MAX_SLOTS ||
	    opt.window <= 0 || opt.window > 120 || opt.rounds < 1 || opt.rounds > MAX_ROUNDS ||
	    opt.sessions < 20 || opt.sessions > 10000000) {
		usage(stderr);
		return 2;
	}
	if (upath_parse(opt.oscore_path ? opt.oscore_path : WHOAMI_PATH, &op) != 0 ||
	    upath_parse(opt.backend_path, &bp) != 0) {
		fprintf(stderr, "gateway-bench: path too long or too many segments\n");
		return 2;
	}
	cap_sessions = opt.sessions;
	sessions = calloc(cap_sessions, sizeof(*sessions));
	if (!sessions || load_target(&gw_a, "s2") != 0 ||
	    (gw_b.set && load_target(&gw_b, "s0") != 0))
		goto out;
	if (gwb_pool_create(&gw_a.addr, opt.inflight, &gw_a.pool) != 0 ||
	    (gw_b.set && gwb_pool_create(&gw_b.addr, opt.inflight, &gw_b.pool) != 0) ||
	    (backend.set && gwb_pool_create(&backend.addr, opt.inflight, &backend.pool) != 0)) {
		fprintf(stderr, "gateway-bench: cannot open UDP sockets\n");
		goto out;
	}
	if (!target_alive(&gw_a) || (gw_b.set && !target_alive(&gw_b)) ||
	    (backend.set && !gwb_proc_alive(backend.pid))) {
		fprintf(stderr, "gateway-bench: a process under test is not running\n");
		goto out;
	}
	printf("gateway-bench: one run; %u rounds of %.1f s windows, %u requests in flight, "
	       "loopback UDP\n",
	       opt.rounds, opt.window, opt.inflight);

	/* The baseline: 10 sessions on a fresh gateway A. */
	{
		window w;
		long rss0 = 0;
		gwb_proc_rss_kib(gw_a.pid, &rss0);
		if (establish(&gw_a, 10, 1, &w, err, sizeof(err)) != 0 || n_sessions != 10) {
			fprintf(stderr,
			        "gateway-bench: first 10 handshakes with gateway A failed: %s\n",
			        err[0] ? err : "edhocd died");
			goto out;
		}
		gwb_proc_rss_kib(gw_a.pid, &mem.rss_10_kib);
		mem.sessions_10 = n_sessions;
		printf("gateway A RSS: %ld KiB at start, %ld KiB with 10 sessions\n", rss0,
		       mem.rss_10_kib);
	}
	if (opt.oscore_path && !probe_path(&op, err, sizeof(err))) {
		printf("note: OSCORE %s is not served through the gateway yet (%s); measuring the "
		       "built-in %s instead\n",
		       opt.oscore_path, err, WHOAMI_PATH);
		upath_parse(WHOAMI_PATH, &op);
	}
	if (!probe_path(&op, err, sizeof(err))) {
		fprintf(stderr, "gateway-bench: OSCORE request to %s failed: %s\n", op.text, err);
		goto out;
	}
	if (backend.set && part_oscore_plain(&op, &bp, &os) != 0)
		goto out;
	if (part_handshakes(&gw_a, true, &hs_a) != 0)
		goto out;
	if (gw_b.set && part_handshakes(&gw_b, false, &hs_b) != 0)
		goto out;
	print_sizes(&mem);
	if (part_bulk(&mem) != 0)
		goto out;
	if (backend.set && part_scale(&op, &os, &sc) != 0)
		goto out;

	printf("\nsummary (one run; medians of %u rounds; ratios measured in this run)\n",
	       opt.rounds);
	printf("  %-52s %10s %8s  %s\n", "metric", "value", "target", "");
	if (hs_a.done)
		printf("  %-52s %10.3f %8s  %s\n",
		       "handshakes m3/s2: edhocd CPU ratio (target metric)", hs_a.ratio_cpu,
		       ">= 0.80", verdict(hs_a.ratio_cpu >= 0.80));
	if (hs_a.done)
		printf("  %-52s %10.3f %8s\n", "handshakes m3/s2: wall-clock ratio",
		       hs_a.ratio_wall, "");
	if (hs_b.done)
		printf("  %-52s %10.3f %8s  %s\n",
		       "handshakes m0/s0: edhocd CPU ratio (target metric)", hs_b.ratio_cpu,
		       ">= 0.80", verdict(hs_b.ratio_cpu >= 0.80));
	if (hs_b.done)
		printf("  %-52s %10.3f %8s\n", "handshakes m0/s0: wall-clock ratio",
		       hs_b.ratio_wall, "");
	printf("  %-52s %10zu %8s\n", "bytes of own state per half-open handshake",
	       mem.half_open_bytes, "");
	printf("  %-52s %10zu %8s\n", "bytes of own state per session", mem.session_bytes, "");
	printf("  %-52s %10.0f %8s  %s (at %llu sessions%s)\n", "edhocd RSS growth per session, B",
	       mem.growth_per_session, "<= 2048", verdict(mem.growth_per_session <= 2048),
	       (unsigned long long)mem.sessions_end,
	       mem.sessions_end < opt.sessions ? ", fewer than asked" : "");
	if (os.done) {
		printf("  %-52s %10.3f %8s  %s\n",
		       "OSCORE via gateway / plain CoAP, wall-clock rate", os.ratio_wall, ">= 0.50",
		       verdict(os.ratio_wall >= 0.50));
		printf("  %-52s %10.3f %8s\n", "OSCORE via gateway / plain CoAP, per CPU second",
		       os.ratio_cpu, "");
	}
	if (sc.done) {
		printf("  %-52s %10.3f %8s  %s\n", "request cost, all sessions / 10 (edhocd CPU)",
		       sc.ratio_cpu, "<= 1.2", verdict(sc.ratio_cpu <= 1.2));
		printf("  %-52s %10.3f %8s\n", "request cost, all sessions / 10 (wall-clock)",
		       sc.ratio_wall, "");
		printf("  %-52s %10.3f %8s\n", "request cost, all / same 10, interleaved (CPU)",
		       sc.ratio_cpu_hot, "");
	}
	if (mem.stop_reason[0])
		printf("  note: session establishment stopped early: %s\n", mem.stop_reason);
	status = 0;
out:
	for (size_t i = 0; i < n_sessions; i++)
		oscore_ctx_free(sessions[i]);
	free(sessions);
	free_target(&gw_a);
	free_target(&gw_b);
	gwb_pool_free(backend.pool);
	return status;
}
