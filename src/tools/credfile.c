/* Credential files: binary CCS, the .cred text form, PEM/DER certificates.
 * See credfile.h and docs/credentials.md. */
#include "tools/credfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "edhoc/cbor.h"

struct credfile {
	cose_cred *cred;
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;
	if (!err || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

/* Reads a whole regular file (bounded); *ret_mode receives its mode. */
static int read_file(const char *path, uint8_t **ret_buf, size_t *ret_len, mode_t *ret_mode,
                     char *err, size_t err_size)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, rc = EDHOC_E_CRED_FILE_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_err(err, err_size, "%s: %s", path, strerror(errno));
		return EDHOC_E_CRED_FILE_IO;
	}
	if (fstat(fd, &st) < 0) {
		set_err(err, err_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, err_size, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CREDFILE_MAX_SIZE) {
		set_err(err, err_size, "%s: larger than %d bytes", path, CREDFILE_MAX_SIZE);
		rc = EDHOC_E_CRED_FILE_SYNTAX;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, err_size, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret_buf = buf;
	*ret_len = got;
	*ret_mode = st.st_mode;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static void free_secret_file(uint8_t *buf, size_t len)
{
	if (buf)
		crypto_cleanse(buf, len);
	free(buf);
}

/* A private key readable by anyone but its owner is as good as leaked. */
static int check_private_mode(const char *path, mode_t mode, char *err, size_t err_size)
{
	if ((mode & 077) == 0)
		return 0;
	set_err(err, err_size,
	        "%s: holds a private key but has mode %04o; run 'chmod 600 %s' (group and "
	        "others must have no access)",
	        path, (unsigned)(mode & 07777), path);
	return EDHOC_E_CRED_FILE_MODE;
}

/* Resolves a path named in a .cred file relative to that file's folder. */
static void resolve_path(const char *base_file, const char *name, char *out, size_t cap)
{
	char tmp[4096];
	if (name[0] == '/') {
		snprintf(out, cap, "%s", name);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", base_file);
	snprintf(out, cap, "%s/%s", dirname(tmp), name);
}

/* ---- X.509 ---- */

typedef struct certlist {
	uint8_t *der[EDHOC_MAX_CHAIN];
	size_t len[EDHOC_MAX_CHAIN];
	size_t n;
} certlist;

static void certlist_clear(certlist *cl)
{
	for (size_t i = 0; i < cl->n; i++)
		OPENSSL_free(cl->der[i]);
	cl->n = 0;
}

struct certlist_ctx {
	certlist *cl;
	const char *path;
	char *err;
	size_t err_size;
};

static int certlist_add(void *ctx, X509 *x, unsigned line)
{
	struct certlist_ctx *c = ctx;
	certlist *cl = c->cl;
	unsigned char *der = NULL;
	int n;

	(void)line;
	if (cl->n >= EDHOC_MAX_CHAIN) {
		set_err(c->err, c->err_size, "%s: more than %d certificates", c->path,
		        EDHOC_MAX_CHAIN);
		return EDHOC_E_LIMIT;
	}
	n = i2d_X509(x, &der);
	if (n <= 0) {
		set_err(c->err, c->err_size, "%s: certificate cannot be encoded", c->path);
		return EDHOC_E_CRED_MALFORMED;
	}
	cl->der[cl->n] = der;
	cl->len[cl->n] = (size_t)n;
	cl->n++;
	return 0;
}

/* Line (from 1) of byte offset off. */
static unsigned line_of(const uint8_t *buf, size_t off)
{
	unsigned line = 1;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

static bool is_cert_label(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

static void openssl_reason(char *out, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(out, cap, "%s", r ? r : "unknown reason");
	ERR_clear_error();
}

/* Every certificate of a PEM text (blocks of other kinds are skipped but
 * remembered, so a file without a certificate says what it holds), or the
 * one certificate of a DER file, to fn in file order. */
static int scan_certs(const char *path, const uint8_t *buf, size_t len, bool own,
                      credfile_cert_fn fn, void *ctx, char *err, size_t err_size)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	size_t n_certs = 0;
	char other[64] = "";
	unsigned other_line = 0;
	bool other_private = false;
	char why[128];
	int rc = 0;

	if (len > 0 && buf[0] == 0x30) {
		const unsigned char *p = buf;
		x = d2i_X509(NULL, &p, (long)len);
		if (!x || p != buf + len) {
			set_err(err, err_size, "%s: not a DER X.509 certificate (%zu bytes, %s)",
			        path, len, x ? "bytes follow the certificate" : "does not decode");
			ERR_clear_error();
			rc = EDHOC_E_CRED_MALFORMED;
			goto out;
		}
		rc = fn(ctx, x, 0);
		goto out;
	}
	if (len > INT_MAX) {
		rc = EDHOC_E_LIMIT;
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	for (;;) {
		/* A memory BIO's pending count tells how far PEM_read_bio got,
		 * which gives each block's line for the messages. */
		size_t off = len - (size_t)BIO_pending(bio);
		const uint8_t *begin = memmem(buf + off, len - off, "-----BEGIN", 10);
		unsigned line = line_of(buf, begin ? (size_t)(begin - buf) : off);
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;

		ERR_clear_error();
		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
			unsigned long e = ERR_peek_last_error();
			if (!begin || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			               ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
				ERR_clear_error();
				break; /* no further block */
			}
			openssl_reason(why, sizeof(why));
			set_err(err, err_size, "%s:%u: PEM block does not decode (%s)", path, line,
			        why);
			rc = EDHOC_E_CRED_MALFORMED;
			goto out;
		}
		if (is_cert_label(name)) {
			const unsigned char *p = data;
			x = d2i_X509(NULL, &p, dlen);
			if (!x || p != data + dlen) {
				set_err(err, err_size,
				        "%s:%u: PEM %s block is not a DER X.509 certificate", path,
				        line, name);
				ERR_clear_error();
				rc = EDHOC_E_CRED_MALFORMED;
			} else {
				rc = fn(ctx, x, line);
				n_certs++;
			}
			X509_free(x);
			x = NULL;
		} else {
			bool priv = strstr(name, "PRIVATE KEY") != NULL;
			if (!other[0] || (priv && !other_private)) {
				snprintf(other, sizeof(other), "%s", name);
				other_line = line;
				other_private = priv;
			}
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (rc < 0)
			goto out;
	}
	if (other_private && !own) {
		/* A private key next to (or instead of) a peer's certificate
		 * has leaked, whatever else the file holds. */
		set_err(err, err_size,
		        "%s:%u: a PEM %s where a certificate belongs; a peer credential must not "
		        "contain a private key",
		        path, other_line, other);
		rc = EDHOC_E_CRED_HAS_PRIVATE;
	} else if (n_certs == 0 && other[0]) {
		set_err(err, err_size, "%s:%u: a PEM %s, not a CERTIFICATE", path, other_line,
		        other);
		rc = EDHOC_E_CRED_MALFORMED;
	} else if (n_certs == 0) {
		set_err(err, err_size,
		        "%s: not an X.509 certificate: no PEM '-----BEGIN' line and not DER", path);
		rc = EDHOC_E_CRED_MALFORMED;
	}
out:
	X509_free(x);
	BIO_free(bio);
	return rc;
}

/* Certificates of a PEM file (all of them, in order) or one DER file. */
static int read_certs(const char *path, const uint8_t *buf, size_t len, bool own, certlist *cl,
                      char *err, size_t err_size)
{
	struct certlist_ctx c = {cl, path, err, err_size};
	return scan_certs(path, buf, len, own, certlist_add, &c, err, err_size);
}

static int load_cert_file(const char *path, bool own, certlist *cl, char *err, size_t err_size)
{
	uint8_t *buf = NULL;
	size_t len;
	mode_t mode;
	int rc = read_file(path, &buf, &len, &mode, err, err_size);
	if (rc < 0)
		return rc;
	rc = read_certs(path, buf, len, own, cl, err, err_size);
	free(buf);
	return rc;
}

int credfile_each_cert(const char *path, credfile_cert_fn fn, void *ctx, char *err, size_t err_size)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	mode_t mode;
	int rc;

	if (!path || !fn)
		return EDHOC_E_INVALID_ARGUMENT;
	set_err(err, err_size, "%s", "");
	rc = read_file(path, &buf, &len, &mode, err, err_size);
	if (rc < 0)
		return rc;
	rc = scan_certs(path, buf, len, false, fn, ctx, err, err_size);
	free(buf);
	return rc;
}

static int load_pem_key(const char *path, crypto_key **ret, char *err, size_t err_size)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	mode_t mode;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int rc = read_file(path, &buf, &len, &mode, err, err_size);
	if (rc < 0)
		return rc;
	rc = check_private_mode(path, mode, err, err_size);
	if (rc < 0)
		goto out;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!pk) {
		set_err(err, err_size, "%s: no PEM private key found", path);
		rc = EDHOC_E_CRED_MALFORMED;
		goto out;
	}
	rc = crypto_key_from_evp(pk, ret);
	if (rc < 0)
		set_err(err, err_size, "%s: unsupported private key type (%s)", path,
		        edhoc_result_describe(rc));
out:
	EVP_PKEY_free(pk);
	BIO_free(bio);
	free_secret_file(buf, len);
	return rc;
}

static int x509_cred(const char *path, certlist *cl, int id_label, const char *key_path, bool own,
                     cose_cred **ret, char *err, size_t err_size)
{
	cose_cred *c = NULL;
	crypto_key *priv = NULL;
	int rc;

	if (id_label == 0)
		id_label = EDHOC_ID_CRED_X5T;
	if (id_label != EDHOC_ID_CRED_X5T && id_label != EDHOC_ID_CRED_X5CHAIN &&
	    id_label != EDHOC_ID_CRED_X5BAG) {
		set_err(err, err_size, "%s: a certificate is identified by x5t, x5chain or x5bag",
		        path);
		return EDHOC_E_INVALID_ARGUMENT;
	}
	rc = cose_cred_from_x509((const uint8_t *const *)cl->der, cl->len, cl->n, id_label, &c);
	if (rc < 0) {
		set_err(err, err_size, "%s: %s", path, edhoc_result_describe(rc));
		return rc;
	}
	if (own) {
		if (!key_path) {
			set_err(err, err_size, "%s: own certificate needs a private key file",
			        path);
			rc = EDHOC_E_CRED_NO_PRIVATE;
			goto out;
		}
		rc = load_pem_key(key_path, &priv, err, err_size);
		if (rc < 0)
			goto out;
		rc = cose_cred_set_private(c, priv);
		if (rc < 0) {
			set_err(err, err_size, "%s: private key does not match certificate %s",
			        key_path, path);
			goto out;
		}
	}
	*ret = c;
	c = NULL;
out:
	crypto_key_free(priv);
	cose_cred_free(c);
	return rc;
}

/* ---- the .cred text form ---- */

enum { F_TYPE, F_SUB, F_KID, F_CURVE, F_X, F_Y, F_D, F_ID_CRED, F_CERT, F_KEY, F_CHAIN, F_N };
static const char *const field_names[F_N] = {"type", "sub",     "kid",  "curve", "x",    "y",
                                             "d",    "id_cred", "cert", "key",   "chain"};

typedef struct textcred {
	char *val[F_N]; /* points into the file buffer */
	unsigned line[F_N];
} textcred;

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int parse_text(const char *path, char *buf, textcred *tc, char *err, size_t err_size)
{
	unsigned lineno = 0;
	char *line = buf;

	memset(tc, 0, sizeof(*tc));
	while (line && *line) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strlen(line) > CREDFILE_MAX_LINE) {
			set_err(err, err_size, "%s:%u: line longer than %d characters", path,
			        lineno, CREDFILE_MAX_LINE);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#') {
			line = next;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			set_err(err, err_size, "%s:%u: expected 'name = value'", path, lineno);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		int f = -1;
		for (int i = 0; i < F_N; i++)
			if (strcmp(name, field_names[i]) == 0)
				f = i;
		if (f < 0) {
			set_err(err, err_size, "%s:%u: unknown field '%s'", path, lineno, name);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		if (tc->val[f]) {
			set_err(err, err_size, "%s:%u: '%s' repeated (first on line %u)", path,
			        lineno, name, tc->line[f]);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		if (*value == '\0') {
			set_err(err, err_size, "%s:%u: '%s' has no value", path, lineno, name);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		tc->val[f] = value;
		tc->line[f] = lineno;
		line = next;
	}
	if (!tc->val[F_TYPE]) {
		set_err(err, err_size, "%s:%u: missing 'type = ccs' or 'type = x509'", path,
		        lineno ? lineno : 1);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex with optional ':' or blanks between bytes. */
static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = 0;
	while (*s) {
		if (*s == ':' || *s == ' ' || *s == '\t') {
			s++;
			continue;
		}
		int hi = hexval(s[0]);
		int lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*ret_len = n;
	return 0;
}

static int hex_field(const char *path, const textcred *tc, int f, uint8_t *out, size_t cap,
                     size_t *ret_len, char *err, size_t err_size)
{
	if (parse_hex(tc->val[f], out, cap, ret_len) < 0) {
		set_err(err, err_size, "%s:%u: %s: not a hex string of at most %zu bytes", path,
		        tc->line[f], field_names[f], cap);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	return 0;
}

static int id_label_from_name(const char *s)
{
	if (strcmp(s, "kid") == 0)
		return EDHOC_ID_CRED_KID;
	if (strcmp(s, "kccs") == 0 || strcmp(s, "value") == 0)
		return EDHOC_ID_CRED_KCCS;
	if (strcmp(s, "x5t") == 0)
		return EDHOC_ID_CRED_X5T;
	if (strcmp(s, "x5chain") == 0)
		return EDHOC_ID_CRED_X5CHAIN;
	if (strcmp(s, "x5bag") == 0)
		return EDHOC_ID_CRED_X5BAG;
	return 0;
}

/* Fields first..last belong to the other credential type: naming one is an
 * error that points at its line. */
static int refuse_fields(const char *path, const textcred *tc, int first, int last,
                         const char *type, char *err, size_t err_size)
{
	for (int f = first; f <= last; f++)
		if (tc->val[f]) {
			set_err(err, err_size, "%s:%u: '%s' belongs to type = %s", path,
			        tc->line[f], field_names[f], type);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
	return 0;
}

static int text_ccs(const char *path, const textcred *tc, int id_label, bool own, cose_cred **ret,
                    char *err, size_t err_size)
{
	uint8_t kid[COSE_MAX_KID], x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD], d[CRYPTO_MAX_COORD];
	size_t kid_len = 0, x_len = 0, y_len = 0, d_len = 0;
	uint8_t ccs[COSE_CRED_MAX_BYTES];
	size_t ccs_len;
	crypto_key *key = NULL;
	cose_cred *c = NULL;
	int crv, rc;

	rc = refuse_fields(path, tc, F_CERT, F_CHAIN, "x509", err, err_size);
	if (rc < 0)
		return rc;
	if (!tc->val[F_CURVE]) {
		set_err(err, err_size,
		        "%s: missing 'curve = ...' (P-256, P-384, X25519, X448, "
		        "Ed25519, Ed448)",
		        path);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	crv = cose_curve_from_name(tc->val[F_CURVE]);
	if (!crv) {
		set_err(err, err_size, "%s:%u: unknown curve '%s'", path, tc->line[F_CURVE],
		        tc->val[F_CURVE]);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	if (tc->val[F_SUB] && strlen(tc->val[F_SUB]) > COSE_MAX_SUB) {
		set_err(err, err_size, "%s:%u: sub longer than %d bytes", path, tc->line[F_SUB],
		        COSE_MAX_SUB);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	if (tc->val[F_KID]) {
		rc = hex_field(path, tc, F_KID, kid, sizeof(kid), &kid_len, err, err_size);
		if (rc < 0)
			return rc;
	}
	if (tc->val[F_X]) {
		rc = hex_field(path, tc, F_X, x, sizeof(x), &x_len, err, err_size);
		if (rc < 0)
			return rc;
	}
	if (tc->val[F_Y]) {
		if (cose_curve_kty(crv) != COSE_KTY_EC2) {
			set_err(err, err_size, "%s:%u: y is only for P-256/P-384 keys", path,
			        tc->line[F_Y]);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		rc = hex_field(path, tc, F_Y, y, sizeof(y), &y_len, err, err_size);
		if (rc < 0)
			return rc;
	}
	if (tc->val[F_D]) {
		if (!own) {
			set_err(err, err_size,
			        "%s:%u: a peer credential must not contain a private key (d)", path,
			        tc->line[F_D]);
			return EDHOC_E_CRED_HAS_PRIVATE;
		}
		rc = hex_field(path, tc, F_D, d, sizeof(d), &d_len, err, err_size);
		if (rc < 0)
			goto out;
		rc = crypto_key_from_private(crv, d, d_len, &key);
		if (rc < 0) {
			set_err(err, err_size, "%s:%u: d is not a valid %s private key", path,
			        tc->line[F_D], cose_curve_name(crv));
			goto out;
		}
		if (tc->val[F_X]) {
			/* x/y are optional with d; when given they must agree, or
			 * the file names a key pair that does not exist. */
			uint8_t px[CRYPTO_MAX_COORD], py[CRYPTO_MAX_COORD];
			size_t px_len, py_len;
			rc = crypto_key_public(key, px, &px_len, py, &py_len);
			if (rc < 0)
				goto out;
			if (px_len != x_len || memcmp(px, x, x_len) != 0 ||
			    (tc->val[F_Y] && (py_len != y_len || memcmp(py, y, y_len) != 0))) {
				set_err(err, err_size,
				        "%s:%u: x/y do not belong to the private key d (line %u)",
				        path, tc->line[F_X], tc->line[F_D]);
				rc = EDHOC_E_CRED_KEY_MISMATCH;
				goto out;
			}
		}
	} else {
		if (own) {
			set_err(err, err_size, "%s: own credential needs its private key (d = ...)",
			        path);
			return EDHOC_E_CRED_NO_PRIVATE;
		}
		if (!tc->val[F_X]) {
			set_err(err, err_size, "%s: missing 'x = ...' (public key)", path);
			return EDHOC_E_CRED_FILE_SYNTAX;
		}
		rc = crypto_key_from_public(crv, x, x_len, tc->val[F_Y] ? y : NULL, y_len, &key);
		if (rc < 0) {
			set_err(err, err_size, "%s:%u: x/y are not a valid %s public key (%s)",
			        path, tc->line[F_X], cose_curve_name(crv),
			        edhoc_result_describe(rc));
			goto out;
		}
	}

	if (id_label == 0)
		id_label = tc->val[F_KID] ? EDHOC_ID_CRED_KID : EDHOC_ID_CRED_KCCS;
	if (id_label == EDHOC_ID_CRED_KID && !tc->val[F_KID]) {
		set_err(err, err_size, "%s: identified by kid but has no 'kid = ...'", path);
		rc = EDHOC_E_CRED_FILE_SYNTAX;
		goto out;
	}
	if (id_label != EDHOC_ID_CRED_KID && id_label != EDHOC_ID_CRED_KCCS) {
		set_err(err, err_size, "%s: a CCS is identified by kid or kccs", path);
		rc = EDHOC_E_CRED_FILE_SYNTAX;
		goto out;
	}
	rc = cose_ccs_build(key, tc->val[F_SUB], tc->val[F_KID] ? kid : NULL, kid_len, false, ccs,
	                    sizeof(ccs), &ccs_len);
	if (rc == 0)
		rc = cose_cred_from_ccs(ccs, ccs_len, id_label, false, &c);
	if (rc == 0 && own)
		rc = cose_cred_set_private(c, key);
	if (rc < 0) {
		set_err(err, err_size, "%s: %s", path, edhoc_result_describe(rc));
		goto out;
	}
	*ret = c;
	c = NULL;
out:
	crypto_cleanse(d, sizeof(d));
	crypto_key_free(key);
	cose_cred_free(c);
	return rc;
}

static int text_x509(const char *path, const textcred *tc, int id_label, bool own, cose_cred **ret,
                     char *err, size_t err_size)
{
	char cert_path[4096], key_path[4096], chain_path[4096];
	certlist cl = {.n = 0};
	int rc;

	rc = refuse_fields(path, tc, F_SUB, F_D, "ccs", err, err_size);
	if (rc < 0)
		return rc;
	if (!tc->val[F_CERT]) {
		set_err(err, err_size, "%s: missing 'cert = FILE.pem'", path);
		return EDHOC_E_CRED_FILE_SYNTAX;
	}
	if (tc->val[F_KEY] && !own) {
		set_err(err, err_size, "%s:%u: a peer credential must not name a private key", path,
		        tc->line[F_KEY]);
		return EDHOC_E_CRED_HAS_PRIVATE;
	}
	resolve_path(path, tc->val[F_CERT], cert_path, sizeof(cert_path));
	rc = load_cert_file(cert_path, own, &cl, err, err_size);
	if (rc < 0)
		goto out;
	if (tc->val[F_CHAIN]) {
		resolve_path(path, tc->val[F_CHAIN], chain_path, sizeof(chain_path));
		rc = load_cert_file(chain_path, own, &cl, err, err_size);
		if (rc < 0)
			goto out;
	}
	if (tc->val[F_KEY])
		resolve_path(path, tc->val[F_KEY], key_path, sizeof(key_path));
	rc = x509_cred(cert_path, &cl, id_label, tc->val[F_KEY] ? key_path : NULL, own, ret, err,
	               err_size);
out:
	certlist_clear(&cl);
	return rc;
}

/* ---- loading ---- */

static bool looks_like_pem(const uint8_t *buf, size_t len)
{
	return len >= 10 && memmem(buf, len, "-----BEGIN", 10) != NULL;
}

/* The name says what the file should be: the content decides the format,
 * but when it fits none, the name decides which error helps. */
static bool name_ends(const char *path, const char *ext)
{
	size_t n = strlen(path), m = strlen(ext);
	return n > m && strcasecmp(path + n - m, ext) == 0;
}

static bool named_certificate(const char *path)
{
	return name_ends(path, ".pem") || name_ends(path, ".crt") || name_ends(path, ".der") ||
	       name_ends(path, ".cer");
}

int credfile_load(const char *path, const credfile_opts *opts, credfile **ret, char *err,
                  size_t err_size)
{
	static const credfile_opts peer_defaults = {.own = false};
	credfile *f = NULL;
	cose_cred *c = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	mode_t mode;
	certlist cl = {.n = 0};
	int rc;

	if (!path || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!opts)
		opts = &peer_defaults;
	set_err(err, err_size, "%s", "");
	rc = read_file(path, &buf, &len, &mode, err, err_size);
	if (rc < 0)
		return rc;
	if (len == 0) {
		set_err(err, err_size, "%s: empty file", path);
		rc = EDHOC_E_CRED_FILE_SYNTAX;
		goto out;
	}

	if (buf[0] >= 0xa0 && buf[0] <= 0xbf) {
		/* Binary CCS: a CBOR map. */
		cose_ccs parsed;
		int id_label = opts->id_label;
		rc = cose_ccs_parse(buf, len, true, &parsed);
		if (rc < 0) {
			set_err(err, err_size, "%s: not a valid CCS: %s", path,
			        edhoc_result_describe(rc));
			goto out;
		}
		if (parsed.d && !opts->own) {
			set_err(err, err_size,
			        "%s: a peer credential must not contain a private key (d)", path);
			rc = EDHOC_E_CRED_HAS_PRIVATE;
			goto out;
		}
		if (!parsed.d && opts->own) {
			set_err(err, err_size, "%s: own credential has no private key (d)", path);
			rc = EDHOC_E_CRED_NO_PRIVATE;
			goto out;
		}
		if (parsed.d) {
			rc = check_private_mode(path, mode, err, err_size);
			if (rc < 0)
				goto out;
		}
		if (id_label == 0)
			id_label = parsed.kid ? EDHOC_ID_CRED_KID : EDHOC_ID_CRED_KCCS;
		rc = cose_cred_from_ccs(buf, len, id_label, opts->own, &c);
		if (rc < 0)
			set_err(err, err_size, "%s: %s", path, edhoc_result_describe(rc));
	} else if (buf[0] == 0x30 || looks_like_pem(buf, len)) {
		rc = read_certs(path, buf, len, opts->own, &cl, err, err_size);
		if (rc == 0 && opts->chain_path)
			rc = load_cert_file(opts->chain_path, opts->own, &cl, err, err_size);
		if (rc == 0)
			rc = x509_cred(path, &cl, opts->id_label, opts->key_path, opts->own, &c,
			               err, err_size);
	} else if (named_certificate(path)) {
		rc = read_certs(path, buf, len, opts->own, &cl, err, err_size);
	} else if (name_ends(path, ".ccs")) {
		set_err(err, err_size,
		        "%s: not a CCS: a .ccs file is one binary CBOR map (first byte 0x%02x)",
		        path, buf[0]);
		rc = EDHOC_E_CRED_MALFORMED;
	} else {
		textcred tc;
		/* A NUL would end the text early and hide what follows it. */
		if (memchr(buf, '\0', len)) {
			set_err(err, err_size, "%s: not a text file (contains NUL bytes)", path);
			rc = EDHOC_E_CRED_FILE_SYNTAX;
			goto out;
		}
		rc = parse_text(path, (char *)buf, &tc, err, err_size);
		if (rc < 0)
			goto out;
		int id_label = opts->id_label;
		if (id_label == 0 && tc.val[F_ID_CRED]) {
			id_label = id_label_from_name(tc.val[F_ID_CRED]);
			if (!id_label) {
				set_err(err, err_size,
				        "%s:%u: id_cred must be kid, kccs, x5t, x5chain or x5bag",
				        path, tc.line[F_ID_CRED]);
				rc = EDHOC_E_CRED_FILE_SYNTAX;
				goto out;
			}
		}
		if (tc.val[F_D] && opts->own) {
			rc = check_private_mode(path, mode, err, err_size);
			if (rc < 0)
				goto out;
		}
		if (strcmp(tc.val[F_TYPE], "ccs") == 0) {
			rc = text_ccs(path, &tc, id_label, opts->own, &c, err, err_size);
		} else if (strcmp(tc.val[F_TYPE], "x509") == 0) {
			rc = text_x509(path, &tc, id_label, opts->own, &c, err, err_size);
		} else {
			set_err(err, err_size, "%s:%u: type must be ccs or x509", path,
			        tc.line[F_TYPE]);
			rc = EDHOC_E_CRED_FILE_SYNTAX;
		}
	}
	if (rc < 0)
		goto out;

	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = EDHOC_E_NOMEM;
		goto out;
	}
	f->cred = c;
	c = NULL;
	*ret = f;
out:
	certlist_clear(&cl);
	cose_cred_free(c);
	free_secret_file(buf, len);
	return rc;
}

void credfile_free(credfile *f)
{
	if (!f)
		return;
	cose_cred_free(f->cred);
	free(f);
}

const cose_cred *credfile_cred(const credfile *f)
{
	return f ? f->cred : NULL;
}

const edhoc_cred *credfile_edhoc(const credfile *f)
{
	return f ? cose_cred_edhoc(f->cred) : NULL;
}

/* ---- writing ---- */

/* Writes data to path via a temporary file in the same folder, so readers
 * never see half a file; without force an existing file is never replaced
 * (link() fails atomically if the name exists). */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool force,
                        char *err, size_t err_size)
{
	char tmp[4096];
	int fd, rc = EDHOC_E_CRED_FILE_IO;
	size_t done = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		set_err(err, err_size, "%s: path too long", path);
		return EDHOC_E_INVALID_ARGUMENT;
	}
	if (!force && access(path, F_OK) == 0) {
		set_err(err, err_size, "%s: exists; not overwritten (use --force)", path);
		return EDHOC_E_CRED_FILE_EXISTS;
	}
	fd = mkstemp(tmp); /* created 0600: a private key is never exposed */
	if (fd < 0) {
		set_err(err, err_size, "%s: %s", tmp, strerror(errno));
		return EDHOC_E_CRED_FILE_IO;
	}
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, (const uint8_t *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (force) {
		if (rename(tmp, path) < 0)
			goto fail;
	} else {
		if (link(tmp, path) < 0) {
			if (errno == EEXIST) {
				set_err(err, err_size, "%s: exists; not overwritten (use --force)",
				        path);
				rc = EDHOC_E_CRED_FILE_EXISTS;
				unlink(tmp);
				return rc;
			}
			goto fail;
		}
		unlink(tmp);
	}
	return 0;
fail:
	set_err(err, err_size, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

static void hex_append(char *out, size_t cap, size_t *pos, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n && *pos + 2 < cap; i++) {
		out[(*pos)++] = digits[p[i] >> 4];
		out[(*pos)++] = digits[p[i] & 15];
	}
	out[*pos] = '\0';
}

static void text_line(char *out, size_t cap, size_t *pos, const char *name, const uint8_t *p,
                      size_t n)
{
	int w = snprintf(out + *pos, cap - *pos, "%s = ", name);
	if (w > 0 && (size_t)w < cap - *pos)
		*pos += (size_t)w;
	hex_append(out, cap, pos, p, n);
	if (*pos + 1 < cap) {
		out[(*pos)++] = '\n';
		out[*pos] = '\0';
	}
}

int credfile_write_text(const char *path, const cose_cred *c, bool with_private, bool force,
                        char *err, size_t err_size)
{
	uint8_t ccs[COSE_CRED_MAX_BYTES];
	size_t ccs_len, kid_len, pos = 0;
	cose_ccs parsed;
	char text[2048];
	const uint8_t *kid;
	int rc, w;

	if (!path || !c)
		return EDHOC_E_INVALID_ARGUMENT;
	if (cose_cred_type(c) != EDHOC_CRED_CCS) {
		set_err(err, err_size, "%s: only CCS credentials have a text form", path);
		return EDHOC_E_INVALID_ARGUMENT;
	}
	if (with_private && !crypto_key_has_private(cose_cred_key(c))) {
		set_err(err, err_size, "%s: credential has no private key", path);
		return EDHOC_E_CRED_NO_PRIVATE;
	}
	kid = cose_cred_kid(c, &kid_len);
	/* Round-trip through a CCS with d to get every coordinate in COSE
	 * form without a second key encoder. */
	rc = cose_ccs_build(cose_cred_key(c), NULL, NULL, 0, with_private, ccs, sizeof(ccs),
	                    &ccs_len);
	if (rc == 0)
		rc = cose_ccs_parse(ccs, ccs_len, true, &parsed);
	if (rc < 0) {
		set_err(err, err_size, "%s: %s", path, edhoc_result_describe(rc));
		goto out;
	}
	w = snprintf(text, sizeof(text),
	             "# EDHOC %s credential (docs/credentials.md)%s\n"
	             "type = ccs\n",
	             with_private ? "own" : "peer",
	             with_private ? ": contains the private key, keep it mode 0600" : "");
	pos = (size_t)w;
	if (cose_cred_sub(c)[0]) {
		w = snprintf(text + pos, sizeof(text) - pos, "sub = %s\n", cose_cred_sub(c));
		pos += (size_t)w;
	}
	if (kid)
		text_line(text, sizeof(text), &pos, "kid", kid, kid_len);
	w = snprintf(text + pos, sizeof(text) - pos, "curve = %s\n",
	             cose_curve_name(cose_cred_curve(c)));
	pos += (size_t)w;
	text_line(text, sizeof(text), &pos, "x", parsed.x, parsed.x_len);
	if (parsed.y)
		text_line(text, sizeof(text), &pos, "y", parsed.y, parsed.y_len);
	if (with_private)
		text_line(text, sizeof(text), &pos, "d", parsed.d, parsed.d_len);
	w = snprintf(text + pos, sizeof(text) - pos, "id_cred = %s\n",
	             cose_cred_id_label(c) == EDHOC_ID_CRED_KCCS ? "kccs" : "kid");
	pos += (size_t)w;
	rc = write_atomic(path, text, pos, with_private ? 0600 : 0644, force, err, err_size);
out:
	crypto_cleanse(ccs, sizeof(ccs));
	crypto_cleanse(text, sizeof(text));
	return rc;
}

int credfile_write_ccs(const char *path, const cose_cred *c, bool force, char *err, size_t err_size)
{
	const uint8_t *p;
	size_t len;

	if (!path || !c)
		return EDHOC_E_INVALID_ARGUMENT;
	if (cose_cred_type(c) != EDHOC_CRED_CCS) {
		set_err(err, err_size, "%s: not a CCS credential", path);
		return EDHOC_E_INVALID_ARGUMENT;
	}
	p = cose_cred_bytes(c, &len);
	return write_atomic(path, p, len, 0644, force, err, err_size);
}

static const char *id_label_name(int label)
{
	switch (label) {
	case EDHOC_ID_CRED_KID:
		return "kid";
	case EDHOC_ID_CRED_KCCS:
		return "kccs (by value)";
	case EDHOC_ID_CRED_X5T:
		return "x5t";
	case EDHOC_ID_CRED_X5CHAIN:
		return "x5chain (by value)";
	case EDHOC_ID_CRED_X5BAG:
		return "x5bag (by value)";
	default:
		return "?";
	}
}

void credfile_describe(const cose_cred *c, char *out, size_t out_size)
{
	char diag[2048];
	const uint8_t *p;
	size_t len, pos = 0, kid_len;
	const uint8_t *kid;
	int w;

	if (!out || out_size == 0)
		return;
	out[0] = '\0';
	if (!c)
		return;
#define APPEND(...)                                                                        \
	do {                                                                               \
		w = snprintf(out + pos, out_size - pos, __VA_ARGS__);                      \
		if (w > 0)                                                                 \
			pos = (size_t)w < out_size - pos ? pos + (size_t)w : out_size - 1; \
	} while (0)
	APPEND("type:     %s\n", cose_cred_type(c) == EDHOC_CRED_CCS ? "CCS" : "X.509");
	APPEND("identity: %s\n", cose_cred_identity(c));
	if (cose_cred_type(c) == EDHOC_CRED_CCS)
		APPEND("sub:      %s\n", cose_cred_sub(c)[0] ? cose_cred_sub(c) : "(none)");
	kid = cose_cred_kid(c, &kid_len);
	if (kid) {
		APPEND("kid:      ");
		hex_append(out, out_size, &pos, kid, kid_len);
		APPEND("\n");
	}
	APPEND("curve:    %s%s\n", cose_curve_name(cose_cred_curve(c)),
	       crypto_key_has_private(cose_cred_key(c)) ? " (private key present)" : "");
	if (cose_cred_type(c) == EDHOC_CRED_X509) {
		uint8_t h[32];
		size_t hl;
		p = cose_cred_cert(c, 0, &len);
		if (cose_x5t_hash(COSE_ALG_SHA_256_64, p, len, h, &hl) == 0) {
			APPEND("x5t:      ");
			hex_append(out, out_size, &pos, h, hl);
			APPEND(" (SHA-256/64)\n");
		}
		APPEND("certs:    %zu\n", cose_cred_n_certs(c));
	}
	APPEND("id_cred:  %s\n", id_label_name(cose_cred_id_label(c)));
	p = cose_cred_id_cred(c, &len);
	cose_diag(p, len, diag, sizeof(diag));
	APPEND("ID_CRED:  %s\n", diag);
	p = cose_cred_bytes(c, &len);
	cose_diag(p, len, diag, sizeof(diag));
	APPEND("CRED:     %s\n", diag);
#undef APPEND
}
