/* Credential files, as operators and the tools keep them (docs/credentials.md):
 *
 *   *.ccs   binary CCS (CBOR), a peer's public credential (or, with a
 *           private key d, an own credential: then mode 0600 is required)
 *   *.cred  readable text: "key = value" lines, '#' comments, e.g.
 *             type = ccs
 *             sub = 42-50-31-FF-EF-37-32-39
 *             kid = 2b
 *             curve = P-256
 *             x = <hex>   y = <hex>   d = <hex> (own credential only)
 *           or type = x509 with cert = / key = / chain = PEM file paths
 *   *.pem / *.crt / *.der   an X.509 certificate (own: + a PEM key file)
 *
 * The format is detected from the content.  This module reads and writes
 * only the files it is given (it is the one I/O module linked beside the
 * core, in src/libcredfile.a); errors come back as an edhoc_result plus a
 * message "file:line: what" in a caller buffer. */
#ifndef EDHOC_TOOLS_CREDFILE_H
#define EDHOC_TOOLS_CREDFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "edhoc/cred.h"

#define CREDFILE_MAX_SIZE 65536 /* bytes read from any credential file */
#define CREDFILE_MAX_LINE 1024  /* characters per line of a .cred file */

typedef struct credfile_opts {
	bool own;               /* own credential: a private key is required (and the
	                           file holding it must not be group/other accessible);
	                           false: a private key in the file is refused */
	int id_label;           /* EDHOC_ID_CRED_* to identify the credential by; 0:
	                           what the file says (id_cred = ...), else kid for CCS
	                           (kccs without kid) and x5t for X.509 */
	const char *key_path;   /* PEM private key for a PEM/DER certificate */
	const char *chain_path; /* PEM intermediates (x5chain/x5bag), may be NULL */
} credfile_opts;

typedef struct credfile credfile;

/* Loads a credential file.  opts NULL = peer credential with defaults.  On
 * failure returns a negative code and, when err is not NULL, writes a
 * message such as "dev.cred:4: kid: not hex" into err. */
int credfile_load(const char *path, const credfile_opts *opts, credfile **ret, char *err,
                  size_t err_size);

/* Frees; NULL is a no-op. */
void credfile_free(credfile *f);

/* Called for each certificate of a file with the line its PEM block starts
 * on (0 for DER); x is borrowed for the call (X509_up_ref to keep it).
 * Return 0 to go on, a negative code to stop. */
struct x509_st; /* OpenSSL's X509 */
typedef int (*credfile_cert_fn)(void *ctx, struct x509_st *x, unsigned line);

/* Reads the certificates of a PEM file (every CERTIFICATE block, in order)
 * or of a DER file (one) and hands each to fn.  Fails with a message
 * naming the file (and the line of a PEM block) when a block does not
 * decode, when the file has no certificate (saying which PEM block it has
 * instead, if any) or holds a PEM private key (EDHOC_E_CRED_HAS_PRIVATE);
 * returns fn's code when fn stops. */
int credfile_each_cert(const char *path, credfile_cert_fn fn, void *ctx, char *err,
                       size_t err_size);

/* The credential (owned by f) and its edhoc_cred view. */
const cose_cred *credfile_cred(const credfile *f);
const edhoc_cred *credfile_edhoc(const credfile *f);

/* Writes the text form of a CCS credential (with its private key when
 * with_private, then with mode 0600).  Refuses to replace an existing file
 * (EDHOC_E_CRED_FILE_EXISTS) unless force; the file appears atomically. */
int credfile_write_text(const char *path, const cose_cred *c, bool with_private, bool force,
                        char *err, size_t err_size);

/* Writes the public CCS (CRED_x bytes) of a CCS credential, mode 0644. */
int credfile_write_ccs(const char *path, const cose_cred *c, bool force, char *err,
                       size_t err_size);

/* Describes a credential readably (type, identity, kid, sub, curve, ID_CRED
 * and CRED in CBOR diagnostic notation) into out, NUL-terminated. */
void credfile_describe(const cose_cred *c, char *out, size_t out_size);

#endif
