/* edhocd.conf + conf.d -> one validated, immutable, reference-counted
 * config object owning the trust store, ACL, routes and own credential. */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config/ini.h"
#include "edhoc/crypto.h"
#include "edhoc/result.h"
#include "tools/credfile.h"

#define CONFD_MAX_FILES 256
#define FILES_MAX       (CONFD_MAX_FILES + 1)

struct cfg {
	unsigned refs;
	char path[CFG_PATH_MAX];
	cfg_gateway g;
	cfg_limits l;
	cfg_oscore o;
	cfg_static *statics; /* sorted by recipient ID */
	size_t n_statics;
	trust_store *trust;
	acl *acl;
	routes *routes;
	credfile *own;
};

/* ---- key table ---- */

enum kind {
	K_LISTEN,
	K_PATH,
	K_METHODS,
	K_SUITES,
	K_TARGET,
	K_DISCLOSURE,
	K_BOOL,
	K_IDCRED, /* int EDHOC_ID_CRED_* */
	K_SIZE,   /* size_t */
	K_UINT,   /* unsigned */
	K_U64,    /* uint64_t */
};

struct keydef {
	const char *section;
	const char *key;
	int kind;
	size_t off; /* in struct cfg */
	uint64_t min, max;
};

#define G(f) offsetof(struct cfg, g.f)
#define L(f) offsetof(struct cfg, l.f)
#define O(f) offsetof(struct cfg, o.f)

