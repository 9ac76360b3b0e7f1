/* Configuration: edhocd.conf + conf.d overrides, defaults, validation errors
 * with exact file:line, --check-config output, reload that keeps the old
 * object on error, reference counting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/pem.h>

#include "config/config.h"
#include "testutil.h"
#include "trustgen.h"

/* RFC 9529 trace 2: CRED_I (a peer) and SK_R (the gateway's own key). */
static const char CRED_I_HEX[] =
    "a2027734322d35302d33312d46462d45462d33372d33322d333908a101a5010202412b2001215820ac75e9ece3e5"
    "0bfc8ed60399889522405c47bf16df96660a41298cb4307f7eb62258206e5de611388a4b8a8211334ac7d37ecb52"
    "a387d257e6db3c2a93df21ff3affc8";
static const char SK_R_HEX[] = "72cc4761dbd4c78f758931aa589d348d1ef874a7e303ede2f140dcf3e6aa4aac";

static const char MAIN_CONF[] = "# edhocd test configuration\n"                      /* 1 */
                                "[gateway]\n"                                        /* 2 */
                                "listen = 127.0.0.1:5690, [::1]:5691\n"              /* 3 */
                                "credential = gw.ccs\n"                              /* 4 */
                                "methods = 3\n"                                      /* 5 */
                                "suites = 2\n"                                       /* 6 */
                                "trust_dir = trust\n"                                /* 7 */
                                "acl = acl.conf\n"                                   /* 8 */
                                "state_dir = state\n"                                /* 9 */
                                "control_socket = /run/test/ctl.sock\n"              /* 10 */
                                "log_target = stderr\n"                              /* 11 */
                                "disclosure = full\n"                                /* 12 */
                                "\n"                                                 /* 13 */
                                "[limits]\n"                                         /* 14 */
                                "half_open_max = 50\n"                               /* 15 */
                                "message_max = 2048\n"                               /* 16 */
                                "\n"                                                 /* 17 */
                                "[oscore]\n"                                         /* 18 */
                                "replay_window = 32\n"                               /* 19 */
                                "\n"                                                 /* 20 */
                                "[route sensors]\n"                                  /* 21 */
                                "path = /sensors\n"                                  /* 22 */
                                "backend = coap://127.0.0.1:5684/api\n"              /* 23 */
                                "timeout_ms = 1500\n"                                /* 24 */
                                "\n"                                                 /* 25 */
                                "[static legacy]\n"                                  /* 26 */
                                "identity = legacy-1\n"                              /* 27 */
                                "master_secret = 0102030405060708090a0b0c0d0e0f10\n" /* 28 */
                                "master_salt = 9e7ca92223786340\n"                   /* 29 */
                                "sender_id = 01\n"                                   /* 30 */
                                "recipient_id =\n";                                  /* 31 */

static const char CONFD_10[] = "[limits]\n"
                               "half_open_max = 60\n"
                               "[oscore]\n"
                               "replay_window = 16\n";
static const char CONFD_20[] = "[limits]\n"
                               "half_open_max = 70\n"
                               "[route sensors]\n"
                               "timeout_ms = 2500\n"
                               "[gateway]\n"
                               "listen = 127.0.0.1\n";

static const char ACL_CONF[] = "[admit]\n"
                               "identities = 42-50-31-FF-EF-37-32-39, legacy-1\n"
                               "[rule read]\n"
                               "identities = 42-50-31-FF-EF-37-32-39\n"
                               "route = sensors\n"
                               "methods = GET\n";

struct fx {
	char *dir;
	char conf[4096];
};

