/* The EDHOC key schedule (RFC 9528 §4) and the COSE structures around it:
 * EDHOC_KDF info, transcript hashes, MAC_2/MAC_3, Signature_or_MAC_x as
 * COSE_Sign1, and the COSE_Encrypt0 keys of message_3 and message_4. */
#include <stdlib.h>
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

int edhoc_scratch_init(edhoc_scratch *s, uint8_t *stack, size_t stack_cap, size_t need)
{
	s->heap = NULL;
	if (need <= stack_cap) {
		s->p = stack;
		s->cap = stack_cap;
		return 0;
	}
	s->heap = malloc(need);
	if (!s->heap)
		return EDHOC_E_NOMEM;
	s->p = s->heap;
	s->cap = need;
	return 0;
}

void edhoc_scratch_release(edhoc_scratch *s)
{
	if (s->p)
		crypto_cleanse(s->p, s->cap);
	free(s->heap);
	s->heap = NULL;
	s->p = NULL;
}

size_t edhoc_som_len(const edhoc_handshake *h, bool responder_side)
{
	return edhoc_side_signs(h, responder_side)
	           ? crypto_sig_len(h->suite->sig_alg, h->suite->sig_curve)
	           : h->suite->mac_len;
}

bool edhoc_side_signs(const edhoc_handshake *h, bool responder_side)
{
	return responder_side ? edhoc_method_r_signs(h->method) : edhoc_method_i_signs(h->method);
}

bool edhoc_method_r_signs(int method)
{
	return method == EDHOC_METHOD_SIG_SIG || method == EDHOC_METHOD_STAT_SIG;
}

bool edhoc_method_i_signs(int method)
{
	return method == EDHOC_METHOD_SIG_SIG || method == EDHOC_METHOD_SIG_STAT;
}

/* A signing party's MAC is hash_length long, a static-DH party's the suite's
 * EDHOC MAC length (§5.3.2, §5.4.2). */
size_t edhoc_mac_len(const edhoc_handshake *h, bool responder_side)
{
	return edhoc_side_signs(h, responder_side) ? h->suite->hash_len : h->suite->mac_len;
}

size_t edhoc_max_message(const edhoc_handshake *h)
{
	return h->cfg->max_message ? h->cfg->max_message : EDHOC_MAX_MESSAGE;
}

void edhoc_wipe_eph(edhoc_handshake *h)
{
	if (h->suite && h->eph_priv_len)
		crypto_dh_forget(h->suite->dh_curve, h->eph_priv, h->eph_priv_len);
	crypto_cleanse(h->eph_priv, sizeof(h->eph_priv));
}

int edhoc_fail(edhoc_handshake *h, int rc)
{
	h->state = ST_FAILED;
	/* Nothing derived so far may be used any more. */
	edhoc_wipe_eph(h);
	crypto_cleanse(h->prk_out, sizeof(h->prk_out));
	crypto_cleanse(h->prk_exporter, sizeof(h->prk_exporter));
	h->have &= ~((1u << EDHOC_V_PRK_OUT) | (1u << EDHOC_V_PRK_EXPORTER));
	return rc;
}

void edhoc_trace_copy(uint8_t *dst, size_t *dst_len, const uint8_t *src, size_t len)
{
	if (len <= EDHOC_TRACE_MAX) {
		memcpy(dst, src, len);
		*dst_len = len;
	} else {
		*dst_len = SIZE_MAX; /* computed, but too long to keep */
	}
}

const crypto_suite *edhoc_suite_checked(int id)
{
	const crypto_suite *s = crypto_suite_get(id);

	if (!s || s->hash_len == 0 || s->hash_len > CRYPTO_MAX_HASH ||
	    crypto_aead_key_len(s->edhoc_aead) == 0 ||
	    crypto_aead_key_len(s->edhoc_aead) > CRYPTO_MAX_AEAD_KEY ||
	    crypto_aead_nonce_len(s->edhoc_aead) > CRYPTO_MAX_AEAD_NONCE ||
	    crypto_dh_pub_len(s->dh_curve) == 0)
		return NULL;
	return s;
}

