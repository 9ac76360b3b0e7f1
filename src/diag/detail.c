/* Failure details for refused handshakes; see detail.h. */
#include "diag/detail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/cred.h"
#include "edhoc/crypto.h"
#include "edhoc/result.h"

#define HEX_SHOWN     16 /* message bytes quoted in a detail */
#define ID_CRED_SHOWN 96 /* characters of ID_CRED_I in diagnostic notation */

int diag_ead_note_fn(void *ctx, int message_no, const edhoc_ead_item *item)
{
	diag_ead_note *n = ctx;
	if (n && item) {
		n->seen = true;
		n->message_no = message_no;
		n->label = item->label;
		n->has_value = item->value != NULL;
		n->value_len = item->value_len;
	}
	return 1;
}

const char *diag_ead_detail(const diag_ead_note *n, char *out, size_t cap)
{
	if (!n || !n->seen || !out || cap == 0)
		return NULL;
	char value[48] = "no value";
	if (n->has_value)
		snprintf(value, sizeof(value), "%zu-byte value", n->value_len);
	snprintf(out, cap,
	         "critical EAD item %" PRId64 " (%s) in EAD_%d: the gateway supports no EAD item "
	         "with this label",
	         n->label, value, n->message_no);
	return out;
}

/* "N bytes h'..'" for the start of a message. */
static void describe_bytes(const uint8_t *msg, size_t len, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%zu byte%s", len, len == 1 ? "" : "s");
	if (len == 0 || o >= cap)
		return;
	o += (size_t)snprintf(out + o, cap - o, " h'");
	for (size_t i = 0; i < len && i < HEX_SHOWN && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", msg[i]);
	if (o < cap)
		snprintf(out + o, cap - o, "%s'", len > HEX_SHOWN ? "..." : "");
}

/* EAD items (label, ?bstr value) up to the end of r. */
static int walk_ead(cose_reader *r, size_t *ret_off)
{
	int64_t label;
	const uint8_t *p;
	size_t n;
	int major, rc;

	/* Each item takes at least one byte, so this ends. */
	while (!cose_reader_done(r)) {
		*ret_off = r->off;
		rc = cose_read_int(r, &label);
		if (rc < 0)
			return rc;
		if (cose_reader_done(r))
			break;
		rc = cose_peek_type(r, &major);
		if (rc < 0)
			return rc;
		if (major == COSE_CBOR_BSTR && (rc = cose_read_bstr(r, &p, &n)) < 0)
			return rc;
	}
	return 0;
}

/* message_1 = (METHOD, SUITES_I, G_X, C_I, ? EAD_1): the first field whose
 * CBOR does not read, and its offset. */
static int walk_message_1(const uint8_t *msg, size_t len, const char **ret_field, size_t *ret_off)
{
	cose_reader r;
	const uint8_t *p;
	int64_t v;
	size_t n;
	int major, rc;

	cose_reader_init(&r, msg, len);
	*ret_field = "METHOD";
	*ret_off = 0;
	if ((rc = cose_read_int(&r, &v)) < 0)
		return rc;
	*ret_field = "SUITES_I";
	*ret_off = r.off;
	if ((rc = cose_peek_type(&r, &major)) < 0)
		return rc;
	if (major == COSE_CBOR_ARRAY) {
		if ((rc = cose_read_array(&r, &n)) < 0)
			return rc;
		/* n is peer-declared: each read consumes a byte or fails. */
		for (size_t i = 0; i < n; i++) {
			*ret_off = r.off;
			if ((rc = cose_read_int(&r, &v)) < 0)
				return rc;
		}
	} else if ((rc = cose_read_int(&r, &v)) < 0) {
		return rc;
	}
	*ret_field = "G_X";
	*ret_off = r.off;
	if ((rc = cose_read_bstr(&r, &p, &n)) < 0)
		return rc;
	*ret_field = "C_I";
	*ret_off = r.off;
	if ((rc = cose_peek_type(&r, &major)) < 0)
		return rc;
	rc = major == COSE_CBOR_BSTR ? cose_read_bstr(&r, &p, &n) : cose_read_int(&r, &v);
	if (rc < 0)
		return rc;
	*ret_field = "EAD_1";
	*ret_off = r.off;
	return walk_ead(&r, ret_off);
}

const char *diag_message_1_detail(int rc, const uint8_t *msg, size_t len, char *out, size_t cap)
{
	char bytes[64];
	const char *field;
	size_t off;

	if (edhoc_result_category(rc) != 'A' || !out || cap == 0 || (!msg && len))
		return NULL;
	describe_bytes(msg, len, bytes, sizeof(bytes));
	int wrc = walk_message_1(msg, len, &field, &off);
	if (wrc < 0)
		snprintf(out, cap, "message_1 (%s): %s at offset %zu: %s", bytes, field, off,
		         edhoc_result_describe(wrc));
	else
		snprintf(out, cap, "message_1 (%s): %s", bytes, edhoc_result_describe(rc));
	return out;
}

static const char *sig_alg_name(int alg)
{
	switch (alg) {
	case -7:
		return "ES256";
	case -35:
		return "ES384";
	case -8:
		return "EdDSA";
	default:
		return "signature";
	}
}

/* "the credential of 'dev1' (ID_CRED_I {4: h'01'}, trust file dev1.ccs)" */
static void claimed_credential(const edhoc_handshake *h, const char *source, char *out, size_t cap)
{
	const uint8_t *map;
	size_t map_len;
	char idc[ID_CRED_SHOWN] = "-";
	const char *identity = edhoc_handshake_peer_identity(h);

	if (edhoc_handshake_peer_id_cred(h, &map, &map_len) == 0)
		cose_diag(map, map_len, idc, sizeof(idc));
	snprintf(out, cap, "the credential of '%s' (ID_CRED_I %s%s%s)",
	         identity && *identity ? identity : "?", idc, source && *source ? ", " : "",
	         source && *source ? source : "");
}

const char *diag_message_3_detail(int rc, const edhoc_handshake *h, const uint8_t *msg, size_t len,
                                  const char *source, char *out, size_t cap)
{
	char cred[200];
	const crypto_suite *s;
	cose_reader r;
	const uint8_t *ct;
	size_t ct_len;

	if (!out || cap == 0 || !h || (!msg && len))
		return NULL;
	s = crypto_suite_get(edhoc_handshake_suite(h));
	switch (rc) {
	case EDHOC_E_MAC3_MISMATCH:
		claimed_credential(h, source, cred, sizeof(cred));
		snprintf(out, cap,
		         "MAC_3 does not verify against %s with static DH on %s (method %d): the "
		         "device's key or credential is not the stored one",
		         cred, s ? cose_curve_name(s->dh_curve) : "?", edhoc_handshake_method(h));
		return out;
	case EDHOC_E_SIG3_INVALID:
		claimed_credential(h, source, cred, sizeof(cred));
		snprintf(out, cap,
		         "%s signature in Signature_or_MAC_3 does not verify with the key of %s "
		         "(method %d): the device signed with a key other than the stored one",
		         s ? sig_alg_name(s->sig_alg) : "the", cred, edhoc_handshake_method(h));
		return out;
	case EDHOC_E_MSG3_DECRYPT:
		snprintf(
		    out, cap,
		    "CIPHERTEXT_3 of message_3 (%zu bytes) does not decrypt: not made from the "
		    "message_2 of this handshake, or altered on the way",
		    len);
		return out;
	case EDHOC_E_SIG_OR_MAC_LENGTH:
		snprintf(out, cap,
		         "Signature_or_MAC_3 in PLAINTEXT_3 has the wrong length for method %d, "
		         "suite %d",
		         edhoc_handshake_method(h), edhoc_handshake_suite(h));
		return out;
	default:
		break;
	}
	if (edhoc_result_category(rc) != 'A' && rc != EDHOC_E_EAD_MALFORMED &&
	    rc != EDHOC_E_EAD_TOO_MANY)
		return NULL;
	/* message_3 = CIPHERTEXT_3 (bstr): the outer layer is plain, what is
	 * inside it was decrypted and is only described. */
	cose_reader_init(&r, msg, len);
	int orc = cose_read_bstr(&r, &ct, &ct_len);
	if (orc < 0)
		snprintf(out, cap, "message_3 (%zu bytes): CIPHERTEXT_3 at offset 0: %s", len,
		         edhoc_result_describe(orc));
	else if (!cose_reader_done(&r))
		snprintf(out, cap, "message_3 (%zu bytes): %zu bytes follow CIPHERTEXT_3", len,
		         cose_reader_remaining(&r));
	else
		snprintf(out, cap, "message_3 (%zu bytes): in PLAINTEXT_3 (decrypted): %s", len,
		         edhoc_result_describe(rc));
	return out;
}
