/* Protecting and verifying CoAP messages (RFC 8613 §4-§8), Echo
 * re-initialisation (App. B.1.2) and the mapping of failures to CoAP codes.
 *
 * Buffers: protect writes, in buf, the OSCORE option value, then any
 * decomposed Proxy-Uri parts, then the ciphertext; unprotect decrypts the
 * payload into buf and parses the plaintext in place.  The messages handed
 * back borrow from buf and from the caller's input message. */
#include "oscore/internal.h"

#include <string.h>

#define AAD_MAX 64

/* ---- the OSCORE option (§6.1) ---- */

int oscore_option_decode(const uint8_t *v, size_t len, oscore_header *ret)
{
	oscore_header h;
	size_t off = 1;

	memset(&h, 0, sizeof(h));
	if (len == 0) {
		*ret = h; /* empty value: no flags at all */
		return 0;
	}
	uint8_t flags = v[0];
	/* §6.1: bits 5-7 reserved; n = 6 and 7 reserved; an all-zero flag
	 * byte must be sent as an empty value. */
	if ((flags & 0xe0) || (flags & 0x07) > 5 || flags == 0)
		return OSCORE_E_OPTION_MALFORMED;
	size_t n = flags & 0x07;
	if (n > len - off)
		return OSCORE_E_OPTION_MALFORMED;
	memcpy(h.piv, v + off, n);
	h.piv_len = n;
	off += n;
	if (flags & 0x10) {
		if (off >= len)
			return OSCORE_E_OPTION_MALFORMED;
		size_t s = v[off++];
		if (s > len - off)
			return OSCORE_E_OPTION_MALFORMED;
		h.has_kid_context = true;
		h.kid_context = v + off;
		h.kid_context_len = s;
		off += s;
	}
	if (flags & 0x08) {
		h.has_kid = true;
		h.kid = v + off;
		h.kid_len = len - off;
		off = len;
	}
	if (off != len)
		return OSCORE_E_OPTION_MALFORMED;
	*ret = h;
	return 0;
}

int oscore_option_encode(const oscore_header *h, uint8_t *out, size_t cap, size_t *ret_len)
{
	if (h->piv_len > OSCORE_PIV_LEN || (h->has_kid_context && h->kid_context_len > 255))
		return EDHOC_E_INVALID_ARGUMENT;
	uint8_t flags = (uint8_t)h->piv_len;
	if (h->has_kid_context)
		flags |= 0x10;
	if (h->has_kid)
		flags |= 0x08;
	if (flags == 0) {
		*ret_len = 0;
		return 0;
	}
	size_t need = 1 + h->piv_len + (h->has_kid_context ? 1 + h->kid_context_len : 0) +
	              (h->has_kid ? h->kid_len : 0);
	if (need > cap)
		return EDHOC_E_BUFFER_TOO_SMALL;
	size_t off = 0;
	out[off++] = flags;
	memcpy(out + off, h->piv, h->piv_len);
	off += h->piv_len;
	if (h->has_kid_context) {
		out[off++] = (uint8_t)h->kid_context_len;
		if (h->kid_context_len)
			memcpy(out + off, h->kid_context, h->kid_context_len);
		off += h->kid_context_len;
	}
	if (h->has_kid && h->kid_len) {
		memcpy(out + off, h->kid, h->kid_len);
		off += h->kid_len;
	}
	*ret_len = off;
	return 0;
}

/* The single OSCORE option of m, or NULL when absent or repeated. */
static const oscore_option *the_oscore_option(const oscore_msg *m, bool *ret_repeated)
{
	const oscore_option *o = oscore_msg_find(m, OSCORE_OPT_OSCORE);
	*ret_repeated =
	    o && (size_t)(o - m->opts) + 1 < m->n_opts && o[1].number == OSCORE_OPT_OSCORE;
	return o;
}

