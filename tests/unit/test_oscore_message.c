/* OSCORE message handling: CoAP option/payload coding with its bounds
 * checks, the OSCORE option value, option classes E/U in both directions
 * (RFC 8613 §4.1), Proxy-Uri decomposition, Observe, algorithms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/oscore.h"

static const uint8_t secret[16] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t id_c[1] = {0x27};
static const uint8_t id_s[1] = {0x37};

static oscore_ctx *make(bool client, int aead, int hash)
{
	oscore_ctx_params p = {
	    .master_secret = secret,
	    .master_secret_len = sizeof(secret),
	    .sender_id = client ? id_c : id_s,
	    .sender_id_len = 1,
	    .recipient_id = client ? id_s : id_c,
	    .recipient_id_len = 1,
	    .aead_alg = aead,
	    .hash_alg = hash,
	};
	oscore_ctx *c = NULL;
	assert_int_equal(oscore_ctx_new(&p, &c), 0);
	return c;
}

/* ---- CoAP coding ---- */

static void test_option_coding_uses_extended_deltas_and_lengths(void **state)
{
	static uint8_t big[300];
	oscore_msg m, d;
	uint8_t out[1024];
	size_t len;
	memset(big, 'b', sizeof(big));
	oscore_msg_init(&m, OSCORE_CODE_PUT);
	assert_int_equal(oscore_msg_add(&m, 2000, big, 12), 0); /* delta 14-ext */
	assert_int_equal(oscore_msg_add(&m, 11, big, 13), 0);   /* length 13-ext */
	assert_int_equal(oscore_msg_add(&m, 11, big, 0), 0);    /* repeat, delta 0 */
	assert_int_equal(oscore_msg_add(&m, 1, NULL, 0), 0);
	assert_int_equal(oscore_msg_add(&m, 40, big, 269), 0); /* length 14-ext */
	assert_int_equal(oscore_msg_add(&m, 65535, big, 1), 0);
	oscore_msg_set_payload(&m, (const uint8_t *)"pl", 2);
	/* Sorted, repeated options in insertion order. */
	assert_int_equal(m.opts[0].number, 1);
	assert_int_equal(m.opts[1].number, 11);
	assert_int_equal(m.opts[1].len, 13);
	assert_int_equal(m.opts[2].len, 0);
	assert_int_equal(oscore_msg_encode_body(&m, out, sizeof(out), &len), 0);
	/* Spot checks of the nibbles: option 1 (delta 1, len 0), then option
	 * 11 delta 10 length 13 -> 0xad 0x00. */
	assert_int_equal(out[0], 0x10);
	assert_int_equal(out[1], 0xad);
	assert_int_equal(out[2], 0x00);
	assert_int_equal(oscore_msg_decode_body(OSCORE_CODE_PUT, out, len, &d), 0);
	assert_int_equal(d.n_opts, m.n_opts);
	for (size_t i = 0; i < m.n_opts; i++) {
		assert_int_equal(d.opts[i].number, m.opts[i].number);
		assert_int_equal(d.opts[i].len, m.opts[i].len);
		if (m.opts[i].len)
			assert_memory_equal(d.opts[i].value, m.opts[i].value, m.opts[i].len);
	}
	assert_int_equal(d.payload_len, 2);
	assert_memory_equal(d.payload, "pl", 2);
	/* Every shorter buffer is refused, never overrun. */
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(oscore_msg_encode_body(&m, out, cap, &len),
		                 EDHOC_E_BUFFER_TOO_SMALL);
	assert_int_equal(oscore_msg_remove(&m, 11), 2);
	assert_null(oscore_msg_find(&m, 11));
}

