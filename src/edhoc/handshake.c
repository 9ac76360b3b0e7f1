/* The handshake object and what a completed handshake offers: exporter,
 * key update, OSCORE parameters (RFC 9528 §4.2, App. A.1, App. H). */
#include <stdlib.h>
#include <string.h>

#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

size_t edhoc_handshake_size(void)
{
	return sizeof(struct edhoc_handshake);
}

edhoc_handshake *edhoc_handshake_new(const edhoc_config *cfg)
{
	edhoc_handshake *h;

	if (!cfg)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->cfg = cfg;
	h->state = ST_START;
	h->suite_id = -1;
	h->rejected_suite = -1;
	return h;
}

void edhoc_handshake_free(edhoc_handshake *h)
{
	if (!h)
		return;
	edhoc_wipe_eph(h);
	crypto_cleanse(h, sizeof(*h));
	free(h);
}

bool edhoc_handshake_complete(const edhoc_handshake *h)
{
	return h && (h->state == ST_DONE || h->state == ST_DONE_M4);
}

int edhoc_handshake_method(const edhoc_handshake *h)
{
	return h ? h->method : -1;
}

int edhoc_handshake_suite(const edhoc_handshake *h)
{
	return h ? h->suite_id : -1;
}

const edhoc_cid *edhoc_handshake_c_i(const edhoc_handshake *h)
{
	return h ? &h->c_i : NULL;
}

const edhoc_cid *edhoc_handshake_c_r(const edhoc_handshake *h)
{
	return h ? &h->c_r : NULL;
}

const char *edhoc_handshake_peer_identity(const edhoc_handshake *h)
{
	return h ? h->peer_identity : "";
}

int edhoc_handshake_peer_id_cred(const edhoc_handshake *h, const uint8_t **ret, size_t *ret_len)
{
	if (!h || !ret || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->peer_id_cred_len == 0)
		return h->peer_identity[0] ? EDHOC_E_LIMIT : EDHOC_E_INVALID_ARGUMENT;
	*ret = h->peer_id_cred;
	*ret_len = h->peer_id_cred_len;
	return 0;
}

int edhoc_exporter(const edhoc_handshake *h, uint64_t label, const uint8_t *context,
                   size_t context_len, uint8_t *out, size_t out_len)
{
	if (!h || !out || (context_len > 0 && !context) || out_len == 0)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!edhoc_handshake_complete(h))
		return EDHOC_E_UNEXPECTED_MESSAGE;
	return edhoc_kdf(h, h->prk_exporter, label, context, context_len, out, out_len);
}

int edhoc_key_update(edhoc_handshake *h, const uint8_t *context, size_t context_len)
{
	uint8_t prk[CRYPTO_MAX_HASH];
	size_t hl;
	int rc;

	if (!h || (context_len > 0 && !context))
		return EDHOC_E_INVALID_ARGUMENT;
	if (!edhoc_handshake_complete(h))
		return EDHOC_E_UNEXPECTED_MESSAGE;
	hl = h->suite->hash_len;
	/* PRK_out = EDHOC_KDF(PRK_out, 11, context, hash_length) (App. H) */
	rc = edhoc_kdf(h, h->prk_out, 11, context, context_len, prk, hl);
	if (rc == 0) {
		memcpy(h->prk_out, prk, hl);
		rc = edhoc_kdf(h, h->prk_out, 10, NULL, 0, h->prk_exporter, hl);
	}
	crypto_cleanse(prk, sizeof(prk));
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}