static void write_own_credential(const char *dir)
{
	size_t sk_len;
	uint8_t *sk = tu_hex(SK_R_HEX, &sk_len);
	crypto_key *k = NULL;
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, sk, sk_len, &k), 0);
	uint8_t ccs[512];
	size_t len;
	const uint8_t kid[] = {0x32};
	assert_int_equal(cose_ccs_build(k, "example.edu", kid, 1, true, ccs, sizeof(ccs), &len), 0);
	tg_write(dir, "gw.ccs", ccs, len, 0600);
	crypto_key_free(k);
	free(sk);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tg_tmpdir();
	snprintf(f->conf, sizeof(f->conf), "%s/edhocd.conf", f->dir);
	tg_write_str(f->dir, "edhocd.conf", MAIN_CONF);
	tg_mkdir(f->dir, "conf.d");
	tg_write_str(f->dir, "conf.d/20-more.conf", CONFD_20);
	tg_write_str(f->dir, "conf.d/10-limits.conf", CONFD_10);
	tg_write_str(f->dir, "conf.d/README", "not a .conf file: ignored\n");
	tg_mkdir(f->dir, "trust");
	size_t n;
	uint8_t *cred_i = tu_hex(CRED_I_HEX, &n);
	tg_write(f->dir, "trust/initiator.ccs", cred_i, n, 0644);
	free(cred_i);
	tg_write_str(f->dir, "acl.conf", ACL_CONF);
	write_own_credential(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tg_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static cfg *load_ok(const char *path)
{
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	int rc = cfg_load(path, &c, &errs);
	if (rc) {
		cfg_errors_print(errs, stderr);
		cfg_errors_free(errs);
		fail_msg("cfg_load failed: %d", rc);
	}
	return c;
}

static void test_main_file_and_confd_overrides(void **state)
{
	struct fx *f = *state;
	cfg *c = load_ok(f->conf);
	const cfg_gateway *g = cfg_gateway_get(c);
	/* 20-more.conf replaced the listen list as a whole */
	assert_int_equal(g->n_listen, 1);
	assert_string_equal(g->listen[0].text, "127.0.0.1:5683");
	assert_int_equal(g->listen[0].addr.ss_family, AF_INET);
	assert_int_equal(g->methods, 1u << 3);
	assert_int_equal(g->n_suites, 1);
	assert_int_equal(g->suites[0], 2);
	char want[4200];
	snprintf(want, sizeof(want), "%s/trust", f->dir);
	assert_string_equal(g->trust_dir, want);
	snprintf(want, sizeof(want), "%s/state", f->dir);
	assert_string_equal(g->state_dir, want);
	assert_string_equal(g->control_socket, "/run/test/ctl.sock");
	assert_int_equal(g->log_target, DIAG_TARGET_STDERR);
	assert_int_equal(g->disclosure, DIAG_DISCLOSE_FULL);

	const cfg_limits *l = cfg_limits_get(c);
	assert_int_equal(l->half_open_max, 70); /* 50, then 60, then 70 */
	assert_int_equal(l->message_max, 2048);
	assert_int_equal(l->sessions_per_identity, 4); /* default */
	assert_int_equal(l->chain_length_max, 3);
	assert_int_equal(cfg_oscore_get(c)->replay_window, 16);
	assert_int_equal(cfg_oscore_get(c)->seq_lease_block, 1000);

	const route *rt = routes_find(cfg_routes(c), "sensors");
	assert_non_null(rt);
	assert_int_equal(rt->timeout_ms, 2500); /* overridden key by key */
	assert_string_equal(rt->base_path, "/api");

	assert_int_equal(cfg_static_count(c), 1);
	const cfg_static *s = cfg_static_by_kid(c, NULL, 0);
	assert_non_null(s);
	assert_string_equal(s->identity, "legacy-1");
	assert_int_equal(s->master_secret_len, 16);
	assert_int_equal(s->master_secret[15], 0x10);
	assert_int_equal(s->master_salt_len, 8);
	assert_int_equal(s->sender_id_len, 1);
	assert_int_equal(s->aead_alg, COSE_ALG_AES_CCM_16_64_128);
	const uint8_t one[] = {0x01};
	assert_null(cfg_static_by_kid(c, one, 1));

	assert_int_equal(trust_count(cfg_trust(c)), 1);
	assert_int_equal(acl_admits(cfg_acl(c), "legacy-1"), 0);
	assert_int_equal(
	    acl_allows(cfg_acl(c), "42-50-31-FF-EF-37-32-39", ACL_GET, "/sensors/x", NULL), 0);
	assert_non_null(cfg_own_cred(c));
	assert_string_equal(cose_cred_sub(cfg_own_cred(c)), "example.edu");
	assert_string_equal(cfg_path(c), f->conf);

	edhoc_config ec;
	cfg_edhoc_responder(c, &ec);
	assert_int_equal(ec.role, EDHOC_RESPONDER);
	assert_int_equal(ec.methods, 1u << 3);
	assert_int_equal(ec.n_suites, 1);
	assert_ptr_equal(ec.lookup_ctx, cfg_trust(c));
	assert_ptr_equal(ec.lookup, trust_lookup);
	assert_non_null(ec.own);
	assert_int_equal(ec.max_message, 2048);
	cfg_unref(c);
}

static void test_defaults_with_minimal_file(void **state)
{
	struct fx *f = *state;
	/* its own directory: no conf.d there */
	tg_mkdir(f->dir, "min");
	tg_write_str(f->dir, "min/edhocd.conf",
	             "[gateway]\ncredential = ../gw.ccs\ntrust_dir = ../trust\nacl = acl.conf\n");
	tg_write_str(f->dir, "min/acl.conf", "[admit]\nidentities = 42-50-31-FF-EF-37-32-39\n");
	char path[4200];
	snprintf(path, sizeof(path), "%s/min/edhocd.conf", f->dir);
	cfg *c = load_ok(path);
	const cfg_gateway *g = cfg_gateway_get(c);
	assert_int_equal(g->n_listen, 1);
	assert_string_equal(g->listen[0].text, "0.0.0.0:5683");
	assert_int_equal(g->methods, 0xf);
	/* default suites: those the P-256 key serves with all four methods */
	assert_true(g->n_suites >= 1);
	assert_int_equal(g->suites[0], 2);
	/* 2, 3 and 5 are the P-256 suites (RFC 9528 §10.2) */
	assert_int_equal(g->n_suites, 3);
	assert_int_equal(g->suites[1], 3);
	assert_int_equal(g->suites[2], 5);
	assert_int_equal(g->disclosure, DIAG_DISCLOSE_CATEGORY);
	assert_int_equal(g->log_target, DIAG_TARGET_AUTO);
	assert_string_equal(g->state_dir, "/var/lib/edhocd");
	assert_int_equal(cfg_oscore_get(c)->session_lifetime_s, 86400);
	cfg_unref(c);
}

static const char BAD_CONF[] = "[gateway]\n"                       /* 1 */
                               "listen = 127.0.0.1:99999, 1.2.3\n" /* 2 */
                               "credential = ../gw.ccs\n"          /* 3 */
                               "trust_dir = ../trust\n"            /* 4 */
                               "acl = acl.conf\n"                  /* 5 */
                               "methods = 0, 7\n"                  /* 6 */
                               "suites = 2, 99\n"                  /* 7 */
                               "disclosure = everything\n"         /* 8 */
                               "log_tagret = stderr\n"             /* 9 */
                               "credential = other.ccs\n"          /* 10 */
                               "[limits]\n"                        /* 11 */
                               "half_open_max = 0\n"               /* 12 */
                               "sessions_max = lots\n"             /* 13 */
                               "  more\n"                          /* 14 */
                               "[oscore]\n"                        /* 15 */
                               "replay_window = 65\n"              /* 16 */
                               "[routes]\n"                        /* 17 */
                               "[route r1]\n"                      /* 18 */
                               "path = /r1\n"                      /* 19 */
                               "[static s1]\n"                     /* 20 */
                               "identity = s-1\n"                  /* 21 */
                               "master_secret = 0102\n"            /* 22 */
                               "sender_id = zz\n"                  /* 23 */
                               "recipient_id = 02\n"               /* 24 */
                               "aead = DES\n"                      /* 25 */
                               "colour = blue\n"                   /* 26 */
                               "no equals sign here\n"             /* 27 */
                               "[static s2]\n"                     /* 28 */
                               "identity = s-2\n";                 /* 29 */

static void test_every_error_has_file_and_line(void **state)
{
	struct fx *f = *state;
	tg_mkdir(f->dir, "bad");
	tg_write_str(f->dir, "bad/edhocd.conf", BAD_CONF);
	tg_write_str(f->dir, "bad/acl.conf", "[admit]\nidentities = s-1\n");
	char path[4200];
	snprintf(path, sizeof(path), "%s/bad/edhocd.conf", f->dir);
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(path, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	assert_null(c);
	assert_non_null(errs);
	const char *want[] = {
	    ":2: listen: '127.0.0.1:99999': port must be 1..65535",
	    ":2: listen: '1.2.3': not an IPv4 address (write IPv6 as [addr]:port)",
	    ":6: methods: '7' is not an EDHOC method 0..3",
	    ":7: suites: cipher suite 99 is not supported",
	    ":8: disclosure = everything: expected none, category or full",
	    ":9: unknown key 'log_tagret' in [gateway]",
	    ":10: credential is already set at line 3",
	    ":12: half_open_max = 0: out of range 1..1000000",
	    ":13: sessions_max = lots: not a number",
	    ":14: continuation line after sessions_max, which is not a list",
	    ":16: replay_window = 65: out of range 1..64",
	    ":17: unknown section [routes] (expected gateway, limits, oscore, route NAME "
	    "or static NAME)",
	    ":22: master_secret: expected 16 to 32 bytes in hex",
	    ":23: sender_id: expected 0 to 16 bytes in hex",
	    ":25: aead = DES: expected AES-CCM-16-64-128, AES-CCM-16-128-128, A128GCM, "
	    "A256GCM or ChaCha20/Poly1305 (or its COSE number)",
	    ":26: unknown key 'colour' in [static s1] (expected identity, master_secret, "
	    "master_salt, sender_id, recipient_id, id_context, aead)",
	    ":27: syntax error (expected [section], key = value or a comment)",
	    ":18: [route r1]: backend is missing",
	    ":28: [static s2]: master_secret is missing",
	    ":28: [static s2]: sender_id is missing",
	    ":28: [static s2]: recipient_id is missing",
	};
	char line[5300];
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(line, sizeof(line), "%s%s", path, want[i]);
		if (!cfg_errors_contains(errs, line)) {
			cfg_errors_print(errs, stderr);
			fail_msg("missing error: %s", line);
		}
	}
	assert_int_equal(cfg_errors_count(errs), sizeof(want) / sizeof(want[0]));
	cfg_errors_free(errs);
}

static void test_errors_in_confd_and_referenced_files(void **state)
{
	struct fx *f = *state;
	tg_write_str(f->dir, "conf.d/30-bad.conf",
	             "[gateway]\n"
	             "trust_dir = /nonexistent/trust\n"
	             "acl = acl-bad.acl\n");
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	char want[4400];
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-bad.conf:2: trust_dir /nonexistent/trust: No such file or directory",
	         f->dir);
	assert_true(cfg_errors_contains(errs, want));
	/* relative paths in conf.d files are relative to conf.d */
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-bad.conf:3: acl %s/conf.d/acl-bad.acl: No such file or directory",
	         f->dir, f->dir);
	assert_true(cfg_errors_contains(errs, want));
	assert_int_equal(cfg_errors_count(errs), 2);
	cfg_errors_free(errs);

	tg_write_str(f->dir, "conf.d/30-bad.conf", "[gateway]\nacl = acl-bad.acl\n");
	tg_write_str(f->dir, "conf.d/acl-bad.acl", "[admit]\nidentities = nobody\n");
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/acl-bad.acl:2: unknown identity 'nobody' (not in the trust store, "
	         "not a static context, not under [identities] certified)",
	         f->dir);
	if (!cfg_errors_contains(errs, want) || cfg_errors_count(errs) != 1)
		cfg_errors_print(errs, stderr);
	assert_true(cfg_errors_contains(errs, want));
	assert_int_equal(cfg_errors_count(errs), 1);
	cfg_errors_free(errs);
}