static const struct keydef keys[] = {
    {"gateway", "listen", K_LISTEN, G(listen), 0, 0},
    {"gateway", "credential", K_PATH, G(credential), 0, 0},
    {"gateway", "certificate", K_PATH, G(certificate), 0, 0},
    {"gateway", "private_key", K_PATH, G(private_key), 0, 0},
    {"gateway", "id_cred", K_IDCRED, G(id_cred), 0, 0},
    {"gateway", "methods", K_METHODS, G(methods), 0, 0},
    {"gateway", "suites", K_SUITES, G(suites), 0, 0},
    {"gateway", "trust_dir", K_PATH, G(trust_dir), 0, 0},
    {"gateway", "acl", K_PATH, G(acl), 0, 0},
    {"gateway", "state_dir", K_PATH, G(state_dir), 0, 0},
    {"gateway", "control_socket", K_PATH, G(control_socket), 0, 0},
    {"gateway", "log_target", K_TARGET, G(log_target), 0, 0},
    {"gateway", "disclosure", K_DISCLOSURE, G(disclosure), 0, 0},
    {"gateway", "unknown_cred_error", K_BOOL, G(unknown_cred_error), 0, 0},
    {"gateway", "message_4", K_BOOL, G(message_4), 0, 0},
    {"limits", "half_open_max", K_SIZE, L(half_open_max), 1, 1000000},
    {"limits", "half_open_timeout_ms", K_UINT, L(half_open_timeout_ms), 100, 600000},
    {"limits", "half_open_per_address", K_SIZE, L(half_open_per_address), 0, 1000000},
    {"limits", "sessions_max", K_SIZE, L(sessions_max), 1, 10000000},
    {"limits", "sessions_per_identity", K_SIZE, L(sessions_per_identity), 1, 1000},
    {"limits", "retransmit_cache_max", K_SIZE, L(retransmit_cache_max), 0, 1000000},
    {"limits", "message_max", K_SIZE, L(message_max), 64, 65535},
    {"limits", "ead_items_max", K_SIZE, L(ead_items_max), 0, EDHOC_MAX_EAD_ITEMS},
    {"limits", "chain_length_max", K_SIZE, L(chain_length_max), 2, 8},
    {"limits", "pending_forwards_max", K_SIZE, L(pending_forwards_max), 1, 1000000},
    {"limits", "observations_per_device", K_SIZE, L(observations_per_device), 0, 64},
    {"limits", "payload_max", K_SIZE, L(payload_max), 16, 65535},
    {"oscore", "replay_window", K_UINT, O(replay_window), 1, 64},
    {"oscore", "seq_lease_block", K_U64, O(seq_lease_block), 1, 1000000},
    {"oscore", "session_lifetime_s", K_U64, O(session_lifetime_s), 0, 31536000},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* ---- [route NAME] and [static NAME] while parsing ---- */

enum { RK_PATH, RK_BACKEND, RK_TIMEOUT, RK_N };
static const char *const route_keys[RK_N] = {"path", "backend", "timeout_ms"};

enum { SK_IDENTITY, SK_SECRET, SK_SALT, SK_SENDER, SK_RECIPIENT, SK_IDCTX, SK_AEAD, SK_N };
static const char *const static_keys[SK_N] = {
    "identity", "master_secret", "master_salt", "sender_id", "recipient_id", "id_context", "aead"};

struct where {
	int file; /* index into load.files, -1: never set */
	unsigned line;
};

struct raw_route {
	char name[ROUTE_NAME_MAX];
	struct where at; /* first [route NAME] header */
	char path[ROUTE_PATH_MAX];
	char backend[ROUTE_URI_MAX];
	unsigned timeout_ms;
	struct where set[RK_N];
};

struct raw_static {
	cfg_static s;
	struct where at;
	struct where set[SK_N];
};

struct load {
	cfg *c;
	cfg_errors *errs;
	bool failed;
	char files[FILES_MAX][CFG_PATH_MAX];
	size_t n_files;
	int cur_file;
	/* current section */
	enum { SEC_NONE, SEC_GATEWAY, SEC_LIMITS, SEC_OSCORE, SEC_ROUTE, SEC_STATIC, SEC_BAD } sec;
	struct raw_route *cur_route;
	struct raw_static *cur_static;
	int last_key; /* index into keys of the last key, -1 none */
	struct where set[N_KEYS];
	struct raw_route *routes;
	size_t n_routes, cap_routes;
	struct raw_static *statics;
	size_t n_statics, cap_statics;
};

static const char *cur_name(const struct load *ld)
{
	return ld->files[ld->cur_file];
}

static void err_at(struct load *ld, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_at(struct load *ld, unsigned line, const char *fmt, ...)
{
	char msg[CFG_ERROR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_errors_add(ld->errs, cur_name(ld), line, "%s", msg);
	ld->failed = true;
}

static void err_where(struct load *ld, struct where w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_where(struct load *ld, struct where w, const char *fmt, ...)
{
	char msg[CFG_ERROR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_errors_add(ld->errs, w.file >= 0 ? ld->files[w.file] : ld->files[0],
	               w.file >= 0 ? w.line : 0, "%s", msg);
	ld->failed = true;
}

/* ---- value parsers ---- */

static int parse_u64(const char *v, uint64_t *ret)
{
	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		return -1;
	*ret = x;
	return 0;
}

static int parse_hex(const char *v, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(v);
	if (n % 2)
		return -1;
	if (n / 2 > cap)
		return -2;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = isxdigit((unsigned char)v[2 * i]) ? v[2 * i] : -1;
		int lo = isxdigit((unsigned char)v[2 * i + 1]) ? v[2 * i + 1] : -1;
		if (hi < 0 || lo < 0)
			return -1;
		hi = isdigit(hi) ? hi - '0' : tolower(hi) - 'a' + 10;
		lo = isdigit(lo) ? lo - '0' : tolower(lo) - 'a' + 10;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = n / 2;
	return 0;
}

static bool valid_identity(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= EDHOC_MAX_IDENTITY)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == ',' || ch == ';' || ch == '@' || ch == '*')
			return false;
	}
	return true;
}

/* "addr:port", "[v6]:port", "addr" or "[v6]" (port 5683). */
static const char *parse_listen(const char *item, cfg_listen *ret)
{
	char host[INET6_ADDRSTRLEN];
	const char *port_s = NULL;
	memset(ret, 0, sizeof(*ret));
	if (item[0] == '[') {
		const char *close = strchr(item, ']');
		if (!close || (size_t)(close - item - 1) >= sizeof(host))
			return "IPv6 address must be written [addr]:port";
		memcpy(host, item + 1, (size_t)(close - item - 1));
		host[close - item - 1] = '\0';
		if (close[1] == ':')
			port_s = close + 2;
		else if (close[1] != '\0')
			return "expected ':' after ']'";
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ret->addr;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return "not an IPv6 address";
		in6->sin6_family = AF_INET6;
		ret->addr_len = sizeof(*in6);
	} else {
		const char *colon = strchr(item, ':');
		size_t hl = colon ? (size_t)(colon - item) : strlen(item);
		if (hl >= sizeof(host))
			return "not an IPv4 address (write IPv6 as [addr]:port)";
		memcpy(host, item, hl);
		host[hl] = '\0';
		if (colon)
			port_s = colon + 1;
		struct sockaddr_in *in = (struct sockaddr_in *)&ret->addr;
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return "not an IPv4 address (write IPv6 as [addr]:port)";
		in->sin_family = AF_INET;
		ret->addr_len = sizeof(*in);
	}
	uint64_t port = CFG_DEFAULT_PORT;
	if (port_s && (parse_u64(port_s, &port) != 0 || port == 0 || port > 65535))
		return "port must be 1..65535";
	if (ret->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&ret->addr)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ret->addr)->sin6_port = htons((uint16_t)port);
	diag_format_addr((struct sockaddr *)&ret->addr, ret->addr_len, ret->text,
	                 sizeof(ret->text));
	return NULL;
}

struct list_ctx {
	struct load *ld;
	unsigned line;
	const char *key;
};

static int listen_item(void *user, const char *item, bool too_long)
{
	struct list_ctx *lc = user;
	cfg_gateway *g = &lc->ld->c->g;
	cfg_listen l;
	const char *why = too_long ? "too long" : parse_listen(item, &l);
	if (why) {
		err_at(lc->ld, lc->line, "listen: '%s': %s", item, why);
		return 0;
	}
	for (size_t i = 0; i < g->n_listen; i++)
		if (strcmp(g->listen[i].text, l.text) == 0) {
			err_at(lc->ld, lc->line, "listen: %s given twice", l.text);
			return 0;
		}
	if (g->n_listen >= CFG_LISTEN_MAX) {
		err_at(lc->ld, lc->line, "listen: more than %d addresses", CFG_LISTEN_MAX);
		return 1;
	}
	g->listen[g->n_listen++] = l;
	return 0;
}

static int method_item(void *user, const char *item, bool too_long)
{
	struct list_ctx *lc = user;
	uint64_t m;
	if (too_long || parse_u64(item, &m) != 0 || m > 3) {
		err_at(lc->ld, lc->line, "methods: '%s' is not an EDHOC method 0..3", item);
		return 0;
	}
	lc->ld->c->g.methods |= 1u << m;
	return 0;
}

static int suite_item(void *user, const char *item, bool too_long)
{
	struct list_ctx *lc = user;
	cfg_gateway *g = &lc->ld->c->g;
	uint64_t s;
	if (too_long || parse_u64(item, &s) != 0 || s > 65535) {
		err_at(lc->ld, lc->line, "suites: '%s' is not a cipher suite number", item);
		return 0;
	}
	if (!crypto_suite_get((int)s)) {
		err_at(lc->ld, lc->line, "suites: cipher suite %s is not supported", item);
		return 0;
	}
	for (size_t i = 0; i < g->n_suites; i++)
		if (g->suites[i] == (int)s) {
			err_at(lc->ld, lc->line, "suites: suite %s given twice", item);
			return 0;
		}
	if (g->n_suites >= EDHOC_MAX_SUITES) {
		err_at(lc->ld, lc->line, "suites: more than %d suites", EDHOC_MAX_SUITES);
		return 1;
	}
	g->suites[g->n_suites++] = (int)s;
	return 0;
}

/* [gateway] id_cred values. */
static const struct {
	const char *name;
	int label;
} id_cred_names[] = {
    {"x5t", EDHOC_ID_CRED_X5T}, {"x5chain", EDHOC_ID_CRED_X5CHAIN}, {"x5bag", EDHOC_ID_CRED_X5BAG},
    {"kid", EDHOC_ID_CRED_KID}, {"kccs", EDHOC_ID_CRED_KCCS},
};

static const char *id_cred_name(int label)
{
	for (size_t i = 0; i < sizeof(id_cred_names) / sizeof(id_cred_names[0]); i++)
		if (id_cred_names[i].label == label)
			return id_cred_names[i].name;
	return "?";
}

/* Relative paths are relative to the directory of the file naming them. */
static void resolve(const char *file, const char *v, char *out, size_t cap)
{
	if (v[0] == '/') {
		snprintf(out, cap, "%s", v);
		return;
	}
	char tmp[CFG_PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", file);
	snprintf(out, cap, "%s/%s", dirname(tmp), v);
}

static void set_key(struct load *ld, size_t ki, const char *value, unsigned line, bool continuation)
{
	const struct keydef *k = &keys[ki];
	char *base = (char *)ld->c;
	cfg_gateway *g = &ld->c->g;
	struct list_ctx lc = {ld, line, k->key};

	bool is_list = k->kind == K_LISTEN || k->kind == K_METHODS || k->kind == K_SUITES;
	if (continuation && !is_list) {
		err_at(ld, line, "continuation line after %s, which is not a list", k->key);
		return;
	}
	if (!continuation && ld->set[ki].file == ld->cur_file) {
		err_at(ld, line, "%s is already set at line %u", k->key, ld->set[ki].line);
		return;
	}
	if (!continuation) {
		/* A later file replaces a list as a whole, never appends. */
		if (k->kind == K_LISTEN)
			g->n_listen = 0;
		else if (k->kind == K_METHODS)
			g->methods = 0;
		else if (k->kind == K_SUITES)
			g->n_suites = 0;
		ld->set[ki].file = ld->cur_file;
		ld->set[ki].line = line;
	}
	switch (k->kind) {
	case K_LISTEN:
		cfg_list_each(value, DIAG_ADDR_SIZE, listen_item, &lc);
		break;
	case K_METHODS:
		cfg_list_each(value, 8, method_item, &lc);
		break;
	case K_SUITES:
		cfg_list_each(value, 8, suite_item, &lc);
		break;
	case K_PATH:
		if (!*value) {
			err_at(ld, line, "%s is empty", k->key);
			return;
		}
		if (strlen(value) >= CFG_PATH_MAX - 1) {
			err_at(ld, line, "%s: path is too long", k->key);
			return;
		}
		resolve(cur_name(ld), value, base + k->off, CFG_PATH_MAX);
		break;
	case K_TARGET: {
		int t = diag_target_from_name(value);
		if (t < 0)
			err_at(ld, line, "log_target = %s: expected journal, stderr or auto",
			       value);
		else
			*(int *)(base + k->off) = t;
		break;
	}
	case K_DISCLOSURE: {
		int d = diag_disclosure_from_name(value);
		if (d < 0)
			err_at(ld, line, "disclosure = %s: expected none, category or full", value);
		else
			*(int *)(base + k->off) = d;
		break;
	}
	case K_IDCRED: {
		int label = 0;
		for (size_t i = 0; i < sizeof(id_cred_names) / sizeof(id_cred_names[0]); i++)
			if (!strcmp(value, id_cred_names[i].name))
				label = id_cred_names[i].label;
		if (!label)
			err_at(ld, line, "id_cred = %s: expected x5t, x5chain, x5bag, kid or kccs",
			       value);
		else
			*(int *)(base + k->off) = label;
		break;
	}
	case K_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*(bool *)(base + k->off) = true;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*(bool *)(base + k->off) = false;
		else
			err_at(ld, line, "%s = %s: expected yes or no", k->key, value);
		break;
	case K_SIZE:
	case K_UINT:
	case K_U64: {
		uint64_t x;
		if (parse_u64(value, &x) != 0) {
			err_at(ld, line, "%s = %s: not a number", k->key, value);
			return;
		}
		if (x < k->min || x > k->max) {
			err_at(ld, line, "%s = %s: out of range %llu..%llu", k->key, value,
			       (unsigned long long)k->min, (unsigned long long)k->max);
			return;
		}
		if (k->kind == K_SIZE)
			*(size_t *)(base + k->off) = (size_t)x;
		else if (k->kind == K_UINT)
			*(unsigned *)(base + k->off) = (unsigned)x;
		else
			*(uint64_t *)(base + k->off) = x;
		break;
	}
	}
}

static bool valid_entry_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= ROUTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static void *grow(void *v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *nv = realloc(v, ncap * elem);
	if (nv)
		*cap = ncap;
	return nv;
}

static void section_start(struct load *ld, const char *section, unsigned line)
{
	ld->cur_route = NULL;
	ld->cur_static = NULL;
	ld->last_key = -1;
	if (!strcmp(section, "gateway")) {
		ld->sec = SEC_GATEWAY;
	} else if (!strcmp(section, "limits")) {
		ld->sec = SEC_LIMITS;
	} else if (!strcmp(section, "oscore")) {
		ld->sec = SEC_OSCORE;
	} else if (!strncmp(section, "route ", 6) || !strncmp(section, "static ", 7)) {
		bool is_route = section[0] == 'r';
		const char *name = section + (is_route ? 6 : 7);
		while (*name == ' ')
			name++;
		ld->sec = SEC_BAD;
		if (!valid_entry_name(name)) {
			err_at(ld, line, "[%s]: name must be 1-63 of [A-Za-z0-9_.-]", section);
			return;
		}
		if (is_route) {
			for (size_t i = 0; i < ld->n_routes; i++)
				if (!strcmp(ld->routes[i].name, name)) {
					ld->cur_route = &ld->routes[i];
					ld->sec = SEC_ROUTE;
					return;
				}
			if (ld->n_routes >= ROUTES_MAX) {
				err_at(ld, line, "more than %d routes", ROUTES_MAX);
				return;
			}
			struct raw_route *nv =
			    grow(ld->routes, &ld->cap_routes, ld->n_routes, sizeof(*nv));
			if (!nv) {
				err_at(ld, line, "out of memory");
				return;
			}
			ld->routes = nv;
			struct raw_route *r = &ld->routes[ld->n_routes++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", name);
			r->at = (struct where){ld->cur_file, line};
			r->timeout_ms = 5000;
			for (int i = 0; i < RK_N; i++)
				r->set[i].file = -1;
			ld->cur_route = r;
			ld->sec = SEC_ROUTE;
		} else {
			for (size_t i = 0; i < ld->n_statics; i++)
				if (!strcmp(ld->statics[i].s.name, name)) {
					ld->cur_static = &ld->statics[i];
					ld->sec = SEC_STATIC;
					return;
				}
			if (ld->n_statics >= CFG_STATIC_MAX) {
				err_at(ld, line, "more than %d static contexts", CFG_STATIC_MAX);
				return;
			}
			struct raw_static *nv =
			    grow(ld->statics, &ld->cap_statics, ld->n_statics, sizeof(*nv));
			if (!nv) {
				err_at(ld, line, "out of memory");
				return;
			}
			ld->statics = nv;
			struct raw_static *s = &ld->statics[ld->n_statics++];
			memset(s, 0, sizeof(*s));
			snprintf(s->s.name, sizeof(s->s.name), "%s", name);
			s->s.aead_alg = COSE_ALG_AES_CCM_16_64_128;
			s->s.hkdf_alg = COSE_ALG_SHA_256;
			s->at = (struct where){ld->cur_file, line};
			for (int i = 0; i < SK_N; i++)
				s->set[i].file = -1;
			ld->cur_static = s;
			ld->sec = SEC_STATIC;
		}
	} else {
		ld->sec = SEC_BAD;
		err_at(ld, line,
		       "unknown section [%s] (expected gateway, limits, oscore, route NAME or "
		       "static NAME)",
		       section);
	}
}

static bool note_set(struct load *ld, struct where *w, const char *key, unsigned line)
{
	if (w->file == ld->cur_file) {
		err_at(ld, line, "%s is already set at line %u", key, w->line);
		return false;
	}
	w->file = ld->cur_file;
	w->line = line;
	return true;
}

static void route_key(struct load *ld, const char *key, const char *value, unsigned line)
{
	struct raw_route *r = ld->cur_route;
	int k;
	for (k = 0; k < RK_N; k++)
		if (!strcmp(key, route_keys[k]))
			break;
	if (k == RK_N) {
		err_at(ld, line,
		       "unknown key '%s' in [route %s] (expected path, backend, timeout_ms)", key,
		       r->name);
		return;
	}
	if (!note_set(ld, &r->set[k], key, line))
		return;
	if (k == RK_PATH) {
		if (strlen(value) >= sizeof(r->path))
			err_at(ld, line, "path is too long");
		snprintf(r->path, sizeof(r->path), "%s", value);
	} else if (k == RK_BACKEND) {
		if (strlen(value) >= sizeof(r->backend))
			err_at(ld, line, "backend is too long");
		snprintf(r->backend, sizeof(r->backend), "%s", value);
	} else {
		uint64_t x;
		if (parse_u64(value, &x) != 0 || x < 1 || x > 600000)
			err_at(ld, line, "timeout_ms = %s: out of range 1..600000", value);
		else
			r->timeout_ms = (unsigned)x;
	}
}

static int aead_from_name(const char *v)
{
	static const struct {
		const char *name;
		int alg;
	} names[] = {
	    {"AES-CCM-16-64-128", COSE_ALG_AES_CCM_16_64_128},
	    {"AES-CCM-16-128-128", COSE_ALG_AES_CCM_16_128_128},
	    {"A128GCM", COSE_ALG_A128GCM},
	    {"A256GCM", COSE_ALG_A256GCM},
	    {"ChaCha20/Poly1305", COSE_ALG_CHACHA20_POLY1305},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(v, names[i].name))
			return names[i].alg;
	uint64_t x;
	if (parse_u64(v, &x) == 0)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if ((uint64_t)names[i].alg == x)
				return names[i].alg;
	return 0;
}

static void static_key(struct load *ld, const char *key, const char *value, unsigned line)
{
	struct raw_static *rs = ld->cur_static;
	cfg_static *s = &rs->s;
	int k;
	for (k = 0; k < SK_N; k++)
		if (!strcmp(key, static_keys[k]))
			break;
	if (k == SK_N) {
		err_at(ld, line,
		       "unknown key '%s' in [static %s] (expected identity, master_secret, "
		       "master_salt, sender_id, recipient_id, id_context, aead)",
		       key, s->name);
		return;
	}
	if (!note_set(ld, &rs->set[k], key, line))
		return;
	int rc = 0;
	/* Values never go into messages: master_secret is a secret. */
	switch (k) {
	case SK_IDENTITY:
		if (!valid_identity(value))
			err_at(ld, line,
			       "identity '%s' must be 1-%d printable characters without spaces, "
			       "',', ';', '@' or '*'",
			       value, EDHOC_MAX_IDENTITY - 1);
		else
			snprintf(s->identity, sizeof(s->identity), "%s", value);
		return;
	case SK_SECRET:
		rc = parse_hex(value, s->master_secret, sizeof(s->master_secret),
		               &s->master_secret_len);
		if (rc == 0 && s->master_secret_len < 16)
			rc = -2;
		if (rc)
			err_at(ld, line, "master_secret: expected 16 to 32 bytes in hex");
		return;
	case SK_SALT:
		if (parse_hex(value, s->master_salt, sizeof(s->master_salt), &s->master_salt_len))
			err_at(ld, line, "master_salt: expected 0 to 32 bytes in hex");
		return;
	case SK_SENDER:
		if (parse_hex(value, s->sender_id, sizeof(s->sender_id), &s->sender_id_len))
			err_at(ld, line, "sender_id: expected 0 to %d bytes in hex", EDHOC_MAX_CID);
		return;
	case SK_RECIPIENT:
		if (parse_hex(value, s->recipient_id, sizeof(s->recipient_id),
		              &s->recipient_id_len))
			err_at(ld, line, "recipient_id: expected 0 to %d bytes in hex",
			       EDHOC_MAX_CID);
		return;
	case SK_IDCTX:
		if (parse_hex(value, s->id_context, sizeof(s->id_context), &s->id_context_len))
			err_at(ld, line, "id_context: expected 0 to %d bytes in hex",
			       EDHOC_MAX_CID);
		else
			s->has_id_context = true;
		return;
	case SK_AEAD: {
		int alg = aead_from_name(value);
		if (!alg)
			err_at(ld, line,
			       "aead = %s: expected AES-CCM-16-64-128, AES-CCM-16-128-128, "
			       "A128GCM, A256GCM or ChaCha20/Poly1305 (or its COSE number)",
			       value);
		else
			s->aead_alg = alg;
		return;
	}
	}
}

static int load_ini(void *user, const char *section, const char *key, const char *value,
                    unsigned line, bool continuation)
{
	struct load *ld = user;
	if (!key) {
		section_start(ld, section, line);
		return 0;
	}
	if (section[0] == '\0') {
		err_at(ld, line, "key '%s' outside a section", key);
		return 0;
	}
	switch (ld->sec) {
	case SEC_GATEWAY:
	case SEC_LIMITS:
	case SEC_OSCORE:
		if (continuation) {
			if (ld->last_key >= 0)
				set_key(ld, (size_t)ld->last_key, value, line, true);
			else
				err_at(ld, line, "continuation line without a key before it");
			return 0;
		}
		for (size_t i = 0; i < N_KEYS; i++)
			if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key)) {
				ld->last_key = (int)i;
				set_key(ld, i, value, line, false);
				return 0;
			}
		ld->last_key = -1;
		err_at(ld, line, "unknown key '%s' in [%s]", key, section);
		return 0;
	case SEC_ROUTE:
		if (continuation)
			err_at(ld, line, "continuation lines are not allowed in [route]");
		else
			route_key(ld, key, value, line);
		return 0;
	case SEC_STATIC:
		if (continuation)
			err_at(ld, line, "continuation lines are not allowed in [static]");
		else
			static_key(ld, key, value, line);
		return 0;
	default:
		return 0; /* bad section, already reported */
	}
}

/* ---- defaults, files ---- */

static void set_defaults(cfg *c)
{
	cfg_gateway *g = &c->g;
	parse_listen("0.0.0.0", &g->listen[0]);
	g->n_listen = 1;
	g->methods = 0xf;
	g->n_suites = 0; /* chosen after the credential is known */
	snprintf(g->trust_dir, sizeof(g->trust_dir), "/etc/edhocd/trust");
	snprintf(g->acl, sizeof(g->acl), "/etc/edhocd/acl.conf");
	snprintf(g->state_dir, sizeof(g->state_dir), "/var/lib/edhocd");
	snprintf(g->control_socket, sizeof(g->control_socket), "/run/edhocd/control.sock");
	g->log_target = DIAG_TARGET_AUTO;
	g->disclosure = DIAG_DISCLOSE_CATEGORY;
	g->unknown_cred_error = false;
	g->message_4 = false;

	cfg_limits *l = &c->l;
	l->half_open_max = 1000;
	l->half_open_timeout_ms = 10000;
	l->half_open_per_address = 250;
	l->sessions_max = 10000;
	l->sessions_per_identity = 4;
	l->retransmit_cache_max = 256;
	l->message_max = EDHOC_MAX_MESSAGE;
	l->ead_items_max = 4;
	l->chain_length_max = TRUST_DEFAULT_CHAIN_MAX;
	l->pending_forwards_max = 256;
	l->observations_per_device = 4;
	l->payload_max = 1024;

	c->o.replay_window = 32;
	c->o.seq_lease_block = 1000;
	c->o.session_lifetime_s = 86400;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* conf.d/\*.conf next to the main file, sorted. */
static void list_confd(struct load *ld, const char *path)
{
	char tmp[CFG_PATH_MAX], dir[CFG_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s/conf.d", dirname(tmp));
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			cfg_errors_add(ld->errs, dir, 0, "cannot open directory: %s",
			               strerror(errno));
		if (errno != ENOENT)
			ld->failed = true;
		return;
	}
	char *names[CONFD_MAX_FILES];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (n >= CONFD_MAX_FILES) {
			cfg_errors_add(ld->errs, dir, 0, "more than %d *.conf files",
			               CONFD_MAX_FILES);
			ld->failed = true;
			break;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ld->failed = true;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (strlen(dir) + 1 + strlen(names[i]) >= CFG_PATH_MAX) {
			cfg_errors_add(ld->errs, dir, 0, "%s: path is too long", names[i]);
			ld->failed = true;
		} else if (ld->n_files < FILES_MAX) {
			char *f = ld->files[ld->n_files++];
			strcpy(f, dir);
			strcat(f, "/");
			strcat(f, names[i]);
		}
		free(names[i]);
	}
}

static bool key_where(struct load *ld, const char *key, struct where *ret)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].key, key)) {
			*ret = ld->set[i];
			return ld->set[i].file >= 0;
		}
	return false;
}

