/* libFuzzer target for the OSCORE core (src/oscore).
 *
 * The first input byte picks what the rest is fed to:
 *   0: a CoAP datagram decoded, re-encoded (must give the same bytes: the
 *      CoAP option coding is canonical) and handed to a server context as
 *      an OSCORE request, restored (Echo) or not;
 *   1: the same datagram as a response to a fixed request, at a client;
 *   2: an OSCORE option value: decode, and re-encode what decoded;
 *   3: a datagram used as a plain request: protect at the client, then
 *      unprotect at the server must give back exactly the original.
 * Invariants: no out-of-bounds access (ASan), results are 0 or a known
 * code, and the round trips above hold.
 * Build (clang): clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
 *   tests/fuzz/fuzz_oscore.c src/oscore/(all .c) src/crypto/(all .c) src/edhoc/result.c -lcrypto
 * Seed corpus: tests/fuzz/corpus/oscore/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/oscore.h"

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t id_client[1] = {0x00}; /* unused byte for the empty ID */
static const uint8_t id_server[1] = {0x01};

/* RFC 8613 C.1: client Sender ID empty, server Sender ID 01. */
static oscore_ctx *make(bool client, bool restored)
{
	oscore_ctx_params p = {
	    .master_secret = secret,
	    .master_secret_len = sizeof(secret),
	    .master_salt = salt,
	    .master_salt_len = sizeof(salt),
	    .sender_id = client ? id_client : id_server,
	    .sender_id_len = client ? 0 : 1,
	    .recipient_id = client ? id_server : id_client,
	    .recipient_id_len = client ? 1 : 0,
	    .sender_seq = 20,
	    .restored = restored,
	};
	oscore_ctx *c = NULL;
	CHECK(oscore_ctx_new(&p, &c) == 0);
	return c;
}

static bool known_code(int r)
{
	return r == 0 || edhoc_result_category(r) != 'E' || r == EDHOC_E_LIMIT ||
	       r == EDHOC_E_BUFFER_TOO_SMALL || r == EDHOC_E_INVALID_ARGUMENT;
}

static void same_msg(const oscore_msg *a, const oscore_msg *b)
{
	CHECK(a->code == b->code && a->n_opts == b->n_opts && a->payload_len == b->payload_len);
	for (size_t i = 0; i < a->n_opts; i++) {
		CHECK(a->opts[i].number == b->opts[i].number && a->opts[i].len == b->opts[i].len);
		CHECK(a->opts[i].len == 0 ||
		      memcmp(a->opts[i].value, b->opts[i].value, a->opts[i].len) == 0);
	}
	CHECK(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
}

static void datagram_roundtrip(const uint8_t *data, size_t size, oscore_coap_hdr *h, oscore_msg *m,
                               bool *ret_ok)
{
	*ret_ok = false;
	int r = oscore_coap_decode(data, size, h, m);
	CHECK(known_code(r));
	if (r < 0)
		return;
	static uint8_t out[70000];
	size_t len;
	CHECK(oscore_coap_encode(h, m, out, sizeof(out), &len) == 0);
	CHECK(len == size && memcmp(out, data, size) == 0);
	*ret_ok = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[70000];
	oscore_coap_hdr h;
	oscore_msg m, inner, outer;
	oscore_request_info info;
	bool ok;
	int r;

	if (size < 1)
		return 0;
	uint8_t mode = data[0] & 3;
	bool restored = data[0] & 4;
	data++;
	size--;

	switch (mode) {
	case 0: {
		datagram_roundtrip(data, size, &h, &m, &ok);
		if (!ok)
			return 0;
		oscore_ctx *sv = make(false, restored);
		oscore_header hd;
		r = oscore_request_header(&m, &hd);
		CHECK(known_code(r));
		if (r == 0 && oscore_ctx_matches(sv, &hd)) {
			r = oscore_unprotect_request(sv, &m, buf, sizeof(buf), &inner, &info);
			CHECK(known_code(r));
			CHECK(oscore_result_coap_code(r) != OSCORE_CODE_INTERNAL ||
			      r == EDHOC_E_BUFFER_TOO_SMALL);
			if (r == 0 || r == OSCORE_E_ECHO_REQUIRED) {
				CHECK(inner.n_opts <= OSCORE_MAX_OPTIONS);
				CHECK(info.piv_len >= 1 && info.piv_len <= OSCORE_PIV_LEN);
			}
		}
		oscore_ctx_free(sv);
		break;
	}
	case 1: {
		datagram_roundtrip(data, size, &h, &m, &ok);
		if (!ok)
			return 0;
		oscore_ctx *cl = make(true, false);
		oscore_request_info req = {
		    .kid_len = 0, .piv = {0x14}, .piv_len = 1, .observe = restored};
		r = oscore_unprotect_response(cl, &req, &m, buf, sizeof(buf), &inner);
		CHECK(known_code(r));
		oscore_ctx_free(cl);
		break;
	}
	case 2: {
		oscore_header hd;
		r = oscore_option_decode(data, size, &hd);
		CHECK(r == 0 || r == OSCORE_E_OPTION_MALFORMED);
		if (r == 0) {
			uint8_t out[600];
			size_t len;
			CHECK(oscore_option_encode(&hd, out, sizeof(out), &len) == 0);
			CHECK(len == size && memcmp(out, data, size) == 0);
		}
		break;
	}
	default: {
		datagram_roundtrip(data, size, &h, &m, &ok);
		if (!ok || m.code == 0 || (m.code >> 5) != 0)
			return 0;
		oscore_ctx *cl = make(true, false), *sv = make(false, false);
		static uint8_t sbuf[70000];
		oscore_request_info ci, si;
		r = oscore_protect_request(cl, &m, buf, sizeof(buf), &outer, &ci);
		CHECK(known_code(r));
		if (r == 0) {
			r = oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si);
			/* Only a Proxy-Uri request changes shape (decomposed). */
			if (!oscore_msg_find(&m, OSCORE_OPT_PROXY_URI)) {
				CHECK(r == 0);
				same_msg(&m, &inner);
			} else {
				CHECK(r == 0 || r == OSCORE_E_MESSAGE_MALFORMED);
			}
		}
		oscore_ctx_free(cl);
		oscore_ctx_free(sv);
		break;
	}
	}
	return 0;
}
