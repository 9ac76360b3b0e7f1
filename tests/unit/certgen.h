/* In-test X.509 certificates made with OpenSSL, for the credential tests
 * (test_cred, test_edhoc_roundtrip, edhoc-bench). */
#ifndef TESTS_CERTGEN_H
#define TESTS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/crypto.h"

/* A certificate for subject_key (public part used) with CN cn, signed by
 * issuer_key (the same key for a self-signed certificate) in the name
 * issuer_cn; ca marks it basicConstraints CA:TRUE.  Writes the DER into a
 * new buffer (caller frees with free()).  Returns 0 or -1. */
int certgen_make(const crypto_key *subject_key, const char *cn, const crypto_key *issuer_key,
                 const char *issuer_cn, bool ca, uint8_t **ret_der, size_t *ret_len);

#endif