/* Where to blame a problem with key: its line, or the main file. */
static struct where blame(struct load *ld, const char *key)
{
	struct where w = {0, 0};
	if (!key_where(ld, key, &w))
		w = (struct where){0, 0};
	return w;
}

/* ---- cross-checks after all files are read ---- */

static void build_routes(struct load *ld)
{
	cfg *c = ld->c;
	for (size_t i = 0; i < ld->n_routes; i++) {
		struct raw_route *r = &ld->routes[i];
		if (r->set[RK_PATH].file < 0 || r->set[RK_BACKEND].file < 0) {
			err_where(ld, r->at, "[route %s]: %s is missing", r->name,
			          r->set[RK_PATH].file < 0 ? "path" : "backend");
			continue;
		}
		struct where w = r->set[RK_BACKEND];
		if (routes_add(c->routes, r->name, r->path, r->backend, r->timeout_ms, ld->errs,
		               ld->files[w.file], w.line) != 0)
			ld->failed = true;
	}
}

static void build_statics(struct load *ld)
{
	cfg *c = ld->c;
	if (ld->n_statics == 0)
		return;
	c->statics = calloc(ld->n_statics, sizeof(*c->statics));
	if (!c->statics) {
		cfg_errors_add(ld->errs, ld->files[0], 0, "out of memory");
		ld->failed = true;
		return;
	}
	static const int required[] = {SK_IDENTITY, SK_SECRET, SK_SENDER, SK_RECIPIENT};
	for (size_t i = 0; i < ld->n_statics; i++) {
		struct raw_static *rs = &ld->statics[i];
		bool ok = true;
		for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++)
			if (rs->set[required[r]].file < 0) {
				err_where(ld, rs->at, "[static %s]: %s is missing", rs->s.name,
				          static_keys[required[r]]);
				ok = false;
			}
		if (!ok)
			continue;
		if (rs->s.sender_id_len == rs->s.recipient_id_len &&
		    memcmp(rs->s.sender_id, rs->s.recipient_id, rs->s.sender_id_len) == 0) {
			err_where(ld, rs->set[SK_RECIPIENT],
			          "[static %s]: sender_id and recipient_id must differ",
			          rs->s.name);
			continue;
		}
		for (size_t j = 0; j < c->n_statics; j++) {
			const cfg_static *o = &c->statics[j];
			if (o->recipient_id_len == rs->s.recipient_id_len &&
			    memcmp(o->recipient_id, rs->s.recipient_id, o->recipient_id_len) == 0) {
				err_where(
				    ld, rs->set[SK_RECIPIENT],
				    "[static %s]: recipient_id is already used by [static %s]",
				    rs->s.name, o->name);
				ok = false;
				break;
			}
		}
		if (ok)
			c->statics[c->n_statics++] = rs->s;
	}
}

