/* Private to src/crypto: the per-thread cache of fetched OpenSSL objects.
 *
 * Fetching an algorithm (EVP_MD_fetch, EVP_CIPHER_fetch, ...) walks the
 * provider tables and takes locks; on the handshake and OSCORE paths that
 * would cost more than the primitive itself, so each object is fetched once
 * per thread and kept until crypto_thread_cleanup. */
#ifndef CRYPTO_INTERNAL_H
#define CRYPTO_INTERNAL_H

#include <openssl/evp.h>

/* Cached digest for a COSE hash algorithm (SHA-256, SHA-384, SHAKE256);
 * NULL when unsupported or the fetch failed.  Borrowed. */
EVP_MD *crypto_md_get(int hash_alg);

/* Cached digest by OpenSSL name, for signatures ("SHA256", "SHA384"). */
EVP_MD *crypto_md_sha256(void);
EVP_MD *crypto_md_sha384(void);

/* Per-module halves of crypto_thread_cleanup. */
void crypto_kdf_thread_cleanup(void);
void crypto_aead_thread_cleanup(void);
void crypto_keys_thread_cleanup(void);

#endif