int oscore_request_header(const oscore_msg *outer, oscore_header *ret)
{
	bool repeated;
	const oscore_option *o = the_oscore_option(outer, &repeated);
	oscore_header h;

	if (!o || repeated)
		return OSCORE_E_OPTION_MALFORMED;
	int r = oscore_option_decode(o->value, o->len, &h);
	if (r < 0)
		return r;
	/* §5: requests carry a Partial IV and a kid. */
	if (h.piv_len == 0 || !h.has_kid)
		return OSCORE_E_PIV_MISSING;
	*ret = h;
	return 0;
}

/* ---- nonce, AAD, sequence numbers ---- */

static uint64_t piv_value(const uint8_t *piv, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = v << 8 | piv[i];
	return v;
}

/* Shortest big-endian bytes of seq (0 is one zero byte, §6.1). */
static size_t piv_bytes(uint64_t seq, uint8_t out[OSCORE_PIV_LEN])
{
	size_t n = 1;
	while (n < OSCORE_PIV_LEN && (seq >> (8 * n)))
		n++;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(seq >> (8 * (n - 1 - i)));
	return n;
}

/* §5.2: size of ID_PIV, ID_PIV left-padded to nonce length - 6, PIV
 * left-padded to 5 bytes, XOR Common IV. */
static void make_nonce(const oscore_ctx *c, const uint8_t *id, size_t id_len, const uint8_t *piv,
                       size_t piv_len, uint8_t *nonce)
{
	size_t n = c->nonce_len;
	memset(nonce, 0, n);
	nonce[0] = (uint8_t)id_len;
	if (id_len)
		memcpy(nonce + 1 + (n - 6 - id_len), id, id_len);
	memcpy(nonce + n - piv_len, piv, piv_len);
	for (size_t i = 0; i < n; i++)
		nonce[i] ^= c->common_iv[i];
}

/* Writes a CBOR byte-string head for len < 256 (all we need here). */
static size_t bstr_head(uint8_t *out, size_t len)
{
	if (len < 24) {
		out[0] = (uint8_t)(0x40 | len);
		return 1;
	}
	out[0] = 0x58;
	out[1] = (uint8_t)len;
	return 2;
}

/* AAD = Enc_structure ["Encrypt0", h'', external_aad] with external_aad =
 * bstr .cbor [1, [alg_aead], request_kid, request_piv, h''] (§5.4; no
 * Class I options exist).  Encoded by hand: it is short and on every
 * message's path. */
static size_t make_aad(const oscore_ctx *c, const uint8_t *kid, size_t kid_len, const uint8_t *piv,
                       size_t piv_len, uint8_t out[AAD_MAX])
{
	uint8_t ext[32];
	size_t e = 0;
	ext[e++] = 0x85;
	ext[e++] = 0x01;
	ext[e++] = 0x81;
	if (c->aead_alg < 24) {
		ext[e++] = (uint8_t)c->aead_alg;
	} else {
		ext[e++] = 0x18;
		ext[e++] = (uint8_t)c->aead_alg;
	}
	e += bstr_head(ext + e, kid_len);
	if (kid_len)
		memcpy(ext + e, kid, kid_len);
	e += kid_len;
	e += bstr_head(ext + e, piv_len);
	memcpy(ext + e, piv, piv_len);
	e += piv_len;
	ext[e++] = 0x40;

	static const uint8_t prefix[] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};
	size_t off = sizeof(prefix);
	memcpy(out, prefix, off);
	off += bstr_head(out + off, e);
	memcpy(out + off, ext, e);
	return off + e;
}

/* ---- Proxy-Uri decomposition (§4.1.3.3, RFC 7252 §6.4) ---- */

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes src[0..len) into scratch; *ret_len = decoded bytes. */
static int pct_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *ret_len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = src[i];
		if (ch == '%') {
			if (len - i < 3 || hexval(src[i + 1]) < 0 || hexval(src[i + 2]) < 0)
				return EDHOC_E_INVALID_ARGUMENT;
			ch = (uint8_t)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
			i += 2;
		}
		if (o >= cap)
			return EDHOC_E_BUFFER_TOO_SMALL;
		dst[o++] = ch;
	}
	*ret_len = o;
	return 0;
}