int edhoc_oscore_params(const edhoc_handshake *h, edhoc_oscore *ret)
{
	edhoc_oscore o;
	const edhoc_cid *sender, *recipient;
	size_t key_len;
	int rc;

	if (!h || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!edhoc_handshake_complete(h))
		return EDHOC_E_UNEXPECTED_MESSAGE;
	memset(&o, 0, sizeof(o));
	/* oscore_key_length defaults to the application AEAD's key length */
	key_len = crypto_aead_key_len(h->suite->app_aead);
	if (key_len == 0 || key_len > sizeof(o.master_secret))
		return EDHOC_E_ALG_UNSUPPORTED;
	rc = edhoc_exporter(h, 0, NULL, 0, o.master_secret, key_len);
	if (rc < 0)
		goto out;
	o.master_secret_len = key_len;
	rc = edhoc_exporter(h, 1, NULL, 0, o.master_salt, 8);
	if (rc < 0)
		goto out;
	o.master_salt_len = 8;
	/* Each party's OSCORE Sender ID is the connection identifier the
	 * other party chose (App. A.1). */
	if (h->cfg->role == EDHOC_RESPONDER) {
		sender = &h->c_i;
		recipient = &h->c_r;
	} else {
		sender = &h->c_r;
		recipient = &h->c_i;
	}
	memcpy(o.sender_id, sender->bytes, sender->len);
	o.sender_id_len = sender->len;
	memcpy(o.recipient_id, recipient->bytes, recipient->len);
	o.recipient_id_len = recipient->len;
	o.aead_alg = h->suite->app_aead;
	o.hash_alg = h->suite->app_hash;
	*ret = o;
out:
	crypto_cleanse(&o, sizeof(o));
	return rc;
}

int edhoc_handshake_value(const edhoc_handshake *h, int which, const uint8_t **ret, size_t *ret_len)
{
	size_t hl, len;
	const uint8_t *p;

	if (!h || !ret || !ret_len || which < 0 || which > EDHOC_V_PLAINTEXT_3 || !h->suite)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!(h->have & (1u << which)))
		return EDHOC_E_INVALID_ARGUMENT;
	hl = h->suite->hash_len;
	switch (which) {
	case EDHOC_V_TH_2:
		p = h->th_2;
		len = hl;
		break;
	case EDHOC_V_TH_3:
		p = h->th_3;
		len = hl;
		break;
	case EDHOC_V_TH_4:
		p = h->th_4;
		len = hl;
		break;
	case EDHOC_V_PRK_2E:
		p = h->prk_2e;
		len = hl;
		break;
	case EDHOC_V_PRK_3E2M:
		p = h->prk_3e2m;
		len = hl;
		break;
	case EDHOC_V_PRK_4E3M:
		p = h->prk_4e3m;
		len = hl;
		break;
	case EDHOC_V_PRK_OUT:
		p = h->prk_out;
		len = hl;
		break;
	case EDHOC_V_PRK_EXPORTER:
		p = h->prk_exporter;
		len = hl;
		break;
	case EDHOC_V_MAC_2:
		p = h->mac_2;
		len = h->mac_2_len;
		break;
	case EDHOC_V_MAC_3:
		p = h->mac_3;
		len = h->mac_3_len;
		break;
	case EDHOC_V_K_3:
		p = h->k_3;
		len = crypto_aead_key_len(h->suite->edhoc_aead);
		break;
	case EDHOC_V_IV_3:
		p = h->iv_3;
		len = crypto_aead_nonce_len(h->suite->edhoc_aead);
		break;
	case EDHOC_V_K_4:
		p = h->k_4;
		len = crypto_aead_key_len(h->suite->edhoc_aead);
		break;
	case EDHOC_V_IV_4:
		p = h->iv_4;
		len = crypto_aead_nonce_len(h->suite->edhoc_aead);
		break;
	case EDHOC_V_KEYSTREAM_2:
		p = h->keystream_2;
		len = h->keystream_2_len;
		break;
	case EDHOC_V_G_XY:
		p = h->g_xy;
		len = h->g_xy_len;
		break;
	case EDHOC_V_PLAINTEXT_2:
		p = h->plaintext_2;
		len = h->plaintext_2_len;
		break;
	case EDHOC_V_PLAINTEXT_3:
		p = h->plaintext_3;
		len = h->plaintext_3_len;
		break;
	default:
		return EDHOC_E_INVALID_ARGUMENT;
	}
	if (len == SIZE_MAX)
		return EDHOC_E_INVALID_ARGUMENT; /* computed but longer than EDHOC_TRACE_MAX */
	*ret = p;
	*ret_len = len;
	return 0;
}
