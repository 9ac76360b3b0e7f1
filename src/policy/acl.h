/* Access control list: deny by default.
 *
 * The ACL is its own INI file (path from edhocd.conf [gateway] acl):
 *
 *   [identities]
 *   certified = sensor-17, sensor-18   ; names that come from CA-issued
 *                                      ; certificates (not in the trust dir)
 *   [groups]
 *   sensors = dev1, dev2, sensor-17
 *   admins = ops1
 *
 *   [admit]
 *   identities = @sensors, @admins     ; who may complete EDHOC at all
 *
 *   [rule read-sensors]
 *   identities = @sensors
 *   route = sensors                    ; a route name, or:
 *   ; path = /sensors/config           ; a path prefix
 *   methods = GET, FETCH               ; or *
 *   action = allow                     ; or deny (default allow)
 *
 * Every identity named must be known: a credential in the trust store, a
 * static OSCORE context, or listed under [identities] certified.  Every
 * route named must exist.  A request is allowed when, among the rules that
 * name its identity (directly or through a group) and whose prefix matches
 * the path, those with the longest prefix allow its method and none of them
 * denies it.  No such rule: denied.  Admission is separate (acl_admits). */
#ifndef EDHOCD_POLICY_ACL_H
#define EDHOCD_POLICY_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "config/errors.h"
#include "policy/routes.h"

/* CoAP request method codes (RFC 7252, RFC 8132). */
enum acl_method {
	ACL_GET = 1,
	ACL_POST = 2,
	ACL_PUT = 3,
	ACL_DELETE = 4,
	ACL_FETCH = 5,
	ACL_PATCH = 6,
	ACL_IPATCH = 7,
};

#define ACL_NAME_MAX    64 /* rule and group names, NUL included */
#define ACL_RULES_MAX   4096
#define ACL_GROUPS_MAX  1024
#define ACL_MEMBERS_MAX 65536 /* identity references in all lists together */

typedef struct acl acl;

/* Answers "is this identity known?" while the ACL is loaded (trust store,
 * static contexts).  NULL: every identity counts as known. */
typedef bool (*acl_identity_known_fn)(void *ctx, const char *identity);

/* Loads and validates an ACL file.  routes may be NULL (then "route ="
 * references are errors).  All problems go to errs as "file:line: ..."; on
 * any error returns EDHOC_E_INVALID_ARGUMENT and no ACL.  ret_acl is owned
 * by the caller (acl_free). */
int acl_load(const char *path, const routes *routes, acl_identity_known_fn known, void *known_ctx,
             cfg_errors *errs, acl **ret_acl);

/* Same from a string (file is used in error messages only). */
int acl_load_string(const char *text, const char *file, const routes *routes,
                    acl_identity_known_fn known, void *known_ctx, cfg_errors *errs, acl **ret_acl);

/* NULL is a no-op. */
void acl_free(acl *a);

/* 0 when identity may complete EDHOC, EDHOC_E_ACCESS_DENIED otherwise. */
int acl_admits(const acl *a, const char *identity);

/* What decided a request, for logging.  Pointers live as long as the ACL. */
typedef struct acl_match {
	const char *rule;   /* deciding rule name, NULL when no rule applied */
	const char *route;  /* route name of that rule, NULL for "path =" rules */
	const char *prefix; /* prefix of that rule; when no rule decided but
	                       rules for the identity matched the path: their
	                       (longest) prefix; else NULL */
} acl_match;

/* 0 when identity may use method (enum acl_method) on path ("/a/b"),
 * EDHOC_E_ACCESS_DENIED otherwise.  ret_match (may be NULL) says which rule
 * decided. */
int acl_allows(const acl *a, const char *identity, int method, const char *path,
               acl_match *ret_match);

/* Method code by name ("GET", ..., "iPATCH", case-insensitive), -1 if none;
 * and the name of a code ("?" if none). */
int acl_method_from_name(const char *name);
const char *acl_method_name(int method);

size_t acl_rule_count(const acl *a);

#endif
