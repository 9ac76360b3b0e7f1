/* Trust store: loading a trust directory and looking credentials up by kid,
 * x5t, x5chain and kccs, with certificate validation (expiry, CRL, chain
 * length, unknown CA). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config/errors.h"
#include "edhoc/cred.h"
#include "policy/trust.h"
#include "testutil.h"
#include "trustgen.h"

/* RFC 9529 trace 2 credentials (CCS, P-256). */
static const char CRED_I_HEX[] =
    "a2027734322d35302d33312d46462d45462d33372d33322d333908a101a5010202412b2001215820ac75e9ece3e5"
    "0bfc8ed60399889522405c47bf16df96660a41298cb4307f7eb62258206e5de611388a4b8a8211334ac7d37ecb52"
    "a387d257e6db3c2a93df21ff3affc8";
static const char CRED_R_HEX[] =
    "a2026b6578616d706c652e65647508a101a501020241322001215820bbc34960526ea4d32e940cad2a234148ddc2"
    "1791a12afbcbac93622046dd44f02258204519e257236b2a0ce2023f0931f1f386ca7afda64fcde0108c224c51ea"
    "bf6072";

struct fx {
	char *dir_a; /* root CA + CRL, pinned certs, CCS */
	char *dir_b; /* root CA, chains through intermediates */
	trust_store *a;
	trust_store *b;
	EVP_PKEY *root_key, *other_key, *dev_key, *int1_key, *int2_key;
	X509 *root, *other_root, *int1, *int2;
	X509 *pinned, *pinned_expired;
	X509 *good, *expired, *revoked, *stray, *deep, *shallow;
	uint8_t *cred_i, *cred_r;
	size_t cred_i_len, cred_r_len;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->cred_i = tu_hex(CRED_I_HEX, &f->cred_i_len);
	f->cred_r = tu_hex(CRED_R_HEX, &f->cred_r_len);
	f->root_key = tg_key("P-256");
	f->other_key = tg_key("P-256");
	f->dev_key = tg_key("P-256");
	f->int1_key = tg_key("P-256");
	f->int2_key = tg_key("P-256");
	const long day = 86400;
	f->root = tg_cert(f->root_key, "Test Root", 1, -day, 365 * day, NULL, NULL, true);
	f->other_root = tg_cert(f->other_key, "Other Root", 1, -day, 365 * day, NULL, NULL, true);
	f->int1 = tg_cert(f->int1_key, "Int One", 2, -day, 365 * day, f->root, f->root_key, true);
	f->int2 = tg_cert(f->int2_key, "Int Two", 3, -day, 365 * day, f->int1, f->int1_key, true);
	f->pinned = tg_cert(f->dev_key, "pinned-1", 5, -day, 30 * day, NULL, NULL, false);
	f->pinned_expired = tg_cert(f->dev_key, "old-1", 6, -2 * day, -day, NULL, NULL, false);
	f->good = tg_cert(f->dev_key, "sensor-17", 10, -day, 30 * day, f->root, f->root_key, false);
	f->expired =
	    tg_cert(f->dev_key, "sensor-18", 11, -3 * day, -day, f->root, f->root_key, false);
	f->revoked =
	    tg_cert(f->dev_key, "sensor-66", 66, -day, 30 * day, f->root, f->root_key, false);
	f->stray =
	    tg_cert(f->dev_key, "stray-1", 12, -day, 30 * day, f->other_root, f->other_key, false);
	f->deep = tg_cert(f->dev_key, "deep-1", 20, -day, 30 * day, f->int2, f->int2_key, false);
	f->shallow =
	    tg_cert(f->dev_key, "shallow-1", 21, -day, 30 * day, f->int1, f->int1_key, false);

