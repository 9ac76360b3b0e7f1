/* ACL (admission, per-route rules, groups, methods, longest prefix, deny)
 * and routes (longest-prefix match, backend URIs, validation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "config/errors.h"
#include "edhoc/result.h"
#include "policy/acl.h"
#include "policy/routes.h"

static bool known(void *ctx, const char *id)
{
	static const char *const ids[] = {"dev1", "dev2", "dev3", "ops1"};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

static routes *make_routes(void)
{
	routes *r = routes_new();
	assert_non_null(r);
	assert_int_equal(
	    routes_add(r, "sensors", "/sensors", "coap://127.0.0.1:5684/api", 2000, NULL, "t", 1),
	    0);
	assert_int_equal(
	    routes_add(r, "admin", "/sensors/admin", "coap://[::1]/adm", 1000, NULL, "t", 2), 0);
	assert_int_equal(routes_add(r, "all", "/", "coap://127.0.0.1", 1000, NULL, "t", 3), 0);
	return r;
}

static const char ACL_TEXT[] = "[identities]\n"
                               "certified = sensor-17\n"
                               "\n"
                               "[groups]\n"
                               "sensors = dev1, dev2,\n"
                               "  sensor-17\n"
                               "admins = ops1\n"
                               "\n"
                               "[admit]\n"
                               "identities = @sensors @admins\n"
                               "\n"
                               "[rule read-sensors]\n"
                               "identities = @sensors\n"
                               "route = sensors\n"
                               "methods = GET, FETCH\n"
                               "\n"
                               "[rule ops-everything]\n"
                               "identities = @admins\n"
                               "path = /\n"
                               "methods = *\n"
                               "\n"
                               "[rule dev1-config]\n"
                               "identities = dev1\n"
                               "path = /sensors/config\n"
                               "methods = PUT, iPATCH\n"
                               "\n"
                               "[rule no-admin-for-ops]\n"
                               "identities = ops1\n"
                               "route = admin\n"
                               "methods = DELETE\n"
                               "action = deny\n";

struct fx {
	routes *r;
	acl *a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->r = make_routes();
	cfg_errors *errs = cfg_errors_new();
	int rc = acl_load_string(ACL_TEXT, "acl.conf", f->r, known, NULL, errs, &f->a);
	if (rc)
		cfg_errors_print(errs, stderr);
	assert_int_equal(rc, 0);
	cfg_errors_free(errs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	acl_free(f->a);
	routes_free(f->r);
	free(f);
	return 0;
}

static void test_admission_list_expands_groups(void **state)
{
	struct fx *f = *state;
	assert_int_equal(acl_admits(f->a, "dev1"), 0);
	assert_int_equal(acl_admits(f->a, "sensor-17"), 0);
	assert_int_equal(acl_admits(f->a, "ops1"), 0);
	assert_int_equal(acl_admits(f->a, "dev3"), EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_admits(f->a, ""), EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_admits(f->a, NULL), EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_rule_count(f->a), 4);
}

static void test_rule_allows_listed_methods_on_route(void **state)
{
	struct fx *f = *state;
	acl_match m;
	assert_int_equal(acl_allows(f->a, "dev2", ACL_GET, "/sensors/t1", &m), 0);
	assert_string_equal(m.rule, "read-sensors");
	assert_string_equal(m.route, "sensors");
	assert_string_equal(m.prefix, "/sensors");
	assert_int_equal(acl_allows(f->a, "sensor-17", ACL_FETCH, "/sensors", &m), 0);
	assert_int_equal(acl_allows(f->a, "dev2", ACL_POST, "/sensors/t1", &m),
	                 EDHOC_E_ACCESS_DENIED);
	assert_string_equal(m.prefix, "/sensors");
	assert_null(m.rule); /* a rule applied but none allowed POST */
}

