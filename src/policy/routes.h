/* Routes: which backend serves an inner (OSCORE-protected) request path.
 *
 * A route maps a path prefix ("/sensors") to a backend URI
 * ("coap://127.0.0.1:5684/base").  A prefix matches on segment boundaries:
 * "/sensors" matches "/sensors" and "/sensors/t1" but not "/sensorsX"; "/"
 * matches every path.  The longest matching prefix wins.  A routes object
 * is immutable once built (it lives inside the config object). */
#ifndef EDHOCD_POLICY_ROUTES_H
#define EDHOCD_POLICY_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/errors.h"

#define ROUTE_NAME_MAX 64   /* bytes of a route name, NUL included */
#define ROUTE_PATH_MAX 256  /* bytes of a prefix or base path, NUL included */
#define ROUTE_HOST_MAX 256  /* bytes of a backend host, NUL included */
#define ROUTE_URI_MAX  600  /* bytes of a backend URI, NUL included */
#define ROUTES_MAX     1024 /* routes per configuration */

typedef struct route {
	char name[ROUTE_NAME_MAX];
	char prefix[ROUTE_PATH_MAX];    /* "/sensors", no trailing '/' except "/" */
	char backend[ROUTE_URI_MAX];    /* the URI as configured */
	char host[ROUTE_HOST_MAX];      /* without brackets for IPv6 literals */
	uint16_t port;                  /* 5683 when the URI has none */
	char base_path[ROUTE_PATH_MAX]; /* "" or "/base" (no trailing '/') */
	struct sockaddr_storage addr;   /* resolved backend address */
	socklen_t addr_len;
	unsigned timeout_ms; /* backend response timeout */
} route;

typedef struct routes routes;

/* New empty table; NULL when out of memory. */
routes *routes_new(void);

/* NULL is a no-op. */
void routes_free(routes *r);

/* Validates and adds a route (name: [A-Za-z0-9_.-]{1,63}; prefix: starts
 * with '/', no "//", no "." or ".." segments, no trailing '/' except "/";
 * backend: "coap://host[:port][/path]" with host an IP literal ("[v6]" for
 * IPv6) or a name that resolves now; timeout_ms 1..600000).  On error
 * appends "file:line: message" to errs (when not NULL) and returns
 * EDHOC_E_INVALID_ARGUMENT (or EDHOC_E_LIMIT past ROUTES_MAX); duplicate
 * names and duplicate prefixes are errors. */
int routes_add(routes *r, const char *name, const char *prefix, const char *backend,
               unsigned timeout_ms, cfg_errors *errs, const char *file, unsigned line);

/* Longest-prefix match of an absolute path ("/a/b", no query); NULL when no
 * route matches.  The result lives as long as r. */
const route *routes_match(const routes *r, const char *path);

/* Route by name, NULL when unknown. */
const route *routes_find(const routes *r, const char *name);

size_t routes_count(const routes *r);
const route *routes_at(const routes *r, size_t i); /* in prefix order */

/* True when prefix matches path on a segment boundary. */
bool routes_prefix_matches(const char *prefix, const char *path);

/* Backend path for a request path matched by rt: base_path + the rest of
 * path after the prefix ("/sensors/t1" via prefix "/sensors" and base
 * "/api" gives "/api/t1"; the bare prefix gives "/api", or "/" when the
 * base path is empty too).  EDHOC_E_BUFFER_TOO_SMALL when it does not fit
 * cap, EDHOC_E_INVALID_ARGUMENT when rt does not match path. */
int route_backend_path(const route *rt, const char *path, char *out, size_t cap);

/* Parses "coap://host[:port][/path]" (for routes_add and the client tool).
 * ret_host holds ROUTE_HOST_MAX, ret_path ROUTE_PATH_MAX.  Returns 0 or
 * EDHOC_E_INVALID_ARGUMENT with a short reason in *ret_why (static). */
int routes_parse_uri(const char *uri, char *ret_host, uint16_t *ret_port, char *ret_path,
                     const char **ret_why);

#endif
