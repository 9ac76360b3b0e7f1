/* Trust store: stored peer credentials indexed by kid, certificate hash and
 * CCS hash; CA certificates and CRLs in an OpenSSL X509_STORE. */
#include "policy/trust.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "config/ini.h"
#include "edhoc/cred.h"
#include "edhoc/result.h"
#include "tools/credfile.h"

#define ERR_TEXT_SIZE 160
#define NAMES_MAX     100000

struct entry {
	credfile *file;
	const cose_cred *cred; /* owned by file */
	char identity[EDHOC_MAX_IDENTITY];
	char fname[256];
	edhoc_cred view; /* the core's view, identity pointing at ours */
	X509 *x509;      /* end-entity certificate; NULL for a CCS */
	bool self_signed;
	uint8_t hash[32];   /* SHA-256 of the DER, or of the CCS bytes */
	const uint8_t *kid; /* CCS kid, NULL when none */
	size_t kid_len;
};

struct trust_store {
	struct entry *v;
	size_t n;
	struct entry **by_kid; /* CCS entries with a kid, by (len, bytes) */
	size_t n_kid;
	struct entry **by_cert; /* certificate entries, by hash */
	size_t n_cert;
	struct entry **by_ccs; /* CCS entries, by hash of the CCS */
	size_t n_ccs;
	char (*ids)[EDHOC_MAX_IDENTITY]; /* sorted identities */
	size_t n_ids;
	X509_STORE *cas;
	size_t n_cas;
	size_t n_crls;
	size_t chain_max;
	time_t verify_time;
	/* scratch: the last by-value credential and the last failure */
	cose_cred *scratch;
	char scratch_identity[EDHOC_MAX_IDENTITY];
	char last_error[ERR_TEXT_SIZE];
	/* who the failed credential says it is: the operator's first question
	 * about a refused certificate, which the core cannot answer because
	 * it only learns an identity from a successful lookup */
	char last_claimed[EDHOC_MAX_IDENTITY];
	/* and which stored file it came from: an impostor's record then
	 * names the credential whose key did not verify */
	char last_file[256];
};

/* ---- helpers ---- */

static void set_error(trust_store *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(trust_store *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->last_error, sizeof(t->last_error), fmt, ap);
	va_end(ap);
}

static void hex_into(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < len && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
}

bool trust_identity_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= EDHOC_MAX_IDENTITY)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == ';' || c == '@' || c == '*')
			return false;
	}
	return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int olen = 0;
	if (EVP_Digest(p, len, out, &olen, EVP_sha256(), NULL) != 1 || olen != 32)
		return EDHOC_E_CRYPTO;
	return 0;
}

/* CN of a certificate subject into out; false when there is none. */
static bool subject_cn(X509 *x, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(x);
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return false;
	ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, data);
	if (len < 0)
		return false;
	bool ok = (size_t)len < cap && memchr(utf8, '\0', (size_t)len) == NULL;
	if (ok) {
		memcpy(out, utf8, (size_t)len);
		out[len] = '\0';
	}
	OPENSSL_free(utf8);
	return ok;
}

static bool is_self_signed(X509 *x)
{
	/* Issued in its own name and signed by its own key.  Not
	 * X509_check_issued: it also wants keyCertSign, which a pinned
	 * device certificate rightly lacks. */
	EVP_PKEY *pub = X509_get0_pubkey(x);
	bool self = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 && pub &&
	            X509_verify(x, pub) == 1;
	ERR_clear_error();
	return self;
}

/* ---- sorted indexes ---- */

static int cmp_kid(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	if (x->kid_len != y->kid_len)
		return x->kid_len < y->kid_len ? -1 : 1;
	return memcmp(x->kid, y->kid, x->kid_len);
}

static int cmp_hash(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	return memcmp(x->hash, y->hash, sizeof(x->hash));
}

struct kid_key {
	const uint8_t *kid;
	size_t len;
};

static int cmp_kid_key(const void *key, const void *elem)
{
	const struct kid_key *k = key;
	const struct entry *e = *(const struct entry *const *)elem;
	if (k->len != e->kid_len)
		return k->len < e->kid_len ? -1 : 1;
	return memcmp(k->kid, e->kid, k->len);
}

struct hash_key {
	const uint8_t *hash;
	size_t len; /* 8 for SHA-256/64, 32 for SHA-256 */
};

