/* Fixtures for the config/policy tests (see trustgen.h). */
#define _XOPEN_SOURCE 700
#include "trustgen.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "trustgen: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	abort();
}

char *tg_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/edhocd-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		die("mkdtemp", tmpl);
	return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tg_rm_rf(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tg_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		die("open", path);
	if (fchmod(fd, mode) != 0 || write(fd, data, len) != (ssize_t)len)
		die("write", path);
	close(fd);
}

void tg_write_str(const char *dir, const char *name, const char *text)
{
	tg_write(dir, name, text, strlen(text), 0644);
}

void tg_mkdir(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir", path);
}

EVP_PKEY *tg_key(const char *type)
{
	EVP_PKEY *k = strcmp(type, "P-256") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
	                                         : EVP_PKEY_Q_keygen(NULL, NULL, type);
	if (!k)
		die("keygen", type);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(x, ext, -1))
		die("extension", value);
	X509_EXTENSION_free(ext);
}

static const EVP_MD *md_for(EVP_PKEY *k)
{
	return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

X509 *tg_cert(EVP_PKEY *subject, const char *cn, long serial, long nb_s, long na_s, X509 *issuer,
              EVP_PKEY *issuer_key, bool ca)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), nb_s);
	X509_gmtime_adj(X509_getm_notAfter(x), na_s);
	X509_set_pubkey(x, subject);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (ca) {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyAgreement");
	}
	if (!X509_sign(x, issuer ? issuer_key : subject, md_for(issuer ? issuer_key : subject)))
		die("X509_sign", cn);
	return x;
}

X509_CRL *tg_crl(X509 *ca, EVP_PKEY *ca_key, const long *serials, size_t n)
{
	X509_CRL *crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_adj(t, time(NULL), 1, 0);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_TIME_free(t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_INTEGER_set(s, serials[i]);
		X509_REVOKED_set_serialNumber(r, s);
		ASN1_TIME *rt = ASN1_TIME_adj(NULL, time(NULL), 0, -1800);
		X509_REVOKED_set_revocationDate(r, rt);
		ASN1_TIME_free(rt);
		ASN1_INTEGER_free(s);
		X509_CRL_add0_revoked(crl, r);
	}
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, ca_key, md_for(ca_key)))
		die("X509_CRL_sign", NULL);
	return crl;
}

void tg_write_cert(const char *dir, const char *name, X509 *x)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, x))
		die("write cert", path);
	fclose(f);
}

void tg_write_crl(const char *dir, const char *name, X509_CRL *crl)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || !PEM_write_X509_CRL(f, crl))
		die("write crl", path);
	fclose(f);
}

uint8_t *tg_der(X509 *x, size_t *ret_len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		die("i2d_X509", NULL);
	*ret_len = (size_t)n;
	return der;
}
