/* Steps and fields the initiator and the responder share, one function per
 * step and message rather than per role: SUITES_I and SUITES_R have one
 * grammar, message_2 and message_3 both carry ID_CRED_x, Signature_or_MAC_x
 * and EAD_x, message_3 and message_4 are both a COSE_Encrypt0 ciphertext in
 * a bstr.  Each step takes the message number and picks the keys,
 * transcript hash and result codes that belong to it, so the side that
 * writes a message and the side that reads it cannot drift apart. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

int edhoc_plaintext_code(int rc)
{
	return (rc <= EDHOC_E_CBOR_TRUNCATED && rc >= EDHOC_E_TRAILING_BYTES) ||
	               rc == EDHOC_E_VALUE_RANGE
	           ? EDHOC_E_PLAINTEXT_MALFORMED
	           : rc;
}

int edhoc_step_begin(edhoc_handshake *h, int role, int state, bool args_ok)
{
	/* No handshake or the wrong step leaves the handshake as it is: a
	 * stray retransmission must not kill a good one. */
	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->cfg->role != role || h->state != state)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (!args_ok)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	return 0;
}

int edhoc_read_begin(edhoc_handshake *h, int role, int state, const uint8_t *msg, size_t len)
{
	int rc = edhoc_step_begin(h, role, state, msg || len == 0);

	if (rc == 0 && len > edhoc_max_message(h))
		rc = edhoc_fail(h, EDHOC_E_MESSAGE_TOO_LARGE);
	return rc;
}

int edhoc_read_suites(cose_reader *r, size_t min_array, int64_t *suites, size_t *ret_n)
{
	int major, rc;
	size_t n = 1;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_ARRAY) {
		rc = cose_read_array(r, &n);
		if (rc < 0)
			return rc;
		if (n < min_array || n == 0 || n > EDHOC_MAX_SUITES)
			return EDHOC_E_SUITES_MALFORMED;
	} else if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT) {
		return EDHOC_E_SUITES_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		rc = cose_peek_type(r, &major);
		if (rc < 0)
			return rc;
		if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
			return EDHOC_E_SUITES_MALFORMED;
		rc = cose_read_int(r, &suites[i]);
		if (rc < 0)
			return rc == EDHOC_E_VALUE_RANGE ? EDHOC_E_SUITES_MALFORMED : rc;
	}
	*ret_n = n;
	return 0;
}

/* ---- message_2 and message_3: authentication ---- */

/* What differs between MAC_2 / Signature_or_MAC_2 (the responder
 * authenticates) and MAC_3 / Signature_or_MAC_3 (the initiator does). */
typedef struct auth_step {
	bool responder; /* whose credential the message proves */
	bool signs;
	const uint8_t *prk; /* PRK_3e2m or PRK_4e3m */
	uint64_t label;     /* 2 or 6 */
	const uint8_t *th;  /* TH_2 or TH_3 */
	uint8_t *mac;       /* h->mac_2 or h->mac_3 */
	size_t *mac_len;
	int v_mac;
	int sig_invalid, mac_mismatch;
} auth_step;

static auth_step auth_step_of(edhoc_handshake *h, int msg_no)
{
	bool m2 = msg_no == 2;

	return (auth_step){
	    .responder = m2,
	    .signs = edhoc_side_signs(h, m2),
	    .prk = m2 ? h->prk_3e2m : h->prk_4e3m,
	    .label = m2 ? 2 : 6,
	    .th = m2 ? h->th_2 : h->th_3,
	    .mac = m2 ? h->mac_2 : h->mac_3,
	    .mac_len = m2 ? &h->mac_2_len : &h->mac_3_len,
	    .v_mac = m2 ? EDHOC_V_MAC_2 : EDHOC_V_MAC_3,
	    .sig_invalid = m2 ? EDHOC_E_SIG2_INVALID : EDHOC_E_SIG3_INVALID,
	    .mac_mismatch = m2 ? EDHOC_E_MAC2_MISMATCH : EDHOC_E_MAC3_MISMATCH,
	};
}

/* MAC_x into the handshake, over the credential of the side that
 * authenticates (own or peer). */