static void test_default_is_deny(void **state)
{
	struct fx *f = *state;
	acl_match m;
	/* no rule for dev3 at all, nor for any path outside /sensors for dev2 */
	assert_int_equal(acl_allows(f->a, "dev3", ACL_GET, "/sensors/t1", &m),
	                 EDHOC_E_ACCESS_DENIED);
	assert_null(m.rule);
	assert_null(m.prefix);
	assert_int_equal(acl_allows(f->a, "dev2", ACL_GET, "/other", NULL), EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_allows(f->a, "unknown", ACL_GET, "/sensors", NULL),
	                 EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_allows(f->a, "dev2", 0, "/sensors", NULL), EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_allows(f->a, "dev2", ACL_GET, "sensors", NULL), EDHOC_E_ACCESS_DENIED);
}

static void test_prefix_matches_on_segment_boundary(void **state)
{
	struct fx *f = *state;
	assert_int_equal(acl_allows(f->a, "dev1", ACL_GET, "/sensorsX", NULL),
	                 EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_allows(f->a, "dev1", ACL_GET, "/sensors/a/b/c", NULL), 0);
}

static void test_longest_prefix_rule_decides(void **state)
{
	struct fx *f = *state;
	acl_match m;
	/* /sensors/config: dev1's own rule is more specific than read-sensors */
	assert_int_equal(acl_allows(f->a, "dev1", ACL_PUT, "/sensors/config", &m), 0);
	assert_string_equal(m.rule, "dev1-config");
	assert_null(m.route);
	assert_int_equal(acl_allows(f->a, "dev1", ACL_IPATCH, "/sensors/config/x", NULL), 0);
	/* ... so it also takes GET away from dev1 there */
	assert_int_equal(acl_allows(f->a, "dev1", ACL_GET, "/sensors/config", NULL),
	                 EDHOC_E_ACCESS_DENIED);
	/* while dev2 still reads it through the broader rule */
	assert_int_equal(acl_allows(f->a, "dev2", ACL_GET, "/sensors/config", &m), 0);
	assert_string_equal(m.rule, "read-sensors");
}

static void test_wildcard_methods_and_deny_rule(void **state)
{
	struct fx *f = *state;
	acl_match m;
	assert_int_equal(acl_allows(f->a, "ops1", ACL_DELETE, "/anything/at/all", &m), 0);
	assert_string_equal(m.rule, "ops-everything");
	assert_int_equal(acl_allows(f->a, "ops1", ACL_PATCH, "/", NULL), 0);
	/* the deny rule on the admin route only blocks DELETE ... */
	assert_int_equal(acl_allows(f->a, "ops1", ACL_DELETE, "/sensors/admin/x", &m),
	                 EDHOC_E_ACCESS_DENIED);
	assert_string_equal(m.rule, "no-admin-for-ops");
	/* ... and being the longest prefix it leaves no other method either */
	assert_int_equal(acl_allows(f->a, "ops1", ACL_GET, "/sensors/admin", NULL),
	                 EDHOC_E_ACCESS_DENIED);
	assert_int_equal(acl_allows(f->a, "ops1", ACL_GET, "/sensors/t", NULL), 0);
}

static void test_method_names(void **state)
{
	assert_int_equal(acl_method_from_name("GET"), ACL_GET);
	assert_int_equal(acl_method_from_name("ipatch"), ACL_IPATCH);
	assert_int_equal(acl_method_from_name("FETCH"), ACL_FETCH);
	assert_int_equal(acl_method_from_name("HEAD"), -1);
	assert_string_equal(acl_method_name(ACL_IPATCH), "iPATCH");
	assert_string_equal(acl_method_name(9), "?");
}

static const char BAD_ACL[] = "[groups]\n"              /* 1 */
                              "sensors = dev1, devX\n"  /* 2 */
                              "nested = @sensors\n"     /* 3 */
                              "[admit]\n"               /* 4 */
                              "identities = @nosuch\n"  /* 5 */
                              "whom = dev1\n"           /* 6 */
                              "[rule r1]\n"             /* 7 */
                              "identities = dev2\n"     /* 8 */
                              "route = missing\n"       /* 9 */
                              "methods = GET, HEAD\n"   /* 10 */
                              "[rule r2]\n"             /* 11 */
                              "identities = dev2\n"     /* 12 */
                              "[rule r1]\n"             /* 13 */
                              "[acls]\n"                /* 14 */
                              "[rule r3]\n"             /* 15 */
                              "identities = dev2\n"     /* 16 */
                              "path = /a/\n"            /* 17 */
                              "methods = GET\n"         /* 18 */
                              "action = maybe\n"        /* 19 */
                              "this line is not ini\n"; /* 20 */