int edhoc_kdf_parts(const edhoc_handshake *h, const uint8_t *prk, uint64_t label,
                    const uint8_t *const *parts, const size_t *part_lens, size_t n, uint8_t *out,
                    size_t out_len)
{
	uint8_t stack[1024];
	edhoc_scratch s;
	cose_writer w;
	size_t ctx_len = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		ctx_len += part_lens[i];
	/* info = (label : int, context : bstr, length : uint) */
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), ctx_len + 32);
	if (rc < 0)
		return rc;
	cose_writer_init(&w, s.p, s.cap);
	cose_write_uint(&w, label);
	cose_write_bstr_head(&w, ctx_len);
	for (size_t i = 0; i < n; i++)
		if (part_lens[i] > 0)
			cose_write_raw(&w, parts[i], part_lens[i]);
	cose_write_uint(&w, out_len);
	rc = cose_writer_result(&w);
	if (rc == 0)
		rc = crypto_kdf_expand(h->suite->edhoc_hash, prk, h->suite->hash_len, w.buf, w.len,
		                       out, out_len);
	edhoc_scratch_release(&s);
	return rc;
}

int edhoc_kdf(const edhoc_handshake *h, const uint8_t *prk, uint64_t label, const uint8_t *ctx,
              size_t ctx_len, uint8_t *out, size_t out_len)
{
	return edhoc_kdf_parts(h, prk, label, &ctx, &ctx_len, 1, out, out_len);
}

int edhoc_th_2_prk_2e(edhoc_handshake *h, const uint8_t *g_y, const uint8_t *h_m1)
{
	uint8_t in[2 * (CRYPTO_MAX_HASH + 2)];
	size_t hl = h->suite->hash_len;
	cose_writer w;
	int rc;

	cose_writer_init(&w, in, sizeof(in));
	cose_write_bstr(&w, g_y, crypto_dh_pub_len(h->suite->dh_curve));
	cose_write_bstr(&w, h_m1, hl);
	rc = cose_writer_result(&w);
	if (rc == 0)
		rc = crypto_hash(h->suite->edhoc_hash, in, w.len, h->th_2);
	if (rc < 0)
		return rc;
	edhoc_have(h, EDHOC_V_TH_2);
	rc = crypto_kdf_extract(h->suite->edhoc_hash, h->th_2, hl, h->g_xy, h->g_xy_len, h->prk_2e);
	if (rc < 0)
		return rc;
	edhoc_have(h, EDHOC_V_PRK_2E);
	return 0;
}

int edhoc_th_next(edhoc_handshake *h, const uint8_t *th, const uint8_t *a, size_t a_len,
                  const uint8_t *b, size_t b_len, uint8_t *out)
{
	uint8_t stack[1024];
	edhoc_scratch s;
	cose_writer w;
	int rc;

	rc = edhoc_scratch_init(&s, stack, sizeof(stack), a_len + b_len + 80);
	if (rc < 0)
		return rc;
	cose_writer_init(&w, s.p, s.cap);
	cose_write_bstr(&w, th, h->suite->hash_len);
	if (a_len > 0)
		cose_write_raw(&w, a, a_len);
	if (b_len > 0)
		cose_write_raw(&w, b, b_len);
	rc = cose_writer_result(&w);
	if (rc == 0)
		rc = crypto_hash(h->suite->edhoc_hash, w.buf, w.len, out);
	edhoc_scratch_release(&s);
	return rc;
}