static bool identity_known(void *ctx, const char *identity)
{
	const cfg *c = ctx;
	if (trust_has_identity(c->trust, identity))
		return true;
	for (size_t i = 0; i < c->n_statics; i++)
		if (!strcmp(c->statics[i].identity, identity))
			return true;
	return false;
}

/* ID_CRED_R beside the rest of message_2 (bstr head, G_Y up to X448's 56
 * bytes, C_R, the largest signature): more than this and the gateway's own
 * message_2 passes message_max, which peers with our defaults refuse. */
#define MESSAGE_2_OVERHEAD 180

/* Under systemd, LoadCredential= hands the service its own copy of a file
 * that the service user may not read in place (a root-owned 0600 key with
 * DynamicUser=).  When $CREDENTIALS_DIRECTORY holds a file named like the
 * configured one, that copy is used.  Returns path or buf. */
static const char *systemd_credential(const char *path, char *buf, size_t size)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	if (!dir || !dir[0] || !path[0])
		return path;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int n = snprintf(buf, size, "%s/%s", dir, base);
	if (n < 0 || (size_t)n >= size || access(buf, R_OK) != 0)
		return path;
	return buf;
}

/* [gateway] id_cred: checked against the credential's type, then the
 * credential is loaded again identified that way. */
static void apply_id_cred(struct load *ld, const char *path, credfile_opts *opts)
{
	cfg *c = ld->c;
	cfg_gateway *g = &c->g;
	struct where w = blame(ld, "id_cred");
	bool x509 = cose_cred_type(credfile_cred(c->own)) == EDHOC_CRED_X509;
	bool wants_x509 = g->id_cred == EDHOC_ID_CRED_X5T || g->id_cred == EDHOC_ID_CRED_X5CHAIN ||
	                  g->id_cred == EDHOC_ID_CRED_X5BAG;
	char err[CFG_ERROR_LEN];

	if (x509 != wants_x509) {
		err_where(ld, w, "id_cred = %s: the gateway's credential is %s",
		          id_cred_name(g->id_cred),
		          x509 ? "an X.509 certificate, identified by x5t, x5chain or x5bag"
		               : "a CCS, identified by kid or kccs");
		return;
	}
	if (cose_cred_id_label(credfile_cred(c->own)) != g->id_cred) {
		credfile *again = NULL;
		opts->id_label = g->id_cred;
		err[0] = '\0';
		int rc = credfile_load(path, opts, &again, err, sizeof(err));
		if (rc) {
			err_where(ld, w, "id_cred = %s: %s", id_cred_name(g->id_cred),
			          err[0] ? err : edhoc_result_describe(rc));
			return;
		}
		credfile_free(c->own);
		c->own = again;
	}
}

