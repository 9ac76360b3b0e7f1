/* Test fixtures for the config/policy tests: temporary directories, files,
 * keys, X.509 certificates with chosen validity, CRLs, and CCS files. */
#ifndef TESTS_TRUSTGEN_H
#define TESTS_TRUSTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* New empty directory under $TMPDIR (or /tmp); caller frees the string
 * and removes the tree with tg_rm_rf. */
char *tg_tmpdir(void);
void tg_rm_rf(const char *dir);

/* dir/name (subdirectories in name must exist), aborting on error. */
void tg_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode);
void tg_write_str(const char *dir, const char *name, const char *text);
void tg_mkdir(const char *dir, const char *name);

/* "P-256" or "Ed25519" key pair. */
EVP_PKEY *tg_key(const char *type);

/* Certificate for subject's public key, CN cn, serial, valid from
 * now + nb_s to now + na_s seconds, signed by issuer (NULL: self-signed
 * with subject) with issuer_key; ca adds basicConstraints CA:TRUE and
 * keyCertSign/cRLSign. */
X509 *tg_cert(EVP_PKEY *subject, const char *cn, long serial, long nb_s, long na_s, X509 *issuer,
              EVP_PKEY *issuer_key, bool ca);

/* CRL of ca listing the given serials, valid from now - 1 h for 1 day. */
X509_CRL *tg_crl(X509 *ca, EVP_PKEY *ca_key, const long *serials, size_t n);

void tg_write_cert(const char *dir, const char *name, X509 *x);
void tg_write_crl(const char *dir, const char *name, X509_CRL *crl);

/* DER of a certificate (caller frees with OPENSSL_free). */
uint8_t *tg_der(X509 *x, size_t *ret_len);

#endif