static int cmp_hash_key(const void *key, const void *elem)
{
	const struct hash_key *k = key;
	const struct entry *e = *(const struct entry *const *)elem;
	return memcmp(k->hash, e->hash, k->len);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* ---- loading ---- */

struct names {
	char (*file)[256];
	char (*identity)[EDHOC_MAX_IDENTITY];
	unsigned *line;
	bool *used;
	size_t n, cap;
	const char *path;
	cfg_errors *errs;
	bool failed;
};

static int names_ini(void *user, const char *section, const char *key, const char *value,
                     unsigned line, bool continuation)
{
	struct names *nm = user;
	if (!key) {
		cfg_errors_add(nm->errs, nm->path, line, "sections are not allowed here");
		nm->failed = true;
		return 0;
	}
	if (continuation) {
		cfg_errors_add(nm->errs, nm->path, line, "continuation lines are not allowed here");
		nm->failed = true;
		return 0;
	}
	if (strlen(key) >= sizeof(*nm->file) || strchr(key, '/')) {
		cfg_errors_add(nm->errs, nm->path, line, "'%s' is not a file name", key);
		nm->failed = true;
		return 0;
	}
	if (!trust_identity_valid(value)) {
		cfg_errors_add(nm->errs, nm->path, line,
		               "identity '%s' must be 1-%d printable characters without spaces, "
		               "',', ';', '@' or '*'",
		               value, EDHOC_MAX_IDENTITY - 1);
		nm->failed = true;
		return 0;
	}
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->file[i], key) == 0) {
			cfg_errors_add(nm->errs, nm->path, line, "%s is named twice (line %u)", key,
			               nm->line[i]);
			nm->failed = true;
			return 0;
		}
	if (nm->n >= NAMES_MAX) {
		cfg_errors_add(nm->errs, nm->path, line, "more than %d names", NAMES_MAX);
		nm->failed = true;
		return 0;
	}
	if (nm->n == nm->cap) {
		size_t ncap = nm->cap ? nm->cap * 2 : 16;
		void *f = realloc(nm->file, ncap * sizeof(*nm->file));
		if (f)
			nm->file = f;
		void *id = realloc(nm->identity, ncap * sizeof(*nm->identity));
		if (id)
			nm->identity = id;
		void *l = realloc(nm->line, ncap * sizeof(*nm->line));
		if (l)
			nm->line = l;
		void *u = realloc(nm->used, ncap * sizeof(*nm->used));
		if (u)
			nm->used = u;
		if (!f || !id || !l || !u) {
			cfg_errors_add(nm->errs, nm->path, line, "out of memory");
			nm->failed = true;
			return 0;
		}
		nm->cap = ncap;
	}
	snprintf(nm->file[nm->n], sizeof(*nm->file), "%s", key);
	snprintf(nm->identity[nm->n], sizeof(*nm->identity), "%s", value);
	nm->line[nm->n] = line;
	nm->used[nm->n] = false;
	nm->n++;
	return 0;
}

static void names_free(struct names *nm)
{
	free(nm->file);
	free(nm->identity);
	free(nm->line);
	free(nm->used);
}

static const char *names_lookup(struct names *nm, const char *fname)
{
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->file[i], fname) == 0) {
			nm->used[i] = true;
			return nm->identity[i];
		}
	return NULL;
}