static int auth_mac(edhoc_handshake *h, const auth_step *a, const edhoc_cid *c_r,
                    const uint8_t *id_cred, size_t id_cred_len, const uint8_t *cred,
                    size_t cred_len, const uint8_t *ead, size_t ead_len)
{
	size_t mac_len = edhoc_mac_len(h, a->responder);
	int rc;

	rc = edhoc_mac(h, a->prk, a->label, c_r, id_cred, id_cred_len, a->th, cred, cred_len, ead,
	               ead_len, a->mac, mac_len);
	if (rc < 0)
		return rc;
	*a->mac_len = mac_len;
	edhoc_have(h, a->v_mac);
	return 0;
}

int edhoc_own_som(edhoc_handshake *h, int msg_no, const edhoc_cid *c_r, const uint8_t *ead,
                  size_t ead_len, uint8_t *sig, const uint8_t **ret_som, size_t *ret_som_len)
{
	const edhoc_cred *own = h->cfg->own;
	auth_step a = auth_step_of(h, msg_no);
	size_t sig_len;
	int rc;

	rc = auth_mac(h, &a, c_r, own->id_cred, own->id_cred_len, own->cred, own->cred_len, ead,
	              ead_len);
	if (rc < 0)
		return rc;
	if (!a.signs) {
		*ret_som = a.mac;
		*ret_som_len = *a.mac_len;
		return 0;
	}
	rc = edhoc_sign(h, own->key, own->id_cred, own->id_cred_len, a.th, own->cred, own->cred_len,
	                ead, ead_len, a.mac, *a.mac_len, sig, &sig_len);
	if (rc < 0)
		return rc;
	*ret_som = sig;
	*ret_som_len = sig_len;
	return 0;
}

void edhoc_write_auth_fields(cose_writer *w, const edhoc_cred *own, const uint8_t *som,
                             size_t som_len, const uint8_t *ead, size_t ead_len)
{
	edhoc_id_cred_write(w, own->id_cred, own->id_cred_len);
	cose_write_bstr(w, som, som_len);
	if (ead_len > 0)
		cose_write_raw(w, ead, ead_len);
}

int edhoc_read_auth_fields(edhoc_handshake *h, int msg_no, cose_reader *r, edhoc_id_cred *id,
                           uint8_t *mapbuf, size_t mapcap, const uint8_t **ret_som,
                           size_t *ret_som_len, const uint8_t **ret_ead, size_t *ret_ead_len)
{
	int rc;

	rc = edhoc_id_cred_read(r, id, mapbuf, mapcap);
	if (rc == 0)
		rc = cose_read_bstr(r, ret_som, ret_som_len);
	if (rc == 0)
		rc = edhoc_ead_parse(h, r, ret_ead, ret_ead_len);
	if (rc < 0)
		return edhoc_plaintext_code(rc);
	if (*ret_som_len != edhoc_som_len(h, msg_no == 2))
		return EDHOC_E_SIG_OR_MAC_LENGTH;
	return 0;
}

int edhoc_peer_auth(edhoc_handshake *h, int msg_no, const edhoc_id_cred *id, edhoc_cred *cred,
                    const uint8_t *som, size_t som_len, const uint8_t *ead, size_t ead_len)
{
	const edhoc_config *cfg = h->cfg;
	auth_step a = auth_step_of(h, msg_no);
	int rc;

	memset(cred, 0, sizeof(*cred));
	rc = cfg->lookup ? cfg->lookup(cfg->lookup_ctx, id, cred) : EDHOC_E_UNKNOWN_CRED;
	if (rc > 0)
		rc = EDHOC_E_INTERNAL;
	if (rc == 0)
		rc = edhoc_peer_cred_accept(h, id, cred, a.signs);
	/* The peer's static DH key, if it has one, goes into the MAC key. */
	if (rc == 0)
		rc = edhoc_prk_static(h, msg_no, NULL, cred->key);
	if (rc == 0)
		rc = auth_mac(h, &a, msg_no == 2 ? &h->c_r : NULL, id->map, id->map_len, cred->cred,
		              cred->cred_len, ead, ead_len);
	if (rc < 0)
		return rc;
	if (a.signs) {
		rc = edhoc_verify(h, cred->key, id->map, id->map_len, a.th, cred->cred,
		                  cred->cred_len, ead, ead_len, a.mac, *a.mac_len, som, som_len);
		if (rc == EDHOC_E_SIGNATURE_INVALID)
			return a.sig_invalid;
		if (rc < 0)
			return rc;
	} else if (!crypto_memeq(som, a.mac, *a.mac_len)) {
		return a.mac_mismatch;
	}
	return edhoc_ead_process(h, msg_no, ead, ead_len);
}