static void test_malformed_bodies_are_rejected(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int want;
	} cases[] = {
	    {"\xff", 1, OSCORE_E_MESSAGE_MALFORMED},                     /* marker, no payload */
	    {"\xf0", 1, OSCORE_E_MESSAGE_MALFORMED},                     /* delta 15 */
	    {"\x1f", 1, OSCORE_E_MESSAGE_MALFORMED},                     /* length 15 */
	    {"\xd0", 1, OSCORE_E_MESSAGE_MALFORMED},                     /* missing 1-byte ext */
	    {"\xe0\x01", 2, OSCORE_E_MESSAGE_MALFORMED},                 /* missing 2nd ext byte */
	    {"\x15\x01\x02", 3, OSCORE_E_MESSAGE_MALFORMED},             /* value past the end */
	    {"\xe0\xfe\xff\xe0\xfe\xff", 6, OSCORE_E_MESSAGE_MALFORMED}, /* number > 65535 */
	};
	oscore_msg m;
	oscore_msg_init(&m, 0x77);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    oscore_msg_decode_body(1, (const uint8_t *)cases[i].bytes, cases[i].len, &m),
		    cases[i].want);
	assert_int_equal(m.code, 0x77); /* untouched on failure */

	uint8_t many[OSCORE_MAX_OPTIONS + 1];
	memset(many, 0x00, sizeof(many)); /* option delta 0, length 0 each */
	many[0] = 0x10;
	assert_int_equal(oscore_msg_decode_body(1, many, OSCORE_MAX_OPTIONS, &m), 0);
	assert_int_equal(m.n_opts, OSCORE_MAX_OPTIONS);
	assert_int_equal(oscore_msg_decode_body(1, many, sizeof(many), &m), EDHOC_E_LIMIT);

	oscore_msg_init(&m, 1);
	for (int i = 0; i < OSCORE_MAX_OPTIONS; i++)
		assert_int_equal(oscore_msg_add(&m, 11, NULL, 0), 0);
	assert_int_equal(oscore_msg_add(&m, 11, NULL, 0), EDHOC_E_LIMIT);

	oscore_coap_hdr h;
	assert_int_equal(oscore_coap_decode((const uint8_t *)"\x40\x01\x00", 3, &h, &m),
	                 OSCORE_E_MESSAGE_MALFORMED);
	assert_int_equal(oscore_coap_decode((const uint8_t *)"\x80\x01\x00\x00", 4, &h, &m),
	                 OSCORE_E_MESSAGE_MALFORMED); /* version 2 */
	assert_int_equal(oscore_coap_decode((const uint8_t *)"\x49\x01\x00\x00", 4, &h, &m),
	                 OSCORE_E_MESSAGE_MALFORMED); /* TKL 9 */
	assert_int_equal(oscore_coap_decode((const uint8_t *)"\x42\x01\x00\x00\x01", 5, &h, &m),
	                 OSCORE_E_MESSAGE_MALFORMED); /* token cut */
}

static void test_uint_option_values(void **state)
{
	uint8_t b[4];
	uint32_t v;
	assert_int_equal(oscore_uint_encode(0, b), 0);
	assert_int_equal(oscore_uint_encode(255, b), 1);
	assert_int_equal(oscore_uint_encode(0x10000, b), 3);
	assert_memory_equal(b, "\x01\x00\x00", 3);
	assert_int_equal(oscore_uint_decode(b, 3, &v), 0);
	assert_int_equal(v, 0x10000);
	assert_int_equal(oscore_uint_decode((const uint8_t *)"\1\2\3\4\5", 5, &v),
	                 EDHOC_E_VALUE_RANGE);
}

/* ---- the OSCORE option ---- */

