/* The EDHOC responder (RFC 9528 §5.2-5.5): message_1 in, message_2 out,
 * message_3 in, optional message_4 out. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

/* CBOR-level problems inside a decrypted plaintext are reported as such: the
 * peer got the encryption right but the content wrong. */
static int plaintext_code(int rc)
{
	return (rc <= EDHOC_E_CBOR_TRUNCATED && rc >= EDHOC_E_TRAILING_BYTES) ||
	               rc == EDHOC_E_VALUE_RANGE
	           ? EDHOC_E_PLAINTEXT_MALFORMED
	           : rc;
}

static bool own_suite(const edhoc_config *cfg, int64_t id)
{
	for (size_t i = 0; i < cfg->n_suites && i < EDHOC_MAX_SUITES; i++)
		if (cfg->suites[i] == id)
			return edhoc_suite_checked((int)id) != NULL;
	return false;
}

/* SUITES_I = int / [2* int] (§5.2.2). */
static int read_suites_i(cose_reader *r, int64_t *suites, size_t *ret_n)
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
		/* a single suite must be sent as an int */
		if (n < 2 || n > EDHOC_MAX_SUITES)
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

/* The selected suite is the last one; a supported suite listed before it
 * means the initiator missed a better common choice (§6.3.2). */
static int select_suite(edhoc_handshake *h, const int64_t *suites, size_t n)
{
	int64_t sel = suites[n - 1];

	if (!own_suite(h->cfg, sel))
		return EDHOC_E_SUITE_NOT_SUPPORTED;
	for (size_t i = 0; i + 1 < n; i++)
		if (own_suite(h->cfg, suites[i]))
			return EDHOC_E_SUITE_NOT_SUPPORTED;
	h->suite = edhoc_suite_checked((int)sel);
	h->suite_id = (int)sel;
	return 0;
}

/* Everything of message_2 that does not depend on C_R: the ephemeral key,
 * G_XY, TH_2, PRK_2e, PRK_3e2m.  Doing the ECDH here also validates G_X. */
static int responder_keys(edhoc_handshake *h, const uint8_t *msg, size_t len, const uint8_t *g_x,
                          size_t g_x_len)
{
	const edhoc_config *cfg = h->cfg;
	size_t hl = h->suite->hash_len, pub_len = g_x_len, secret_len;
	int curve = h->suite->dh_curve;
	uint8_t h_m1[CRYPTO_MAX_HASH], in[2 * (CRYPTO_MAX_HASH + 2)];
	uint8_t salt[CRYPTO_MAX_HASH], g_rx[CRYPTO_MAX_DH_SECRET];
	crypto_key *gx = NULL;
	cose_writer w;
	int rc;

	/* G_X is imported (and so validated: on the curve, not of low order)
	 * once, for G_XY and, with a static DH key R, for G_RX.  Y comes from
	 * the random source; the derivation right after the key generation
	 * reuses the key object the crypto layer made for it. */
	rc = crypto_key_from_public(curve, g_x, g_x_len, NULL, 0, &gx);
	if (rc < 0)
		goto out;
	h->eph_priv_len = crypto_dh_priv_len(curve);
	rc = crypto_dh_keygen(curve, cfg->rng ? cfg->rng : crypto_rng_default, cfg->rng_ctx,
	                      h->eph_priv, h->g_y);
	if (rc < 0)
		goto out;
	rc = crypto_dh_derive_priv(curve, h->eph_priv, h->eph_priv_len, gx, h->g_xy, &h->g_xy_len);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_G_XY);

	/* TH_2 = H(G_Y, H(message_1)) */
	rc = crypto_hash(h->suite->edhoc_hash, msg, len, h_m1);
	if (rc < 0)
		goto out;
	cose_writer_init(&w, in, sizeof(in));
	cose_write_bstr(&w, h->g_y, pub_len);
	cose_write_bstr(&w, h_m1, hl);
	rc = cose_writer_result(&w);
	if (rc < 0)
		goto out;
	rc = crypto_hash(h->suite->edhoc_hash, in, w.len, h->th_2);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_TH_2);

	rc = crypto_kdf_extract(h->suite->edhoc_hash, h->th_2, hl, h->g_xy, h->g_xy_len, h->prk_2e);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_PRK_2E);

	if (edhoc_method_r_signs(h->method)) {
		memcpy(h->prk_3e2m, h->prk_2e, hl);
	} else {
		rc = edhoc_kdf(h, h->prk_2e, 1, h->th_2, hl, salt, hl);
		if (rc < 0)
			goto out;
		rc = crypto_dh_derive(cfg->own->key, gx, g_rx, &secret_len);
		if (rc < 0)
			goto out;
		rc = crypto_kdf_extract(h->suite->edhoc_hash, salt, hl, g_rx, secret_len,
		                        h->prk_3e2m);
		if (rc < 0)
			goto out;
	}
	edhoc_have(h, EDHOC_V_PRK_3E2M);