static void load_own_cred(struct load *ld)
{
	cfg *c = ld->c;
	cfg_gateway *g = &c->g;
	char err[CFG_ERROR_LEN];
	credfile_opts opts = {.own = true};
	const char *path;
	struct where w;

	bool has_cred = g->credential[0], has_cert = g->certificate[0], has_key = g->private_key[0];
	if (has_cred && (has_cert || has_key)) {
		err_where(ld, blame(ld, "credential"),
		          "give either credential or certificate + private_key, not both");
		return;
	}
	if (!has_cred && !has_cert) {
		err_where(ld, (struct where){0, 0},
		          "[gateway] credential (or certificate + private_key) is missing");
		return;
	}
	if (has_cert != has_key) {
		err_where(ld, blame(ld, has_cert ? "certificate" : "private_key"),
		          "certificate and private_key must be given together");
		return;
	}
	char cred_buf[CFG_PATH_MAX * 2], key_buf[CFG_PATH_MAX * 2];
	if (has_cred) {
		path = systemd_credential(g->credential, cred_buf, sizeof(cred_buf));
		w = blame(ld, "credential");
	} else {
		path = systemd_credential(g->certificate, cred_buf, sizeof(cred_buf));
		opts.key_path = systemd_credential(g->private_key, key_buf, sizeof(key_buf));
		w = blame(ld, "certificate");
	}
	err[0] = '\0';
	int rc = credfile_load(path, &opts, &c->own, err, sizeof(err));
	if (rc) {
		err_where(ld, w, "%s: %s", has_cred ? "credential" : "certificate",
		          err[0] ? err : edhoc_result_describe(rc));
		return;
	}
	if (g->id_cred)
		apply_id_cred(ld, path, &opts);
	if (!c->own)
		return;
	size_t len = 0;
	const cose_cred *own = credfile_cred(c->own);
	cose_cred_id_cred(own, &len);
	if (len + MESSAGE_2_OVERHEAD > c->l.message_max)
		err_where(ld, g->id_cred ? blame(ld, "id_cred") : w,
		          "id_cred = %s: ID_CRED_R is %zu bytes, so message_2 would exceed "
		          "message_max %zu; use x5t or raise message_max",
		          id_cred_name(cose_cred_id_label(own)), len, c->l.message_max);
}