/* Sorted file names of a directory, hidden ones left out. */
static int list_dir(const char *dir, char (**ret)[256], size_t *ret_n, cfg_errors *errs)
{
	DIR *d = opendir(dir);
	char(*v)[256] = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (!d) {
		cfg_errors_add(errs, dir, 0, "cannot open directory: %s", strerror(errno));
		return EDHOC_E_INVALID_ARGUMENT;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= 256)
			continue;
		if (n >= TRUST_MAX_ENTRIES) {
			cfg_errors_add(errs, dir, 0, "more than %d files", TRUST_MAX_ENTRIES);
			rc = EDHOC_E_LIMIT;
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char(*nv)[256] = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = EDHOC_E_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		snprintf(v[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	if (rc) {
		free(v);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void openssl_reason(char *out, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, out, cap);
	else
		snprintf(out, cap, "no PEM data");
	ERR_clear_error();
}

/* Subject of a certificate for a message: its CN, else the one-line
 * subject. */
static void subject_text(X509 *x, char *out, size_t cap)
{
	if (!subject_cn(x, out, cap))
		X509_NAME_oneline(X509_get_subject_name(x), out, (int)cap);
}

struct ca_file {
	trust_store *t;
	const char *path;
	const char *dir;
	cfg_errors *errs;
	bool failed;
	size_t got;
};

/* One certificate of a ca/ file: it must be allowed to issue certificates
 * (RFC 5280 §4.2.1.9 and §4.2.1.3), else it is a misplaced device
 * certificate that would either break every chain or pin a device. */
static int add_ca_cert(void *ctx, X509 *x, unsigned line)
{
	struct ca_file *cf = ctx;
	char name[256];
	uint32_t flags = X509_get_extension_flags(x);

	subject_text(x, name, sizeof(name));
	if (flags & EXFLAG_INVALID) {
		cfg_errors_add(cf->errs, cf->path, line,
		               "certificate '%s' has invalid or duplicate extensions", name);
		cf->failed = true;
	} else if (!(flags & EXFLAG_CA)) {
		cfg_errors_add(cf->errs, cf->path, line,
		               "certificate '%s' is not a CA certificate (%s); a device's "
		               "certificate belongs in %s, not in ca/",
		               name,
		               flags & EXFLAG_BCONS ? "basicConstraints CA:FALSE"
		                                    : "no basicConstraints CA:TRUE",
		               cf->dir);
		cf->failed = true;
	} else if (!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
		/* X509_get_key_usage gives all bits when there is no keyUsage. */
		cfg_errors_add(cf->errs, cf->path, line,
		               "CA certificate '%s' may not sign certificates (keyUsage without "
		               "keyCertSign)",
		               name);
		cf->failed = true;
	} else if (X509_STORE_add_cert(cf->t->cas, x) == 1) {
		cf->got++;
	}
	ERR_clear_error();
	return 0;
}

/* CA certificates and CRLs from <dir>/ca. */
static void load_cas(trust_store *t, const char *dir, cfg_errors *errs, bool *failed)
{
	char cadir[4096];
	snprintf(cadir, sizeof(cadir), "%s/ca", dir);
	if (!is_dir(cadir))
		return;
	char(*files)[256] = NULL;
	size_t n = 0;
	if (list_dir(cadir, &files, &n, errs) != 0) {
		*failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096 + 260];
		char why[160];
		snprintf(path, sizeof(path), "%s/%s", cadir, files[i]);
		bool crl = has_suffix(files[i], ".crl");
		if (!crl && !has_suffix(files[i], ".pem") && !has_suffix(files[i], ".crt")) {
			cfg_errors_add(errs, path, 0,
			               "unexpected file in the CA directory (expected *.pem, "
			               "*.crt or *.crl)");
			*failed = true;
			continue;
		}
		if (!crl) {
			struct ca_file cf = {.t = t, .path = path, .dir = dir, .errs = errs};
			char err[CFG_ERROR_LEN];
			int rc = credfile_each_cert(path, add_ca_cert, &cf, err, sizeof(err));
			if (rc != 0) {
				/* credfile's messages already start with the file name. */
				cfg_errors_add(errs, NULL, 0, "%s",
				               err[0] ? err : edhoc_result_describe(rc));
				cf.failed = true;
			}
			t->n_cas += cf.got;
			if (cf.failed)
				*failed = true;
			ERR_clear_error();
			continue;
		}
		FILE *f = fopen(path, "re");
		if (!f) {
			cfg_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
			*failed = true;
			continue;
		}
		size_t got = 0;
		X509_CRL *c;
		while ((c = PEM_read_X509_CRL(f, NULL, NULL, NULL))) {
			if (X509_STORE_add_crl(t->cas, c) == 1)
				got++;
			X509_CRL_free(c);
		}
		if (got == 0) {
			/* A DER CRL is one object: retry from the start. */
			rewind(f);
			ERR_clear_error();
			c = d2i_X509_CRL_fp(f, NULL);
			if (c && X509_STORE_add_crl(t->cas, c) == 1)
				got++;
			X509_CRL_free(c);
		}
		t->n_crls += got;
		fclose(f);
		if (got == 0) {
			openssl_reason(why, sizeof(why));
			cfg_errors_add(errs, path, 0, "no CRL could be read: %s", why);
			*failed = true;
		}
		ERR_clear_error();
	}
	free(files);
}

static int add_entry(trust_store *t, size_t *cap, struct entry **ret)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct entry *nv = realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return EDHOC_E_NOMEM;
		t->v = nv;
		*cap = ncap;
	}
	*ret = &t->v[t->n++];
	memset(*ret, 0, sizeof(**ret));
	return 0;
}

static void load_one(trust_store *t, const char *dir, const char *fname, struct names *nm,
                     size_t *cap, cfg_errors *errs, bool *failed)
{
	char path[4096 + 260];
	char err[CFG_ERROR_LEN];
	struct entry *e;
	credfile *cf = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	err[0] = '\0';
	int rc = credfile_load(path, NULL, &cf, err, sizeof(err));
	if (rc != 0) {
		/* credfile's messages already start with the file name. */
		cfg_errors_add(errs, NULL, 0, "%s", err[0] ? err : edhoc_result_describe(rc));
		*failed = true;
		return;
	}
	if (add_entry(t, cap, &e) != 0) {
		cfg_errors_add(errs, path, 0, "out of memory");
		credfile_free(cf);
		*failed = true;
		return;
	}
	e->file = cf;
	e->cred = credfile_cred(cf);
	snprintf(e->fname, sizeof(e->fname), "%s", fname);

	size_t len = 0;
	const uint8_t *bytes = cose_cred_bytes(e->cred, &len);
	if (cose_cred_type(e->cred) == EDHOC_CRED_X509) {
		size_t der_len = 0;
		const uint8_t *der = cose_cred_cert(e->cred, 0, &der_len);
		const unsigned char *p = der;
		e->x509 = der ? d2i_X509(NULL, &p, (long)der_len) : NULL;
		if (!e->x509 || sha256(der, der_len, e->hash) != 0) {
			cfg_errors_add(errs, path, 0, "certificate cannot be decoded");
			ERR_clear_error();
			*failed = true;
			return;
		}
		e->self_signed = is_self_signed(e->x509);
	} else {
		e->kid = cose_cred_kid(e->cred, &e->kid_len);
		if (sha256(bytes, len, e->hash) != 0) {
			cfg_errors_add(errs, path, 0, "cannot hash the credential");
			*failed = true;
			return;
		}
	}

	/* Identity: names file, CCS subject, certificate CN, file name. */
	const char *named = names_lookup(nm, fname);
	char cn[EDHOC_MAX_IDENTITY];
	if (named) {
		snprintf(e->identity, sizeof(e->identity), "%s", named);
	} else if (cose_cred_type(e->cred) == EDHOC_CRED_CCS && cose_cred_sub(e->cred)[0]) {
		if (strlen(cose_cred_sub(e->cred)) >= sizeof(e->identity)) {
			cfg_errors_add(errs, path, 0,
			               "subject is longer than %d characters; name it in the names "
			               "file",
			               EDHOC_MAX_IDENTITY - 1);
			*failed = true;
			return;
		}
		snprintf(e->identity, sizeof(e->identity), "%s", cose_cred_sub(e->cred));
	} else if (e->x509 && subject_cn(e->x509, cn, sizeof(cn))) {
		snprintf(e->identity, sizeof(e->identity), "%s", cn);
	} else {
		snprintf(e->identity, sizeof(e->identity), "%.*s",
		         (int)(strrchr(fname, '.') - fname), fname);
	}
	if (!trust_identity_valid(e->identity)) {
		cfg_errors_add(errs, path, 0,
		               "identity '%s' is not usable (printable, no spaces, ',', ';', '@', "
		               "'*'); name it in the names file",
		               e->identity);
		*failed = true;
		return;
	}
	e->view = *cose_cred_edhoc(e->cred);
}

static int build_indexes(trust_store *t, const char *dir, cfg_errors *errs)
{
	bool failed = false;
	t->by_kid = calloc(t->n ? t->n : 1, sizeof(*t->by_kid));
	t->by_cert = calloc(t->n ? t->n : 1, sizeof(*t->by_cert));
	t->by_ccs = calloc(t->n ? t->n : 1, sizeof(*t->by_ccs));
	t->ids = calloc(t->n ? t->n : 1, sizeof(*t->ids));
	if (!t->by_kid || !t->by_cert || !t->by_ccs || !t->ids)
		return EDHOC_E_NOMEM;
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->v[i];
		/* view.identity may only be set now: t->v moved while growing. */
		e->view.identity = e->identity;
		if (e->x509)
			t->by_cert[t->n_cert++] = e;
		else
			t->by_ccs[t->n_ccs++] = e;
		if (e->kid)
			t->by_kid[t->n_kid++] = e;
		snprintf(t->ids[t->n_ids++], EDHOC_MAX_IDENTITY, "%s", e->identity);
	}
	qsort(t->by_kid, t->n_kid, sizeof(*t->by_kid), cmp_kid);
	qsort(t->by_cert, t->n_cert, sizeof(*t->by_cert), cmp_hash);
	qsort(t->by_ccs, t->n_ccs, sizeof(*t->by_ccs), cmp_hash);
	qsort(t->ids, t->n_ids, sizeof(*t->ids), cmp_name);
	for (size_t i = 1; i < t->n_kid; i++)
		if (cmp_kid(&t->by_kid[i - 1], &t->by_kid[i]) == 0) {
			char hex[2 * COSE_MAX_KID + 1];
			hex_into(hex, sizeof(hex), t->by_kid[i]->kid, t->by_kid[i]->kid_len);
			cfg_errors_add(errs, dir, 0, "duplicate kid h'%s' in %s and %s", hex,
			               t->by_kid[i - 1]->fname, t->by_kid[i]->fname);
			failed = true;
		}
	for (size_t i = 1; i < t->n_cert; i++)
		if (cmp_hash(&t->by_cert[i - 1], &t->by_cert[i]) == 0) {
			cfg_errors_add(errs, dir, 0, "the same certificate is in %s and %s",
			               t->by_cert[i - 1]->fname, t->by_cert[i]->fname);
			failed = true;
		}
	for (size_t i = 1; i < t->n_ccs; i++)
		if (cmp_hash(&t->by_ccs[i - 1], &t->by_ccs[i]) == 0) {
			cfg_errors_add(errs, dir, 0, "the same CCS is in %s and %s",
			               t->by_ccs[i - 1]->fname, t->by_ccs[i]->fname);
			failed = true;
		}
	return failed ? EDHOC_E_INVALID_ARGUMENT : 0;
}

