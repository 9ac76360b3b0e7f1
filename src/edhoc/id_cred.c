/* ID_CRED_x (RFC 9528 §3.5.3): received maps and compact kids, the own
 * ID_CRED in its wire form, and checks on the credentials behind them. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"
#include "internal.h"

#define MAX_ID_CRED_PAIRS 8

/* Bytes of the hash an x5t names, 0 for algorithms we do not accept. */
static size_t x5t_hash_len(int64_t alg)
{
	switch (alg) {
	case COSE_ALG_SHA_256_64:
		return 8;
	case COSE_ALG_SHA_256:
		return 32;
	case COSE_ALG_SHA_384:
		return 48;
	default:
		return 0;
	}
}

/* x5chain / x5bag: one bstr, or an array of two or more (RFC 9360 §2). */
static int read_certs(cose_reader *r, edhoc_id_cred *id)
{
	int major, rc;
	size_t n;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_BSTR) {
		rc = cose_read_bstr(r, &id->certs[0], &id->cert_lens[0]);
		if (rc < 0)
			return rc;
		id->n_certs = 1;
		return 0;
	}
	if (major != COSE_CBOR_ARRAY)
		return EDHOC_E_ID_CRED_MALFORMED;
	rc = cose_read_array(r, &n);
	if (rc < 0)
		return rc;
	if (n < 2)
		return EDHOC_E_ID_CRED_MALFORMED;
	if (n > EDHOC_MAX_CHAIN)
		return EDHOC_E_LIMIT;
	for (size_t i = 0; i < n; i++) {
		rc = cose_read_bstr(r, &id->certs[i], &id->cert_lens[i]);
		if (rc < 0)
			return rc == EDHOC_E_CBOR_TYPE ? EDHOC_E_ID_CRED_MALFORMED : rc;
	}
	id->n_certs = n;
	return 0;
}

static int read_x5t(cose_reader *r, edhoc_id_cred *id)
{
	int64_t alg;
	size_t n;
	int rc;

	rc = cose_read_array(r, &n);
	if (rc < 0)
		return rc == EDHOC_E_CBOR_TYPE ? EDHOC_E_ID_CRED_MALFORMED : rc;
	if (n != 2)
		return EDHOC_E_ID_CRED_MALFORMED;
	rc = cose_read_int(r, &alg);
	if (rc < 0)
		return rc == EDHOC_E_CBOR_TYPE ? EDHOC_E_ID_CRED_MALFORMED : rc;
	rc = cose_read_bstr(r, &id->x5t_hash, &id->x5t_hash_len);
	if (rc < 0)
		return rc == EDHOC_E_CBOR_TYPE ? EDHOC_E_ID_CRED_MALFORMED : rc;
	if (x5t_hash_len(alg) == 0)
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	if (x5t_hash_len(alg) != id->x5t_hash_len)
		return EDHOC_E_ID_CRED_MALFORMED;
	id->x5t_alg = (int)alg;
	return 0;
}

/* One value of a supported label. */
static int read_value(cose_reader *r, int64_t label, edhoc_id_cred *id)
{
	const uint8_t *p;
	size_t len;
	int rc;

	switch (label) {
	case EDHOC_ID_CRED_KID:
		rc = cose_read_bstr(r, &id->kid, &id->kid_len);
		return rc == EDHOC_E_CBOR_TYPE ? EDHOC_E_ID_CRED_MALFORMED : rc;
	case EDHOC_ID_CRED_KCCS:
		rc = cose_read_item(r, EDHOC_MAX_DEPTH, &p, &len);
		if (rc < 0)
			return rc;
		if (len == 0 || (p[0] >> 5) != COSE_CBOR_MAP)
			return EDHOC_E_ID_CRED_MALFORMED;
		id->ccs = p;
		id->ccs_len = len;
		return 0;
	case EDHOC_ID_CRED_X5BAG:
	case EDHOC_ID_CRED_X5CHAIN:
		return read_certs(r, id);
	case EDHOC_ID_CRED_X5T:
		return read_x5t(r, id);
	default:
		return EDHOC_E_INTERNAL;
	}
}

