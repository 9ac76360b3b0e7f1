/* The EDHOC responder (RFC 9528 §5.2-5.5): message_1 in, message_2 out,
 * message_3 in, optional message_4 out. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

static bool own_suite(const edhoc_config *cfg, int64_t id)
{
	for (size_t i = 0; i < cfg->n_suites && i < EDHOC_MAX_SUITES; i++)
		if (cfg->suites[i] == id)
			return edhoc_suite_checked((int)id) != NULL;
	return false;
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
	int curve = h->suite->dh_curve;
	uint8_t h_m1[CRYPTO_MAX_HASH];
	crypto_key *gx = NULL;
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

	rc = crypto_hash(h->suite->edhoc_hash, msg, len, h_m1);
	if (rc < 0)
		goto out;
	rc = edhoc_th_2_prk_2e(h, h->g_y, h_m1);
	if (rc < 0)
		goto out;
	rc = edhoc_prk_static(h, 2, cfg->own->key, gx);
out:
	crypto_key_free(gx);
	return rc;
}

int edhoc_responder_read_message_1(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	int64_t method, suites[EDHOC_MAX_SUITES];
	const uint8_t *g_x, *ead;
	size_t n_suites = 0, g_x_len, ead_len;
	cose_reader r;
	int major, rc;

	rc = edhoc_read_begin(h, EDHOC_RESPONDER, ST_START, msg, len);
	if (rc < 0)
		return rc;

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
		rc = edhoc_read_suites(&r, 2, suites, &n_suites);
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
	size_t hl, ead_len, som_len, pt_len, g_y_len;
	edhoc_scratch s = {0};
	cose_writer w;
	uint8_t *pt, *ks;
	int rc;

	rc = edhoc_step_begin(h, EDHOC_RESPONDER, ST_R_GOT_M1,
	                      c_r && c_r->len <= EDHOC_MAX_CID && out && ret_len);
	if (rc < 0)
		return rc;
	if (c_r->len == h->c_i.len && memcmp(c_r->bytes, h->c_i.bytes, c_r->len) == 0)
		return edhoc_fail(h, EDHOC_E_CONN_ID_SAME);
	own = h->cfg->own;
	hl = h->suite->hash_len;
	edhoc_ead_out(h, 2, &ead, &ead_len);
	rc = edhoc_own_som(h, 2, c_r, ead, ead_len, sig, &som, &som_len);
	if (rc < 0)
		goto out;

	/* PLAINTEXT_2 = (C_R, ID_CRED_R / bstr / -24..23, Signature_or_MAC_2, ? EAD_2) */
	pt_len = EDHOC_MAX_CID + 2 + own->id_cred_len + som_len + 3 + ead_len;
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), 2 * pt_len);
	if (rc < 0)
		goto out;
	pt = s.p;
	cose_writer_init(&w, pt, pt_len);
	edhoc_write_compact_bytes(&w, c_r->bytes, c_r->len);
	edhoc_write_auth_fields(&w, own, som, som_len, ead, ead_len);
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

int edhoc_responder_read_message_3(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	const uint8_t *som, *ead;
	uint8_t stack[1024], mapbuf[EDHOC_MAX_CID + 4];
	size_t pt_len, som_len, ead_len;
	edhoc_scratch s = {0};
	edhoc_id_cred id;
	edhoc_cred cred;
	cose_reader r;
	int rc;

	rc = edhoc_read_begin(h, EDHOC_RESPONDER, ST_R_SENT_M2, msg, len);
	if (rc < 0)
		return rc;
	rc = edhoc_decrypt_message(h, 3, msg, len, stack, sizeof(stack), &s, &pt_len);
	if (rc < 0)
		goto out;
	edhoc_trace_copy(h->plaintext_3, &h->plaintext_3_len, s.p, pt_len);
	edhoc_have(h, EDHOC_V_PLAINTEXT_3);

	/* PLAINTEXT_3 = (ID_CRED_I / bstr / -24..23, Signature_or_MAC_3, ? EAD_3) */
	cose_reader_init(&r, s.p, pt_len);
	rc = edhoc_read_auth_fields(h, 3, &r, &id, mapbuf, sizeof(mapbuf), &som, &som_len, &ead,
	                            &ead_len);
	if (rc == 0)
		rc = edhoc_peer_auth(h, 3, &id, &cred, som, som_len, ead, ead_len);
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
	const uint8_t *ead;
	size_t ead_len, msg_len;
	int rc;

	rc = edhoc_step_begin(h, EDHOC_RESPONDER, ST_DONE, out && ret_len);
	if (rc < 0)
		return rc;
	/* PLAINTEXT_4 = (? EAD_4) */
	edhoc_ead_out(h, 4, &ead, &ead_len);
	rc = edhoc_encrypt_message(h, 4, ead, ead_len, out, cap, &msg_len);
	if (rc < 0)
		return edhoc_fail(h, rc);
	*ret_len = msg_len;
	h->state = ST_DONE_M4;
	return 0;
}