static void test_credential_problems(void **state)
{
	struct fx *f = *state;
	tg_write_str(f->dir, "conf.d/30-cred.conf", "[gateway]\ncredential = ../missing.ccs\n");
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(cfg_errors_count(errs), 1);
	char prefix[4400];
	snprintf(prefix, sizeof(prefix), "%s/conf.d/30-cred.conf:2: credential: ", f->dir);
	assert_memory_equal(cfg_errors_get(errs, 0), prefix, strlen(prefix));
	cfg_errors_free(errs);

	/* both forms at once */
	tg_write_str(f->dir, "conf.d/30-cred.conf",
	             "[gateway]\ncertificate = gw.pem\nprivate_key = gw.key\n");
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	char want[4400];
	snprintf(want, sizeof(want),
	         "%s/edhocd.conf:4: give either credential or certificate + private_key, not both",
	         f->dir);
	assert_true(cfg_errors_contains(errs, want));
	cfg_errors_free(errs);

	/* the P-256 key cannot serve suite 0 (X25519/EdDSA) */
	tg_write_str(f->dir, "conf.d/30-cred.conf", "[gateway]\nsuites = 2, 0\n");
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-cred.conf:2: suites: the credential's P-256 key cannot serve "
	         "suite 0 with the configured methods",
	         f->dir);
	if (!cfg_errors_contains(errs, want))
		cfg_errors_print(errs, stderr);
	assert_true(cfg_errors_contains(errs, want));
	cfg_errors_free(errs);
}