static bool supported_label(int64_t l)
{
	return l == EDHOC_ID_CRED_KID || l == EDHOC_ID_CRED_KCCS || l == EDHOC_ID_CRED_X5BAG ||
	       l == EDHOC_ID_CRED_X5CHAIN || l == EDHOC_ID_CRED_X5T;
}

/* Deterministic CBOR: map keys in bytewise lexicographic order of their
 * encodings, no duplicates. */
static bool key_after(const uint8_t *prev, size_t prev_len, const uint8_t *key, size_t key_len)
{
	size_t n = prev_len < key_len ? prev_len : key_len;
	int c = memcmp(prev, key, n);

	return c < 0 || (c == 0 && prev_len < key_len);
}

static int read_map(cose_reader *r, edhoc_id_cred *id)
{
	const uint8_t *prev = NULL, *key;
	size_t pairs, prev_len = 0, key_len, found = 0, start = r->off;
	int64_t label;
	int major, rc;

	rc = cose_read_map(r, &pairs);
	if (rc < 0)
		return rc;
	if (pairs == 0)
		return EDHOC_E_ID_CRED_MALFORMED;
	if (pairs > MAX_ID_CRED_PAIRS)
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	for (size_t i = 0; i < pairs; i++) {
		key = r->buf + r->off;
		rc = cose_peek_type(r, &major);
		if (rc < 0)
			return rc;
		if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT) {
			/* A text label is legal COSE, but nothing we can use. */
			const uint8_t *item;
			size_t item_len;

			rc = cose_read_item(r, EDHOC_MAX_DEPTH, &item, &item_len);
			if (rc < 0)
				return rc;
			label = INT64_MIN;
		} else {
			rc = cose_read_int(r, &label);
			if (rc < 0)
				return rc;
		}
		key_len = (size_t)(r->buf + r->off - key);
		if (prev && !key_after(prev, prev_len, key, key_len))
			return EDHOC_E_ID_CRED_MALFORMED;
		prev = key;
		prev_len = key_len;
		if (supported_label(label)) {
			if (found++)
				return EDHOC_E_ID_CRED_MALFORMED;
			id->label = (int)label;
			rc = read_value(r, label, id);
		} else {
			const uint8_t *item;
			size_t item_len;

			rc = cose_read_item(r, EDHOC_MAX_DEPTH, &item, &item_len);
		}
		if (rc < 0)
			return rc;
	}
	if (!found)
		return EDHOC_E_ID_CRED_UNSUPPORTED;
	/* {4: kid} alone must have been sent in the compact form (§3.5.3.2). */
	if (pairs == 1 && id->label == EDHOC_ID_CRED_KID)
		return EDHOC_E_ID_CRED_MALFORMED;
	id->map = r->buf + start;
	id->map_len = r->off - start;
	return 0;
}

int edhoc_id_cred_read(cose_reader *r, edhoc_id_cred *ret, uint8_t *mapbuf, size_t mapcap)
{
	size_t start = r->off;
	edhoc_id_cred id;
	int major, rc;

	memset(&id, 0, sizeof(id));
	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_MAP) {
		rc = read_map(r, &id);
	} else {
		uint8_t kid[EDHOC_MAX_CID];
		size_t kid_len;
		cose_writer w;

		rc = edhoc_read_compact_bytes(r, kid, sizeof(kid), &kid_len,
		                              EDHOC_E_ID_CRED_MALFORMED);
		if (rc == 0) {
			cose_writer_init(&w, mapbuf, mapcap);
			cose_write_map(&w, 1);
			cose_write_uint(&w, EDHOC_ID_CRED_KID);
			cose_write_bstr(&w, kid, kid_len);
			rc = cose_writer_result(&w);
			id.label = EDHOC_ID_CRED_KID;
			id.map = mapbuf;
			id.map_len = w.len;
			/* kid bytes inside the map we built: after a1 04 and the head */
			id.kid = mapbuf + w.len - kid_len;
			id.kid_len = kid_len;
		}
	}
	if (rc < 0) {
		r->off = start;
		return rc;
	}
	*ret = id;
	return 0;
}

