/* CoAP message representation and its serialisation (RFC 7252 §3, §3.1).
 *
 * Everything here reads untrusted bytes: every length is checked against
 * what is left before it is used, and options are counted against
 * OSCORE_MAX_OPTIONS so a peer cannot make us walk an unbounded list. */
#include "edhoc/oscore.h"

#include <string.h>

/* Largest option value CoAP can express: 13 + 256 + 65535 (§3.1). */
#define OPT_LEN_MAX (269u + 65535u)

int oscore_option_class(uint16_t number)
{
	switch (number) {
	case OSCORE_OPT_URI_HOST:
	case OSCORE_OPT_URI_PORT:
	case OSCORE_OPT_OSCORE:
	case OSCORE_OPT_HOP_LIMIT:
	case OSCORE_OPT_PROXY_URI:
	case OSCORE_OPT_PROXY_SCHEME:
		return OSCORE_CLASS_U;
	case OSCORE_OPT_OBSERVE:
	case OSCORE_OPT_MAX_AGE:
	case OSCORE_OPT_BLOCK2:
	case OSCORE_OPT_BLOCK1:
	case OSCORE_OPT_SIZE2:
	case OSCORE_OPT_SIZE1:
	case OSCORE_OPT_NO_RESPONSE:
		return OSCORE_CLASS_EU;
	default:
		/* §4.1: unknown options, Echo and Request-Tag are Class E. */
		return OSCORE_CLASS_E;
	}
}

void oscore_msg_init(oscore_msg *m, uint8_t code)
{
	m->code = code;
	m->n_opts = 0;
	m->payload = NULL;
	m->payload_len = 0;
}

int oscore_msg_add(oscore_msg *m, uint16_t number, const uint8_t *value, size_t len)
{
	if (len > OPT_LEN_MAX || (len > 0 && !value))
		return EDHOC_E_INVALID_ARGUMENT;
	if (m->n_opts >= OSCORE_MAX_OPTIONS)
		return EDHOC_E_LIMIT;
	/* Options mostly arrive in order, so search from the end. */
	size_t i = m->n_opts;
	while (i > 0 && m->opts[i - 1].number > number)
		i--;
	memmove(&m->opts[i + 1], &m->opts[i], (m->n_opts - i) * sizeof(m->opts[0]));
	m->opts[i].number = number;
	m->opts[i].len = len;
	m->opts[i].value = value;
	m->n_opts++;
	return 0;
}

size_t oscore_msg_remove(oscore_msg *m, uint16_t number)
{
	size_t out = 0, removed = 0;
	for (size_t i = 0; i < m->n_opts; i++) {
		if (m->opts[i].number == number) {
			removed++;
			continue;
		}
		m->opts[out++] = m->opts[i];
	}
	m->n_opts = out;
	return removed;
}

const oscore_option *oscore_msg_find(const oscore_msg *m, uint16_t number)
{
	for (size_t i = 0; i < m->n_opts; i++) {
		if (m->opts[i].number == number)
			return &m->opts[i];
		if (m->opts[i].number > number)
			break;
	}
	return NULL;
}

void oscore_msg_set_payload(oscore_msg *m, const uint8_t *p, size_t len)
{
	m->payload = len ? p : NULL;
	m->payload_len = len;
}

