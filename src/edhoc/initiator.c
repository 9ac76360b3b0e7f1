/* The EDHOC initiator (RFC 9528 §5.2-5.5): message_1 out, message_2 (or an
 * error) in, message_3 out, optional message_4 in. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

static bool in_list(const int *list, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* Index in cfg->suites of the suite to select: the most preferred one the
 * first time, the most preferred one in SUITES_R after an error. */
static int choose_suite(const edhoc_handshake *h, size_t *ret_index)
{
	const edhoc_config *cfg = h->cfg;
	size_t n = cfg->n_suites;

	if (n == 0 || n > EDHOC_MAX_SUITES)
		return EDHOC_E_INVALID_ARGUMENT;
	if (h->rejected_suite < 0) {
		if (!edhoc_suite_checked(cfg->suites[0]))
			return EDHOC_E_ALG_UNSUPPORTED;
		*ret_index = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (cfg->suites[i] != h->rejected_suite &&
		    in_list(h->suites_r, h->n_suites_r, cfg->suites[i]) &&
		    edhoc_suite_checked(cfg->suites[i])) {
			*ret_index = i;
			return 0;
		}
	}
	return EDHOC_E_PEER_WRONG_SUITE;
}

int edhoc_initiator_write_message_1(edhoc_handshake *h, const edhoc_cid *c_i, uint8_t *out,
                                    size_t cap, size_t *ret_len)
{
	const edhoc_config *cfg;
	const uint8_t *ead;
	size_t k, ead_len, pub_len;
	uint8_t g_x[CRYPTO_MAX_DH_PUB];
	cose_writer w;
	int rc;

	rc = edhoc_step_begin(h, EDHOC_INITIATOR, ST_START,
	                      c_i && c_i->len <= EDHOC_MAX_CID && out && ret_len);
	if (rc < 0)
		return rc;
	cfg = h->cfg;
	if (cfg->method < 0 || cfg->method > EDHOC_METHOD_STAT_STAT)
		return edhoc_fail(h, EDHOC_E_INVALID_ARGUMENT);
	rc = choose_suite(h, &k);
	if (rc < 0)
		return edhoc_fail(h, rc);
	/* A retry starts from scratch with a new ephemeral key. */
	h->have = 0;
	h->method = (uint8_t)cfg->method;
	h->suite_id = cfg->suites[k];
	h->suite = edhoc_suite_checked(h->suite_id);
	/* The own key is checked against the suite only when message_2 comes:
	 * a first message_1 may name a preferred suite that our credential
	 * cannot serve, as in RFC 9529 trace 2. */

	pub_len = crypto_dh_pub_len(h->suite->dh_curve);
	h->eph_priv_len = crypto_dh_priv_len(h->suite->dh_curve);
	rc = crypto_dh_keygen(h->suite->dh_curve, cfg->rng ? cfg->rng : crypto_rng_default,
	                      cfg->rng_ctx, h->eph_priv, g_x);
	if (rc < 0)
		return edhoc_fail(h, rc);

	/* message_1 = (METHOD, SUITES_I, G_X, C_I, ? EAD_1); SUITES_I lists our
	 * suites in order of preference up to the selected one (§5.2.2). */
	edhoc_ead_out(h, 1, &ead, &ead_len);
	cose_writer_init(&w, out, cap);
	cose_write_uint(&w, h->method);
	if (k == 0) {
		cose_write_int(&w, cfg->suites[0]);
	} else {
		cose_write_array(&w, k + 1);
		for (size_t i = 0; i <= k; i++)
			cose_write_int(&w, cfg->suites[i]);
	}
	cose_write_bstr(&w, g_x, pub_len);
	edhoc_write_compact_bytes(&w, c_i->bytes, c_i->len);
	if (ead_len > 0)
		cose_write_raw(&w, ead, ead_len);
	rc = cose_writer_result(&w);
	if (rc < 0)
		return edhoc_fail(h, rc);
	if (w.len > edhoc_max_message(h))
		return edhoc_fail(h, EDHOC_E_MESSAGE_TOO_LARGE);
	rc = crypto_hash(h->suite->edhoc_hash, out, w.len, h->h_m1);
	if (rc < 0)
		return edhoc_fail(h, rc);
	h->c_i = *c_i;
	*ret_len = w.len;
	h->state = ST_I_SENT_M1;
	return 0;
}

/* An error message in place of message_2.  After Wrong Selected Cipher
 * Suite with a common suite left, the handshake goes back to the start. */