out:
	crypto_key_free(gx);
	crypto_cleanse(salt, sizeof(salt));
	crypto_cleanse(g_rx, sizeof(g_rx));
	return rc;
}

int edhoc_responder_read_message_1(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	int64_t method, suites[EDHOC_MAX_SUITES];
	const uint8_t *g_x, *ead;
	size_t n_suites = 0, g_x_len, ead_len;
	cose_reader r;
	int major, rc;

	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->cfg->role != EDHOC_RESPONDER || h->state != ST_START)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (!msg && len > 0)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	if (len > edhoc_max_message(h))
		return edhoc_fail(h, EDHOC_E_MESSAGE_TOO_LARGE);

	/* message_1 = (METHOD, SUITES_I, G_X, C_I, ? EAD_1) */
	cose_reader_init(&r, msg, len);
	rc = cose_peek_type(&r, &major);
	if (rc < 0)
		return edhoc_fail(h, rc);
	if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
		return edhoc_fail(h, EDHOC_E_CBOR_TYPE);
	rc = cose_read_int(&r, &method);
	if (rc == EDHOC_E_VALUE_RANGE)
		return edhoc_fail(h, EDHOC_E_METHOD_UNSUPPORTED);
	if (rc == 0)
		rc = read_suites_i(&r, suites, &n_suites);
	if (rc == 0)
		rc = cose_read_bstr(&r, &g_x, &g_x_len);
	if (rc == 0)
		rc = edhoc_read_compact_bytes(&r, h->c_i.bytes, sizeof(h->c_i.bytes), &h->c_i.len,
		                              EDHOC_E_CONN_ID_MALFORMED);
	if (rc == 0)
		rc = edhoc_ead_parse(h, &r, &ead, &ead_len);
	if (rc < 0)
		return edhoc_fail(h, rc);

	if (method < 0 || method > EDHOC_METHOD_STAT_STAT || !(h->cfg->methods & (1u << method)))
		return edhoc_fail(h, EDHOC_E_METHOD_UNSUPPORTED);
	h->method = (uint8_t)method;
	rc = select_suite(h, suites, n_suites);
	if (rc < 0)
		return edhoc_fail(h, rc);
	if (g_x_len != crypto_dh_pub_len(h->suite->dh_curve))
		return edhoc_fail(h, EDHOC_E_EPHEMERAL_KEY_LENGTH);
	rc = edhoc_own_cred_check(h, edhoc_method_r_signs(h->method));
	if (rc < 0)
		return edhoc_fail(h, rc);
	rc = responder_keys(h, msg, len, g_x, g_x_len);
	if (rc < 0)
		return edhoc_fail(h, rc);
	/* EAD_1 goes to the application only once message_1 is known good. */
	rc = edhoc_ead_process(h, 1, ead, ead_len);
	if (rc < 0)
		return edhoc_fail(h, rc);
	h->state = ST_R_GOT_M1;
	return 0;
}