	f->dir_a = tg_tmpdir();
	tg_mkdir(f->dir_a, "ca");
	tg_write_cert(f->dir_a, "ca/root.pem", f->root);
	long revoked_serials[] = {66};
	X509_CRL *crl = tg_crl(f->root, f->root_key, revoked_serials, 1);
	tg_write_crl(f->dir_a, "ca/root.crl", crl);
	X509_CRL_free(crl);
	tg_write_cert(f->dir_a, "pinned.pem", f->pinned);
	tg_write_cert(f->dir_a, "old.crt", f->pinned_expired);
	tg_write(f->dir_a, "initiator.ccs", f->cred_i, f->cred_i_len, 0644);
	tg_write(f->dir_a, "r.ccs", f->cred_r, f->cred_r_len, 0644);
	tg_write_str(f->dir_a, "names", "# name the trace-2 responder\nr.ccs = responder\n");

	f->dir_b = tg_tmpdir();
	tg_mkdir(f->dir_b, "ca");
	tg_write_cert(f->dir_b, "ca/root.pem", f->root);

	cfg_errors *errs = cfg_errors_new();
	int rc = trust_load(f->dir_a, NULL, errs, &f->a);
	if (rc != 0)
		cfg_errors_print(errs, stderr);
	assert_int_equal(rc, 0);
	rc = trust_load(f->dir_b, NULL, errs, &f->b);
	assert_int_equal(rc, 0);
	cfg_errors_free(errs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	trust_free(f->a);
	trust_free(f->b);
	tg_rm_rf(f->dir_a);
	tg_rm_rf(f->dir_b);
	free(f->dir_a);
	free(f->dir_b);
	X509 *certs[] = {f->root, f->other_root, f->int1,    f->int2,  f->pinned, f->pinned_expired,
	                 f->good, f->expired,    f->revoked, f->stray, f->deep,   f->shallow};
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	EVP_PKEY *keys[] = {f->root_key, f->other_key, f->dev_key, f->int1_key, f->int2_key};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	free(f->cred_i);
	free(f->cred_r);
	free(f);
	return 0;
}

/* An ID_CRED_x as the core would hand it to the lookup: encoded, then
 * parsed back, so the test also exercises the real map layout. */
struct idc {
	uint8_t map[4096];
	size_t len;
	edhoc_id_cred id;
};

static void idc_parse(struct idc *c)
{
	assert_int_equal(cose_id_cred_parse(c->map, c->len, &c->id), 0);
}

static void idc_kid(struct idc *c, const uint8_t *kid, size_t n)
{
	assert_int_equal(cose_id_cred_kid(kid, n, c->map, sizeof(c->map), &c->len), 0);
	idc_parse(c);
}

static void idc_x5t(struct idc *c, int alg, X509 *x)
{
	size_t dl;
	uint8_t *der = tg_der(x, &dl);
	assert_int_equal(cose_id_cred_x5t(alg, der, dl, c->map, sizeof(c->map), &c->len), 0);
	OPENSSL_free(der);
	idc_parse(c);
}

static void idc_chain(struct idc *c, X509 *const *certs, size_t n)
{
	uint8_t *ders[4] = {NULL};
	size_t lens[4] = {0};
	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++)
		ders[i] = tg_der(certs[i], &lens[i]);
	assert_int_equal(cose_id_cred_certs(EDHOC_ID_CRED_X5CHAIN, (const uint8_t *const *)ders,
	                                    lens, n, c->map, sizeof(c->map), &c->len),
	                 0);
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(ders[i]);
	idc_parse(c);
}

static void test_kid_lookup_returns_stored_ccs(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	const uint8_t kid[] = {0x2b};
	idc_kid(&c, kid, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), 0);
	assert_int_equal(out.type, EDHOC_CRED_CCS);
	assert_int_equal(out.cred_len, f->cred_i_len);
	assert_memory_equal(out.cred, f->cred_i, f->cred_i_len);
	assert_string_equal(out.identity, "42-50-31-FF-EF-37-32-39");
	assert_non_null(out.key);
	/* the received ID_CRED_x (it enters the MAC) */
	assert_int_equal(out.id_cred_len, 4);
	assert_memory_equal(out.id_cred, "\xa1\x04\x41\x2b", 4);
	assert_string_equal(trust_last_error(f->a), "");
	/* the file it came from, for records that name the credential */
	assert_string_equal(trust_last_file(f->a), "initiator.ccs");
}