/* One Uri-Path or Uri-Query segment: percent-decoded into scratch from
 * *used on, then added to inner as option opt. */
static int add_segment(oscore_msg *inner, uint16_t opt, const uint8_t *seg, size_t seg_len,
                       uint8_t *scratch, size_t cap, size_t *used)
{
	size_t dl;
	int r = pct_decode(seg, seg_len, scratch + *used, cap - *used, &dl);
	if (r < 0)
		return r;
	r = oscore_msg_add(inner, opt, scratch + *used, dl);
	if (r < 0)
		return r;
	*used += dl;
	return 0;
}

/* Splits uri into outer (scheme://authority, kept as Proxy-Uri) and inner
 * Uri-Path/Uri-Query options added to inner; decoded segments go to
 * scratch.  *ret_used = scratch bytes used. */
static int decompose_proxy_uri(const oscore_option *pu, oscore_msg *inner, size_t *ret_outer_len,
                               uint8_t *scratch, size_t cap, size_t *ret_used)
{
	const uint8_t *u = pu->value;
	size_t len = pu->len, i = 0, used = 0;
	int r;

	while (i < len && u[i] != ':')
		i++;
	if (i == 0 || len - i < 3 || u[i + 1] != '/' || u[i + 2] != '/')
		return EDHOC_E_INVALID_ARGUMENT; /* an absolute URI with an authority */
	i += 3;
	while (i < len && u[i] != '/' && u[i] != '?' && u[i] != '#')
		i++;
	*ret_outer_len = i;
	for (size_t k = i; k < len; k++)
		if (u[k] == '#')
			return EDHOC_E_INVALID_ARGUMENT; /* §6.4 step 4: no fragments */

	size_t q = i;
	while (q < len && u[q] != '?')
		q++;
	/* A path of "" or "/" gives no Uri-Path option (§6.4 step 8). */
	if (q - i > 1) {
		size_t s = i + 1;
		for (;;) {
			size_t e = s;
			while (e < q && u[e] != '/')
				e++;
			r = add_segment(inner, OSCORE_OPT_URI_PATH, u + s, e - s, scratch, cap,
			                &used);
			if (r < 0)
				return r;
			if (e >= q)
				break;
			s = e + 1;
		}
	}
	if (q < len) {
		size_t s = q + 1;
		while (s <= len) {
			size_t e = s;
			while (e < len && u[e] != '&')
				e++;
			r = add_segment(inner, OSCORE_OPT_URI_QUERY, u + s, e - s, scratch, cap,
			                &used);
			if (r < 0)
				return r;
			s = e + 1;
		}
	}
	*ret_used = used;
	return 0;
}

/* ---- shared protect path ---- */

/* Splits msg into the plaintext message (Class E and EU options, and the
 * payload) and the outer options (Class U and the outer instances of EU
 * options that must travel outside).  Observe gets an outer copy; in
 * responses the inner copy is empty (§4.1.3.5.2). */
static int split_message(const oscore_msg *msg, bool is_request, oscore_msg *inner,
                         oscore_msg *outer)
{
	static const uint8_t nothing[1];
	int r = 0;

	oscore_msg_init(inner, 0);
	oscore_msg_init(outer, 0);
	oscore_msg_set_payload(inner, msg->payload, msg->payload_len);
	for (size_t i = 0; i < msg->n_opts && r == 0; i++) {
		const oscore_option *o = &msg->opts[i];
		int cls = oscore_option_class(o->number);
		if (o->number == OSCORE_OPT_OSCORE)
			return EDHOC_E_INVALID_ARGUMENT; /* §4.1.3.7: no nesting */
		if (o->number == OSCORE_OPT_OBSERVE) {
			r = oscore_msg_add(inner, o->number, is_request ? o->value : nothing,
			                   is_request ? o->len : 0);
			if (r == 0)
				r = oscore_msg_add(outer, o->number, o->value, o->len);
		} else if (cls == OSCORE_CLASS_U) {
			if (o->number != OSCORE_OPT_PROXY_URI)
				r = oscore_msg_add(outer, o->number, o->value, o->len);
		} else {
			r = oscore_msg_add(inner, o->number, o->value, o->len);
		}
	}
	return r;
}