static int store_new(const trust_options *opt, trust_store **ret)
{
	trust_store *t = calloc(1, sizeof(*t));
	if (!t)
		return EDHOC_E_NOMEM;
	t->chain_max =
	    opt && opt->chain_length_max ? opt->chain_length_max : TRUST_DEFAULT_CHAIN_MAX;
	t->verify_time = opt ? opt->verify_time : 0;
	t->cas = X509_STORE_new();
	if (!t->cas) {
		free(t);
		return EDHOC_E_NOMEM;
	}
	*ret = t;
	return 0;
}

int trust_new_empty(const trust_options *opt, trust_store **ret_store)
{
	if (!ret_store)
		return EDHOC_E_INVALID_ARGUMENT;
	trust_store *t = NULL;
	int rc = store_new(opt, &t);
	if (rc == 0)
		rc = build_indexes(t, "", NULL);
	if (rc) {
		trust_free(t);
		return rc;
	}
	*ret_store = t;
	return 0;
}

int trust_load(const char *dir, const trust_options *opt, cfg_errors *errs, trust_store **ret_store)
{
	trust_store *t = NULL;
	struct names nm = {.errs = errs};
	char(*files)[256] = NULL;
	size_t n = 0, cap = 0;
	bool failed = false;
	int rc;

	if (!dir || !ret_store)
		return EDHOC_E_INVALID_ARGUMENT;
	if (opt && opt->chain_length_max &&
	    (opt->chain_length_max < 2 || opt->chain_length_max > 8))
		return EDHOC_E_INVALID_ARGUMENT;
	rc = store_new(opt, &t);
	if (rc)
		return rc;
	rc = list_dir(dir, &files, &n, errs);
	if (rc) {
		failed = true;
		goto out;
	}

	char names_path[4096 + 8];
	snprintf(names_path, sizeof(names_path), "%s/names", dir);
	nm.path = names_path;
	struct stat st;
	if (stat(names_path, &st) == 0 && cfg_ini_parse_file(names_path, names_ini, &nm, errs) != 0)
		failed = true;
	if (nm.failed)
		failed = true;

	load_cas(t, dir, errs, &failed);
	for (size_t i = 0; i < n; i++) {
		const char *f = files[i];
		char path[4096 + 260];
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		if (strcmp(f, "names") == 0 || strcmp(f, "ca") == 0)
			continue;
		if (has_suffix(f, ".ccs") || has_suffix(f, ".cred") || has_suffix(f, ".pem") ||
		    has_suffix(f, ".crt")) {
			load_one(t, dir, f, &nm, &cap, errs, &failed);
			continue;
		}
		cfg_errors_add(errs, path, 0,
		               is_dir(path) ? "unexpected directory (only ca/ is allowed)"
		                            : "unexpected file (expected *.ccs, *.cred, *.pem, "
		                              "*.crt, names or ca/)");
		failed = true;
	}
	for (size_t i = 0; i < nm.n; i++)
		if (!nm.used[i]) {
			cfg_errors_add(errs, names_path, nm.line[i],
			               "%s: no such credential file in %s", nm.file[i], dir);
			failed = true;
		}
	rc = build_indexes(t, dir, errs);
	if (rc)
		failed = true;
	if (t->n_crls) {
		/* Revocation of the end-entity certificate; intermediates are
		 * the CA operator's to keep current via their own CRLs. */
		X509_STORE_set_flags(t->cas, X509_V_FLAG_CRL_CHECK);
	}
out:
	free(files);
	names_free(&nm);
	if (failed) {
		trust_free(t);
		return rc == EDHOC_E_NOMEM ? rc : EDHOC_E_INVALID_ARGUMENT;
	}
	*ret_store = t;
	return 0;
}