static void test_certificate_and_private_key_as_own_credential(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = tg_key("P-256");
	X509 *x = tg_cert(k, "gateway-cert", 7, -3600, 86400, NULL, NULL, false);
	tg_write_cert(f->dir, "conf.d/gw.pem", x);
	char path[4400];
	snprintf(path, sizeof(path), "%s/conf.d/gw.key", f->dir);
	FILE *kf = fopen(path, "w");
	assert_non_null(kf);
	assert_int_equal(PEM_write_PrivateKey(kf, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(kf);
	assert_int_equal(chmod(path, 0600), 0);
	/* the main file's credential is replaced, not combined */
	tg_write_str(f->dir, "conf.d/30-cert.conf",
	             "[gateway]\ncertificate = gw.pem\nprivate_key = gw.key\n");
	char *text = strdup(MAIN_CONF);
	char *cl = strstr(text, "credential = gw.ccs\n");
	memcpy(cl, "#", 1);
	tg_write_str(f->dir, "edhocd.conf", text);
	free(text);
	cfg *c = load_ok(f->conf);
	assert_int_equal(cose_cred_type(cfg_own_cred(c)), EDHOC_CRED_X509);
	assert_string_equal(cose_cred_identity(cfg_own_cred(c)), "gateway-cert");
	assert_true(crypto_key_has_private(cose_cred_key(cfg_own_cred(c))));
	cfg_unref(c);

	/* a private key readable by others is refused */
	assert_int_equal(chmod(path, 0644), 0);
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(cfg_errors_count(errs), 1);
	char prefix[4400];
	snprintf(prefix, sizeof(prefix), "%s/conf.d/30-cert.conf:2: certificate: ", f->dir);
	assert_memory_equal(cfg_errors_get(errs, 0), prefix, strlen(prefix));
	assert_non_null(strstr(cfg_errors_get(errs, 0), "chmod 600"));
	cfg_errors_free(errs);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* conf.d/gw.pem: a certificate issued by a CA, followed by the CA
 * certificate (its chain), and conf.d/gw.key; returns the DERs. */
static void write_gateway_chain(struct fx *f, uint8_t **ret_leaf, size_t *ret_leaf_len,
                                uint8_t **ret_ca, size_t *ret_ca_len)
{
	EVP_PKEY *ca_key = tg_key("P-256"), *k = tg_key("P-256");
	X509 *ca = tg_cert(ca_key, "gw-root", 1, -3600, 86400, NULL, NULL, true);
	X509 *x = tg_cert(k, "gw-chained", 8, -3600, 86400, ca, ca_key, false);
	char path[4400];
	snprintf(path, sizeof(path), "%s/conf.d/gw.pem", f->dir);
	FILE *cf = fopen(path, "w");
	assert_non_null(cf);
	assert_int_equal(PEM_write_X509(cf, x), 1);
	assert_int_equal(PEM_write_X509(cf, ca), 1);
	fclose(cf);
	snprintf(path, sizeof(path), "%s/conf.d/gw.key", f->dir);
	FILE *kf = fopen(path, "w");
	assert_non_null(kf);
	assert_int_equal(PEM_write_PrivateKey(kf, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(kf);
	assert_int_equal(chmod(path, 0600), 0);
	*ret_leaf = tg_der(x, ret_leaf_len);
	*ret_ca = tg_der(ca, ret_ca_len);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ca_key);
}

/* Main file with its credential line commented out, so conf.d decides. */
static void drop_main_credential(struct fx *f)
{
	char *text = strdup(MAIN_CONF);
	memcpy(strstr(text, "credential = gw.ccs\n"), "#", 1);
	tg_write_str(f->dir, "edhocd.conf", text);
	free(text);
}

static void assert_own_id_cred(const cfg *c, const uint8_t *want, size_t want_len)
{
	size_t len = 0;
	const uint8_t *got = cose_cred_id_cred(cfg_own_cred(c), &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);
	/* the responder sends exactly this */
	edhoc_config ec;
	cfg_edhoc_responder(c, &ec);
	assert_int_equal(ec.own->id_cred_len, want_len);
	assert_memory_equal(ec.own->id_cred, want, want_len);
}

/* [gateway] id_cred picks how ID_CRED_R designates the gateway's own
 * credential: a certificate's chain can travel by value (x5chain), which a
 * device that knows only the CA needs, instead of the x5t default. */
static void test_gateway_id_cred_picks_id_cred_r(void **state)
{
	struct fx *f = *state;
	uint8_t *leaf, *ca;
	size_t leaf_len, ca_len;
	write_gateway_chain(f, &leaf, &leaf_len, &ca, &ca_len);
	drop_main_credential(f);
	const char *cert_lines = "[gateway]\ncertificate = gw.pem\nprivate_key = gw.key\n";
	char conf[512], want[4400];
	uint8_t map[4096];
	size_t map_len;

	/* default: x5t (SHA-256/64) of the end-entity certificate */
	tg_write_str(f->dir, "conf.d/30-cert.conf", cert_lines);
	cfg *c = load_ok(f->conf);
	assert_int_equal(cose_cred_id_label(cfg_own_cred(c)), EDHOC_ID_CRED_X5T);
	assert_int_equal(
	    cose_id_cred_x5t(COSE_ALG_SHA_256_64, leaf, leaf_len, map, sizeof(map), &map_len), 0);
	assert_own_id_cred(c, map, map_len);
	cfg_unref(c);

	/* x5chain: {33: [leaf, CA]}, byte for byte */
	snprintf(conf, sizeof(conf), "%sid_cred = x5chain\n", cert_lines);
	tg_write_str(f->dir, "conf.d/30-cert.conf", conf);
	c = load_ok(f->conf);
	const uint8_t *ders[2] = {leaf, ca};
	size_t lens[2] = {leaf_len, ca_len};
	assert_int_equal(
	    cose_id_cred_certs(EDHOC_ID_CRED_X5CHAIN, ders, lens, 2, map, sizeof(map), &map_len),
	    0);
	assert_own_id_cred(c, map, map_len);
	assert_int_equal(cose_cred_n_certs(cfg_own_cred(c)), 2);
	cfg_unref(c);

	/* a CCS label for a certificate is an error on the id_cred line */
	cfg_errors *errs = NULL;
	snprintf(conf, sizeof(conf), "%sid_cred = kid\n", cert_lines);
	tg_write_str(f->dir, "conf.d/30-cert.conf", conf);
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-cert.conf:4: id_cred = kid: the gateway's credential is an X.509 "
	         "certificate, identified by x5t, x5chain or x5bag",
	         f->dir);
	assert_int_equal(cfg_errors_count(errs), 1);
	assert_string_equal(cfg_errors_get(errs, 0), want);
	cfg_errors_free(errs);

	/* an unknown value */
	snprintf(conf, sizeof(conf), "%sid_cred = x5u\n", cert_lines);
	tg_write_str(f->dir, "conf.d/30-cert.conf", conf);
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-cert.conf:4: id_cred = x5u: expected x5t, x5chain, x5bag, kid or "
	         "kccs",
	         f->dir);
	assert_true(cfg_errors_contains(errs, want));
	cfg_errors_free(errs);

	/* the chain by value must leave room for the rest of message_2 */
	snprintf(conf, sizeof(conf), "%sid_cred = x5chain\n[limits]\nmessage_max = 256\n",
	         cert_lines);
	tg_write_str(f->dir, "conf.d/30-cert.conf", conf);
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-cert.conf:4: id_cred = x5chain: ID_CRED_R is %zu bytes, so "
	         "message_2 would exceed message_max 256; use x5t or raise message_max",
	         f->dir, map_len);
	if (!cfg_errors_contains(errs, want))
		cfg_errors_print(errs, stderr);
	assert_true(cfg_errors_contains(errs, want));
	cfg_errors_free(errs);
	free(leaf);
	free(ca);
}

/* The same key for a CCS: kid by default, kccs on request, no X.509
 * label. */
static void test_gateway_id_cred_for_a_ccs(void **state)
{
	struct fx *f = *state;
	char want[4400];
	uint8_t map[1024];
	size_t map_len, ccs_len;

	cfg *c = load_ok(f->conf);
	const uint8_t kid[] = {0x32};
	assert_int_equal(cose_id_cred_kid(kid, 1, map, sizeof(map), &map_len), 0);
	assert_own_id_cred(c, map, map_len);
	cfg_unref(c);

	tg_write_str(f->dir, "conf.d/30-id.conf", "[gateway]\nid_cred = kccs\n");
	c = load_ok(f->conf);
	const uint8_t *ccs = cose_cred_bytes(cfg_own_cred(c), &ccs_len);
	assert_int_equal(cose_id_cred_kccs(ccs, ccs_len, map, sizeof(map), &map_len), 0);
	assert_own_id_cred(c, map, map_len);
	cfg_unref(c);

	cfg_errors *errs = NULL;
	tg_write_str(f->dir, "conf.d/30-id.conf", "[gateway]\nid_cred = x5chain\n");
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-id.conf:2: id_cred = x5chain: the gateway's credential is a CCS, "
	         "identified by kid or kccs",
	         f->dir);
	assert_int_equal(cfg_errors_count(errs), 1);
	assert_string_equal(cfg_errors_get(errs, 0), want);
	cfg_errors_free(errs);
}