/* Encrypts, in place, the plaintext pt[0..1 + body) (the code byte, set
 * here, and the encoded inner message), sets the result as outer's payload
 * and adds the OSCORE option (its value opt[0..opt_len)). */
static int seal(const oscore_ctx *c, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                uint8_t code, uint8_t *pt, size_t body, const uint8_t *opt, size_t opt_len,
                oscore_msg *outer)
{
	size_t pt_len = 1 + body;
	int r;

	pt[0] = code;
	r = crypto_aead_encrypt(c->aead_alg, c->sender_key, nonce, aad, aad_len, pt, pt_len, pt);
	if (r < 0)
		return r;
	oscore_msg_set_payload(outer, pt, pt_len + c->tag_len);
	return oscore_msg_add(outer, OSCORE_OPT_OSCORE, opt, opt_len);
}

int oscore_protect_request(oscore_ctx *c, const oscore_msg *request, uint8_t *buf, size_t cap,
                           oscore_msg *ret_outer, oscore_request_info *ret_info)
{
	oscore_msg inner, outer;
	oscore_header h;
	uint8_t nonce[CRYPTO_MAX_AEAD_NONCE], aad[AAD_MAX];
	size_t optlen, used = 0;
	uint64_t seq;
	int r;

	if (request->code == 0 || (request->code >> 5) != 0)
		return EDHOC_E_INVALID_ARGUMENT;
	r = split_message(request, true, &inner, &outer);
	if (r < 0)
		return r;

	/* The OSCORE option value goes first in buf; its size is known
	 * before the sequence number is (at most 5 PIV bytes). */
	size_t optmax = 1 + OSCORE_PIV_LEN + c->sender_id_len +
	                (c->send_kid_context ? 1 + c->id_context_len : 0);
	if (cap < optmax)
		return EDHOC_E_BUFFER_TOO_SMALL;
	const oscore_option *pu = oscore_msg_find(request, OSCORE_OPT_PROXY_URI);
	if (pu) {
		size_t outer_len;
		if (oscore_msg_find(request, OSCORE_OPT_URI_PATH) ||
		    oscore_msg_find(request, OSCORE_OPT_URI_QUERY))
			return EDHOC_E_INVALID_ARGUMENT; /* RFC 7252 §5.10.2 */
		r = decompose_proxy_uri(pu, &inner, &outer_len, buf + optmax, cap - optmax, &used);
		if (r < 0)
			return r;
		if (outer_len &&
		    (r = oscore_msg_add(&outer, OSCORE_OPT_PROXY_URI, pu->value, outer_len)) < 0)
			return r;
	}
	bool observe = oscore_msg_find(request, OSCORE_OPT_OBSERVE) != NULL;

	/* Everything that can fail for lack of room is checked before a
	 * sequence number is spent: body + code + tag must fit. */
	size_t body;
	uint8_t *ct = buf + optmax + used;
	size_t ct_cap = cap - optmax - used;
	if (ct_cap < (size_t)1 + c->tag_len)
		return EDHOC_E_BUFFER_TOO_SMALL;
	r = oscore_msg_encode_body(&inner, ct + 1, ct_cap - 1 - c->tag_len, &body);
	if (r < 0)
		return r;
	if (outer.n_opts >= OSCORE_MAX_OPTIONS)
		return EDHOC_E_LIMIT;

	r = oscore_ctx_take_seq(c, &seq);
	if (r < 0)
		return r;
	memset(&h, 0, sizeof(h));
	h.piv_len = piv_bytes(seq, h.piv);
	h.has_kid = true;
	h.kid = c->sender_id;
	h.kid_len = c->sender_id_len;
	if (c->send_kid_context) {
		h.has_kid_context = true;
		h.kid_context = c->id_context;
		h.kid_context_len = c->id_context_len;
	}
	r = oscore_option_encode(&h, buf, optmax, &optlen);
	if (r < 0)
		return r;
	make_nonce(c, c->sender_id, c->sender_id_len, h.piv, h.piv_len, nonce);
	size_t aad_len = make_aad(c, c->sender_id, c->sender_id_len, h.piv, h.piv_len, aad);
	r = seal(c, nonce, aad, aad_len, request->code, ct, body, buf, optlen, &outer);
	if (r < 0)
		return r;
	outer.code = observe ? OSCORE_CODE_FETCH : OSCORE_CODE_POST;

	*ret_outer = outer;
	if (ret_info) {
		memset(ret_info, 0, sizeof(*ret_info));
		memcpy(ret_info->kid, c->sender_id, c->sender_id_len);
		ret_info->kid_len = c->sender_id_len;
		memcpy(ret_info->piv, h.piv, h.piv_len);
		ret_info->piv_len = h.piv_len;
		ret_info->observe = observe;
	}
	return 0;
}