int edhoc_responder_write_message_2(edhoc_handshake *h, const edhoc_cid *c_r, uint8_t *out,
                                    size_t cap, size_t *ret_len)
{
	const edhoc_cred *own;
	const uint8_t *ead, *som;
	uint8_t stack[1024], sig[CRYPTO_MAX_SIG];
	size_t hl, ead_len, mac_len, som_len, sig_len, pt_len, g_y_len;
	edhoc_scratch s = {0};
	cose_writer w;
	uint8_t *pt, *ks;
	int rc;

	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->cfg->role != EDHOC_RESPONDER || h->state != ST_R_GOT_M1)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (!c_r || c_r->len > EDHOC_MAX_CID || !out || !ret_len)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	if (c_r->len == h->c_i.len && memcmp(c_r->bytes, h->c_i.bytes, c_r->len) == 0)
		return edhoc_fail(h, EDHOC_E_CONN_ID_SAME);
	own = h->cfg->own;
	hl = h->suite->hash_len;
	edhoc_ead_out(h, 2, &ead, &ead_len);

	mac_len = edhoc_mac_len(h, true);
	rc = edhoc_mac(h, h->prk_3e2m, 2, c_r, own->id_cred, own->id_cred_len, h->th_2, own->cred,
	               own->cred_len, ead, ead_len, h->mac_2, mac_len);
	if (rc < 0)
		goto out;
	h->mac_2_len = mac_len;
	edhoc_have(h, EDHOC_V_MAC_2);
	if (edhoc_method_r_signs(h->method)) {
		rc = edhoc_sign(h, own->key, own->id_cred, own->id_cred_len, h->th_2, own->cred,
		                own->cred_len, ead, ead_len, h->mac_2, mac_len, sig, &sig_len);
		if (rc < 0)
			goto out;
		som = sig;
		som_len = sig_len;
	} else {
		som = h->mac_2;
		som_len = mac_len;
	}

	/* PLAINTEXT_2 = (C_R, ID_CRED_R / bstr / -24..23, Signature_or_MAC_2, ? EAD_2) */
	pt_len = EDHOC_MAX_CID + 2 + own->id_cred_len + som_len + 3 + ead_len;
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), 2 * pt_len);
	if (rc < 0)
		goto out;
	pt = s.p;
	cose_writer_init(&w, pt, pt_len);
	edhoc_write_compact_bytes(&w, c_r->bytes, c_r->len);
	edhoc_id_cred_write(&w, own->id_cred, own->id_cred_len);
	cose_write_bstr(&w, som, som_len);
	if (ead_len > 0)
		cose_write_raw(&w, ead, ead_len);
	rc = cose_writer_result(&w);
	if (rc < 0)
		goto out;
	pt_len = w.len;
	ks = pt + pt_len;

	/* KEYSTREAM_2 = EDHOC_KDF(PRK_2e, 0, TH_2, plaintext_length) */
	rc = edhoc_kdf(h, h->prk_2e, 0, h->th_2, hl, ks, pt_len);
	if (rc < 0)
		goto out;
	edhoc_trace_copy(h->keystream_2, &h->keystream_2_len, ks, pt_len);
	edhoc_have(h, EDHOC_V_KEYSTREAM_2);
	edhoc_trace_copy(h->plaintext_2, &h->plaintext_2_len, pt, pt_len);
	edhoc_have(h, EDHOC_V_PLAINTEXT_2);

	/* message_2 = bstr(G_Y || CIPHERTEXT_2) */
	g_y_len = crypto_dh_pub_len(h->suite->dh_curve);
	cose_writer_init(&w, out, cap);
	cose_write_bstr_head(&w, g_y_len + pt_len);
	cose_write_raw(&w, h->g_y, g_y_len);
	rc = cose_writer_result(&w);
	if (rc < 0 || cap - w.len < pt_len) {
		rc = EDHOC_E_BUFFER_TOO_SMALL;
		goto out;
	}
	for (size_t i = 0; i < pt_len; i++)
		out[w.len + i] = pt[i] ^ ks[i];

	/* TH_3 = H(TH_2, PLAINTEXT_2, CRED_R): the own credential is not needed
	 * again after this. */
	rc = edhoc_th_next(h, h->th_2, pt, pt_len, own->cred, own->cred_len, h->th_3);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_TH_3);
	h->c_r = *c_r;
	*ret_len = w.len + pt_len;
	/* Y is needed again only for G_IY (initiator authenticates with static DH). */
	if (edhoc_method_i_signs(h->method))
		edhoc_wipe_eph(h);
	h->state = ST_R_SENT_M2;
out:
	crypto_cleanse(sig, sizeof(sig));
	edhoc_scratch_release(&s);
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}