static void test_errors_name_file_and_line(void **state)
{
	struct fx *f = *state;
	cfg_errors *errs = cfg_errors_new();
	acl *a = NULL;
	assert_int_equal(acl_load_string(BAD_ACL, "acl.conf", f->r, known, NULL, errs, &a),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_null(a);
	static const char *const want[] = {
	    "acl.conf:2: unknown identity 'devX' (not in the trust store, not a static "
	    "context, not under [identities] certified)",
	    "acl.conf:3: groups cannot contain groups (@sensors)",
	    "acl.conf:5: unknown group 'nosuch'",
	    "acl.conf:6: unknown key 'whom' in [admit] (expected identities)",
	    "acl.conf:9: rule r1: unknown route 'missing'",
	    "acl.conf:10: unknown method 'HEAD' (GET, POST, PUT, DELETE, FETCH, PATCH, "
	    "iPATCH or *)",
	    "acl.conf:11: rule r2: methods is missing",
	    "acl.conf:11: rule r2: route or path is missing",
	    "acl.conf:13: rule r1 is already defined at line 7",
	    "acl.conf:14: unknown section [acls] (expected identities, groups, admit or "
	    "rule NAME)",
	    "acl.conf:17: rule r3: path '/a/' must start with '/' and have no empty segment "
	    "or trailing '/'",
	    "acl.conf:19: rule r3: action must be allow or deny, not 'maybe'",
	    "acl.conf:20: syntax error (expected [section], key = value or a comment)",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!cfg_errors_contains(errs, want[i])) {
			cfg_errors_print(errs, stderr);
			fail_msg("missing error: %s", want[i]);
		}
	}
	assert_int_equal(cfg_errors_count(errs), sizeof(want) / sizeof(want[0]));
	cfg_errors_free(errs);
}

static void test_acl_file_errors(void **state)
{
	cfg_errors *errs = cfg_errors_new();
	acl *a = NULL;
	assert_int_equal(acl_load("/nonexistent/acl.conf", NULL, NULL, NULL, errs, &a),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_string_equal(cfg_errors_get(errs, 0),
	                    "/nonexistent/acl.conf: cannot open: No such file or directory");
	cfg_errors_free(errs);
	acl_free(NULL);
}

static void test_routes_longest_prefix(void **state)
{
	struct fx *f = *state;
	assert_string_equal(routes_match(f->r, "/sensors/t1")->name, "sensors");
	assert_string_equal(routes_match(f->r, "/sensors")->name, "sensors");
	assert_string_equal(routes_match(f->r, "/sensors/admin/x")->name, "admin");
	assert_string_equal(routes_match(f->r, "/sensorsX")->name, "all");
	assert_string_equal(routes_match(f->r, "/")->name, "all");
	assert_null(routes_match(f->r, "relative"));
	assert_int_equal(routes_count(f->r), 3);
	assert_string_equal(routes_at(f->r, 0)->prefix, "/");
	assert_string_equal(routes_find(f->r, "admin")->prefix, "/sensors/admin");

	const route *rt = routes_find(f->r, "sensors");
	assert_string_equal(rt->host, "127.0.0.1");
	assert_int_equal(rt->port, 5684);
	assert_string_equal(rt->base_path, "/api");
	assert_int_equal(rt->timeout_ms, 2000);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&rt->addr;
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 5684);
	const route *adm = routes_find(f->r, "admin");
	assert_string_equal(adm->host, "::1");
	assert_int_equal(adm->port, 5683);
	assert_int_equal(adm->addr.ss_family, AF_INET6);

	routes *empty = routes_new();
	assert_null(routes_match(empty, "/x"));
	routes_free(empty);
}