/* Adds the outer Class U options of outer (except OSCORE itself) to the
 * decrypted message.  Outer instances of E and EU options are dropped: the
 * inner ones are authoritative (§8.2 step 7, §4.1.3.5.2). */
static int merge_outer(const oscore_msg *outer, oscore_msg *inner)
{
	for (size_t i = 0; i < outer->n_opts; i++) {
		const oscore_option *o = &outer->opts[i];
		if (o->number == OSCORE_OPT_OSCORE ||
		    oscore_option_class(o->number) != OSCORE_CLASS_U)
			continue;
		if (oscore_msg_add(inner, o->number, o->value, o->len) < 0)
			return OSCORE_E_MESSAGE_MALFORMED;
	}
	return 0;
}

/* Decrypts outer's payload into buf and parses it into *ret. */
static int open_payload(const oscore_ctx *c, const uint8_t *key, const uint8_t *nonce,
                        const uint8_t *aad, size_t aad_len, const oscore_msg *outer, uint8_t *buf,
                        size_t cap, oscore_msg *ret)
{
	if (outer->payload_len == 0)
		return OSCORE_E_MESSAGE_MALFORMED; /* §2: OSCORE option without payload */
	/* The plaintext holds at least the code byte. */
	if (outer->payload_len <= c->tag_len)
		return OSCORE_E_DECRYPT;
	size_t pt_len = outer->payload_len - c->tag_len;
	if (cap < pt_len)
		return EDHOC_E_BUFFER_TOO_SMALL;
	int r = crypto_aead_decrypt(c->aead_alg, key, nonce, aad, aad_len, outer->payload,
	                            outer->payload_len, buf);
	if (r == EDHOC_E_AEAD_DECRYPT)
		return OSCORE_E_DECRYPT;
	if (r < 0)
		return r;
	r = oscore_msg_decode_body(buf[0], buf + 1, pt_len - 1, ret);
	if (r < 0)
		return OSCORE_E_MESSAGE_MALFORMED;
	if (oscore_msg_find(ret, OSCORE_OPT_OSCORE))
		return OSCORE_E_MESSAGE_MALFORMED; /* §4.1.3.7 */
	return 0;
}