/* ---- message_3 and message_4: COSE_Encrypt0 ---- */

/* K_3 / IV_3 from PRK_3e2m and TH_3, or K_4 / IV_4 from PRK_4e3m and TH_4,
 * and the Enc_structure that goes with them. */
static int encrypt0_keys(edhoc_handshake *h, int msg_no, uint8_t *aad, size_t aad_cap,
                         const uint8_t **ret_key, const uint8_t **ret_iv, size_t *ret_aad_len)
{
	bool m3 = msg_no == 3;
	const uint8_t *th = m3 ? h->th_3 : h->th_4;
	uint8_t *key = m3 ? h->k_3 : h->k_4, *iv = m3 ? h->iv_3 : h->iv_4;
	int rc;

	rc = edhoc_aead_keys(h, m3 ? h->prk_3e2m : h->prk_4e3m, m3 ? 3 : 8, th, key, iv);
	if (rc < 0)
		return rc;
	edhoc_have(h, m3 ? EDHOC_V_K_3 : EDHOC_V_K_4);
	edhoc_have(h, m3 ? EDHOC_V_IV_3 : EDHOC_V_IV_4);
	*ret_aad_len = edhoc_enc_structure(h, th, aad, aad_cap);
	*ret_key = key;
	*ret_iv = iv;
	return 0;
}

int edhoc_encrypt_message(edhoc_handshake *h, int msg_no, const uint8_t *pt, size_t pt_len,
                          uint8_t *out, size_t cap, size_t *ret_len)
{
	uint8_t aad[CRYPTO_MAX_HASH + 16];
	const uint8_t *key, *iv;
	size_t aad_len, ct_len;
	cose_writer w;
	int rc;

	rc = encrypt0_keys(h, msg_no, aad, sizeof(aad), &key, &iv, &aad_len);
	if (rc < 0)
		return rc;
	/* message_3 / message_4 = bstr(CIPHERTEXT_x) */
	ct_len = pt_len + crypto_aead_tag_len(h->suite->edhoc_aead);
	cose_writer_init(&w, out, cap);
	cose_write_bstr_head(&w, ct_len);
	rc = cose_writer_result(&w);
	if (rc < 0 || cap - w.len < ct_len)
		return EDHOC_E_BUFFER_TOO_SMALL;
	rc = crypto_aead_encrypt(h->suite->edhoc_aead, key, iv, aad, aad_len, pt, pt_len,
	                         out + w.len);
	if (rc < 0)
		return rc;
	*ret_len = w.len + ct_len;
	return 0;
}

int edhoc_decrypt_message(edhoc_handshake *h, int msg_no, const uint8_t *msg, size_t len,
                          uint8_t *stack, size_t stack_cap, edhoc_scratch *s, size_t *ret_pt_len)
{
	int decrypt_failed = msg_no == 3 ? EDHOC_E_MSG3_DECRYPT : EDHOC_E_MSG4_DECRYPT;
	uint8_t aad[CRYPTO_MAX_HASH + 16];
	const uint8_t *ct, *key, *iv;
	size_t ct_len, tag_len, aad_len, pt_len;
	edhoc_error err;
	cose_reader r;
	int rc;

	if (edhoc_is_error_message(msg, len) && edhoc_error_decode(msg, len, &err) == 0)
		return EDHOC_E_PEER_ERROR;
	/* message_3 / message_4 = (CIPHERTEXT_x : bstr) */
	cose_reader_init(&r, msg, len);
	rc = cose_read_bstr(&r, &ct, &ct_len);
	if (rc < 0)
		return rc;
	if (!cose_reader_done(&r))
		return EDHOC_E_TRAILING_BYTES;
	tag_len = crypto_aead_tag_len(h->suite->edhoc_aead);
	if (ct_len < tag_len)
		return decrypt_failed;
	rc = encrypt0_keys(h, msg_no, aad, sizeof(aad), &key, &iv, &aad_len);
	if (rc < 0)
		return rc;
	pt_len = ct_len - tag_len;
	rc = edhoc_scratch_init(s, stack, stack_cap, pt_len + 1);
	if (rc < 0)
		return rc;
	rc = crypto_aead_decrypt(h->suite->edhoc_aead, key, iv, aad, aad_len, ct, ct_len, s->p);
	if (rc < 0)
		return rc == EDHOC_E_AEAD_DECRYPT ? decrypt_failed : rc;
	*ret_pt_len = pt_len;
	return 0;
}