static void test_names_file_overrides_subject(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	const uint8_t kid[] = {0x32};
	idc_kid(&c, kid, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), 0);
	assert_string_equal(out.identity, "responder");
	assert_memory_equal(out.cred, f->cred_r, f->cred_r_len);
	assert_true(trust_has_identity(f->a, "responder"));
	assert_false(trust_has_identity(f->a, "example.edu"));
	assert_true(trust_has_identity(f->a, "pinned-1"));
	assert_true(trust_has_identity(f->a, "42-50-31-FF-EF-37-32-39"));
	assert_int_equal(trust_count(f->a), 4);
	assert_int_equal(trust_ca_count(f->a), 1);
}

static void test_unknown_kid_is_unknown_cred(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	const uint8_t kid[] = {0x99, 0x01};
	idc_kid(&c, kid, 2);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_UNKNOWN_CRED);
	assert_string_equal(trust_last_error(f->a), "no credential with kid h'9901'");
	assert_string_equal(trust_last_file(f->a), "");
}

static void test_x5t_finds_pinned_certificate(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	size_t dl;
	uint8_t *der = tg_der(f->pinned, &dl);
	const int algs[] = {COSE_ALG_SHA_256_64, COSE_ALG_SHA_256};
	for (size_t i = 0; i < 2; i++) {
		idc_x5t(&c, algs[i], f->pinned);
		assert_int_equal(trust_lookup(f->a, &c.id, &out), 0);
		assert_int_equal(out.type, EDHOC_CRED_X509);
		assert_string_equal(out.identity, "pinned-1");
		assert_string_equal(trust_last_file(f->a), "pinned.pem");
		/* CRED_x of a certificate: bstr(DER) */
		assert_true(out.cred_len > dl);
		assert_memory_equal(out.cred + (out.cred_len - dl), der, dl);
	}
	OPENSSL_free(der);
}

static void test_x5t_of_expired_pinned_certificate_is_invalid(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_x5t(&c, COSE_ALG_SHA_256_64, f->pinned_expired);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(f->a), "certificate has expired");
	assert_string_equal(trust_last_file(f->a), "old.crt");
}

static void test_x5t_unknown_hash_is_unknown_cred(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_x5t(&c, COSE_ALG_SHA_256, f->good);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_UNKNOWN_CRED);
}

static void test_x5chain_validated_against_ca_gives_cn(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_chain(&c, &f->good, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), 0);
	assert_string_equal(out.identity, "sensor-17");
	assert_string_equal(trust_last_file(f->a), ""); /* not stored: by value */
	assert_int_equal(out.type, EDHOC_CRED_X509);
	assert_int_equal(out.id_cred_len, c.len);
	assert_memory_equal(out.id_cred, c.map, c.len);
}

static void test_x5chain_expired_certificate_is_invalid(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_chain(&c, &f->expired, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(f->a),
	                    "certificate rejected: certificate has expired");
}

static void test_x5chain_revoked_certificate_is_invalid(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_chain(&c, &f->revoked, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(f->a), "certificate rejected: certificate revoked");
}

static void test_x5chain_unknown_ca_is_invalid(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	idc_chain(&c, &f->stray, 1);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(f->a),
	                    "certificate rejected: unable to get local issuer certificate");
}

static void test_x5chain_through_intermediate_within_limit(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	X509 *chain[] = {f->shallow, f->int1};
	idc_chain(&c, chain, 2);
	assert_int_equal(trust_lookup(f->b, &c.id, &out), 0);
	assert_string_equal(out.identity, "shallow-1");
}