void trust_free(trust_store *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		credfile_free(t->v[i].file);
		X509_free(t->v[i].x509);
	}
	free(t->v);
	free(t->by_kid);
	free(t->by_cert);
	free(t->by_ccs);
	free(t->ids);
	X509_STORE_free(t->cas);
	cose_cred_free(t->scratch);
	free(t);
}

/* ---- validation ---- */

static bool check_time_only(trust_store *t, X509 *x)
{
	time_t now = t->verify_time ? t->verify_time : time(NULL);
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		set_error(t, "certificate is not yet valid");
		return false;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		set_error(t, "certificate has expired");
		return false;
	}
	return true;
}

/* Validates leaf against the CA store, with the other certificates as
 * untrusted intermediates.  Sets last_error on failure. */
static int verify_chain(trust_store *t, X509 *leaf, STACK_OF(X509) * untrusted)
{
	int rc = EDHOC_E_CRED_INVALID;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx) {
		set_error(t, "out of memory");
		return EDHOC_E_NOMEM;
	}
	if (X509_STORE_CTX_init(ctx, t->cas, leaf, untrusted) != 1) {
		set_error(t, "certificate verification could not start");
		rc = EDHOC_E_CRYPTO;
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	/* OpenSSL's depth counts neither the leaf nor the trust anchor. */
	X509_VERIFY_PARAM_set_depth(param, (int)t->chain_max - 2);
	if (t->verify_time)
		X509_VERIFY_PARAM_set_time(param, t->verify_time);
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
		goto out;
	}
	int err = X509_STORE_CTX_get_error(ctx);
	if (err == X509_V_ERR_CERT_CHAIN_TOO_LONG)
		set_error(t, "certificate chain longer than chain_length_max %zu", t->chain_max);
	else
		set_error(t, "certificate rejected: %s", X509_verify_cert_error_string(err));
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* A stored certificate being used: pinned self-signed ones only need to be
 * in their validity period, the rest must chain to a CA. */