static void test_oscore_option_values(void **state)
{
	oscore_header h;
	/* C.6: n=1, k, h with 8-byte kid context, empty kid. */
	const uint8_t c6[] = {0x19, 0x14, 0x08, 0x37, 0xcb, 0xf3, 0x21, 0x00, 0x17, 0xa2, 0xd3};
	assert_int_equal(oscore_option_decode(c6, sizeof(c6), &h), 0);
	assert_int_equal(h.piv_len, 1);
	assert_int_equal(h.piv[0], 0x14);
	assert_true(h.has_kid);
	assert_int_equal(h.kid_len, 0);
	assert_true(h.has_kid_context);
	assert_int_equal(h.kid_context_len, 8);
	uint8_t out[64];
	size_t len;
	assert_int_equal(oscore_option_encode(&h, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(c6));
	assert_memory_equal(out, c6, len);

	assert_int_equal(oscore_option_decode(NULL, 0, &h), 0);
	assert_int_equal(h.piv_len, 0);
	assert_false(h.has_kid);
	static const struct {
		const char *v;
		size_t len;
	} bad[] = {
	    {"\x00", 1},             /* flags 0 must be sent as empty */
	    {"\x20\x00", 2},         /* reserved bit */
	    {"\x06\0\0\0\0\0\0", 7}, /* n = 6 */
	    {"\x07\0\0\0\0\0\0\0", 8},
	    {"\x02\x01", 2},         /* PIV cut */
	    {"\x11\x01", 2},         /* h without s */
	    {"\x11\x01\x03\xaa", 4}, /* kid context cut */
	    {"\x01\x01\x05", 3},     /* trailing byte without k */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(oscore_option_decode((const uint8_t *)bad[i].v, bad[i].len, &h),
		                 OSCORE_E_OPTION_MALFORMED);

	/* A request needs a PIV and a kid; two OSCORE options are malformed. */
	oscore_msg m;
	oscore_msg_init(&m, OSCORE_CODE_POST);
	assert_int_equal(oscore_request_header(&m, &h), OSCORE_E_OPTION_MALFORMED);
	assert_int_equal(oscore_msg_add(&m, OSCORE_OPT_OSCORE, (const uint8_t *)"\x01\x05", 2), 0);
	assert_int_equal(oscore_request_header(&m, &h), OSCORE_E_PIV_MISSING);
	oscore_msg_init(&m, OSCORE_CODE_POST);
	assert_int_equal(oscore_msg_add(&m, OSCORE_OPT_OSCORE, (const uint8_t *)"\x09\x05", 2), 0);
	assert_int_equal(oscore_request_header(&m, &h), 0);
	assert_int_equal(oscore_msg_add(&m, OSCORE_OPT_OSCORE, (const uint8_t *)"\x09\x05", 2), 0);
	assert_int_equal(oscore_request_header(&m, &h), OSCORE_E_OPTION_MALFORMED);
}

/* ---- option classes ---- */

static void test_option_class_table(void **state)
{
	static const uint16_t e[] = {1, 4, 5, 8, 11, 12, 15, 17, 20, 252, 292, 2048, 65000};
	static const uint16_t u[] = {3, 7, 9, 16, 35, 39};
	static const uint16_t eu[] = {6, 14, 23, 27, 28, 60, 258};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		assert_int_equal(oscore_option_class(e[i]), OSCORE_CLASS_E);
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		assert_int_equal(oscore_option_class(u[i]), OSCORE_CLASS_U);
	for (size_t i = 0; i < sizeof(eu) / sizeof(eu[0]); i++)
		assert_int_equal(oscore_option_class(eu[i]), OSCORE_CLASS_EU);
}

static bool has_option(const oscore_msg *m, uint16_t n, const char *value)
{
	for (size_t i = 0; i < m->n_opts; i++)
		if (m->opts[i].number == n && m->opts[i].len == strlen(value) &&
		    (m->opts[i].len == 0 || memcmp(m->opts[i].value, value, m->opts[i].len) == 0))
			return true;
	return false;
}

static void add_str(oscore_msg *m, uint16_t n, const char *v)
{
	assert_int_equal(oscore_msg_add(m, n, (const uint8_t *)v, strlen(v)), 0);
}

static void test_request_options_by_class_both_directions(void **state)
{
	oscore_ctx *cl = make(true, 0, 0), *sv = make(false, 0, 0);
	oscore_msg req, outer, inner;
	oscore_request_info ci, si;
	uint8_t buf[512], sbuf[512];
	static const struct {
		uint16_t n;
		const char *v;
		bool outer;
	} opts[] = {
	    {OSCORE_OPT_IF_MATCH, "im", false},
	    {OSCORE_OPT_URI_HOST, "gw.example", true},
	    {OSCORE_OPT_ETAG, "et", false},
	    {OSCORE_OPT_IF_NONE_MATCH, "", false},
	    {OSCORE_OPT_URI_PORT, "\x16\x33", true},
	    {OSCORE_OPT_URI_PATH, "a", false},
	    {OSCORE_OPT_URI_PATH, "b", false},
	    {OSCORE_OPT_CONTENT_FORMAT, "\x3c", false},
	    {OSCORE_OPT_MAX_AGE, "\x3c", false},
	    {OSCORE_OPT_URI_QUERY, "q=1", false},
	    {OSCORE_OPT_HOP_LIMIT, "\x10", true},
	    {OSCORE_OPT_ACCEPT, "\x32", false},
	    {OSCORE_OPT_BLOCK2, "\x02", false},
	    {OSCORE_OPT_BLOCK1, "\x0a", false},
	    {OSCORE_OPT_SIZE2, "", false},
	    {OSCORE_OPT_PROXY_SCHEME, "coap", true},
	    {OSCORE_OPT_SIZE1, "\x40", false},
	    {OSCORE_OPT_ECHO, "echo-val", false},
	    {OSCORE_OPT_NO_RESPONSE, "\x1a", false},
	    {OSCORE_OPT_REQUEST_TAG, "rt", false},
	    {3000, "unknown", false},
	};
	size_t n = sizeof(opts) / sizeof(opts[0]);
	oscore_msg_init(&req, OSCORE_CODE_PUT);
	for (size_t i = 0; i < n; i++)
		add_str(&req, opts[i].n, opts[i].v);
	oscore_msg_set_payload(&req, (const uint8_t *)"body", 4);

	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	assert_int_equal(outer.code, OSCORE_CODE_POST);
	size_t n_outer = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(has_option(&outer, opts[i].n, opts[i].v), opts[i].outer);
		n_outer += opts[i].outer;
	}
	assert_int_equal(outer.n_opts, n_outer + 1); /* + OSCORE */
	assert_non_null(oscore_msg_find(&outer, OSCORE_OPT_OSCORE));

	/* An on-path attacker adds outer E options: they are ignored. */
	oscore_msg tampered = outer;
	add_str(&tampered, OSCORE_OPT_URI_PATH, "admin");
	add_str(&tampered, OSCORE_OPT_BLOCK2, "\x0e");
	assert_int_equal(oscore_unprotect_request(sv, &tampered, sbuf, sizeof(sbuf), &inner, &si),
	                 0);
	assert_int_equal(inner.code, OSCORE_CODE_PUT);
	assert_int_equal(inner.n_opts, n);
	for (size_t i = 0; i < n; i++)
		assert_true(has_option(&inner, opts[i].n, opts[i].v));
	assert_false(has_option(&inner, OSCORE_OPT_URI_PATH, "admin"));
	assert_false(has_option(&inner, OSCORE_OPT_OSCORE, ""));
	assert_int_equal(inner.payload_len, 4);
	assert_memory_equal(inner.payload, "body", 4);
	/* Uri-Path order survives. */
	const oscore_option *p = oscore_msg_find(&inner, OSCORE_OPT_URI_PATH);
	assert_memory_equal(p[0].value, "a", 1);
	assert_memory_equal(p[1].value, "b", 1);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_response_options_by_class_both_directions(void **state)
{
	oscore_ctx *cl = make(true, 0, 0), *sv = make(false, 0, 0);
	oscore_msg req, outer, inner, resp;
	oscore_request_info ci, si;
	uint8_t buf[512], sbuf[512], rbuf[512], cbuf[512];
	oscore_msg_init(&req, OSCORE_CODE_POST);
	add_str(&req, OSCORE_OPT_URI_PATH, "c");
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si), 0);

	oscore_msg_init(&resp, OSCORE_CODE(2, 1)); /* 2.01 Created */
	add_str(&resp, OSCORE_OPT_ETAG, "e1");
	add_str(&resp, OSCORE_OPT_LOCATION_PATH, "c");
	add_str(&resp, OSCORE_OPT_LOCATION_PATH, "7");
	add_str(&resp, OSCORE_OPT_CONTENT_FORMAT, "\x32");
	add_str(&resp, OSCORE_OPT_MAX_AGE, "\x0a");
	add_str(&resp, OSCORE_OPT_LOCATION_QUERY, "v=2");
	add_str(&resp, OSCORE_OPT_BLOCK2, "\x08");
	add_str(&resp, OSCORE_OPT_SIZE2, "\x01\x00");
	add_str(&resp, OSCORE_OPT_ECHO, "fresh");
	oscore_msg_set_payload(&resp, (const uint8_t *)"{}", 2);
	assert_int_equal(oscore_protect_response(sv, &si, &resp, false, rbuf, sizeof(rbuf), &outer),
	                 0);
	assert_int_equal(outer.code, OSCORE_CODE_CHANGED);
	assert_int_equal(outer.n_opts, 1); /* OSCORE only */
	assert_int_equal(outer.opts[0].len, 0);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &outer, cbuf, sizeof(cbuf), &inner), 0);
	assert_int_equal(inner.code, OSCORE_CODE(2, 1));
	assert_int_equal(inner.n_opts, resp.n_opts);
	for (size_t i = 0; i < resp.n_opts; i++) {
		assert_int_equal(inner.opts[i].number, resp.opts[i].number);
		assert_int_equal(inner.opts[i].len, resp.opts[i].len);
		assert_memory_equal(inner.opts[i].value, resp.opts[i].value, resp.opts[i].len);
	}
	/* Response with own Partial IV decrypts too; a server kid is checked. */
	assert_int_equal(oscore_protect_response(sv, &si, &resp, true, rbuf, sizeof(rbuf), &outer),
	                 0);
	assert_int_equal(outer.opts[0].len, 2); /* flags + PIV 0 */
	assert_int_equal(oscore_unprotect_response(cl, &ci, &outer, cbuf, sizeof(cbuf), &inner), 0);
	/* A response to another request does not verify (request_piv in AAD). */
	oscore_request_info other = ci;
	other.piv[0] ^= 1;
	assert_int_equal(oscore_unprotect_response(cl, &other, &outer, cbuf, sizeof(cbuf), &inner),
	                 OSCORE_E_DECRYPT);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_proxy_uri_is_decomposed(void **state)
{
	oscore_ctx *cl = make(true, 0, 0), *sv = make(false, 0, 0);
	oscore_msg req, outer, inner;
	oscore_request_info ci, si;
	uint8_t buf[512], sbuf[512];
	oscore_msg_init(&req, OSCORE_CODE_GET);
	add_str(&req, OSCORE_OPT_PROXY_URI, "coap://example.com:5684/res%2Fx/y?q=1&r=%41");
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	assert_true(has_option(&outer, OSCORE_OPT_PROXY_URI, "coap://example.com:5684"));
	assert_int_equal(outer.n_opts, 2);
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si), 0);
	assert_true(has_option(&inner, OSCORE_OPT_PROXY_URI, "coap://example.com:5684"));
	assert_true(has_option(&inner, OSCORE_OPT_URI_PATH, "res/x"));
	assert_true(has_option(&inner, OSCORE_OPT_URI_PATH, "y"));
	assert_true(has_option(&inner, OSCORE_OPT_URI_QUERY, "q=1"));
	assert_true(has_option(&inner, OSCORE_OPT_URI_QUERY, "r=A"));
	assert_int_equal(inner.n_opts, 5);

	/* Root path: no Uri-Path at all. */
	oscore_msg_init(&req, OSCORE_CODE_GET);
	add_str(&req, OSCORE_OPT_PROXY_URI, "coap://h/");
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si), 0);
	assert_int_equal(inner.n_opts, 1);

	static const char *bad[] = {"coap:/x", "nohost", "coap://h/a#frag", "coap://h/%4"};
	for (size_t i = 0; i < 4; i++) {
		oscore_msg_init(&req, OSCORE_CODE_GET);
		add_str(&req, OSCORE_OPT_PROXY_URI, bad[i]);
		assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci),
		                 EDHOC_E_INVALID_ARGUMENT);
	}
	/* Nested OSCORE is refused. */
	oscore_msg_init(&req, OSCORE_CODE_GET);
	add_str(&req, OSCORE_OPT_OSCORE, "");
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci),
	                 EDHOC_E_INVALID_ARGUMENT);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_observe_registration_and_notifications(void **state)
{
	oscore_ctx *cl = make(true, 0, 0), *sv = make(false, 0, 0);
	oscore_msg req, outer, inner, note;
	oscore_request_info ci, si;
	uint8_t buf[512], sbuf[512], cbuf[512];
	oscore_msg_init(&req, OSCORE_CODE_GET);
	assert_int_equal(oscore_msg_add(&req, OSCORE_OPT_OBSERVE, NULL, 0), 0); /* register */
	add_str(&req, OSCORE_OPT_URI_PATH, "temp");
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	assert_int_equal(outer.code, OSCORE_CODE_FETCH);
	assert_non_null(oscore_msg_find(&outer, OSCORE_OPT_OBSERVE));
	assert_true(ci.observe);
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si), 0);
	assert_true(si.observe);
	assert_int_equal(inner.code, OSCORE_CODE_GET);
	assert_non_null(oscore_msg_find(&inner, OSCORE_OPT_OBSERVE));

	/* Three notifications with Observe 5, 6, 7; delivered 1, 3, 2. */
	oscore_msg wire[3];
	uint8_t wbuf[3][256];
	uint8_t obs[3][4];
	for (int i = 0; i < 3; i++) {
		oscore_msg_init(&note, OSCORE_CODE_CONTENT);
		assert_int_equal(oscore_msg_add(&note, OSCORE_OPT_OBSERVE, obs[i],
		                                oscore_uint_encode(5 + i, obs[i])),
		                 0);
		assert_int_equal(
		    oscore_msg_add(&note, OSCORE_OPT_MAX_AGE, (const uint8_t *)"\x1e", 1), 0);
		oscore_msg_set_payload(&note, (const uint8_t *)"20", 2);
		assert_int_equal(oscore_protect_response(sv, &si, &note, false, wbuf[i],
		                                         sizeof(wbuf[i]), &wire[i]),
		                 0);
		assert_int_equal(wire[i].code, OSCORE_CODE_CONTENT);
		const oscore_option *o = oscore_msg_find(&wire[i], OSCORE_OPT_OBSERVE);
		assert_non_null(o); /* outer Observe keeps the value */
		assert_int_equal(o->len, 1);
		assert_int_equal(o->value[0], 5 + i);
		o = oscore_msg_find(&wire[i], OSCORE_OPT_MAX_AGE);
		assert_non_null(o); /* outer Max-Age 0 against proxy caching */
		assert_int_equal(o->len, 0);
		o = oscore_msg_find(&wire[i], OSCORE_OPT_OSCORE);
		assert_int_equal(o->len, 2); /* own PIV forced for notifications */
		assert_int_equal(o->value[1], i);
	}
	assert_int_equal(oscore_unprotect_response(cl, &ci, &wire[0], cbuf, sizeof(cbuf), &inner),
	                 0);
	assert_true(ci.have_notification);
	assert_int_equal(ci.notification_num, 0);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &wire[2], cbuf, sizeof(cbuf), &inner),
	                 0);
	const oscore_option *o = oscore_msg_find(&inner, OSCORE_OPT_OBSERVE);
	assert_non_null(o);
	assert_int_equal(o->len, 1); /* low bytes of the Partial IV, 2 */
	assert_int_equal(o->value[0], 2);
	o = oscore_msg_find(&inner, OSCORE_OPT_MAX_AGE); /* the inner one, 30 s */
	assert_non_null(o);
	assert_int_equal(o->len, 1);
	assert_int_equal(o->value[0], 30);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &wire[1], cbuf, sizeof(cbuf), &inner),
	                 OSCORE_E_REPLAY);
	assert_int_equal(oscore_unprotect_response(cl, &ci, &wire[2], cbuf, sizeof(cbuf), &inner),
	                 OSCORE_E_REPLAY);
	assert_int_equal(ci.notification_num, 2);

	/* A notification for a request that did not observe is malformed. */
	oscore_request_info plain = ci;
	plain.observe = false;
	plain.have_notification = false;
	assert_int_equal(
	    oscore_unprotect_response(cl, &plain, &wire[1], cbuf, sizeof(cbuf), &inner),
	    OSCORE_E_MESSAGE_MALFORMED);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