/* Signature_or_MAC_3 check and EAD_3 once the credential is known. */
static int verify_message_3(edhoc_handshake *h, const edhoc_id_cred *id, const edhoc_cred *cred,
                            const uint8_t *som, size_t som_len, const uint8_t *ead, size_t ead_len)
{
	size_t hl = h->suite->hash_len, mac_len = edhoc_mac_len(h, false), secret_len;
	bool i_signs = edhoc_method_i_signs(h->method);
	uint8_t salt[CRYPTO_MAX_HASH], g_iy[CRYPTO_MAX_DH_SECRET];
	int rc;

	if (i_signs) {
		memcpy(h->prk_4e3m, h->prk_3e2m, hl);
	} else {
		/* PRK_4e3m = EDHOC_Extract(SALT_4e3m, G_IY) */
		rc = edhoc_kdf(h, h->prk_3e2m, 5, h->th_3, hl, salt, hl);
		if (rc == 0)
			rc = edhoc_dh_eph_key(h, h->eph_priv, h->eph_priv_len, cred->key, g_iy,
			                      &secret_len);
		if (rc == 0)
			rc = crypto_kdf_extract(h->suite->edhoc_hash, salt, hl, g_iy, secret_len,
			                        h->prk_4e3m);
		crypto_cleanse(salt, sizeof(salt));
		crypto_cleanse(g_iy, sizeof(g_iy));
		if (rc < 0)
			return rc;
	}
	edhoc_have(h, EDHOC_V_PRK_4E3M);

	rc = edhoc_mac(h, h->prk_4e3m, 6, NULL, id->map, id->map_len, h->th_3, cred->cred,
	               cred->cred_len, ead, ead_len, h->mac_3, mac_len);
	if (rc < 0)
		return rc;
	h->mac_3_len = mac_len;
	edhoc_have(h, EDHOC_V_MAC_3);
	if (i_signs) {
		rc = edhoc_verify(h, cred->key, id->map, id->map_len, h->th_3, cred->cred,
		                  cred->cred_len, ead, ead_len, h->mac_3, mac_len, som, som_len);
		if (rc == EDHOC_E_SIGNATURE_INVALID)
			return EDHOC_E_SIG3_INVALID;
		if (rc < 0)
			return rc;
	} else if (!crypto_memeq(som, h->mac_3, mac_len)) {
		return EDHOC_E_MAC3_MISMATCH;
	}
	return edhoc_ead_process(h, 3, ead, ead_len);
}

