/* Trust store: the peer credentials the gateway accepts, and the CA
 * certificates that vouch for devices presenting certificates by value.
 *
 * A trust directory holds:
 *   *.ccs        one CWT Claims Set, binary CBOR (public key only)
 *   *.cred       one credential in the text form of src/tools/credfile.h
 *   *.pem *.crt  one device certificate each (PEM), pinned
 *   ca/ *.pem, *.crt   CA certificates (trust anchors and intermediates);
 *                each must have basicConstraints CA:TRUE and, when it has
 *                a keyUsage, keyCertSign: a device certificate put here by
 *                mistake is a load error naming its file and PEM line
 *   ca/ *.crl    CRLs (PEM or DER); when any is present the end-entity
 *                certificate of every chain must be covered by a current
 *                CRL of its issuer and not listed (X509_V_FLAG_CRL_CHECK)
 *   names        optional "file = identity" lines that name credentials
 * Other files are errors (typo safety); hidden files are ignored.
 *
 * Identity of a credential: the names file entry for its file name, else
 * the CCS subject (claim 2), else the certificate subject CN, else the file
 * name without its extension.  Identities are at most
 * EDHOC_MAX_IDENTITY - 1 bytes of printable ASCII without spaces.
 *
 * Lookup (trust_lookup, an edhoc_cred_lookup_fn):
 *   kid     the stored CCS whose COSE_Key kid equals it (duplicate kids in
 *           one trust directory are load errors)
 *   x5t     the stored certificate whose SHA-256 (or SHA-256/64) equals it
 *   x5chain/x5bag  if the end-entity certificate is a stored one: as by
 *           x5t; else the chain is validated against ca/ (validity period,
 *           CRLs, at most chain_length_max certificates including the
 *           trust anchor) and the identity is the subject CN
 *   kccs    accepted only when byte-identical to a stored CCS (a CCS sent
 *           by value vouches for nothing by itself)
 * Stored certificates are checked when used: a self-signed one for its
 * validity period only (it is pinned), any other by chain validation
 * against ca/ like a certificate sent by value.
 *
 * Lookups are O(log n): sorted index arrays searched with bsearch.
 *
 * The store is immutable once loaded except for one scratch slot that
 * holds the credential of the last by-value lookup (valid until the next
 * lookup or trust_free) and the last failure text: single-threaded use. */
#ifndef EDHOCD_POLICY_TRUST_H
#define EDHOCD_POLICY_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config/errors.h"
#include "edhoc/edhoc.h"

#define TRUST_MAX_ENTRIES       100000 /* credential files in one directory */
#define TRUST_DEFAULT_CHAIN_MAX 3

typedef struct trust_options {
	size_t chain_length_max; /* certificates in a validated chain incl. the
	                            anchor, 2..8; 0: TRUST_DEFAULT_CHAIN_MAX */
	time_t verify_time;      /* 0: now at each lookup (tests set a time) */
} trust_options;

typedef struct trust_store trust_store;

/* Loads a trust directory.  Every problem goes to errs as "file:line:
 * message" (line 0 for whole-file problems); on any error returns
 * EDHOC_E_INVALID_ARGUMENT (or EDHOC_E_NOMEM) and no store. */
int trust_load(const char *dir, const trust_options *opt, cfg_errors *errs,
               trust_store **ret_store);

/* An empty store (no credentials, no CAs): every lookup fails. */
int trust_new_empty(const trust_options *opt, trust_store **ret_store);

/* Frees everything, including the scratch slot.  NULL is a no-op. */
void trust_free(trust_store *t);

/* edhoc_cred_lookup_fn; ctx is the trust_store.  Returns 0 and fills
 * ret_cred (pointing into the store or its scratch slot), or
 * EDHOC_E_UNKNOWN_CRED, EDHOC_E_CRED_INVALID (expired, revoked, unknown CA,
 * chain too long), EDHOC_E_ID_CRED_UNSUPPORTED, EDHOC_E_CRED_MALFORMED. */
int trust_lookup(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret_cred);

/* Why the last lookup failed, for the diag detail ("certificate has
 * expired", "no credential with kid h'2b'", ...); "" after a success. */
const char *trust_last_error(const trust_store *t);

/* The identity the credential of the last failed lookup claims, for the
 * diag record: a stored certificate's identity, or the subject CN of a
 * certificate sent by value; "" when there is none (unknown kid or x5t) and
 * after a success.  Unverified: never use it to decide anything. */
const char *trust_last_claimed(const trust_store *t);

/* File name (in the trust directory) of the stored credential the last
 * lookup found, also when its check then failed, e.g. "dev1.ccs": the
 * record of a handshake whose MAC or signature then fails names it.  ""
 * when none was found and for a certificate sent by value that is not
 * stored (it was validated against ca/). */
const char *trust_last_file(const trust_store *t);

/* True when s can be an identity: printable ASCII without spaces, and
 * without the characters the ACL and names files use as syntax
 * (, ; @ *), 1 to EDHOC_MAX_IDENTITY - 1 bytes.  The trust store and the
 * ACL apply the same rule. */
bool trust_identity_valid(const char *s);

/* True when a stored credential has this identity. */
bool trust_has_identity(const trust_store *t, const char *identity);

/* Stored credentials and CA certificates. */
size_t trust_count(const trust_store *t);
size_t trust_ca_count(const trust_store *t);

/* Identity of stored credential i (0 <= i < trust_count), in file order. */
const char *trust_identity_at(const trust_store *t, size_t i);

#endif