int edhoc_id_cred_write(cose_writer *w, const uint8_t *map, size_t map_len)
{
	cose_reader r;
	const uint8_t *kid;
	size_t pairs, kid_len;
	uint64_t label;

	cose_reader_init(&r, map, map_len);
	if (cose_read_map(&r, &pairs) == 0 && pairs == 1 && cose_read_uint(&r, &label) == 0 &&
	    label == EDHOC_ID_CRED_KID && cose_read_bstr(&r, &kid, &kid_len) == 0 &&
	    cose_reader_done(&r)) {
		edhoc_write_compact_bytes(w, kid, kid_len);
		return 0;
	}
	cose_write_raw(w, map, map_len);
	return 0;
}

/* Key curve the method wants from a party: signature or static DH. */
static int wanted_curve(const edhoc_handshake *h, bool signs)
{
	return signs ? h->suite->sig_curve : h->suite->dh_curve;
}

int edhoc_own_cred_check(const edhoc_handshake *h, bool own_signs)
{
	const edhoc_cred *own = h->cfg->own;

	if (!own || !own->cred || !own->id_cred || !own->key || own->id_cred_len == 0)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!crypto_key_has_private(own->key))
		return EDHOC_E_KEY_INVALID;
	if (crypto_key_curve(own->key) != wanted_curve(h, own_signs))
		return EDHOC_E_CRED_KEY_TYPE;
	return 0;
}

/* SHA-256 x5t map {34: [-16, hash]} of a credential bstr(DER). */
static int synth_x5t(edhoc_handshake *h, const edhoc_cred *cred)
{
	uint8_t hash[32];
	cose_reader r;
	cose_writer w;
	const uint8_t *der;
	size_t der_len;
	int rc;

	cose_reader_init(&r, cred->cred, cred->cred_len);
	if (cose_read_bstr(&r, &der, &der_len) < 0 || !cose_reader_done(&r))
		return EDHOC_E_CRED_MALFORMED;
	rc = crypto_hash(COSE_ALG_SHA_256, der, der_len, hash);
	if (rc < 0)
		return rc;
	cose_writer_init(&w, h->peer_id_cred, sizeof(h->peer_id_cred));
	cose_write_map(&w, 1);
	cose_write_uint(&w, EDHOC_ID_CRED_X5T);
	cose_write_array(&w, 2);
	cose_write_int(&w, COSE_ALG_SHA_256);
	cose_write_bstr(&w, hash, sizeof(hash));
	rc = cose_writer_result(&w);
	if (rc < 0)
		return rc;
	h->peer_id_cred_len = w.len;
	return 0;
}

int edhoc_peer_cred_accept(edhoc_handshake *h, const edhoc_id_cred *id, const edhoc_cred *cred,
                           bool peer_signs)
{
	size_t n = 0;

	if (!cred->cred || cred->cred_len == 0 || !cred->key)
		return EDHOC_E_CRED_MALFORMED;
	if (crypto_key_curve(cred->key) != wanted_curve(h, peer_signs))
		return EDHOC_E_CRED_KEY_TYPE;
	if (id->map_len <= sizeof(h->peer_id_cred)) {
		memcpy(h->peer_id_cred, id->map, id->map_len);
		h->peer_id_cred_len = id->map_len;
	} else if (cred->type == EDHOC_CRED_X509) {
		int rc = synth_x5t(h, cred);

		if (rc < 0)
			return rc;
	} else {
		h->peer_id_cred_len = 0; /* too large to keep; the identity remains */
	}
	if (cred->identity) {
		n = strlen(cred->identity);
		if (n >= sizeof(h->peer_identity))
			n = sizeof(h->peer_identity) - 1;
		memcpy(h->peer_identity, cred->identity, n);
	}
	h->peer_identity[n] = '\0';
	return 0;
}