static void test_check_config_prints_and_returns_status(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(cfg_check(f->conf, out), 0);
	fflush(out);
	char want[4400];
	snprintf(want, sizeof(want),
	         "%s: configuration OK (1 listen addresses, 1 trusted credentials, 0 CA "
	         "certificates, 1 routes, 1 ACL rules, 1 static contexts)\n",
	         f->conf);
	assert_string_equal(buf, want);
	fclose(out);
	free(buf);

	tg_write_str(f->dir, "conf.d/30-bad.conf", "[oscore]\nreplay_window = 0\n");
	buf = NULL;
	out = open_memstream(&buf, &len);
	assert_int_equal(cfg_check(f->conf, out), 1);
	fflush(out);
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-bad.conf:2: replay_window = 0: out of range 1..64\n", f->dir);
	assert_string_equal(buf, want);
	fclose(out);
	free(buf);

	buf = NULL;
	out = open_memstream(&buf, &len);
	assert_int_equal(cfg_check("/nonexistent/edhocd.conf", out), 1);
	fflush(out);
	assert_string_equal(buf, "/nonexistent/edhocd.conf: cannot open: No such file or "
	                         "directory\n");
	fclose(out);
	free(buf);
}

static void test_reload_keeps_old_config_on_error(void **state)
{
	struct fx *f = *state;
	cfg *cur = load_ok(f->conf);
	cfg *held = cfg_ref(cur); /* e.g. a session still using it */
	assert_int_equal(cfg_limits_get(cur)->half_open_max, 70);

	tg_write_str(f->dir, "conf.d/30-reload.conf", "[limits]\nhalf_open_max = -5\n");
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_reload(&cur, f->conf, &errs), EDHOC_E_INVALID_ARGUMENT);
	assert_ptr_equal(cur, held);
	assert_int_equal(cfg_limits_get(cur)->half_open_max, 70);
	char want[4400];
	snprintf(want, sizeof(want), "%s/conf.d/30-reload.conf:2: half_open_max = -5: not a number",
	         f->dir);
	assert_string_equal(cfg_errors_get(errs, 0), want);
	cfg_errors_free(errs);

	tg_write_str(f->dir, "conf.d/30-reload.conf", "[limits]\nhalf_open_max = 80\n");
	errs = NULL;
	assert_int_equal(cfg_reload(&cur, f->conf, &errs), 0);
	assert_null(errs);
	assert_ptr_not_equal(cur, held);
	assert_int_equal(cfg_limits_get(cur)->half_open_max, 80);
	/* the old object lives on for its other holder */
	assert_int_equal(cfg_limits_get(held)->half_open_max, 70);
	assert_int_equal(trust_count(cfg_trust(held)), 1);
	cfg_unref(held);
	cfg_unref(cur);
	cfg_unref(NULL);
}