static void test_x5chain_too_long_is_invalid(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	X509 *chain[] = {f->deep, f->int2, f->int1};
	idc_chain(&c, chain, 3);
	/* leaf, two intermediates and the root: 4 > chain_length_max 3 */
	assert_int_equal(trust_lookup(f->b, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(f->b),
	                    "certificate chain longer than chain_length_max 3");

	trust_store *t4 = NULL;
	trust_options opt = {.chain_length_max = 4};
	assert_int_equal(trust_load(f->dir_b, &opt, NULL, &t4), 0);
	assert_int_equal(trust_lookup(t4, &c.id, &out), 0);
	assert_string_equal(out.identity, "deep-1");
	trust_free(t4);

	/* more certificates sent than the limit: refused before OpenSSL */
	trust_store *t2 = NULL;
	opt.chain_length_max = 2;
	assert_int_equal(trust_load(f->dir_b, &opt, NULL, &t2), 0);
	assert_int_equal(trust_lookup(t2, &c.id, &out), EDHOC_E_CRED_INVALID);
	assert_string_equal(trust_last_error(t2), "3 certificates sent, chain_length_max is 2");
	trust_free(t2);
}

static void test_kccs_accepted_only_when_stored(void **state)
{
	struct fx *f = *state;
	struct idc c;
	edhoc_cred out;
	assert_int_equal(cose_id_cred_kccs(f->cred_i, f->cred_i_len, c.map, sizeof(c.map), &c.len),
	                 0);
	idc_parse(&c);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), 0);
	assert_string_equal(out.identity, "42-50-31-FF-EF-37-32-39");

	/* the same CCS with a different subject vouches for nothing */
	uint8_t other[512];
	size_t olen;
	crypto_key *k = NULL;
	EVP_PKEY *pk = tg_key("P-256");
	assert_int_equal(crypto_key_from_evp(pk, &k), 0);
	const uint8_t kid[] = {0x2b};
	assert_int_equal(cose_ccs_build(k, "42-50-31-FF-EF-37-32-39", kid, 1, false, other,
	                                sizeof(other), &olen),
	                 0);
	assert_int_equal(cose_id_cred_kccs(other, olen, c.map, sizeof(c.map), &c.len), 0);
	idc_parse(&c);
	assert_int_equal(trust_lookup(f->a, &c.id, &out), EDHOC_E_UNKNOWN_CRED);
	assert_string_equal(trust_last_error(f->a), "CCS sent by value is not a stored credential");
	crypto_key_free(k);
	EVP_PKEY_free(pk);
}

static void test_duplicate_kid_is_a_load_error(void **state)
{
	struct fx *f = *state;
	char *dir = tg_tmpdir();
	tg_write(dir, "a.ccs", f->cred_i, f->cred_i_len, 0644);
	/* another key with the same kid 2b */
	uint8_t other[512];
	size_t olen;
	crypto_key *k = NULL;
	EVP_PKEY *pk = tg_key("P-256");
	assert_int_equal(crypto_key_from_evp(pk, &k), 0);
	const uint8_t kid[] = {0x2b};
	assert_int_equal(cose_ccs_build(k, "dev2", kid, 1, false, other, sizeof(other), &olen), 0);
	tg_write(dir, "b.ccs", other, olen, 0644);
	cfg_errors *errs = cfg_errors_new();
	trust_store *t = NULL;
	assert_int_equal(trust_load(dir, NULL, errs, &t), EDHOC_E_INVALID_ARGUMENT);
	assert_null(t);
	char want[600];
	snprintf(want, sizeof(want), "%s: duplicate kid h'2b' in a.ccs and b.ccs", dir);
	assert_int_equal(cfg_errors_count(errs), 1);
	assert_string_equal(cfg_errors_get(errs, 0), want);
	cfg_errors_free(errs);
	crypto_key_free(k);
	EVP_PKEY_free(pk);
	tg_rm_rf(dir);
	free(dir);
}