static int read_error(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	edhoc_error err;
	size_t k;
	int rc;

	rc = edhoc_error_decode(msg, len, &err);
	if (rc < 0)
		return edhoc_fail(h, rc);
	if (err.err_code != EDHOC_ERR_WRONG_SUITE)
		return edhoc_fail(h, EDHOC_E_PEER_ERROR);
	memcpy(h->suites_r, err.suites, err.n_suites * sizeof(err.suites[0]));
	h->n_suites_r = err.n_suites;
	h->rejected_suite = h->suite_id;
	edhoc_wipe_eph(h); /* while h->suite still names its curve */
	if (choose_suite(h, &k) < 0)
		return edhoc_fail(h, EDHOC_E_PEER_WRONG_SUITE);
	h->state = ST_START;
	return EDHOC_E_SUITE_NOT_SUPPORTED;
}

int edhoc_initiator_read_message_2(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	const uint8_t *m2, *som, *ead;
	uint8_t stack[1024], mapbuf[EDHOC_MAX_CID + 4];
	size_t m2_len, g_y_len, pt_len, som_len, ead_len, hl;
	edhoc_scratch s = {0};
	crypto_key *gy = NULL;
	edhoc_id_cred id;
	edhoc_cred cred;
	cose_reader r;
	uint8_t *pt;
	int rc;

	rc = edhoc_read_begin(h, EDHOC_INITIATOR, ST_I_SENT_M1, msg, len);
	if (rc < 0)
		return rc;
	if (edhoc_is_error_message(msg, len))
		return read_error(h, msg, len);
	hl = h->suite->hash_len;
	rc = edhoc_own_cred_check(h, edhoc_method_i_signs(h->method));
	if (rc < 0)
		goto out;

	/* message_2 = (G_Y_CIPHERTEXT_2 : bstr) */
	cose_reader_init(&r, msg, len);
	rc = cose_read_bstr(&r, &m2, &m2_len);
	if (rc < 0)
		goto out;
	if (!cose_reader_done(&r)) {
		rc = EDHOC_E_TRAILING_BYTES;
		goto out;
	}
	g_y_len = crypto_dh_pub_len(h->suite->dh_curve);
	if (m2_len < g_y_len) {
		rc = EDHOC_E_EPHEMERAL_KEY_LENGTH;
		goto out;
	}
	if (m2_len == g_y_len) {
		rc = EDHOC_E_PLAINTEXT_MALFORMED; /* no CIPHERTEXT_2 at all */
		goto out;
	}
	/* G_Y imported once (which validates it), for G_XY and, with a static
	 * DH key I, for G_IY */
	rc = crypto_key_from_public(h->suite->dh_curve, m2, g_y_len, NULL, 0, &gy);
	if (rc < 0)
		goto out;
	rc = crypto_dh_derive_priv(h->suite->dh_curve, h->eph_priv, h->eph_priv_len, gy, h->g_xy,
	                           &h->g_xy_len);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_G_XY);

	rc = edhoc_th_2_prk_2e(h, m2, h->h_m1);
	if (rc < 0)
		goto out;

	pt_len = m2_len - g_y_len;
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), pt_len + 1);
	if (rc < 0)
		goto out;
	pt = s.p;
	rc = edhoc_kdf(h, h->prk_2e, 0, h->th_2, hl, pt, pt_len);
	if (rc < 0)
		goto out;
	edhoc_trace_copy(h->keystream_2, &h->keystream_2_len, pt, pt_len);
	edhoc_have(h, EDHOC_V_KEYSTREAM_2);
	for (size_t i = 0; i < pt_len; i++)
		pt[i] ^= m2[g_y_len + i];
	edhoc_trace_copy(h->plaintext_2, &h->plaintext_2_len, pt, pt_len);
	edhoc_have(h, EDHOC_V_PLAINTEXT_2);

	/* PLAINTEXT_2 = (C_R, ID_CRED_R / bstr / -24..23, Signature_or_MAC_2, ? EAD_2) */
	cose_reader_init(&r, pt, pt_len);
	rc = edhoc_read_compact_bytes(&r, h->c_r.bytes, sizeof(h->c_r.bytes), &h->c_r.len,
	                              EDHOC_E_CONN_ID_MALFORMED);
	if (rc == 0)
		rc = edhoc_read_auth_fields(h, 2, &r, &id, mapbuf, sizeof(mapbuf), &som, &som_len,
		                            &ead, &ead_len);
	if (rc < 0) {
		rc = edhoc_plaintext_code(rc);
		goto out;
	}
	/* Equal identifiers would give both OSCORE directions one Sender ID. */
	if (h->c_r.len == h->c_i.len && memcmp(h->c_r.bytes, h->c_i.bytes, h->c_r.len) == 0) {
		rc = EDHOC_E_CONN_ID_SAME;
		goto out;
	}

	rc = edhoc_peer_auth(h, 2, &id, &cred, som, som_len, ead, ead_len);
	if (rc < 0)
		goto out;

	/* TH_3 = H(TH_2, PLAINTEXT_2, CRED_R) */
	rc = edhoc_th_next(h, h->th_2, pt, pt_len, cred.cred, cred.cred_len, h->th_3);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_TH_3);
	/* PRK_4e3m: the initiator's static DH key with G_Y (methods 2 and 3) */
	rc = edhoc_prk_static(h, 3, h->cfg->own->key, gy);
	if (rc < 0)
		goto out;
	edhoc_wipe_eph(h);
	h->state = ST_I_GOT_M2;
