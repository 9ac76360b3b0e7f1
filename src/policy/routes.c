/* Routes: path prefix -> backend, longest-prefix match. */
#include "policy/routes.h"

#include <ctype.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/result.h"

struct routes {
	route *v; /* sorted by prefix (strcmp) */
	size_t n;
	size_t cap;
};

routes *routes_new(void)
{
	return calloc(1, sizeof(routes));
}

void routes_free(routes *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}

bool routes_prefix_matches(const char *prefix, const char *path)
{
	if (!prefix || !path || path[0] != '/')
		return false;
	if (strcmp(prefix, "/") == 0)
		return true;
	size_t n = strlen(prefix);
	if (strncmp(prefix, path, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/';
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= ROUTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

static bool path_char_ok(char c)
{
	/* RFC 3986 pchar without percent-encoding: operators write plain
	 * segments, and a '%' would make prefix matching ambiguous. */
	return isalnum((unsigned char)c) || strchr("-._~!$&'()*+,;=:@", c);
}

/* "/a/b" with non-empty segments, no "." or "..", no trailing '/' except
 * the root itself. */
static const char *check_path(const char *p, bool allow_empty)
{
	if (allow_empty && p[0] == '\0')
		return NULL;
	if (p[0] != '/')
		return "must start with '/'";
	if (strlen(p) >= ROUTE_PATH_MAX)
		return "is too long";
	if (strcmp(p, "/") == 0)
		return NULL;
	const char *seg = p + 1;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0)
			return end ? "has an empty segment" : "must not end with '/'";
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return "has a '.' or '..' segment";
		for (size_t i = 0; i < len; i++)
			if (!path_char_ok(seg[i]))
				return "has a character outside [A-Za-z0-9-._~!$&'()*+,;=:@]";
		if (!end)
			return NULL;
		seg = end + 1;
	}
}

int routes_parse_uri(const char *uri, char *ret_host, uint16_t *ret_port, char *ret_path,
                     const char **ret_why)
{
	const char *why = NULL;
	char host[ROUTE_HOST_MAX];
	unsigned long port = 5683;
	const char *p;

	if (strncmp(uri, "coap://", 7) != 0) {
		why = "scheme must be coap://";
		goto out;
	}
	p = uri + 7;
	if (strpbrk(p, "?#")) {
		why = "unexpected character after host/port (query and fragment are not allowed)";
		goto out;
	}
	size_t hlen;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close) {
			why = "IPv6 literal lacks ']'";
			goto out;
		}
		hlen = (size_t)(close - p - 1);
		if (hlen == 0 || hlen >= sizeof(host)) {
			why = "bad IPv6 literal";
			goto out;
		}
		memcpy(host, p + 1, hlen);
		host[hlen] = '\0';
		for (size_t i = 0; i < hlen; i++)
			if (!isxdigit((unsigned char)host[i]) && host[i] != ':' && host[i] != '.') {
				why = "bad IPv6 literal";
				goto out;
			}
		p = close + 1;
	} else {
		hlen = strcspn(p, ":/?#");
		if (hlen == 0 || hlen >= sizeof(host)) {
			why = "host is missing or too long";
			goto out;
		}
		memcpy(host, p, hlen);
		host[hlen] = '\0';
		for (size_t i = 0; i < hlen; i++)
			if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.') {
				why = "host has an invalid character";
				goto out;
			}
		p += hlen;
	}
	if (*p == ':') {
		char *end;
		p++;
		if (!isdigit((unsigned char)*p)) {
			why = "port is not a number";
			goto out;
		}
		port = strtoul(p, &end, 10);
		if (port == 0 || port > 65535 || end - p > 5) {
			why = "port out of range 1..65535";
			goto out;
		}
		p = end;
	}
	if (*p != '\0' && *p != '/') {
		why = "unexpected character after host/port (query and fragment are not allowed)";
		goto out;
	}
	char path[ROUTE_PATH_MAX];
	size_t plen = strlen(p);
	if (plen >= sizeof(path)) {
		why = "path is too long";
		goto out;
	}
	memcpy(path, p, plen + 1);
	/* "coap://h/" and "coap://h" mean the same backend root. */
	if (strcmp(path, "/") == 0)
		path[0] = '\0';
	const char *pwhy = check_path(path, true);
	if (pwhy) {
		why = "path is not a clean absolute path";
		goto out;
	}
	strcpy(ret_host, host);
	*ret_port = (uint16_t)port;
	strcpy(ret_path, path);
out:
	if (ret_why)
		*ret_why = why;
	return why ? EDHOC_E_INVALID_ARGUMENT : 0;
}

static int cmp_route(const void *a, const void *b)
{
	return strcmp(((const route *)a)->prefix, ((const route *)b)->prefix);
}