static int check_stored_cert(trust_store *t, struct entry *e, STACK_OF(X509) * untrusted)
{
	if (e->self_signed)
		return check_time_only(t, e->x509) ? 0 : EDHOC_E_CRED_INVALID;
	return verify_chain(t, e->x509, untrusted);
}

static void fill(trust_store *t, const struct entry *e, const edhoc_id_cred *id, edhoc_cred *ret)
{
	snprintf(t->last_file, sizeof(t->last_file), "%s", e->fname);
	*ret = e->view;
	/* The peer's ID_CRED_x is what enters its MAC, not the stored one. */
	if (id->map && id->map_len) {
		ret->id_cred = id->map;
		ret->id_cred_len = id->map_len;
	}
}

static struct entry *find_cert(trust_store *t, const uint8_t *hash, size_t len)
{
	struct hash_key k = {hash, len};
	struct entry **hit = bsearch(&k, t->by_cert, t->n_cert, sizeof(*t->by_cert), cmp_hash_key);
	return hit ? *hit : NULL;
}

static int lookup_kid(trust_store *t, const edhoc_id_cred *id, edhoc_cred *ret)
{
	struct kid_key k = {id->kid, id->kid_len};
	struct entry **hit =
	    id->kid ? bsearch(&k, t->by_kid, t->n_kid, sizeof(*t->by_kid), cmp_kid_key) : NULL;
	if (!hit) {
		char hex[2 * COSE_MAX_KID + 1];
		hex_into(hex, sizeof(hex), id->kid,
		         id->kid_len < COSE_MAX_KID ? id->kid_len : COSE_MAX_KID);
		set_error(t, "no credential with kid h'%s'", hex);
		return EDHOC_E_UNKNOWN_CRED;
	}
	fill(t, *hit, id, ret);
	return 0;
}