size_t oscore_uint_encode(uint32_t v, uint8_t out[4])
{
	size_t n = 0;
	for (uint32_t t = v; t; t >>= 8)
		n++;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

int oscore_uint_decode(const uint8_t *v, size_t len, uint32_t *ret)
{
	if (len > 4)
		return EDHOC_E_VALUE_RANGE;
	uint32_t x = 0;
	for (size_t i = 0; i < len; i++)
		x = (x << 8) | v[i];
	*ret = x;
	return 0;
}

/* Nibble and extension bytes for a delta or length (§3.1). */
static size_t nibble_ext(size_t v, uint8_t *nib, uint8_t ext[2])
{
	if (v < 13) {
		*nib = (uint8_t)v;
		return 0;
	}
	if (v < 269) {
		*nib = 13;
		ext[0] = (uint8_t)(v - 13);
		return 1;
	}
	*nib = 14;
	ext[0] = (uint8_t)((v - 269) >> 8);
	ext[1] = (uint8_t)(v - 269);
	return 2;
}

int oscore_msg_encode_body(const oscore_msg *m, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t off = 0;
	unsigned prev = 0;

	for (size_t i = 0; i < m->n_opts; i++) {
		const oscore_option *o = &m->opts[i];
		if (o->number < prev || o->len > OPT_LEN_MAX)
			return EDHOC_E_INVALID_ARGUMENT; /* not built with oscore_msg_add */
		uint8_t dn, ln, dext[2], lext[2];
		size_t dl = nibble_ext(o->number - prev, &dn, dext);
		size_t ll = nibble_ext(o->len, &ln, lext);
		size_t need = 1 + dl + ll + o->len;
		if (need > cap - off)
			return EDHOC_E_BUFFER_TOO_SMALL;
		out[off++] = (uint8_t)(dn << 4 | ln);
		memcpy(out + off, dext, dl);
		off += dl;
		memcpy(out + off, lext, ll);
		off += ll;
		if (o->len)
			memcpy(out + off, o->value, o->len);
		off += o->len;
		prev = o->number;
	}
	if (m->payload_len) {
		if (m->payload_len + 1 > cap - off)
			return EDHOC_E_BUFFER_TOO_SMALL;
		out[off++] = 0xff;
		memcpy(out + off, m->payload, m->payload_len);
		off += m->payload_len;
	}
	*ret_len = off;
	return 0;
}

/* Reads an extended delta/length for nibble nib at buf[*off]. */
static int read_ext(uint8_t nib, const uint8_t *buf, size_t len, size_t *off, size_t *ret)
{
	switch (nib) {
	case 13:
		if (len - *off < 1)
			return OSCORE_E_MESSAGE_MALFORMED;
		*ret = 13u + buf[*off];
		*off += 1;
		return 0;
	case 14:
		if (len - *off < 2)
			return OSCORE_E_MESSAGE_MALFORMED;
		*ret = 269u + ((size_t)buf[*off] << 8 | buf[*off + 1]);
		*off += 2;
		return 0;
	case 15:
		return OSCORE_E_MESSAGE_MALFORMED; /* reserved outside the marker */
	default:
		*ret = nib;
		return 0;
	}
}

int oscore_msg_decode_body(uint8_t code, const uint8_t *buf, size_t len, oscore_msg *ret)
{
	/* Decode into a local copy so ret is untouched on failure. */
	oscore_msg m;
	size_t off = 0;
	size_t number = 0;

	oscore_msg_init(&m, code);
	while (off < len) {
		uint8_t b = buf[off++];
		if (b == 0xff) {
			if (off == len)
				return OSCORE_E_MESSAGE_MALFORMED; /* §3: marker + empty payload */
			m.payload = buf + off;
			m.payload_len = len - off;
			off = len;
			break;
		}
		size_t delta, olen;
		int r = read_ext(b >> 4, buf, len, &off, &delta);
		if (r == 0)
			r = read_ext(b & 0x0f, buf, len, &off, &olen);
		if (r < 0)
			return r;
		number += delta;
		if (number > UINT16_MAX)
			return OSCORE_E_MESSAGE_MALFORMED;
		if (olen > len - off)
			return OSCORE_E_MESSAGE_MALFORMED;
		if (m.n_opts >= OSCORE_MAX_OPTIONS)
			return EDHOC_E_LIMIT;
		m.opts[m.n_opts].number = (uint16_t)number;
		m.opts[m.n_opts].len = olen;
		m.opts[m.n_opts].value = olen ? buf + off : NULL;
		m.n_opts++;
		off += olen;
	}
	*ret = m;
	return 0;
}

int oscore_coap_encode(const oscore_coap_hdr *h, const oscore_msg *m, uint8_t *out, size_t cap,
                       size_t *ret_len)
{
	if (h->token_len > 8 || h->type > 3)
		return EDHOC_E_INVALID_ARGUMENT;
	if (cap < 4 + h->token_len)
		return EDHOC_E_BUFFER_TOO_SMALL;
	out[0] = (uint8_t)(0x40 | h->type << 4 | h->token_len);
	out[1] = m->code;
	out[2] = (uint8_t)(h->mid >> 8);
	out[3] = (uint8_t)h->mid;
	memcpy(out + 4, h->token, h->token_len);
	size_t body;
	int r = oscore_msg_encode_body(m, out + 4 + h->token_len, cap - 4 - h->token_len, &body);
	if (r < 0)
		return r;
	*ret_len = 4 + h->token_len + body;
	return 0;
}

int oscore_coap_decode(const uint8_t *buf, size_t len, oscore_coap_hdr *ret_hdr,
                       oscore_msg *ret_msg)
{
	if (len < 4 || (buf[0] >> 6) != 1 || (buf[0] & 0x0f) > 8)
		return OSCORE_E_MESSAGE_MALFORMED;
	oscore_coap_hdr h;
	memset(&h, 0, sizeof(h));
	h.type = (buf[0] >> 4) & 3;
	h.token_len = buf[0] & 0x0f;
	h.mid = (uint16_t)(buf[2] << 8 | buf[3]);
	if (len - 4 < h.token_len)
		return OSCORE_E_MESSAGE_MALFORMED;
	memcpy(h.token, buf + 4, h.token_len);
	int r =
	    oscore_msg_decode_body(buf[1], buf + 4 + h.token_len, len - 4 - h.token_len, ret_msg);
	if (r < 0)
		return r;
	*ret_hdr = h;
	return 0;
}