int oscore_unprotect_request(oscore_ctx *c, const oscore_msg *outer, uint8_t *buf, size_t cap,
                             oscore_msg *ret_inner, oscore_request_info *ret_info)
{
	oscore_header h;
	oscore_msg inner;
	oscore_request_info info;
	uint8_t nonce[CRYPTO_MAX_AEAD_NONCE], aad[AAD_MAX];
	int r;

	r = oscore_request_header(outer, &h);
	if (r < 0)
		return r;
	if (!oscore_ctx_matches(c, &h))
		return OSCORE_E_NO_CONTEXT;
	uint64_t piv = piv_value(h.piv, h.piv_len);
	/* Replayed requests are turned away before any decryption work; the
	 * window itself only moves once the request verified. */
	if (c->window_ready && (r = oscore_replay_check(&c->replay, piv)) < 0)
		return r;

	make_nonce(c, h.kid, h.kid_len, h.piv, h.piv_len, nonce);
	size_t aad_len = make_aad(c, h.kid, h.kid_len, h.piv, h.piv_len, aad);
	r = open_payload(c, c->recipient_key, nonce, aad, aad_len, outer, buf, cap, &inner);
	if (r < 0)
		return r;
	if (inner.code == 0 || (inner.code >> 5) != 0)
		return OSCORE_E_MESSAGE_MALFORMED; /* not a request code */
	r = merge_outer(outer, &inner);
	if (r < 0)
		return r;

	memset(&info, 0, sizeof(info));
	memcpy(info.kid, h.kid, h.kid_len);
	info.kid_len = h.kid_len;
	memcpy(info.piv, h.piv, h.piv_len);
	info.piv_len = h.piv_len;
	info.observe = oscore_msg_find(&inner, OSCORE_OPT_OBSERVE) != NULL;

	if (c->window_ready) {
		oscore_replay_update(&c->replay, piv);
	} else {
		/* App. B.1.2: only a request echoing our challenge proves
		 * freshness and may start the window. */
		const oscore_option *echo = oscore_msg_find(&inner, OSCORE_OPT_ECHO);
		if (!c->echo_pending || !echo || echo->len != OSCORE_ECHO_LEN ||
		    !crypto_memeq(echo->value, c->echo, OSCORE_ECHO_LEN)) {
			info.must_use_piv = true;
			*ret_inner = inner;
			if (ret_info)
				*ret_info = info;
			return OSCORE_E_ECHO_REQUIRED;
		}
		oscore_replay_start_at(&c->replay, piv);
		c->window_ready = true;
		c->echo_pending = false;
		crypto_cleanse(c->echo, sizeof(c->echo));
		oscore_msg_remove(&inner, OSCORE_OPT_ECHO);
	}
	*ret_inner = inner;
	if (ret_info)
		*ret_info = info;
	return 0;
}

int oscore_protect_response(oscore_ctx *c, const oscore_request_info *req,
                            const oscore_msg *response, bool own_piv, uint8_t *buf, size_t cap,
                            oscore_msg *ret_outer)
{
	oscore_msg inner, outer;
	oscore_header h;
	uint8_t nonce[CRYPTO_MAX_AEAD_NONCE], aad[AAD_MAX];
	size_t optlen = 0;
	int r;

	if ((response->code >> 5) < 2 || req->kid_len > OSCORE_MAX_ID || req->piv_len == 0 ||
	    req->piv_len > OSCORE_PIV_LEN)
		return EDHOC_E_INVALID_ARGUMENT;
	if (oscore_msg_find(response, OSCORE_OPT_PROXY_URI))
		return EDHOC_E_INVALID_ARGUMENT;
	r = split_message(response, false, &inner, &outer);
	if (r < 0)
		return r;
	bool observe = oscore_msg_find(response, OSCORE_OPT_OBSERVE) != NULL;
	/* §4.1.3.1: notifications look cacheable to proxies, which can never
	 * serve them again; an outer Max-Age 0 keeps them out of caches.  The
	 * inner Max-Age, if any, still travels inside. */
	if (observe && (r = oscore_msg_add(&outer, OSCORE_OPT_MAX_AGE, NULL, 0)) < 0)
		return r;
	/* §4.1.3.5: notifications carry their own Partial IV (we do it for
	 * the first one too); App. B.1.2: so does every answer given before
	 * the replay window is initialised, as such a request may be a
	 * replay whose nonce was already used for a response. */
	own_piv = own_piv || observe || req->must_use_piv;

	size_t optmax = 1 + OSCORE_PIV_LEN;
	if (cap < optmax + 1 + c->tag_len)
		return EDHOC_E_BUFFER_TOO_SMALL;
	uint8_t *ct = buf + optmax;
	size_t ct_cap = cap - optmax, body;
	r = oscore_msg_encode_body(&inner, ct + 1, ct_cap - 1 - c->tag_len, &body);
	if (r < 0)
		return r;
	if (outer.n_opts >= OSCORE_MAX_OPTIONS)
		return EDHOC_E_LIMIT;

	memset(&h, 0, sizeof(h));
	if (own_piv) {
		uint64_t seq;
		r = oscore_ctx_take_seq(c, &seq);
		if (r < 0)
			return r;
		h.piv_len = piv_bytes(seq, h.piv);
		make_nonce(c, c->sender_id, c->sender_id_len, h.piv, h.piv_len, nonce);
		r = oscore_option_encode(&h, buf, optmax, &optlen);
		if (r < 0)
			return r;
	} else {
		make_nonce(c, req->kid, req->kid_len, req->piv, req->piv_len, nonce);
	}
	size_t aad_len = make_aad(c, req->kid, req->kid_len, req->piv, req->piv_len, aad);
	r = seal(c, nonce, aad, aad_len, response->code, ct, body, buf, optlen, &outer);
	if (r < 0)
		return r;
	outer.code = observe ? OSCORE_CODE_CONTENT : OSCORE_CODE_CHANGED;
	*ret_outer = outer;
	return 0;
}