int edhoc_mac(edhoc_handshake *h, const uint8_t *prk, uint64_t label, const edhoc_cid *c_r,
              const uint8_t *id_cred, size_t id_cred_len, const uint8_t *th, const uint8_t *cred,
              size_t cred_len, const uint8_t *ead, size_t ead_len, uint8_t *out, size_t out_len)
{
	uint8_t cr[EDHOC_MAX_CID + 2], thb[CRYPTO_MAX_HASH + 2];
	const uint8_t *parts[5];
	size_t lens[5], n = 0, cr_len;
	cose_writer w;
	int rc;

	if (c_r) {
		rc = edhoc_cid_encode(c_r, cr, sizeof(cr), &cr_len);
		if (rc < 0)
			return rc;
		parts[n] = cr;
		lens[n++] = cr_len;
	}
	cose_writer_init(&w, thb, sizeof(thb));
	cose_write_bstr(&w, th, h->suite->hash_len);
	parts[n] = id_cred;
	lens[n++] = id_cred_len;
	parts[n] = thb;
	lens[n++] = w.len;
	parts[n] = cred;
	lens[n++] = cred_len;
	parts[n] = ead;
	lens[n++] = ead_len;
	return edhoc_kdf_parts(h, prk, label, parts, lens, n, out, out_len);
}

/* Sig_structure = ["Signature1", << ID_CRED_x >>, << TH_x, CRED_x, ? EAD_x >>,
 * MAC_x] (§5.3.2). */
static int sig_structure(edhoc_handshake *h, const uint8_t *id_cred, size_t id_cred_len,
                         const uint8_t *th, const uint8_t *cred, size_t cred_len,
                         const uint8_t *ead, size_t ead_len, const uint8_t *mac, size_t mac_len,
                         edhoc_scratch *s, uint8_t *stack, size_t stack_cap, size_t *ret_len)
{
	size_t hl = h->suite->hash_len;
	size_t aad_len = cose_head_len(hl) + hl + cred_len + ead_len;
	cose_writer w;
	int rc;

	rc = edhoc_scratch_init(s, stack, stack_cap, id_cred_len + aad_len + mac_len + 48);
	if (rc < 0)
		return rc;
	cose_writer_init(&w, s->p, s->cap);
	cose_write_array(&w, 4);
	cose_write_tstr(&w, "Signature1", 10);
	cose_write_bstr(&w, id_cred, id_cred_len);
	cose_write_bstr_head(&w, aad_len);
	cose_write_bstr(&w, th, hl);
	cose_write_raw(&w, cred, cred_len);
	if (ead_len > 0)
		cose_write_raw(&w, ead, ead_len);
	cose_write_bstr(&w, mac, mac_len);
	rc = cose_writer_result(&w);
	if (rc < 0) {
		edhoc_scratch_release(s);
		return rc;
	}
	*ret_len = w.len;
	return 0;
}

int edhoc_sign(edhoc_handshake *h, const crypto_key *key, const uint8_t *id_cred,
               size_t id_cred_len, const uint8_t *th, const uint8_t *cred, size_t cred_len,
               const uint8_t *ead, size_t ead_len, const uint8_t *mac, size_t mac_len, uint8_t *sig,
               size_t *sig_len)
{
	uint8_t stack[1536];
	edhoc_scratch s;
	size_t len;
	int rc;

	rc = sig_structure(h, id_cred, id_cred_len, th, cred, cred_len, ead, ead_len, mac, mac_len,
	                   &s, stack, sizeof(stack), &len);
	if (rc < 0)
		return rc;
	rc = crypto_sign(key, h->suite->sig_alg, s.p, len, sig, sig_len);
	edhoc_scratch_release(&s);
	return rc;
}

int edhoc_verify(edhoc_handshake *h, const crypto_key *key, const uint8_t *id_cred,
                 size_t id_cred_len, const uint8_t *th, const uint8_t *cred, size_t cred_len,
                 const uint8_t *ead, size_t ead_len, const uint8_t *mac, size_t mac_len,
                 const uint8_t *sig, size_t sig_len)
{
	uint8_t stack[1536];
	edhoc_scratch s;
	size_t len;
	int rc;

	rc = sig_structure(h, id_cred, id_cred_len, th, cred, cred_len, ead, ead_len, mac, mac_len,
	                   &s, stack, sizeof(stack), &len);
	if (rc < 0)
		return rc;
	rc = crypto_verify(key, h->suite->sig_alg, s.p, len, sig, sig_len);
	edhoc_scratch_release(&s);
	return rc;
}