/* Suites and methods must fit the own key: a static DH method (1, 3: the
 * responder authenticates with static DH) needs a DH key on the suite's
 * curve, a signature method (0, 2) a signature key. */
static bool key_fits(const crypto_key *k, unsigned methods, int suite)
{
	const crypto_suite *s = crypto_suite_get(suite);
	if (!s)
		return false;
	for (int m = 0; m < 4; m++) {
		if (!(methods & (1u << m)))
			continue;
		bool static_dh = m == EDHOC_METHOD_SIG_STAT || m == EDHOC_METHOD_STAT_STAT;
		if (!cose_key_fits_suite(k, s, static_dh))
			return false;
	}
	return true;
}

static void check_suites(struct load *ld)
{
	cfg *c = ld->c;
	cfg_gateway *g = &c->g;
	if (g->methods == 0) {
		err_where(ld, blame(ld, "methods"), "methods: no method given");
		return;
	}
	if (!c->own)
		return;
	const crypto_key *k = cose_cred_key(credfile_cred(c->own));
	struct where w;
	if (key_where(ld, "suites", &w)) {
		if (g->n_suites == 0) {
			err_where(ld, w, "suites: no suite given");
			return;
		}
		for (size_t i = 0; i < g->n_suites; i++)
			if (!key_fits(k, g->methods, g->suites[i]))
				err_where(ld, w,
				          "suites: the credential's %s key cannot serve suite %d "
				          "with the configured methods",
				          cose_curve_name(crypto_key_curve(k)), g->suites[i]);
		return;
	}
	/* Default: every implemented suite the key serves, in registry order
	 * with the compact P-256 suite 2 first. */
	int ids[32];
	size_t n = crypto_suite_list(ids, 32);
	if (key_fits(k, g->methods, 2))
		g->suites[g->n_suites++] = 2;
	for (size_t i = 0; i < n && g->n_suites < EDHOC_MAX_SUITES; i++)
		if (ids[i] != 2 && key_fits(k, g->methods, ids[i]))
			g->suites[g->n_suites++] = ids[i];
	if (g->n_suites == 0)
		err_where(ld, blame(ld, "credential"),
		          "the credential's %s key serves no cipher suite with the configured "
		          "methods",
		          cose_curve_name(crypto_key_curve(k)));
}