/* ---- algorithms, parameters, buffers ---- */

static void test_every_application_aead_round_trips(void **state)
{
	static const int aeads[] = {COSE_ALG_AES_CCM_16_64_128, COSE_ALG_AES_CCM_16_128_128,
	                            COSE_ALG_A128GCM, COSE_ALG_A256GCM, COSE_ALG_CHACHA20_POLY1305};
	static const int hashes[] = {COSE_ALG_SHA_256, COSE_ALG_SHA_384};
	for (size_t a = 0; a < 5; a++) {
		for (size_t h = 0; h < 2; h++) {
			oscore_ctx *cl = make(true, aeads[a], hashes[h]);
			oscore_ctx *sv = make(false, aeads[a], hashes[h]);
			oscore_msg req, outer, inner, resp;
			oscore_request_info ci, si;
			uint8_t buf[256], sbuf[256], rbuf[256], cbuf[256];
			oscore_msg_init(&req, OSCORE_CODE_GET);
			add_str(&req, OSCORE_OPT_URI_PATH, "alg");
			assert_int_equal(
			    oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
			assert_int_equal(outer.payload_len, 1 + 4 + crypto_aead_tag_len(aeads[a]));
			assert_int_equal(
			    oscore_unprotect_request(sv, &outer, sbuf, sizeof(sbuf), &inner, &si),
			    0);
			assert_true(has_option(&inner, OSCORE_OPT_URI_PATH, "alg"));
			oscore_msg_init(&resp, OSCORE_CODE_CONTENT);
			oscore_msg_set_payload(&resp, (const uint8_t *)"ok", 2);
			assert_int_equal(oscore_protect_response(sv, &si, &resp, h == 1, rbuf,
			                                         sizeof(rbuf), &outer),
			                 0);
			assert_int_equal(
			    oscore_unprotect_response(cl, &ci, &outer, cbuf, sizeof(cbuf), &inner),
			    0);
			assert_int_equal(inner.payload_len, 2);
			/* Keys differ per algorithm and hash. */
			uint8_t k1[32], k2[32];
			oscore_ctx_export_keys(cl, k1, NULL, NULL);
			oscore_ctx *other = make(true, aeads[(a + 1) % 5], hashes[h]);
			oscore_ctx_export_keys(other, k2, NULL, NULL);
			assert_memory_not_equal(k1, k2, 16);
			oscore_ctx_free(other);
			oscore_ctx_free(cl);
			oscore_ctx_free(sv);
		}
	}
}

static void test_bad_parameters_are_refused(void **state)
{
	oscore_ctx *c = NULL;
	static const uint8_t long_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	oscore_ctx_params p = {
	    .master_secret = secret,
	    .master_secret_len = 16,
	    .sender_id = id_c,
	    .sender_id_len = 1,
	    .recipient_id = id_s,
	    .recipient_id_len = 1,
	};
	oscore_ctx_params q = p;
	q.hash_alg = COSE_ALG_SHAKE256; /* suite 25: no HKDF over SHAKE256 */
	assert_int_equal(oscore_ctx_new(&q, &c), OSCORE_E_ALG_UNSUPPORTED);
	q = p;
	q.aead_alg = 99;
	assert_int_equal(oscore_ctx_new(&q, &c), OSCORE_E_ALG_UNSUPPORTED);
	q = p;
	q.sender_id = long_id;
	q.sender_id_len = 8; /* > 13 - 6 */
	assert_int_equal(oscore_ctx_new(&q, &c), EDHOC_E_INVALID_ARGUMENT);
	q.sender_id_len = 7;
	assert_int_equal(oscore_ctx_new(&q, &c), 0);
	oscore_ctx_free(c);
	c = NULL;
	q.aead_alg = COSE_ALG_A128GCM; /* 12-byte nonce: IDs up to 6 */
	assert_int_equal(oscore_ctx_new(&q, &c), EDHOC_E_INVALID_ARGUMENT);
	q = p;
	q.recipient_id = id_c; /* same as sender */
	assert_int_equal(oscore_ctx_new(&q, &c), EDHOC_E_INVALID_ARGUMENT);
	q = p;
	q.master_secret_len = 0;
	assert_int_equal(oscore_ctx_new(&q, &c), EDHOC_E_INVALID_ARGUMENT);
	assert_null(c);
	oscore_ctx_free(NULL);

	edhoc_oscore e;
	memset(&e, 0, sizeof(e));
	e.master_secret_len = 16;
	e.master_salt_len = 8;
	e.sender_id_len = 1;
	e.recipient_id_len = 1;
	e.recipient_id[0] = 1;
	e.aead_alg = COSE_ALG_CHACHA20_POLY1305;
	e.hash_alg = COSE_ALG_SHAKE256;
	assert_int_equal(oscore_ctx_from_edhoc(&e, NULL, &c), OSCORE_E_ALG_UNSUPPORTED);
	e.hash_alg = COSE_ALG_SHA_256;
	e.sender_id_len = 8;
	assert_int_equal(oscore_ctx_from_edhoc(&e, NULL, &c), EDHOC_E_INVALID_ARGUMENT);
}

static void test_small_buffers_are_refused_without_spending_a_number(void **state)
{
	oscore_ctx *cl = make(true, 0, 0), *sv = make(false, 0, 0);
	oscore_msg req, outer, inner;
	oscore_request_info ci, si;
	uint8_t buf[256], sbuf[256];
	oscore_msg_init(&req, OSCORE_CODE_GET);
	add_str(&req, OSCORE_OPT_URI_PATH, "abcdefgh");
	for (size_t cap = 0; cap < 30; cap++) {
		int r = oscore_protect_request(cl, &req, buf, cap, &outer, &ci);
		if (r == 0)
			break;
		assert_int_equal(r, EDHOC_E_BUFFER_TOO_SMALL);
		assert_int_equal(oscore_ctx_sender_seq(cl), 0);
	}
	assert_int_equal(oscore_protect_request(cl, &req, buf, sizeof(buf), &outer, &ci), 0);
	size_t need = outer.payload_len - 8;
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, need - 1, &inner, &si),
	                 EDHOC_E_BUFFER_TOO_SMALL);
	assert_int_equal(oscore_unprotect_request(sv, &outer, sbuf, need, &inner, &si), 0);
	oscore_ctx_free(cl);
	oscore_ctx_free(sv);
}