static void test_bad_directory_entries_are_errors_with_lines(void **state)
{
	struct fx *f = *state;
	char *dir = tg_tmpdir();
	tg_write(dir, "a.ccs", f->cred_i, f->cred_i_len, 0644);
	tg_write_str(dir, "notes.txt", "hello\n");
	tg_write_str(dir, "broken.ccs", "not cbor");
	tg_write_str(dir, "names",
	             "a.ccs = dev-a\nmissing.ccs = dev-m\na.ccs = twice\n"
	             "b.ccs = has space\n");
	cfg_errors *errs = cfg_errors_new();
	trust_store *t = NULL;
	assert_int_equal(trust_load(dir, NULL, errs, &t), EDHOC_E_INVALID_ARGUMENT);
	char want[600];
	snprintf(want, sizeof(want), "%s/names:3: a.ccs is named twice (line 1)", dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/names:4: identity 'has space' must be 1-63 printable characters without "
	         "spaces, ',', ';', '@' or '*'",
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/notes.txt: unexpected file (expected *.ccs, *.cred, *.pem, *.crt, names or "
	         "ca/)",
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want), "%s/names:2: missing.ccs: no such credential file in %s", dir,
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	/* broken.ccs: credfile's own message names the file */
	bool found = false;
	for (size_t i = 0; i < cfg_errors_count(errs); i++)
		if (strstr(cfg_errors_get(errs, i), "broken.ccs"))
			found = true;
	assert_true(found);
	cfg_errors_free(errs);
	tg_rm_rf(dir);
	free(dir);
}

/* A self-signed certificate with the given basicConstraints and keyUsage
 * values (NULL: extension left out). */
static X509 *cert_with(EVP_PKEY *key, const char *cn, const char *bc, const char *ku)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 77);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	const int nids[2] = {NID_basic_constraints, NID_key_usage};
	const char *vals[2] = {bc, ku};
	for (int i = 0; i < 2; i++) {
		if (!vals[i])
			continue;
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nids[i], vals[i]);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ca/ holds trust anchors and intermediates: a certificate that may not
 * issue certificates there is a misplaced device certificate, and taking
 * it as an anchor would make every chain it "issues" fail later with a
 * confusing verification error (or, worse, pin a device by accident). */
static void test_non_ca_certificate_in_ca_dir_is_a_load_error(void **state)
{
	struct fx *f = *state;
	char *dir = tg_tmpdir();
	tg_mkdir(dir, "ca");
	tg_write_cert(dir, "ca/root.pem", f->root);
	tg_write_cert(dir, "ca/device.pem", f->good); /* CA:FALSE */
	X509 *no_bc = cert_with(f->other_key, "no-bc", NULL, NULL);
	X509 *no_sign =
	    cert_with(f->other_key, "no-sign", "critical,CA:TRUE", "critical,digitalSignature");
	X509 *bc_only = cert_with(f->other_key, "bc-only", "critical,CA:TRUE", NULL);
	tg_write_cert(dir, "ca/no-bc.pem", no_bc);
	tg_write_cert(dir, "ca/no-sign.crt", no_sign);
	/* a bundle: the root, then a device certificate on a later line */
	char *a = pem_of(f->int1), *b = pem_of(f->shallow);
	char bundle[8192];
	snprintf(bundle, sizeof(bundle), "# intermediates\n%s%s", a, b);
	tg_write_str(dir, "ca/bundle.pem", bundle);
	unsigned second = 2 + count_lines(a);

	cfg_errors *errs = cfg_errors_new();
	trust_store *t = NULL;
	assert_int_equal(trust_load(dir, NULL, errs, &t), EDHOC_E_INVALID_ARGUMENT);
	assert_null(t);
	char want[1024];
	snprintf(want, sizeof(want),
	         "%s/ca/device.pem:1: certificate 'sensor-17' is not a CA certificate "
	         "(basicConstraints CA:FALSE); a device's certificate belongs in %s, not in ca/",
	         dir, dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/ca/no-bc.pem:1: certificate 'no-bc' is not a CA certificate "
	         "(no basicConstraints CA:TRUE); a device's certificate belongs in %s, not in ca/",
	         dir, dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/ca/no-sign.crt:1: CA certificate 'no-sign' may not sign certificates "
	         "(keyUsage without keyCertSign)",
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/ca/bundle.pem:%u: certificate 'shallow-1' is not a CA certificate "
	         "(basicConstraints CA:FALSE); a device's certificate belongs in %s, not in ca/",
	         dir, second, dir);
	assert_true(cfg_errors_contains(errs, want));
	/* the root, the intermediate and bc-only are fine */
	assert_int_equal(cfg_errors_count(errs), 4);
	cfg_errors_free(errs);

	/* Without the bad ones the same directory loads, and a CA with
	 * basicConstraints and no keyUsage counts. */
	char *dir2 = tg_tmpdir();
	tg_mkdir(dir2, "ca");
	tg_write_cert(dir2, "ca/root.pem", f->root);
	tg_write_cert(dir2, "ca/bc-only.pem", bc_only);
	tg_write_str(dir2, "ca/bundle.pem", a);
	errs = cfg_errors_new();
	assert_int_equal(trust_load(dir2, NULL, errs, &t), 0);
	assert_int_equal(trust_ca_count(t), 3);
	cfg_errors_free(errs);
	trust_free(t);
	free(a);
	free(b);
	X509_free(no_bc);
	X509_free(no_sign);
	X509_free(bc_only);
	tg_rm_rf(dir);
	free(dir);
	tg_rm_rf(dir2);
	free(dir2);
}