static int cmp_static(const void *a, const void *b)
{
	const cfg_static *x = a, *y = b;
	if (x->recipient_id_len != y->recipient_id_len)
		return x->recipient_id_len < y->recipient_id_len ? -1 : 1;
	return memcmp(x->recipient_id, y->recipient_id, x->recipient_id_len);
}

static void cfg_destroy(cfg *c)
{
	if (!c)
		return;
	trust_free(c->trust);
	acl_free(c->acl);
	routes_free(c->routes);
	credfile_free(c->own);
	if (c->statics) {
		OPENSSL_cleanse(c->statics, c->n_statics * sizeof(*c->statics));
		free(c->statics);
	}
	free(c);
}

static void load_free(struct load *ld)
{
	free(ld->routes);
	if (ld->statics) {
		OPENSSL_cleanse(ld->statics, ld->cap_statics * sizeof(*ld->statics));
		free(ld->statics);
	}
}

int cfg_load(const char *path, cfg **ret_cfg, cfg_errors **ret_errors)
{
	struct load *ld = NULL;
	cfg_errors *errs = cfg_errors_new();
	int rc = EDHOC_E_NOMEM;

	if (!path || !ret_cfg)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!errs)
		goto out;
	ld = calloc(1, sizeof(*ld));
	if (!ld)
		goto out;
	ld->errs = errs;
	ld->c = calloc(1, sizeof(*ld->c));
	if (!ld->c)
		goto out;
	ld->c->refs = 1;
	ld->c->routes = routes_new();
	if (!ld->c->routes)
		goto out;
	if (strlen(path) >= CFG_PATH_MAX - 64) {
		cfg_errors_add(errs, NULL, 0, "configuration path is too long");
		rc = EDHOC_E_INVALID_ARGUMENT;
		goto out;
	}
	snprintf(ld->c->path, sizeof(ld->c->path), "%s", path);
	set_defaults(ld->c);
	for (size_t i = 0; i < N_KEYS; i++)
		ld->set[i].file = -1;

	/* Without the main file nothing else is worth checking. */
	FILE *probe = fopen(path, "re");
	if (!probe) {
		cfg_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		rc = EDHOC_E_INVALID_ARGUMENT;
		goto out;
	}
	fclose(probe);
	snprintf(ld->files[0], CFG_PATH_MAX, "%s", path);
	ld->n_files = 1;
	list_confd(ld, path);
	for (size_t i = 0; i < ld->n_files; i++) {
		ld->cur_file = (int)i;
		ld->sec = SEC_NONE;
		ld->cur_route = NULL;
		ld->cur_static = NULL;
		ld->last_key = -1;
		if (cfg_ini_parse_file(ld->files[i], load_ini, ld, errs) != 0)
			ld->failed = true;
	}
	ld->cur_file = 0;

	cfg *c = ld->c;
	build_routes(ld);
	build_statics(ld);

	/* Missing inputs are blamed on the line that names them. */
	struct stat st;
	trust_options topt = {.chain_length_max = c->l.chain_length_max};
	int serr = stat(c->g.trust_dir, &st) != 0 ? errno : 0;
	if (serr || !S_ISDIR(st.st_mode)) {
		err_where(ld, blame(ld, "trust_dir"), "trust_dir %s: %s", c->g.trust_dir,
		          serr ? strerror(serr) : "not a directory");
	} else {
		size_t before = cfg_errors_count(errs) + cfg_errors_dropped(errs);
		if (trust_load(c->g.trust_dir, &topt, errs, &c->trust) != 0) {
			if (cfg_errors_count(errs) + cfg_errors_dropped(errs) == before)
				err_where(ld, blame(ld, "trust_dir"),
				          "trust_dir %s cannot be loaded", c->g.trust_dir);
			ld->failed = true;
		}
	}
	load_own_cred(ld);
	check_suites(ld);
	if (stat(c->g.acl, &st) != 0) {
		err_where(ld, blame(ld, "acl"), "acl %s: %s", c->g.acl, strerror(errno));
	} else if (c->trust) {
		/* Without the trust store identities cannot be checked; its
		 * errors are reported already. */
		if (acl_load(c->g.acl, c->routes, identity_known, c, errs, &c->acl) != 0)
			ld->failed = true;
	}
	if (c->n_statics)
		qsort(c->statics, c->n_statics, sizeof(*c->statics), cmp_static);

	if (ld->failed || cfg_errors_count(errs) || cfg_errors_dropped(errs)) {
		rc = EDHOC_E_INVALID_ARGUMENT;
		goto out;
	}
	*ret_cfg = c;
	ld->c = NULL;
	rc = 0;
