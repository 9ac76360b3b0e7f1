/* External Authorization Data (RFC 9528 §3.8): items (ead_label, ?ead_value)
 * at the end of messages and plaintexts. */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/edhoc.h"
#include "internal.h"

static size_t max_items(const edhoc_handshake *h)
{
	size_t n = h->cfg->max_ead_items;

	if (n == 0 || n > EDHOC_MAX_EAD_ITEMS)
		n = EDHOC_MAX_EAD_ITEMS;
	return n;
}

/* Reads one item at r: label (int) and an optional bstr value. */
static int read_item(cose_reader *r, edhoc_ead_item *ret)
{
	int major, rc;

	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
		return EDHOC_E_EAD_MALFORMED;
	rc = cose_read_int(r, &ret->label);
	if (rc < 0)
		return rc == EDHOC_E_VALUE_RANGE ? EDHOC_E_EAD_MALFORMED : rc;
	ret->value = NULL;
	ret->value_len = 0;
	if (cose_reader_done(r))
		return 0;
	rc = cose_peek_type(r, &major);
	if (rc < 0)
		return rc;
	if (major == COSE_CBOR_BSTR)
		return cose_read_bstr(r, &ret->value, &ret->value_len);
	/* The next item must start another EAD item. */
	if (major != COSE_CBOR_UINT && major != COSE_CBOR_NEGINT)
		return EDHOC_E_EAD_MALFORMED;
	return 0;
}

int edhoc_ead_parse(const edhoc_handshake *h, cose_reader *r, const uint8_t **ret_ead,
                    size_t *ret_len)
{
	size_t start = r->off, n = 0, limit = max_items(h);
	edhoc_ead_item item;
	int rc;

	while (!cose_reader_done(r)) {
		if (n == limit) {
			r->off = start;
			return EDHOC_E_EAD_TOO_MANY;
		}
		rc = read_item(r, &item);
		if (rc < 0) {
			r->off = start;
			return rc;
		}
		n++;
	}
	*ret_ead = r->buf + start;
	*ret_len = r->off - start;
	return 0;
}

int edhoc_ead_process(const edhoc_handshake *h, int message_no, const uint8_t *ead, size_t len)
{
	const edhoc_config *cfg = h->cfg;
	edhoc_ead_item item;
	cose_reader r;
	int rc;

	cose_reader_init(&r, ead, len);
	while (!cose_reader_done(&r)) {
		rc = read_item(&r, &item);
		if (rc < 0)
			return rc; /* already checked by edhoc_ead_parse */
		if (item.label == 0)
			continue; /* padding */
		rc = cfg->ead ? cfg->ead(cfg->ead_ctx, message_no, &item) : 1;
		if (rc < 0)
			return rc;
		if (rc == 1 && item.label < 0)
			return EDHOC_E_EAD_CRITICAL;
	}
	return 0;
}

void edhoc_ead_out(const edhoc_handshake *h, int message_no, const uint8_t **ret, size_t *ret_len)
{
	int slot = message_no <= 2 ? 0 : 1;

	*ret = h->ead_out[slot];
	*ret_len = h->ead_out_len[slot];
}

int edhoc_handshake_set_ead(edhoc_handshake *h, int message_no, const edhoc_ead_item *items,
                            size_t n)
{
	uint8_t buf[EDHOC_MAX_EAD_BYTES];
	cose_writer w;
	int slot, rc;

	if (!h || (n > 0 && !items) || message_no < 1 || message_no > 4)
		return EDHOC_E_INVALID_ARGUMENT;
	/* Each party sends only its own messages: 1 and 3, or 2 and 4. */
	if ((message_no % 2 == 1) != (h->cfg->role == EDHOC_INITIATOR))
		return EDHOC_E_INVALID_ARGUMENT;
	cose_writer_init(&w, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++) {
		cose_write_int(&w, items[i].label);
		if (items[i].value)
			cose_write_bstr(&w, items[i].value, items[i].value_len);
	}
	rc = cose_writer_result(&w);
	if (rc < 0)
		return rc;
	slot = message_no <= 2 ? 0 : 1;
	memcpy(h->ead_out[slot], buf, w.len);
	h->ead_out_len[slot] = w.len;
	return 0;
}