static void test_long_line_is_an_error_not_split(void **state)
{
	struct fx *f = *state;
	char text[600];
	char value[300];
	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text), "[gateway]\nstate_dir = /%s\n", value);
	tg_write_str(f->dir, "conf.d/30-long.conf", text);
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	char want[4400];
	snprintf(want, sizeof(want),
	         "%s/conf.d/30-long.conf:2: line is longer than 198 characters (use continuation "
	         "lines for long lists)",
	         f->dir);
	assert_string_equal(cfg_errors_get(errs, 0), want);
	assert_int_equal(cfg_errors_count(errs), 1);
	cfg_errors_free(errs);
}

static void test_error_list_is_bounded(void **state)
{
	struct fx *f = *state;
	char *text = malloc(200 * 32);
	size_t off = (size_t)sprintf(text, "[limits]\n");
	for (int i = 0; i < 150; i++)
		off += (size_t)sprintf(text + off, "bogus%d = 1\n", i);
	tg_write_str(f->dir, "conf.d/30-many.conf", text);
	free(text);
	cfg *c = NULL;
	cfg_errors *errs = NULL;
	assert_int_equal(cfg_load(f->conf, &c, &errs), EDHOC_E_INVALID_ARGUMENT);
	assert_int_equal(cfg_errors_count(errs), CFG_ERRORS_MAX);
	assert_int_equal(cfg_errors_dropped(errs), 50);
	cfg_errors_free(errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_main_file_and_confd_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults_with_minimal_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_error_has_file_and_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_in_confd_and_referenced_files, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_credential_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certificate_and_private_key_as_own_credential,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_config_prints_and_returns_status, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_old_config_on_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_is_an_error_not_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_list_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_id_cred_picks_id_cred_r, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_id_cred_for_a_ccs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