static void test_result_codes_map_to_coap(void **state)
{
	assert_int_equal(oscore_result_coap_code(OSCORE_E_OPTION_MALFORMED), 0x82);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_NO_CONTEXT), 0x81);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_REPLAY), 0x81);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_TOO_OLD), 0x81);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_DECRYPT), 0x80);
	assert_int_equal(oscore_result_coap_code(OSCORE_E_LEASE_FAILED), 0xa0);
	assert_int_equal(oscore_result_coap_code(0), 0);
	assert_string_equal(oscore_result_diagnostic(OSCORE_E_DECRYPT), "Decryption failed");
	/* Context size stays what the header promises. */
	printf("# oscore_ctx_size() = %zu bytes\n", oscore_ctx_size());
	assert_true(oscore_ctx_size() <= 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_option_coding_uses_extended_deltas_and_lengths),
	    cmocka_unit_test(test_malformed_bodies_are_rejected),
	    cmocka_unit_test(test_uint_option_values),
	    cmocka_unit_test(test_oscore_option_values),
	    cmocka_unit_test(test_option_class_table),
	    cmocka_unit_test(test_request_options_by_class_both_directions),
	    cmocka_unit_test(test_response_options_by_class_both_directions),
	    cmocka_unit_test(test_proxy_uri_is_decomposed),
	    cmocka_unit_test(test_observe_registration_and_notifications),
	    cmocka_unit_test(test_every_application_aead_round_trips),
	    cmocka_unit_test(test_bad_parameters_are_refused),
	    cmocka_unit_test(test_small_buffers_are_refused_without_spending_a_number),
	    cmocka_unit_test(test_result_codes_map_to_coap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