out:
	crypto_key_free(gy);
	edhoc_scratch_release(&s);
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}

int edhoc_initiator_write_message_3(edhoc_handshake *h, uint8_t *out, size_t cap, size_t *ret_len)
{
	const edhoc_cred *own;
	const uint8_t *ead, *som;
	uint8_t stack[1024], sig[CRYPTO_MAX_SIG];
	size_t ead_len, som_len, pt_len, msg_len;
	edhoc_scratch s = {0};
	cose_writer w;
	int rc;

	rc = edhoc_step_begin(h, EDHOC_INITIATOR, ST_I_GOT_M2, out && ret_len);
	if (rc < 0)
		return rc;
	own = h->cfg->own;
	edhoc_ead_out(h, 3, &ead, &ead_len);
	rc = edhoc_own_som(h, 3, NULL, ead, ead_len, sig, &som, &som_len);
	if (rc < 0)
		goto out;

	/* PLAINTEXT_3 = (ID_CRED_I / bstr / -24..23, Signature_or_MAC_3, ? EAD_3) */
	pt_len = own->id_cred_len + som_len + 3 + ead_len;
	rc = edhoc_scratch_init(&s, stack, sizeof(stack), pt_len);
	if (rc < 0)
		goto out;
	cose_writer_init(&w, s.p, pt_len);
	edhoc_write_auth_fields(&w, own, som, som_len, ead, ead_len);
	rc = cose_writer_result(&w);
	if (rc < 0)
		goto out;
	pt_len = w.len;
	edhoc_trace_copy(h->plaintext_3, &h->plaintext_3_len, s.p, pt_len);
	edhoc_have(h, EDHOC_V_PLAINTEXT_3);
	rc = edhoc_encrypt_message(h, 3, s.p, pt_len, out, cap, &msg_len);
	if (rc < 0)
		goto out;

	/* TH_4 = H(TH_3, PLAINTEXT_3, CRED_I) */
	rc = edhoc_th_next(h, h->th_3, s.p, pt_len, own->cred, own->cred_len, h->th_4);
	if (rc < 0)
		goto out;
	edhoc_have(h, EDHOC_V_TH_4);
	rc = edhoc_derive_prk_out(h);
	if (rc < 0)
		goto out;
	*ret_len = msg_len;
	h->state = ST_DONE;
out:
	crypto_cleanse(sig, sizeof(sig));
	edhoc_scratch_release(&s);
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}

int edhoc_initiator_read_message_4(edhoc_handshake *h, const uint8_t *msg, size_t len)
{
	uint8_t stack[512];
	const uint8_t *ead;
	size_t pt_len, ead_len;
	edhoc_scratch s = {0};
	cose_reader r;
	int rc;

	rc = edhoc_read_begin(h, EDHOC_INITIATOR, ST_DONE, msg, len);
	if (rc < 0)
		return rc;
	rc = edhoc_decrypt_message(h, 4, msg, len, stack, sizeof(stack), &s, &pt_len);
	if (rc < 0)
		goto out;
	/* PLAINTEXT_4 = (? EAD_4) */
	cose_reader_init(&r, s.p, pt_len);
	rc = edhoc_ead_parse(h, &r, &ead, &ead_len);
	if (rc < 0) {
		rc = edhoc_plaintext_code(rc);
		goto out;
	}
	rc = edhoc_ead_process(h, 4, ead, ead_len);
	if (rc < 0)
		goto out;
	h->state = ST_DONE_M4;
out:
	edhoc_scratch_release(&s);
	return rc < 0 ? edhoc_fail(h, rc) : 0;
}