int oscore_unprotect_response(oscore_ctx *c, oscore_request_info *req, const oscore_msg *outer,
                              uint8_t *buf, size_t cap, oscore_msg *ret_inner)
{
	oscore_header h;
	oscore_msg inner;
	uint8_t nonce[CRYPTO_MAX_AEAD_NONCE], aad[AAD_MAX];
	bool repeated;
	int r;

	if (req->kid_len > OSCORE_MAX_ID || req->piv_len == 0 || req->piv_len > OSCORE_PIV_LEN)
		return EDHOC_E_INVALID_ARGUMENT;
	const oscore_option *o = the_oscore_option(outer, &repeated);
	if (!o || repeated)
		return OSCORE_E_OPTION_MALFORMED;
	r = oscore_option_decode(o->value, o->len, &h);
	if (r < 0)
		return r;
	/* A kid in a response, if any, must name the server's context. */
	if (h.has_kid && !oscore_ctx_matches(c, &h))
		return OSCORE_E_NO_CONTEXT;
	if (h.piv_len)
		make_nonce(c, c->recipient_id, c->recipient_id_len, h.piv, h.piv_len, nonce);
	else
		make_nonce(c, req->kid, req->kid_len, req->piv, req->piv_len, nonce);
	size_t aad_len = make_aad(c, req->kid, req->kid_len, req->piv, req->piv_len, aad);
	/* Room after the plaintext for the rewritten Observe value. */
	if (cap < 3)
		return EDHOC_E_BUFFER_TOO_SMALL;
	r = open_payload(c, c->recipient_key, nonce, aad, aad_len, outer, buf, cap - 3, &inner);
	if (r < 0)
		return r;
	if ((inner.code >> 5) < 2)
		return OSCORE_E_MESSAGE_MALFORMED; /* not a response code */

	bool notification = oscore_msg_find(&inner, OSCORE_OPT_OBSERVE) != NULL;
	if (notification && !req->observe)
		return OSCORE_E_MESSAGE_MALFORMED; /* §4.1.3.5.2 / §8.4 */
	uint64_t piv = piv_value(h.piv, h.piv_len);
	if (notification && h.piv_len) {
		/* §7.4.1: only notifications newer than the freshest one. */
		if (req->have_notification && piv <= req->notification_num)
			return OSCORE_E_REPLAY;
		/* The outer Observe value is ignored (§4.1.3.5.2); the
		 * application sees the low 3 bytes of the Partial IV. */
		uint8_t *ov = buf + (outer->payload_len - c->tag_len);
		ov[0] = (uint8_t)(piv >> 16);
		ov[1] = (uint8_t)(piv >> 8);
		ov[2] = (uint8_t)piv;
		size_t skip = 0;
		while (skip < 3 && ov[skip] == 0)
			skip++;
		oscore_msg_remove(&inner, OSCORE_OPT_OBSERVE);
		if (oscore_msg_add(&inner, OSCORE_OPT_OBSERVE, ov + skip, 3 - skip) < 0)
			return OSCORE_E_MESSAGE_MALFORMED;
	}
	r = merge_outer(outer, &inner);
	if (r < 0)
		return r;
	if (notification && h.piv_len) {
		req->have_notification = true;
		req->notification_num = piv;
	}
	*ret_inner = inner;
	return 0;
}