int edhoc_responder_read_message_3(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	const edhoc_config *cfg;
	const uint8_t *ct, *som, *ead;
	uint8_t stack[1024], aad[CRYPTO_MAX_HASH + 16], mapbuf[EDHOC_MAX_CID + 4];
	size_t ct_len, pt_len, aad_len, tag_len, som_len, ead_len;
	edhoc_scratch s = {0};
	edhoc_id_cred id;
	edhoc_cred cred;
	edhoc_error err;
	cose_reader r;
	int rc;

	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->cfg->role != EDHOC_RESPONDER || h->state != ST_R_SENT_M2)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (!msg && len > 0)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	if (len > edhoc_max_message(h))
		return edhoc_fail(h, EDHOC_E_MESSAGE_TOO_LARGE);
	cfg = h->cfg;
	if (edhoc_is_error_message(msg, len) && edhoc_error_decode(msg, len, &err) == 0)
		return edhoc_fail(h, EDHOC_E_PEER_ERROR);

	/* message_3 = (CIPHERTEXT_3 : bstr) */
	cose_reader_init(&r, msg, len);
	rc = cose_read_bstr(&r, &ct, &ct_len);
	if (rc < 0)
		goto out;
	if (!cose_reader_done(&r)) {
		rc = EDHOC_E_TRAILING_BYTES;
		goto out;
	}
	tag_len = crypto_aead_tag_len(h->suite->edhoc_aead);
	if (ct_len < tag_len) {
		rc = EDHOC_E_MSG3_DECRYPT;
		goto out;
	}
	rc = edhoc_aead_keys(h, h->prk_3e2m, 3, h->th_3, h->k_3, h->iv_3);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_K_3);
	edhoc_have(h, EDHOC_V_IV_3);
	aad_len = edhoc_enc_structure(h, h->th_3, aad, sizeof(aad));
	pt_len = ct_len - tag_len;
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), pt_len + 1);
	if (rc < 0)
		goto out;
	rc = crypto_aead_decrypt(h->suite->edhoc_aead, h->k_3, h->iv_3, aad, aad_len, ct, ct_len,
	                         s.p);
	if (rc < 0) {
		rc = rc == EDHOC_E_AEAD_DECRYPT ? EDHOC_E_MSG3_DECRYPT : rc;
		goto out;
	}
	edhoc_trace_copy(h->plaintext_3, &h->plaintext_3_len, s.p, pt_len);
	edhoc_have(h, EDHOC_V_PLAINTEXT_3);

	/* PLAINTEXT_3 = (ID_CRED_I / bstr / -24..23, Signature_or_MAC_3, ? EAD_3) */
	cose_reader_init(&r, s.p, pt_len);
	rc = edhoc_id_cred_read(&r, &id, mapbuf, sizeof(mapbuf));
	if (rc == 0)
		rc = cose_read_bstr(&r, &som, &som_len);
	if (rc == 0)
		rc = edhoc_ead_parse(h, &r, &ead, &ead_len);
	if (rc < 0) {
		rc = plaintext_code(rc);
		goto out;
	}

	if (som_len != edhoc_som_len(h, false)) {
		rc = EDHOC_E_SIG_OR_MAC_LENGTH;
		goto out;
	}

	memset(&cred, 0, sizeof(cred));
	rc = cfg->lookup ? cfg->lookup(cfg->lookup_ctx, &id, &cred) : EDHOC_E_UNKNOWN_CRED;
	if (rc > 0)
		rc = EDHOC_E_INTERNAL;
	if (rc == 0)
		rc = edhoc_peer_cred_accept(h, &id, &cred, edhoc_method_i_signs(h->method));
	if (rc == 0)
		rc = verify_message_3(h, &id, &cred, som, som_len, ead, ead_len);
	if (rc < 0)
		goto out;

	/* TH_4 = H(TH_3, PLAINTEXT_3, CRED_I) */
	rc = edhoc_th_next(h, h->th_3, s.p, pt_len, cred.cred, cred.cred_len, h->th_4);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_TH_4);
	rc = edhoc_derive_prk_out(h);
	if (rc < 0)
		goto out;
	edhoc_wipe_eph(h);
	h->state = ST_DONE;
out:
	edhoc_scratch_release(&s);
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}

int edhoc_responder_write_message_4(edhoc_handshake *h, uint8_t *out, size_t cap, size_t *ret_len)
{
	uint8_t aad[CRYPTO_MAX_HASH + 16], buf[EDHOC_MAX_EAD_BYTES + CRYPTO_MAX_AEAD_TAG];
	const uint8_t *ead;
	size_t ead_len, aad_len, ct_len;
	cose_writer w;
	int rc;

	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->cfg->role != EDHOC_RESPONDER || h->state != ST_DONE)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (!out || !ret_len)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	rc = edhoc_aead_keys(h, h->prk_4e3m, 8, h->th_4, h->k_4, h->iv_4);
	if (rc < 0)
		return edhoc_fail(h, rc);
	edhoc_have(h, EDHOC_V_K_4);
	edhoc_have(h, EDHOC_V_IV_4);
	aad_len = edhoc_enc_structure(h, h->th_4, aad, sizeof(aad));

	/* PLAINTEXT_4 = (? EAD_4) */
	edhoc_ead_out(h, 4, &ead, &ead_len);
	if (ead_len > 0)
		memcpy(buf, ead, ead_len);
	rc = crypto_aead_encrypt(h->suite->edhoc_aead, h->k_4, h->iv_4, aad, aad_len, buf, ead_len,
	                         buf);
	if (rc < 0)
		return edhoc_fail(h, rc);
	ct_len = ead_len + crypto_aead_tag_len(h->suite->edhoc_aead);
	cose_writer_init(&w, out, cap);
	cose_write_bstr(&w, buf, ct_len);
	rc = cose_writer_result(&w);
	if (rc < 0)
		return edhoc_fail(h, rc);
	*ret_len = w.len;
	h->state = ST_DONE_M4;
	return 0;
}