static int lookup_x5t(trust_store *t, const edhoc_id_cred *id, edhoc_cred *ret)
{
	size_t want = id->x5t_alg == COSE_ALG_SHA_256_64 ? 8
	              : id->x5t_alg == COSE_ALG_SHA_256  ? 32
	                                                 : 0;
	if (!want) {
		set_error(t, "x5t hash algorithm %d not supported", id->x5t_alg);
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	}
	if (!id->x5t_hash || id->x5t_hash_len != want) {
		set_error(t, "x5t hash has %zu bytes, algorithm %d needs %zu", id->x5t_hash_len,
		          id->x5t_alg, want);
		return EDHOC_E_ID_CRED_MALFORMED;
	}
	struct entry *e = find_cert(t, id->x5t_hash, want);
	if (!e) {
		set_error(t, "no stored certificate with this x5t");
		return EDHOC_E_UNKNOWN_CRED;
	}
	int rc = check_stored_cert(t, e, NULL);
	if (rc) {
		snprintf(t->last_claimed, sizeof(t->last_claimed), "%s", e->identity);
		snprintf(t->last_file, sizeof(t->last_file), "%s", e->fname);
		return rc;
	}
	fill(t, e, id, ret);
	return 0;
}

static int lookup_chain(trust_store *t, const edhoc_id_cred *id, edhoc_cred *ret)
{
	int rc;
	size_t ee = 0;
	STACK_OF(X509) *untrusted = NULL;
	X509 *leaf = NULL;
	uint8_t hash[32];

	if (id->n_certs == 0) {
		set_error(t, "x5chain/x5bag is empty");
		return EDHOC_E_ID_CRED_MALFORMED;
	}
	if (id->n_certs > t->chain_max) {
		set_error(t, "%zu certificates sent, chain_length_max is %zu", id->n_certs,
		          t->chain_max);
		return EDHOC_E_CRED_INVALID;
	}
	rc = cose_id_cred_end_entity(id, &ee);
	if (rc) {
		set_error(t, "no single end-entity certificate in x5chain/x5bag");
		return rc;
	}
	untrusted = sk_X509_new_null();
	if (!untrusted) {
		set_error(t, "out of memory");
		return EDHOC_E_NOMEM;
	}
	for (size_t i = 0; i < id->n_certs; i++) {
		const unsigned char *p = id->certs[i];
		X509 *x = d2i_X509(NULL, &p, (long)id->cert_lens[i]);
		if (!x || p != id->certs[i] + id->cert_lens[i]) {
			X509_free(x);
			set_error(t, "certificate %zu of x5chain/x5bag does not decode", i);
			rc = EDHOC_E_CRED_MALFORMED;
			goto out;
		}
		if (i == ee) {
			leaf = x;
		} else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			rc = EDHOC_E_NOMEM;
			goto out;
		}
	}
	rc = sha256(id->certs[ee], id->cert_lens[ee], hash);
	if (rc)
		goto out;
	struct entry *e = find_cert(t, hash, sizeof(hash));
	if (e) {
		/* A stored certificate sent by value: same rules as by x5t. */
		rc = check_stored_cert(t, e, untrusted);
		if (rc == 0)
			fill(t, e, id, ret);
		else {
			snprintf(t->last_claimed, sizeof(t->last_claimed), "%s", e->identity);
			snprintf(t->last_file, sizeof(t->last_file), "%s", e->fname);
		}
		goto out;
	}
	char cn[EDHOC_MAX_IDENTITY];
	bool have_cn = subject_cn(leaf, cn, sizeof(cn));
	bool cn_ok = have_cn && trust_identity_valid(cn);
	if (t->n_cas == 0) {
		set_error(t, "certificate is not stored and no CA is configured");
		rc = EDHOC_E_UNKNOWN_CRED;
	} else {
		rc = verify_chain(t, leaf, untrusted);
	}
	if (rc) {
		/* Unverified, so only ever a name for the log. */
		if (cn_ok)
			snprintf(t->last_claimed, sizeof(t->last_claimed), "%s", cn);
		goto out;
	}
	if (!cn_ok) {
		/* The diag record escapes whatever the CN holds. */
		if (have_cn)
			set_error(t, "certificate subject CN '%s' is not usable as an identity",
			          cn);
		else
			set_error(t, "certificate subject has no usable CN for an identity");
		rc = EDHOC_E_CRED_INVALID;
		goto out;
	}
	cose_cred *c = NULL;
	rc = cose_cred_from_id_cred(id, &c);
	if (rc) {
		set_error(t, "certificate cannot be used: %s", edhoc_result_describe(rc));
		goto out;
	}
	cose_cred_free(t->scratch);
	t->scratch = c;
	snprintf(t->scratch_identity, sizeof(t->scratch_identity), "%s", cn);
	*ret = *cose_cred_edhoc(c);
	ret->identity = t->scratch_identity;
	if (id->map && id->map_len) {
		ret->id_cred = id->map;
		ret->id_cred_len = id->map_len;
	}