int routes_add(routes *r, const char *name, const char *prefix, const char *backend,
               unsigned timeout_ms, cfg_errors *errs, const char *file, unsigned line)
{
	route rt;
	const char *why;
	int rc = EDHOC_E_INVALID_ARGUMENT;

	memset(&rt, 0, sizeof(rt));
	if (!name || !valid_name(name)) {
		cfg_errors_add(errs, file, line, "route name '%s' must be 1-63 of [A-Za-z0-9_.-]",
		               name ? name : "");
		return rc;
	}
	if (!prefix || !*prefix) {
		cfg_errors_add(errs, file, line, "route %s: path is missing", name);
		return rc;
	}
	if ((why = check_path(prefix, false))) {
		cfg_errors_add(errs, file, line, "route %s: path '%s' %s", name, prefix, why);
		return rc;
	}
	if (!backend || !*backend) {
		cfg_errors_add(errs, file, line, "route %s: backend is missing", name);
		return rc;
	}
	if (strlen(backend) >= sizeof(rt.backend)) {
		cfg_errors_add(errs, file, line, "route %s: backend URI is too long", name);
		return rc;
	}
	if (routes_parse_uri(backend, rt.host, &rt.port, rt.base_path, &why) != 0) {
		cfg_errors_add(errs, file, line, "route %s: backend '%s': %s", name, backend, why);
		return rc;
	}
	if (timeout_ms < 1 || timeout_ms > 600000) {
		cfg_errors_add(errs, file, line, "route %s: timeout_ms %u out of range 1..600000",
		               name, timeout_ms);
		return rc;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].name, name) == 0) {
			cfg_errors_add(errs, file, line, "route %s: defined twice", name);
			return rc;
		}
		if (strcmp(r->v[i].prefix, prefix) == 0) {
			cfg_errors_add(errs, file, line, "route %s: path %s is already route %s",
			               name, prefix, r->v[i].name);
			return rc;
		}
	}
	if (r->n >= ROUTES_MAX) {
		cfg_errors_add(errs, file, line, "route %s: more than %d routes", name, ROUTES_MAX);
		return EDHOC_E_LIMIT;
	}

	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", rt.port);
	/* An IP literal must not depend on the host's configured families. */
	struct addrinfo numeric = hints;
	numeric.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	int gai = getaddrinfo(rt.host, port, &numeric, &ai);
	if (gai != 0)
		gai = getaddrinfo(rt.host, port, &hints, &ai);
	if (gai != 0 || !ai) {
		cfg_errors_add(errs, file, line, "route %s: backend host '%s' does not resolve: %s",
		               name, rt.host, gai_strerror(gai));
		return rc;
	}
	memcpy(&rt.addr, ai->ai_addr, ai->ai_addrlen);
	rt.addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);

	snprintf(rt.name, sizeof(rt.name), "%s", name);
	snprintf(rt.prefix, sizeof(rt.prefix), "%s", prefix);
	snprintf(rt.backend, sizeof(rt.backend), "%s", backend);
	rt.timeout_ms = timeout_ms;

	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		route *nv = realloc(r->v, ncap * sizeof(*nv));
		if (!nv)
			return EDHOC_E_NOMEM;
		r->v = nv;
		r->cap = ncap;
	}
	r->v[r->n++] = rt;
	qsort(r->v, r->n, sizeof(*r->v), cmp_route);
	return 0;
}

static const route *find_prefix(const routes *r, const char *prefix, size_t len)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = r->v[mid].prefix;
		int c = strncmp(p, prefix, len);
		if (c == 0)
			c = p[len] == '\0' ? 0 : 1;
		if (c == 0)
			return &r->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const route *routes_match(const routes *r, const char *path)
{
	if (!r || !path || path[0] != '/')
		return NULL;
	/* Try the path itself, then each shorter segment prefix, then "/":
	 * O(depth * log n) however many routes there are. */
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	for (;;) {
		if (len <= 1)
			return find_prefix(r, "/", 1);
		const route *rt = find_prefix(r, path, len);
		if (rt)
			return rt;
		while (len > 0 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* drop the '/' too */
	}
}

const route *routes_find(const routes *r, const char *name)
{
	for (size_t i = 0; r && name && i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

size_t routes_count(const routes *r)
{
	return r ? r->n : 0;
}

const route *routes_at(const routes *r, size_t i)
{
	return r && i < r->n ? &r->v[i] : NULL;
}

int route_backend_path(const route *rt, const char *path, char *out, size_t cap)
{
	if (!rt || !path || !out || !routes_prefix_matches(rt->prefix, path))
		return EDHOC_E_INVALID_ARGUMENT;
	const char *rest = strcmp(rt->prefix, "/") == 0 ? path : path + strlen(rt->prefix);
	if (strcmp(rest, "/") == 0)
		rest = "";
	int n = snprintf(out, cap, "%s%s", rt->base_path, rest);
	if (n < 0 || (size_t)n >= cap)
		return EDHOC_E_BUFFER_TOO_SMALL;
	if (n == 0) {
		if (cap < 2)
			return EDHOC_E_BUFFER_TOO_SMALL;
		strcpy(out, "/");
	}
	return 0;
}