out:
	if (ld) {
		cfg_destroy(ld->c);
		load_free(ld);
		free(ld);
	}
	if (rc == 0 || !ret_errors) {
		cfg_errors_free(errs);
	} else {
		if (errs && cfg_errors_count(errs) == 0)
			cfg_errors_add(errs, path, 0, "%s", edhoc_result_describe(rc));
		*ret_errors = errs;
	}
	return rc;
}

int cfg_reload(cfg **current, const char *path, cfg_errors **ret_errors)
{
	cfg *fresh = NULL;
	if (!current)
		return EDHOC_E_INVALID_ARGUMENT;
	int rc = cfg_load(path, &fresh, ret_errors);
	if (rc)
		return rc;
	cfg *old = *current;
	*current = fresh;
	cfg_unref(old);
	return 0;
}

int cfg_check(const char *path, FILE *out)
{
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	if (cfg_load(path, &c, &errs) != 0) {
		cfg_errors_print(errs, out);
		cfg_errors_free(errs);
		return 1;
	}
	fprintf(out,
	        "%s: configuration OK (%zu listen addresses, %zu trusted credentials, %zu CA "
	        "certificates, %zu routes, %zu ACL rules, %zu static contexts)\n",
	        path, c->g.n_listen, trust_count(c->trust), trust_ca_count(c->trust),
	        routes_count(c->routes), acl_rule_count(c->acl), c->n_statics);
	cfg_unref(c);
	return 0;
}

cfg *cfg_ref(cfg *c)
{
	if (c)
		c->refs++;
	return c;
}

void cfg_unref(cfg *c)
{
	if (!c)
		return;
	if (--c->refs == 0)
		cfg_destroy(c);
}

const cfg_gateway *cfg_gateway_get(const cfg *c)
{
	return &c->g;
}

const cfg_limits *cfg_limits_get(const cfg *c)
{
	return &c->l;
}

const cfg_oscore *cfg_oscore_get(const cfg *c)
{
	return &c->o;
}

size_t cfg_static_count(const cfg *c)
{
	return c->n_statics;
}

const cfg_static *cfg_static_at(const cfg *c, size_t i)
{
	return i < c->n_statics ? &c->statics[i] : NULL;
}

const cfg_static *cfg_static_by_kid(const cfg *c, const uint8_t *kid, size_t kid_len)
{
	if (!c || c->n_statics == 0 || kid_len > EDHOC_MAX_CID || (!kid && kid_len))
		return NULL;
	cfg_static key;
	key.recipient_id_len = kid_len;
	if (kid_len)
		memcpy(key.recipient_id, kid, kid_len);
	return bsearch(&key, c->statics, c->n_statics, sizeof(*c->statics), cmp_static);
}

trust_store *cfg_trust(const cfg *c)
{
	return c->trust;
}

const acl *cfg_acl(const cfg *c)
{
	return c->acl;
}

const routes *cfg_routes(const cfg *c)
{
	return c->routes;
}

const cose_cred *cfg_own_cred(const cfg *c)
{
	return c->own ? credfile_cred(c->own) : NULL;
}

const char *cfg_path(const cfg *c)
{
	return c->path;
}

void cfg_edhoc_responder(const cfg *c, edhoc_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->role = EDHOC_RESPONDER;
	ret->methods = c->g.methods;
	for (size_t i = 0; i < c->g.n_suites; i++)
		ret->suites[i] = c->g.suites[i];
	ret->n_suites = c->g.n_suites;
	ret->own = c->own ? credfile_edhoc(c->own) : NULL;
	ret->lookup = trust_lookup;
	ret->lookup_ctx = c->trust;
	ret->max_ead_items = c->l.ead_items_max;
	ret->max_message = c->l.message_max;
	ret->unknown_cred_error = c->g.unknown_cred_error;
}