out:
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	ERR_clear_error();
	return rc;
}

static int lookup_kccs(trust_store *t, const edhoc_id_cred *id, edhoc_cred *ret)
{
	uint8_t hash[32];
	if (!id->ccs || sha256(id->ccs, id->ccs_len, hash) != 0) {
		set_error(t, "kccs cannot be hashed");
		return EDHOC_E_ID_CRED_MALFORMED;
	}
	struct hash_key k = {hash, sizeof(hash)};
	struct entry **hit = bsearch(&k, t->by_ccs, t->n_ccs, sizeof(*t->by_ccs), cmp_hash_key);
	size_t len = 0;
	const uint8_t *bytes = hit ? cose_cred_bytes((*hit)->cred, &len) : NULL;
	if (!hit || len != id->ccs_len || memcmp(bytes, id->ccs, len) != 0) {
		set_error(t, "CCS sent by value is not a stored credential");
		return EDHOC_E_UNKNOWN_CRED;
	}
	fill(t, *hit, id, ret);
	return 0;
}

int trust_lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred)
{
	trust_store *t = ctx;
	edhoc_cred out;
	int rc;
	if (!t || !id || !ret_cred)
		return EDHOC_E_INVALID_ARGUMENT;
	t->last_error[0] = '\0';
	t->last_claimed[0] = '\0';
	t->last_file[0] = '\0';
	memset(&out, 0, sizeof(out));
	switch (id->label) {
	case EDHOC_ID_CRED_KID:
		rc = lookup_kid(t, id, &out);
		break;
	case EDHOC_ID_CRED_X5T:
		rc = lookup_x5t(t, id, &out);
		break;
	case EDHOC_ID_CRED_X5CHAIN:
	case EDHOC_ID_CRED_X5BAG:
		rc = lookup_chain(t, id, &out);
		break;
	case EDHOC_ID_CRED_KCCS:
		rc = lookup_kccs(t, id, &out);
		break;
	default:
		set_error(t, "ID_CRED label %d not supported", id->label);
		rc = EDHOC_E_ID_CRED_UNSUPPORTED;
		break;
	}
	if (rc == 0) {
		t->last_error[0] = '\0';
		*ret_cred = out;
	}
	return rc;
}

const char *trust_last_error(const trust_store *t)
{
	return t ? t->last_error : "";
}

const char *trust_last_claimed(const trust_store *t)
{
	return t ? t->last_claimed : "";
}

const char *trust_last_file(const trust_store *t)
{
	return t ? t->last_file : "";
}

bool trust_has_identity(const trust_store *t, const char *identity)
{
	if (!t || !identity || t->n_ids == 0)
		return false;
	char key[EDHOC_MAX_IDENTITY];
	if (strlen(identity) >= sizeof(key))
		return false;
	snprintf(key, sizeof(key), "%s", identity);
	return bsearch(key, t->ids, t->n_ids, sizeof(*t->ids), cmp_name) != NULL;
}

size_t trust_count(const trust_store *t)
{
	return t ? t->n : 0;
}

size_t trust_ca_count(const trust_store *t)
{
	return t ? t->n_cas : 0;
}

const char *trust_identity_at(const trust_store *t, size_t i)
{
	return t && i < t->n ? t->v[i].identity : NULL;
}