int edhoc_aead_keys(edhoc_handshake *h, const uint8_t *prk, uint64_t key_label, const uint8_t *th,
                    uint8_t *key, uint8_t *iv)
{
	int alg = h->suite->edhoc_aead;
	int rc;

	rc = edhoc_kdf(h, prk, key_label, th, h->suite->hash_len, key, crypto_aead_key_len(alg));
	if (rc < 0)
		return rc;
	return edhoc_kdf(h, prk, key_label + 1, th, h->suite->hash_len, iv,
	                 crypto_aead_nonce_len(alg));
}

/* Enc_structure = ["Encrypt0", h'', TH] (§5.4.3): TH is the external_aad. */
size_t edhoc_enc_structure(const edhoc_handshake *h, const uint8_t *th, uint8_t *out, size_t cap)
{
	cose_writer w;

	cose_writer_init(&w, out, cap);
	cose_write_array(&w, 3);
	cose_write_tstr(&w, "Encrypt0", 8);
	cose_write_bstr_head(&w, 0);
	cose_write_bstr(&w, th, h->suite->hash_len);
	return cose_writer_result(&w) < 0 ? 0 : w.len;
}

int edhoc_derive_prk_out(edhoc_handshake *h)
{
	size_t hl = h->suite->hash_len;
	int rc;

	rc = edhoc_kdf(h, h->prk_4e3m, 7, h->th_4, hl, h->prk_out, hl);
	if (rc < 0)
		return rc;
	rc = edhoc_kdf(h, h->prk_out, 10, NULL, 0, h->prk_exporter, hl);
	if (rc < 0)
		return rc;
	edhoc_have(h, EDHOC_V_PRK_OUT);
	edhoc_have(h, EDHOC_V_PRK_EXPORTER);
	return 0;
}

int edhoc_dh_eph_key(const edhoc_handshake *h, const uint8_t *priv, size_t priv_len,
                     const crypto_key *peer, uint8_t *ret_secret, size_t *ret_len)
{
	/* The private scalar as it is (a key object made from it would first
	 * compute its public key: one more scalar multiplication), the peer's
	 * static key as parsed once by its credential. */
	return crypto_dh_derive_priv(h->suite->dh_curve, priv, priv_len, peer, ret_secret, ret_len);
}

int edhoc_prk_static(edhoc_handshake *h, int msg_no, const crypto_key *own_static,
                     const crypto_key *peer)
{
	bool m2 = msg_no == 2;
	const uint8_t *prk_in = m2 ? h->prk_2e : h->prk_3e2m;
	uint8_t *prk = m2 ? h->prk_3e2m : h->prk_4e3m;
	uint8_t salt[CRYPTO_MAX_HASH], secret[CRYPTO_MAX_DH_SECRET];
	size_t hl = h->suite->hash_len, secret_len;
	int rc;

	if (edhoc_side_signs(h, m2)) {
		memcpy(prk, prk_in, hl);
	} else {
		/* SALT_3e2m / SALT_4e3m = EDHOC_KDF(PRK, 1 / 5, TH_2 / TH_3, hash_length);
		 * PRK = EDHOC_Extract(SALT, G_RX / G_IY) */
		rc = edhoc_kdf(h, prk_in, m2 ? 1 : 5, m2 ? h->th_2 : h->th_3, hl, salt, hl);
		if (rc == 0)
			rc = own_static ? crypto_dh_derive(own_static, peer, secret, &secret_len)
			                : edhoc_dh_eph_key(h, h->eph_priv, h->eph_priv_len, peer,
			                                   secret, &secret_len);
		if (rc == 0)
			rc = crypto_kdf_extract(h->suite->edhoc_hash, salt, hl, secret, secret_len,
			                        prk);
		crypto_cleanse(salt, sizeof(salt));
		crypto_cleanse(secret, sizeof(secret));
		if (rc < 0)
			return rc;
	}
	edhoc_have(h, m2 ? EDHOC_V_PRK_3E2M : EDHOC_V_PRK_4E3M);
	return 0;
}
