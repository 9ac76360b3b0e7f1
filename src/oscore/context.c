/* Security context derivation (RFC 8613 §3.2) and sender sequence number
 * leases (App. B.1.1). */
#include "oscore/internal.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of a CBOR head (major type, value) written to out (at most 9). */
static size_t cbor_head(uint8_t *out, uint8_t major, uint64_t v)
{
	uint8_t mt = (uint8_t)(major << 5);
	if (v < 24) {
		out[0] = mt | (uint8_t)v;
		return 1;
	}
	size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
	out[0] = mt | (uint8_t)(n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return 1 + n;
}

static size_t cbor_int(uint8_t *out, int64_t v)
{
	return v >= 0 ? cbor_head(out, 0, (uint64_t)v) : cbor_head(out, 1, (uint64_t)(-1 - v));
}

/* info = [id: bstr, id_context: bstr / nil, alg_aead: int, type: tstr,
 * L: uint] (§3.2.1).  out must hold 64 bytes + id + id_context. */
static size_t make_info(uint8_t *out, const uint8_t *id, size_t id_len, const oscore_ctx *c,
                        const char *type, size_t l)
{
	size_t off = 0;
	out[off++] = 0x85;
	off += cbor_head(out + off, 2, id_len);
	if (id_len)
		memcpy(out + off, id, id_len);
	off += id_len;
	if (c->has_id_context) {
		off += cbor_head(out + off, 2, c->id_context_len);
		if (c->id_context_len)
			memcpy(out + off, c->id_context, c->id_context_len);
		off += c->id_context_len;
	} else {
		out[off++] = 0xf6;
	}
	off += cbor_int(out + off, c->aead_alg);
	size_t tl = strlen(type);
	off += cbor_head(out + off, 3, tl);
	memcpy(out + off, type, tl);
	off += tl;
	off += cbor_head(out + off, 0, l);
	return off;
}

static bool aead_supported(int alg)
{
	switch (alg) {
	case COSE_ALG_AES_CCM_16_64_128:
	case COSE_ALG_AES_CCM_16_128_128:
	case COSE_ALG_A128GCM:
	case COSE_ALG_A256GCM:
	case COSE_ALG_CHACHA20_POLY1305:
		return true;
	default:
		return false;
	}
}

size_t oscore_ctx_size(void)
{
	return sizeof(struct oscore_ctx);
}

static int derive(oscore_ctx *c, int hash_alg, const oscore_ctx_params *p)
{
	uint8_t info[64 + OSCORE_MAX_ID + OSCORE_MAX_ID_CONTEXT];
	size_t n;
	int r;

	n = make_info(info, c->sender_id, c->sender_id_len, c, "Key", c->key_len);
	r = crypto_hkdf(hash_alg, p->master_salt, p->master_salt_len, p->master_secret,
	                p->master_secret_len, info, n, c->sender_key, c->key_len);
	if (r < 0)
		return r;
	n = make_info(info, c->recipient_id, c->recipient_id_len, c, "Key", c->key_len);
	r = crypto_hkdf(hash_alg, p->master_salt, p->master_salt_len, p->master_secret,
	                p->master_secret_len, info, n, c->recipient_key, c->key_len);
	if (r < 0)
		return r;
	n = make_info(info, NULL, 0, c, "IV", c->nonce_len);
	return crypto_hkdf(hash_alg, p->master_salt, p->master_salt_len, p->master_secret,
	                   p->master_secret_len, info, n, c->common_iv, c->nonce_len);
}

int oscore_ctx_new(const oscore_ctx_params *p, oscore_ctx **ret)
{
	static const uint8_t empty[1];
	oscore_ctx *c = NULL;
	int aead = p->aead_alg ? p->aead_alg : COSE_ALG_AES_CCM_16_64_128;
	int hash = p->hash_alg ? p->hash_alg : COSE_ALG_SHA_256;
	unsigned window = p->replay_window ? p->replay_window : OSCORE_DEFAULT_WINDOW;
	int r;

	if (!aead_supported(aead) || (hash != COSE_ALG_SHA_256 && hash != COSE_ALG_SHA_384))
		return OSCORE_E_ALG_UNSUPPORTED;
	size_t nonce_len = crypto_aead_nonce_len(aead);
	size_t key_len = crypto_aead_key_len(aead);
	size_t tag_len = crypto_aead_tag_len(aead);
	if (nonce_len < 7 || nonce_len > CRYPTO_MAX_AEAD_NONCE || key_len == 0 ||
	    key_len > CRYPTO_MAX_AEAD_KEY || tag_len == 0 || tag_len > CRYPTO_MAX_AEAD_TAG)
		return OSCORE_E_ALG_UNSUPPORTED;
	/* §5.2: the ID is left-padded to nonce length - 6 bytes. */
	size_t max_id = nonce_len - 6;
	if (!p->master_secret || p->master_secret_len == 0 ||
	    p->master_secret_len > OSCORE_MAX_MASTER_SECRET ||
	    p->master_salt_len > OSCORE_MAX_MASTER_SALT ||
	    (p->master_salt_len && !p->master_salt) || p->sender_id_len > max_id ||
	    p->recipient_id_len > max_id || (p->sender_id_len && !p->sender_id) ||
	    (p->recipient_id_len && !p->recipient_id) ||
	    (p->has_id_context && (p->id_context_len > OSCORE_MAX_ID_CONTEXT ||
	                           (p->id_context_len && !p->id_context))) ||
	    window > OSCORE_MAX_WINDOW || p->sender_seq > OSCORE_SEQ_MAX + 1)
		return EDHOC_E_INVALID_ARGUMENT;
	/* A shared ID would give both directions the same key and nonces. */
	if (p->sender_id_len == p->recipient_id_len &&
	    (p->sender_id_len == 0 || memcmp(p->sender_id, p->recipient_id, p->sender_id_len) == 0))
		return EDHOC_E_INVALID_ARGUMENT;

	c = calloc(1, sizeof(*c));
	if (!c)
		return EDHOC_E_NOMEM;
	if (p->sender_id_len)
		memcpy(c->sender_id, p->sender_id, p->sender_id_len);
	c->sender_id_len = (uint8_t)p->sender_id_len;
	if (p->recipient_id_len)
		memcpy(c->recipient_id, p->recipient_id, p->recipient_id_len);
	c->recipient_id_len = (uint8_t)p->recipient_id_len;
	c->has_id_context = p->has_id_context;
	if (p->has_id_context && p->id_context_len)
		memcpy(c->id_context, p->id_context, p->id_context_len);
	c->id_context_len = p->has_id_context ? (uint8_t)p->id_context_len : 0;
	c->send_kid_context = p->send_kid_context && p->has_id_context;
	c->aead_alg = aead;
	c->key_len = (uint8_t)key_len;
	c->nonce_len = (uint8_t)nonce_len;
	c->tag_len = (uint8_t)tag_len;
	c->seq = p->sender_seq;
	c->lease = p->lease;
	c->lease_arg = p->lease_arg;
	c->lease_block = p->lease_block ? p->lease_block : OSCORE_DEFAULT_LEASE_BLOCK;
	/* Nothing is leased yet: the first send stores seq + K before it uses
	 * seq.  Without a callback the whole space counts as leased. */
	c->limit = p->lease ? p->sender_seq : OSCORE_SEQ_MAX + 1;
	oscore_replay_init(&c->replay, window);
	c->window_ready = !p->restored;

	oscore_ctx_params dp = *p;
	if (!dp.master_salt_len)
		dp.master_salt = empty; /* HKDF: empty salt = HashLen zeros */
	r = derive(c, hash, &dp);
	if (r < 0) {
		if (r == EDHOC_E_ALG_UNSUPPORTED)
			r = OSCORE_E_ALG_UNSUPPORTED;
		goto out;
	}
	*ret = c;
	c = NULL;
out:
	oscore_ctx_free(c);
	return r;
}

int oscore_ctx_from_edhoc(const edhoc_oscore *e, const oscore_ctx_params *opts, oscore_ctx **ret)
{
	oscore_ctx_params p;

	if (opts)
		p = *opts;
	else
		memset(&p, 0, sizeof(p));
	if (e->master_secret_len > sizeof(e->master_secret) ||
	    e->master_salt_len > sizeof(e->master_salt) ||
	    e->sender_id_len > sizeof(e->sender_id) ||
	    e->recipient_id_len > sizeof(e->recipient_id))
		return EDHOC_E_INVALID_ARGUMENT;
	p.master_secret = e->master_secret;
	p.master_secret_len = e->master_secret_len;
	p.master_salt = e->master_salt;
	p.master_salt_len = e->master_salt_len;
	p.sender_id = e->sender_id;
	p.sender_id_len = e->sender_id_len;
	p.recipient_id = e->recipient_id;
	p.recipient_id_len = e->recipient_id_len;
	p.aead_alg = e->aead_alg;
	p.hash_alg = e->hash_alg;
	/* RFC 9528 App. A.1 derives no OSCORE ID Context. */
	p.has_id_context = false;
	p.id_context = NULL;
	p.id_context_len = 0;
	p.send_kid_context = false;
	return oscore_ctx_new(&p, ret);
}

void oscore_ctx_free(oscore_ctx *c)
{
	if (!c)
		return;
	crypto_cleanse(c, sizeof(*c));
	free(c);
}

const uint8_t *oscore_ctx_sender_id(const oscore_ctx *c, size_t *ret_len)
{
	*ret_len = c->sender_id_len;
	return c->sender_id;
}

const uint8_t *oscore_ctx_recipient_id(const oscore_ctx *c, size_t *ret_len)
{
	*ret_len = c->recipient_id_len;
	return c->recipient_id;
}

const uint8_t *oscore_ctx_id_context(const oscore_ctx *c, size_t *ret_len)
{
	*ret_len = c->id_context_len;
	return c->has_id_context ? c->id_context : NULL;
}

int oscore_ctx_aead_alg(const oscore_ctx *c)
{
	return c->aead_alg;
}

bool oscore_ctx_matches(const oscore_ctx *c, const oscore_header *h)
{
	if (!h->has_kid || h->kid_len != c->recipient_id_len ||
	    (h->kid_len && memcmp(h->kid, c->recipient_id, h->kid_len) != 0))
		return false;
	if (h->has_kid_context && (!c->has_id_context || h->kid_context_len != c->id_context_len ||
	                           (h->kid_context_len && memcmp(h->kid_context, c->id_context,
	                                                         h->kid_context_len) != 0)))
		return false;
	return true;
}

uint64_t oscore_ctx_sender_seq(const oscore_ctx *c)
{
	return c->seq;
}

uint64_t oscore_ctx_lease_limit(const oscore_ctx *c)
{
	return c->limit;
}

bool oscore_ctx_window_ready(const oscore_ctx *c)
{
	return c->window_ready;
}

void oscore_ctx_export_keys(const oscore_ctx *c, uint8_t *ret_sender_key,
                            uint8_t *ret_recipient_key, uint8_t *ret_common_iv)
{
	if (ret_sender_key)
		memcpy(ret_sender_key, c->sender_key, c->key_len);
	if (ret_recipient_key)
		memcpy(ret_recipient_key, c->recipient_key, c->key_len);
	if (ret_common_iv)
		memcpy(ret_common_iv, c->common_iv, c->nonce_len);
}

int oscore_ctx_lease(oscore_ctx *c)
{
	if (c->seq > OSCORE_SEQ_MAX)
		return OSCORE_E_SEQ_EXHAUSTED;
	if (!c->lease || c->seq < c->limit)
		return 0;
	uint64_t next = c->seq + c->lease_block;
	if (next > OSCORE_SEQ_MAX + 1 || next < c->seq)
		next = OSCORE_SEQ_MAX + 1;
	/* The store must hold the new limit before any number below it is
	 * used, so a restart from the stored value never reuses a nonce. */
	if (c->lease(c->lease_arg, next) != 0)
		return OSCORE_E_LEASE_FAILED;
	c->limit = next;
	return 0;
}

int oscore_ctx_take_seq(oscore_ctx *c, uint64_t *ret_seq)
{
	int r = oscore_ctx_lease(c);
	if (r < 0)
		return r;
	*ret_seq = c->seq++;
	return 0;
}