/* ---- Echo ---- */

int oscore_echo_challenge(oscore_ctx *c, crypto_rng_fn rng, void *rng_ctx,
                          uint8_t ret_value[OSCORE_ECHO_LEN])
{
	uint8_t v[OSCORE_ECHO_LEN];
	int r = (rng ? rng : crypto_rng_default)(rng_ctx, v, sizeof(v));
	if (r < 0)
		return EDHOC_E_RNG;
	memcpy(c->echo, v, sizeof(v));
	c->echo_pending = true;
	memcpy(ret_value, v, sizeof(v));
	crypto_cleanse(v, sizeof(v));
	return 0;
}

int oscore_protect_echo_response(oscore_ctx *c, const oscore_request_info *req, crypto_rng_fn rng,
                                 void *rng_ctx, uint8_t *buf, size_t cap, oscore_msg *ret_outer)
{
	uint8_t echo[OSCORE_ECHO_LEN];
	oscore_msg m;
	int r = oscore_echo_challenge(c, rng, rng_ctx, echo);
	if (r < 0)
		return r;
	oscore_msg_init(&m, OSCORE_CODE_UNAUTHORIZED);
	r = oscore_msg_add(&m, OSCORE_OPT_ECHO, echo, sizeof(echo));
	if (r == 0)
		r = oscore_protect_response(c, req, &m, true, buf, cap, ret_outer);
	return r;
}

/* ---- errors ---- */

uint8_t oscore_result_coap_code(int result)
{
	switch (result) {
	case 0:
		return 0;
	case OSCORE_E_OPTION_MALFORMED:
	case OSCORE_E_PIV_MISSING:
	case OSCORE_E_MESSAGE_MALFORMED:
	case EDHOC_E_LIMIT:
		return OSCORE_CODE_BAD_OPTION;
	case OSCORE_E_NO_CONTEXT:
	case OSCORE_E_REPLAY:
	case OSCORE_E_TOO_OLD:
	case OSCORE_E_ECHO_REQUIRED:
		return OSCORE_CODE_UNAUTHORIZED;
	case OSCORE_E_DECRYPT:
		return OSCORE_CODE_BAD_REQUEST;
	default:
		return OSCORE_CODE_INTERNAL;
	}
}

const char *oscore_result_diagnostic(int result)
{
	switch (result) {
	case 0:
		return "";
	case OSCORE_E_OPTION_MALFORMED:
	case OSCORE_E_PIV_MISSING:
	case OSCORE_E_MESSAGE_MALFORMED:
	case EDHOC_E_LIMIT:
		return "Failed to decode COSE";
	case OSCORE_E_NO_CONTEXT:
		return "Security context not found";
	case OSCORE_E_REPLAY:
	case OSCORE_E_TOO_OLD:
		return "Replay detected";
	case OSCORE_E_ECHO_REQUIRED:
		return "Echo required";
	case OSCORE_E_DECRYPT:
		return "Decryption failed";
	default:
		return "Internal error";
	}
}