/* A damaged certificate file in the trust directory is reported as what it
 * is, not as a .cred syntax error. */
static void test_garbage_certificate_in_trust_dir_is_a_certificate_error(void **state)
{
	(void)state;
	char *dir = tg_tmpdir();
	tg_mkdir(dir, "ca");
	tg_write_str(dir, "junk.pem", "hello\nworld\n");
	tg_write_str(dir, "ca/junk.crt", "hello\n");
	cfg_errors *errs = cfg_errors_new();
	trust_store *t = NULL;
	assert_int_equal(trust_load(dir, NULL, errs, &t), EDHOC_E_INVALID_ARGUMENT);
	char want[1024];
	snprintf(want, sizeof(want),
	         "%s/junk.pem: not an X.509 certificate: no PEM '-----BEGIN' line and not DER",
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	snprintf(want, sizeof(want),
	         "%s/ca/junk.crt: not an X.509 certificate: no PEM '-----BEGIN' line and not DER",
	         dir);
	assert_true(cfg_errors_contains(errs, want));
	for (size_t i = 0; i < cfg_errors_count(errs); i++)
		assert_null(strstr(cfg_errors_get(errs, i), "name = value"));
	cfg_errors_free(errs);
	tg_rm_rf(dir);
	free(dir);
}

static void test_empty_store_rejects_everything(void **state)
{
	trust_store *t = NULL;
	struct idc c;
	edhoc_cred out;
	const uint8_t kid[] = {0x2b};
	assert_int_equal(trust_new_empty(NULL, &t), 0);
	idc_kid(&c, kid, 1);
	assert_int_equal(trust_lookup(t, &c.id, &out), EDHOC_E_UNKNOWN_CRED);
	assert_int_equal(trust_count(t), 0);
	trust_free(t);
	trust_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kid_lookup_returns_stored_ccs),
	    cmocka_unit_test(test_names_file_overrides_subject),
	    cmocka_unit_test(test_unknown_kid_is_unknown_cred),
	    cmocka_unit_test(test_x5t_finds_pinned_certificate),
	    cmocka_unit_test(test_x5t_of_expired_pinned_certificate_is_invalid),
	    cmocka_unit_test(test_x5t_unknown_hash_is_unknown_cred),
	    cmocka_unit_test(test_x5chain_validated_against_ca_gives_cn),
	    cmocka_unit_test(test_x5chain_expired_certificate_is_invalid),
	    cmocka_unit_test(test_x5chain_revoked_certificate_is_invalid),
	    cmocka_unit_test(test_x5chain_unknown_ca_is_invalid),
	    cmocka_unit_test(test_x5chain_through_intermediate_within_limit),
	    cmocka_unit_test(test_x5chain_too_long_is_invalid),
	    cmocka_unit_test(test_kccs_accepted_only_when_stored),
	    cmocka_unit_test(test_duplicate_kid_is_a_load_error),
	    cmocka_unit_test(test_bad_directory_entries_are_errors_with_lines),
	    cmocka_unit_test(test_empty_store_rejects_everything),
	    cmocka_unit_test(test_non_ca_certificate_in_ca_dir_is_a_load_error),
	    cmocka_unit_test(test_garbage_certificate_in_trust_dir_is_a_certificate_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