static void test_backend_path_mapping(void **state)
{
	struct fx *f = *state;
	char out[64];
	const route *rt = routes_find(f->r, "sensors");
	assert_int_equal(route_backend_path(rt, "/sensors/t1", out, sizeof(out)), 0);
	assert_string_equal(out, "/api/t1");
	assert_int_equal(route_backend_path(rt, "/sensors", out, sizeof(out)), 0);
	assert_string_equal(out, "/api");
	assert_int_equal(route_backend_path(rt, "/other", out, sizeof(out)),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(route_backend_path(rt, "/sensors/t1", out, 5), EDHOC_E_BUFFER_TOO_SMALL);
	const route *all = routes_find(f->r, "all");
	assert_int_equal(route_backend_path(all, "/x/y", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
	assert_int_equal(route_backend_path(all, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
}

static void test_route_validation_errors(void **state)
{
	routes *r = routes_new();
	cfg_errors *e = cfg_errors_new();
	assert_int_equal(routes_add(r, "a", "/a", "coap://127.0.0.1", 10, e, "f", 1), 0);
	assert_int_equal(routes_add(r, "b", "a", "coap://127.0.0.1", 10, e, "f", 2),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "c", "/c/", "coap://127.0.0.1", 10, e, "f", 3),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "d", "/d/../e", "coap://127.0.0.1", 10, e, "f", 4),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "e", "/e", "http://127.0.0.1", 10, e, "f", 5),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "f", "/f", "coap://127.0.0.1:0", 10, e, "f", 6),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "g", "/g", "coap://127.0.0.1/x?q=1", 10, e, "f", 7),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "a", "/z", "coap://127.0.0.1", 10, e, "f", 8),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "h", "/a", "coap://127.0.0.1", 10, e, "f", 9),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "i", "/i", "coap://127.0.0.1", 0, e, "f", 10),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "bad name", "/j", "coap://127.0.0.1", 10, e, "f", 11),
	                 EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(routes_add(r, "k", "/k", "coap://[::1", 10, e, "f", 12),
	                 EDHOC_E_INVALID_ARGUMENT);
	static const char *const want[] = {
	    "f:2: route b: path 'a' must start with '/'",
	    "f:3: route c: path '/c/' must not end with '/'",
	    "f:4: route d: path '/d/../e' has a '.' or '..' segment",
	    "f:5: route e: backend 'http://127.0.0.1': scheme must be coap://",
	    "f:6: route f: backend 'coap://127.0.0.1:0': port out of range 1..65535",
	    "f:7: route g: backend 'coap://127.0.0.1/x?q=1': unexpected character after "
	    "host/port (query and fragment are not allowed)",
	    "f:8: route a: defined twice",
	    "f:9: route h: path /a is already route a",
	    "f:10: route i: timeout_ms 0 out of range 1..600000",
	    "f:11: route name 'bad name' must be 1-63 of [A-Za-z0-9_.-]",
	    "f:12: route k: backend 'coap://[::1': IPv6 literal lacks ']'",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(cfg_errors_get(e, i), want[i]);
	assert_int_equal(cfg_errors_count(e), sizeof(want) / sizeof(want[0]));
	assert_int_equal(routes_count(r), 1);
	cfg_errors_free(e);
	routes_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_admission_list_expands_groups),
	    cmocka_unit_test(test_rule_allows_listed_methods_on_route),
	    cmocka_unit_test(test_default_is_deny),
	    cmocka_unit_test(test_prefix_matches_on_segment_boundary),
	    cmocka_unit_test(test_longest_prefix_rule_decides),
	    cmocka_unit_test(test_wildcard_methods_and_deny_rule),
	    cmocka_unit_test(test_method_names),
	    cmocka_unit_test(test_errors_name_file_and_line),
	    cmocka_unit_test(test_acl_file_errors),
	    cmocka_unit_test(test_routes_longest_prefix),
	    cmocka_unit_test(test_backend_path_mapping),
	    cmocka_unit_test(test_route_validation_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
