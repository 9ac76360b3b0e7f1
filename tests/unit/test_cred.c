/* Credentials: CCS and X.509 against RFC 9529, ID_CRED encodings, malformed
 * input, credential files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "certgen.h"
#include "edhoc/cbor.h"
#include "edhoc/cred.h"
#include "testutil.h"
#include "tools/credfile.h"

static json_t *vectors;
static json_t *t1, *t2; /* traces[0].values, traces[1].values */
static char tmpdir[64];

static int setup(void **state)
{
	vectors = tu_load_vectors("edhoc-rfc9529.json");
	json_t *traces = json_object_get(vectors, "traces");
	t1 = json_object_get(json_array_get(traces, 0), "values");
	t2 = json_object_get(json_array_get(traces, 1), "values");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cred.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return t1 && t2 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	json_decref(vectors);
	/* Only our own mkdtemp folder. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		print_error("got  %s\n", tu_to_hex(got, got_len));
		print_error("want %s\n", tu_to_hex(want, want_len));
		fail();
	}
}

static void write_file(const char *name, const void *data, size_t len, mode_t mode, char *path,
                       size_t cap)
{
	snprintf(path, cap, "%s/%s", tmpdir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void write_text(const char *name, const char *text, mode_t mode, char *path, size_t cap)
{
	write_file(name, text, strlen(text), mode, path, cap);
}

/* ---- RFC 9529 trace 2: CCS ---- */

static void test_trace2_ccs_built_from_public_key_matches_cred_i_and_cred_r(void **state)
{
	static const struct {
		const char *x, *y, *cred, *sub;
		uint8_t kid;
	} cases[] = {
	    {"PK_I_x", "PK_I_y", "CRED_I", "42-50-31-FF-EF-37-32-39", 0x2b},
	    {"PK_R_x", "PK_R_y", "CRED_R", "example.edu", 0x32},
	};
	for (size_t i = 0; i < 2; i++) {
		size_t xl, yl, cl, out_len;
		uint8_t *x = tu_hex_member(t2, cases[i].x, &xl);
		uint8_t *y = tu_hex_member(t2, cases[i].y, &yl);
		uint8_t *cred = tu_hex_member(t2, cases[i].cred, &cl);
		uint8_t out[256];
		crypto_key *k = NULL;

		assert_int_equal(crypto_key_from_public(COSE_CRV_P256, x, xl, y, yl, &k), 0);
		assert_int_equal(cose_ccs_build(k, cases[i].sub, &cases[i].kid, 1, false, out,
		                                sizeof(out), &out_len),
		                 0);
		assert_bytes(out, out_len, cred, cl);
		/* Too small a buffer is reported, not overrun. */
		assert_int_equal(
		    cose_ccs_build(k, cases[i].sub, &cases[i].kid, 1, false, out, cl - 1, &out_len),
		    EDHOC_E_BUFFER_TOO_SMALL);
		crypto_key_free(k);
		free(x);
		free(y);
		free(cred);
	}
}

static void test_trace2_ccs_built_from_private_key_matches_cred_i(void **state)
{
	size_t sl, cl, out_len;
	uint8_t *sk = tu_hex_member(t2, "SK_I", &sl);
	uint8_t *cred = tu_hex_member(t2, "CRED_I", &cl);
	uint8_t out[256], kid = 0x2b;
	crypto_key *k = NULL;

	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, sk, sl, &k), 0);
	assert_int_equal(cose_ccs_build(k, "42-50-31-FF-EF-37-32-39", &kid, 1, false, out,
	                                sizeof(out), &out_len),
	                 0);
	assert_bytes(out, out_len, cred, cl);

	/* With the private key: the same CCS plus -4: d at the end of the
	 * COSE_Key, which has one pair more. */
	assert_int_equal(
	    cose_ccs_build(k, "42-50-31-FF-EF-37-32-39", &kid, 1, true, out, sizeof(out), &out_len),
	    0);
	assert_int_equal(out_len, cl + 1 + 2 + sl);
	cose_ccs p;
	assert_int_equal(cose_ccs_parse(out, out_len, false, &p), EDHOC_E_CRED_HAS_PRIVATE);
	assert_int_equal(cose_ccs_parse(out, out_len, true, &p), 0);
	assert_bytes(p.d, p.d_len, sk, sl);

	/* The credential made from it has CRED_x without d, and a private key. */
	cose_cred *c = NULL;
	size_t len;
	assert_int_equal(cose_cred_from_ccs(out, out_len, EDHOC_ID_CRED_KID, true, &c), 0);
	const uint8_t *b = cose_cred_bytes(c, &len);
	assert_bytes(b, len, cred, cl);
	assert_true(crypto_key_has_private(cose_cred_key(c)));
	cose_cred_free(c);

	crypto_key_free(k);
	free(sk);
	free(cred);
}

static void test_trace2_ccs_parses_into_fields(void **state)
{
	size_t cl, xl, yl;
	uint8_t *cred = tu_hex_member(t2, "CRED_R", &cl);
	uint8_t *x = tu_hex_member(t2, "PK_R_x", &xl);
	uint8_t *y = tu_hex_member(t2, "PK_R_y", &yl);
	cose_ccs p;

	assert_int_equal(cose_ccs_parse(cred, cl, false, &p), 0);
	assert_int_equal(p.sub_len, 11);
	assert_memory_equal(p.sub, "example.edu", 11);
	assert_int_equal(p.kid_len, 1);
	assert_int_equal(p.kid[0], 0x32);
	assert_int_equal(p.kty, COSE_KTY_EC2);
	assert_int_equal(p.crv, COSE_CRV_P256);
	assert_bytes(p.x, p.x_len, x, xl);
	assert_bytes(p.y, p.y_len, y, yl);
	assert_null(p.d);
	free(cred);
	free(x);
	free(y);
}

static void test_trace2_cred_by_kid_has_id_cred_of_vector(void **state)
{
	static const char *const names[][2] = {{"CRED_I", "ID_CRED_I"}, {"CRED_R", "ID_CRED_R"}};
	for (size_t i = 0; i < 2; i++) {
		size_t cl, il, len;
		uint8_t *cred = tu_hex_member(t2, names[i][0], &cl);
		uint8_t *id = tu_hex_member(t2, names[i][1], &il);
		cose_cred *c = NULL;

		assert_int_equal(cose_cred_from_ccs(cred, cl, EDHOC_ID_CRED_KID, false, &c), 0);
		const uint8_t *b = cose_cred_id_cred(c, &len);
		assert_bytes(b, len, id, il);
		b = cose_cred_bytes(c, &len);
		assert_bytes(b, len, cred, cl);
		const edhoc_cred *e = cose_cred_edhoc(c);
		assert_int_equal(e->type, EDHOC_CRED_CCS);
		assert_ptr_equal(e->cred, b);
		assert_int_equal(e->id_cred_len, il);
		assert_non_null(e->key);
		assert_false(crypto_key_has_private(e->key));
		assert_string_equal(e->identity,
		                    i == 0 ? "42-50-31-FF-EF-37-32-39" : "example.edu");
		assert_int_equal(cose_cred_curve(c), COSE_CRV_P256);

		/* The received ID_CRED designates it; the other one does not. */
		edhoc_id_cred parsed;
		assert_int_equal(cose_id_cred_parse(id, il, &parsed), 0);
		assert_int_equal(parsed.label, EDHOC_ID_CRED_KID);
		assert_true(cose_cred_matches(c, &parsed));
		uint8_t other[] = {0xa1, 0x04, 0x41, 0x99};
		assert_int_equal(cose_id_cred_parse(other, sizeof(other), &parsed), 0);
		assert_false(cose_cred_matches(c, &parsed));
		cose_cred_free(c);
		free(cred);
		free(id);
	}
}

static void test_trace2_cred_by_value_is_kccs_map(void **state)
{
	size_t cl, len;
	uint8_t *cred = tu_hex_member(t2, "CRED_I", &cl);
	cose_cred *c = NULL, *c2 = NULL;

	assert_int_equal(cose_cred_from_ccs(cred, cl, EDHOC_ID_CRED_KCCS, false, &c), 0);
	const uint8_t *id = cose_cred_id_cred(c, &len);
	assert_int_equal(len, 2 + cl);
	assert_int_equal(id[0], 0xa1);
	assert_int_equal(id[1], 0x0e);
	assert_memory_equal(id + 2, cred, cl);

	/* Received by value, it turns into the same credential. */
	edhoc_id_cred parsed;
	assert_int_equal(cose_id_cred_parse(id, len, &parsed), 0);
	assert_int_equal(parsed.label, EDHOC_ID_CRED_KCCS);
	assert_bytes(parsed.ccs, parsed.ccs_len, cred, cl);
	assert_true(cose_cred_matches(c, &parsed));
	assert_int_equal(cose_cred_from_id_cred(&parsed, &c2), 0);
	const uint8_t *b = cose_cred_bytes(c2, &len);
	assert_bytes(b, len, cred, cl);
	b = cose_cred_id_cred(c2, &len);
	assert_bytes(b, len, parsed.map, parsed.map_len);
	assert_string_equal(cose_cred_identity(c2), "42-50-31-FF-EF-37-32-39");
	cose_cred_free(c2);
	cose_cred_free(c);
	free(cred);
}

/* ---- RFC 9529 trace 1: X.509 ---- */

static void test_trace1_x509_cred_and_x5t_match_vectors(void **state)
{
	static const char *const names[][4] = {
	    {"CRED_R_der", "CRED_R", "ID_CRED_R", "PK_R"},
	    {"CRED_I_der", "CRED_I", "ID_CRED_I", "PK_I"},
	};
	static const char *const cn[] = {"EDHOC Responder Ed25519", "EDHOC Initiator Ed25519"};
	for (size_t i = 0; i < 2; i++) {
		size_t dl, cl, il, pl, len, xl, yl;
		uint8_t *der = tu_hex_member(t1, names[i][0], &dl);
		uint8_t *cred = tu_hex_member(t1, names[i][1], &cl);
		uint8_t *id = tu_hex_member(t1, names[i][2], &il);
		uint8_t *pk = tu_hex_member(t1, names[i][3], &pl);
		uint8_t x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
		const uint8_t *ders[1] = {der};
		cose_cred *c = NULL;

		assert_int_equal(cose_cred_from_x509(ders, &dl, 1, EDHOC_ID_CRED_X5T, &c), 0);
		const uint8_t *b = cose_cred_bytes(c, &len);
		assert_bytes(b, len, cred, cl);
		b = cose_cred_id_cred(c, &len);
		assert_bytes(b, len, id, il);
		assert_string_equal(cose_cred_identity(c), cn[i]);
		assert_int_equal(cose_cred_type(c), EDHOC_CRED_X509);
		assert_int_equal(cose_cred_curve(c), COSE_CRV_ED25519);
		assert_int_equal(crypto_key_public(cose_cred_key(c), x, &xl, y, &yl), 0);
		assert_bytes(x, xl, pk, pl);
		b = cose_cred_cert(c, 0, &len);
		assert_bytes(b, len, der, dl);
		assert_null(cose_cred_cert(c, 1, &len));

		/* x5t hash alone, and the received ID_CRED matching. */
		uint8_t h[32];
		size_t hl;
		assert_int_equal(cose_x5t_hash(COSE_ALG_SHA_256_64, der, dl, h, &hl), 0);
		assert_bytes(h, hl, id + il - 8, 8);
		edhoc_id_cred parsed;
		assert_int_equal(cose_id_cred_parse(id, il, &parsed), 0);
		assert_int_equal(parsed.label, EDHOC_ID_CRED_X5T);
		assert_int_equal(parsed.x5t_alg, COSE_ALG_SHA_256_64);
		assert_true(cose_cred_matches(c, &parsed));

		/* The full SHA-256 form matches too. */
		uint8_t map[64];
		size_t ml;
		assert_int_equal(cose_id_cred_x5t(COSE_ALG_SHA_256, der, dl, map, sizeof(map), &ml),
		                 0);
		assert_int_equal(ml, 1 + 2 + 1 + 1 + 2 + 32);
		assert_int_equal(cose_id_cred_parse(map, ml, &parsed), 0);
		assert_int_equal(parsed.x5t_alg, COSE_ALG_SHA_256);
		assert_true(cose_cred_matches(c, &parsed));
		map[ml - 1] ^= 1;
		assert_int_equal(cose_id_cred_parse(map, ml, &parsed), 0);
		assert_false(cose_cred_matches(c, &parsed));
		cose_cred_free(c);
		free(der);
		free(cred);
		free(id);
		free(pk);
	}
}

static void test_trace1_x5chain_by_value(void **state)
{
	size_t dl, cl, len, dl2;
	uint8_t *der = tu_hex_member(t1, "CRED_R_der", &dl);
	uint8_t *cred = tu_hex_member(t1, "CRED_R", &cl);
	uint8_t *der2 = tu_hex_member(t1, "CRED_I_der", &dl2);
	const uint8_t *ders[2] = {der, der2};
	size_t lens[2] = {dl, dl2};
	cose_cred *c = NULL, *c2 = NULL;

	/* One certificate: {33: bstr}, i.e. a1 18 21 followed by CRED_R. */
	assert_int_equal(cose_cred_from_x509(ders, lens, 1, EDHOC_ID_CRED_X5CHAIN, &c), 0);
	const uint8_t *id = cose_cred_id_cred(c, &len);
	assert_int_equal(len, 3 + cl);
	assert_memory_equal(id, "\xa1\x18\x21", 3);
	assert_memory_equal(id + 3, cred, cl);
	edhoc_id_cred parsed;
	assert_int_equal(cose_id_cred_parse(id, len, &parsed), 0);
	assert_int_equal(parsed.label, EDHOC_ID_CRED_X5CHAIN);
	assert_int_equal(parsed.n_certs, 1);
	assert_true(cose_cred_matches(c, &parsed));
	assert_int_equal(cose_cred_from_id_cred(&parsed, &c2), 0);
	const uint8_t *b = cose_cred_bytes(c2, &len);
	assert_bytes(b, len, cred, cl);
	assert_string_equal(cose_cred_identity(c2), "EDHOC Responder Ed25519");
	cose_cred_free(c2);
	cose_cred_free(c);

	/* Two certificates: {33: [bstr, bstr]}. */
	uint8_t map[1024];
	size_t ml;
	assert_int_equal(
	    cose_id_cred_certs(EDHOC_ID_CRED_X5CHAIN, ders, lens, 2, map, sizeof(map), &ml), 0);
	assert_int_equal(ml, 3 + 1 + cl + 2 + dl2);
	assert_int_equal(map[3], 0x82);
	assert_int_equal(cose_id_cred_parse(map, ml, &parsed), 0);
	assert_int_equal(parsed.n_certs, 2);
	assert_bytes(parsed.certs[1], parsed.cert_lens[1], der2, dl2);
	free(der);
	free(der2);
	free(cred);
}

static void test_x5bag_end_entity_is_the_certificate_that_issued_none(void **state)
{
	crypto_key *ca = NULL, *leaf = NULL;
	uint8_t *ca_der = NULL, *leaf_der = NULL;
	size_t ca_len, leaf_len, ee, len;
	cose_cred *c = NULL;

	assert_int_equal(cose_key_generate(COSE_CRV_ED25519, NULL, NULL, &ca), 0);
	assert_int_equal(cose_key_generate(COSE_CRV_X25519, NULL, NULL, &leaf), 0);
	assert_int_equal(certgen_make(ca, "Test CA", ca, "Test CA", true, &ca_der, &ca_len), 0);
	assert_int_equal(certgen_make(leaf, "device-7", ca, "Test CA", false, &leaf_der, &leaf_len),
	                 0);

	/* Bag order CA first: the end-entity is still found. */
	const uint8_t *ders[2] = {ca_der, leaf_der};
	size_t lens[2] = {ca_len, leaf_len};
	uint8_t map[2048];
	size_t ml;
	edhoc_id_cred parsed;
	assert_int_equal(
	    cose_id_cred_certs(EDHOC_ID_CRED_X5BAG, ders, lens, 2, map, sizeof(map), &ml), 0);
	assert_int_equal(map[1], 0x18);
	assert_int_equal(map[2], 0x20);
	assert_int_equal(cose_id_cred_parse(map, ml, &parsed), 0);
	assert_int_equal(cose_id_cred_end_entity(&parsed, &ee), 0);
	assert_int_equal(ee, 1);
	assert_int_equal(cose_cred_from_id_cred(&parsed, &c), 0);
	const uint8_t *b = cose_cred_cert(c, 0, &len);
	assert_bytes(b, len, leaf_der, leaf_len);
	b = cose_cred_cert(c, 1, &len);
	assert_bytes(b, len, ca_der, ca_len);
	assert_string_equal(cose_cred_identity(c), "device-7");
	assert_int_equal(cose_cred_curve(c), COSE_CRV_X25519);
	assert_true(cose_cred_matches(c, &parsed));
	cose_cred_free(c);

	/* Two unrelated self-signed certificates: no single end-entity. */
	uint8_t *other = NULL;
	size_t other_len;
	assert_int_equal(certgen_make(ca, "Other", ca, "Other", true, &other, &other_len), 0);
	ders[1] = other;
	lens[1] = other_len;
	assert_int_equal(
	    cose_id_cred_certs(EDHOC_ID_CRED_X5BAG, ders, lens, 2, map, sizeof(map), &ml), 0);
	assert_int_equal(cose_id_cred_parse(map, ml, &parsed), 0);
	assert_int_equal(cose_id_cred_end_entity(&parsed, &ee), EDHOC_E_CRED_MALFORMED);
	free(other);

	free(ca_der);
	free(leaf_der);
	crypto_key_free(ca);
	crypto_key_free(leaf);
}

static void test_certificate_cn_with_control_characters_is_refused(void **state)
{
	crypto_key *k = NULL;
	uint8_t *der = NULL;
	size_t len;
	cose_cred *c = NULL;

	assert_int_equal(cose_key_generate(COSE_CRV_ED25519, NULL, NULL, &k), 0);
	assert_int_equal(certgen_make(k, "dev\nforged log line", k, "ca", false, &der, &len), 0);
	const uint8_t *ders[1] = {der};
	assert_int_equal(cose_cred_from_x509(ders, &len, 1, EDHOC_ID_CRED_X5T, &c),
	                 EDHOC_E_CRED_MALFORMED);
	assert_null(c);
	free(der);
	crypto_key_free(k);
}

/* ---- malformed input ---- */

/* A CCS with a COSE_Key made of the given pairs (already encoded). */
static size_t ccs_with_key(uint8_t *out, size_t cap, size_t pairs, const uint8_t *key_body,
                           size_t body_len)
{
	cose_writer w;
	cose_writer_init(&w, out, cap);
	cose_write_map(&w, 1);
	cose_write_uint(&w, 8);
	cose_write_map(&w, 1);
	cose_write_uint(&w, 1);
	cose_write_map(&w, pairs);
	cose_write_raw(&w, key_body, body_len);
	assert_int_equal(cose_writer_result(&w), 0);
	return w.len;
}

static void test_malformed_ccs_rejected_with_precise_codes(void **state)
{
	size_t cl, xl;
	uint8_t *cred = tu_hex_member(t2, "CRED_I", &cl);
	uint8_t *x = tu_hex_member(t2, "PK_I_x", &xl);
	uint8_t buf[512], body[256];
	cose_ccs p;
	cose_writer w;
	size_t n;

	/* Every truncation fails (and never reads past the end). */
	for (size_t i = 0; i < cl; i++) {
		uint8_t *copy = malloc(i ? i : 1);
		memcpy(copy, cred, i);
		assert_true(cose_ccs_parse(copy, i, false, &p) < 0);
		free(copy);
	}
	/* Trailing bytes. */
	memcpy(buf, cred, cl);
	buf[cl] = 0x00;
	assert_int_equal(cose_ccs_parse(buf, cl + 1, false, &p), EDHOC_E_TRAILING_BYTES);
	/* Not a map; a map without cnf. */
	assert_int_equal(cose_ccs_parse((const uint8_t *)"\x80", 1, false, &p),
	                 EDHOC_E_CRED_MALFORMED);
	assert_int_equal(cose_ccs_parse((const uint8_t *)"\xa0", 1, false, &p),
	                 EDHOC_E_CRED_MALFORMED);
	assert_int_equal(cose_ccs_parse((const uint8_t *)"\xa1\x02\x61\x41", 4, false, &p),
	                 EDHOC_E_CRED_MALFORMED);
	/* Non-shortest map head (b8 02 instead of a2). */
	buf[0] = 0xb8;
	buf[1] = 0x02;
	memcpy(buf + 2, cred + 1, cl - 1);
	assert_int_equal(cose_ccs_parse(buf, cl + 1, false, &p), EDHOC_E_CBOR_NOT_DETERMINISTIC);
	/* Indefinite-length map. */
	assert_int_equal(cose_ccs_parse((const uint8_t *)"\xbf\xff", 2, false, &p),
	                 EDHOC_E_CBOR_NOT_DETERMINISTIC);
	/* Duplicate claim key: {2: "a", 2: "b", 8: ...}. */
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_map(&w, 3);
	cose_write_uint(&w, 2);
	cose_write_tstr(&w, "a", 1);
	cose_write_uint(&w, 2);
	cose_write_tstr(&w, "b", 1);
	cose_write_raw(&w, cred + 1 + 1 + 24, cl - 26); /* 8: {...} of CRED_I */
	assert_int_equal(cose_writer_result(&w), 0);
	assert_int_equal(cose_ccs_parse(buf, w.len, false, &p), EDHOC_E_CRED_MALFORMED);
	/* sub with a NUL or a newline: would shorten or forge the identity. */
	static const char *const bad_subs[] = {"adm\0in", "a\nb"};
	for (int k = 0; k < 2; k++) {
		cose_writer_init(&w, buf, sizeof(buf));
		cose_write_map(&w, 2);
		cose_write_uint(&w, 2);
		cose_write_tstr(&w, bad_subs[k], k == 0 ? 6 : 3);
		cose_write_raw(&w, cred + 26, cl - 26);
		assert_int_equal(cose_writer_result(&w), 0);
		assert_int_equal(cose_ccs_parse(buf, w.len, false, &p), EDHOC_E_CRED_MALFORMED);
	}
	/* sub of the wrong type. */
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_map(&w, 2);
	cose_write_uint(&w, 2);
	cose_write_bstr(&w, (const uint8_t *)"a", 1);
	cose_write_raw(&w, cred + 26, cl - 26);
	assert_int_equal(cose_ccs_parse(buf, w.len, false, &p), EDHOC_E_CRED_MALFORMED);

	/* COSE_Key problems. */
#define KEY(...)                                             \
	do {                                                 \
		cose_writer_init(&w, body, sizeof(body));    \
		__VA_ARGS__;                                 \
		assert_int_equal(cose_writer_result(&w), 0); \
	} while (0)
	/* crv 9 (unassigned) */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 2); cose_write_int(&w, -1);
	    cose_write_int(&w, 9); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_ALG_UNSUPPORTED);
	/* kty 3 (RSA) */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 3); cose_write_int(&w, -1);
	    cose_write_int(&w, 1); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_ALG_UNSUPPORTED);
	/* kty OKP with crv P-256 */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 1); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_KEY_INVALID);
	/* x one byte short */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 2); cose_write_int(&w, -1);
	    cose_write_int(&w, 1); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl - 1));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_KEY_INVALID);
	/* y on an OKP key */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 4); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl);
	    cose_write_int(&w, -3); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 4, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_KEY_INVALID);
	/* no x */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 4));
	n = ccs_with_key(buf, sizeof(buf), 2, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_CRED_MALFORMED);
	/* duplicate kty */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_uint(&w, 1);
	    cose_write_uint(&w, 1); cose_write_int(&w, -1); cose_write_int(&w, 4);
	    cose_write_int(&w, -2); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 4, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_CRED_MALFORMED);
	/* x as a text string */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 4); cose_write_int(&w, -2); cose_write_tstr(&w, "x", 1));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_CRED_MALFORMED);
	/* private key where only a public one may be */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 4); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl);
	    cose_write_int(&w, -4); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 4, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), EDHOC_E_CRED_HAS_PRIVATE);
	/* ... and with a private key that is not the public key's */
	cose_cred *c = NULL;
	assert_int_equal(cose_cred_from_ccs(buf, n, EDHOC_ID_CRED_KCCS, true, &c),
	                 EDHOC_E_CRED_KEY_MISMATCH);
	assert_null(c);
	/* An EC2 x that is not on the curve (y given). */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 2); cose_write_int(&w, -1);
	    cose_write_int(&w, 1); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl);
	    cose_write_int(&w, -3); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 4, body, w.len);
	assert_int_equal(cose_ccs_parse(buf, n, false, &p), 0);
	assert_true(cose_cred_from_ccs(buf, n, EDHOC_ID_CRED_KCCS, false, &c) < 0);
	assert_null(c);
	/* By kid without a kid. */
	KEY(cose_write_uint(&w, 1); cose_write_uint(&w, 1); cose_write_int(&w, -1);
	    cose_write_int(&w, 4); cose_write_int(&w, -2); cose_write_bstr(&w, x, xl));
	n = ccs_with_key(buf, sizeof(buf), 3, body, w.len);
	assert_int_equal(cose_cred_from_ccs(buf, n, EDHOC_ID_CRED_KID, false, &c),
	                 EDHOC_E_CRED_MALFORMED);
	/* A cnf without COSE_Key. */
	assert_int_equal(cose_ccs_parse((const uint8_t *)"\xa1\x08\xa1\x03\x41\x01", 6, false, &p),
	                 EDHOC_E_CRED_MALFORMED);
#undef KEY
	/* Deeply nested unknown claim: bounded, rejected. */
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_map(&w, 2);
	cose_write_uint(&w, 99);
	for (int i = 0; i < 40; i++)
		cose_write_array(&w, 1);
	cose_write_uint(&w, 0);
	cose_write_raw(&w, cred + 26, cl - 26);
	assert_true(cose_ccs_parse(buf, w.len, false, &p) < 0);
	/* ... while a shallow unknown claim is skipped. */
	cose_writer_init(&w, buf, sizeof(buf));
	cose_write_map(&w, 2);
	cose_write_uint(&w, 99);
	cose_write_array(&w, 1);
	cose_write_uint(&w, 0);
	cose_write_raw(&w, cred + 26, cl - 26);
	assert_int_equal(cose_ccs_parse(buf, w.len, false, &p), 0);
	free(cred);
	free(x);
}

static void test_malformed_id_cred_rejected(void **state)
{
	edhoc_id_cred id;
	static const struct {
		const char *hex;
		int rc;
	} cases[] = {
	    {"a0", EDHOC_E_ID_CRED_MALFORMED},                             /* empty map */
	    {"80", EDHOC_E_ID_CRED_MALFORMED},                             /* not a map */
	    {"a10441", EDHOC_E_CBOR_TRUNCATED},                            /* kid truncated */
	    {"a10401", EDHOC_E_ID_CRED_MALFORMED},                         /* kid not a bstr */
	    {"a1182282", EDHOC_E_CBOR_TRUNCATED},                          /* x5t truncated */
	    {"a11822822e4101", EDHOC_E_ID_CRED_MALFORMED},                 /* x5t hash too short */
	    {"a118228220480102030405060708", EDHOC_E_ID_CRED_UNSUPPORTED}, /* x5t alg -1 */
	    {"a1182281412b", EDHOC_E_ID_CRED_MALFORMED},                   /* x5t array of 1 */
	    {"a1182181410a", EDHOC_E_ID_CRED_MALFORMED},                   /* x5chain array of 1 */
	    {"a1182140", EDHOC_E_ID_CRED_MALFORMED},                       /* x5chain empty cert */
	    {"a11821854101410141014101410a", EDHOC_E_LIMIT},               /* 5 certificates */
	    {"a20441010441", EDHOC_E_ID_CRED_MALFORMED},                   /* kid twice */
	    {"a204412b0e", EDHOC_E_ID_CRED_MALFORMED},                     /* kid + kccs */
	    {"a1014101", EDHOC_E_ID_CRED_UNSUPPORTED},                     /* only label 1 */
	    {"a104412b00", EDHOC_E_TRAILING_BYTES},
	    {"a10e01", EDHOC_E_ID_CRED_MALFORMED}, /* kccs not a map */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *b = tu_hex(cases[i].hex, &len);
		int rc = cose_id_cred_parse(b, len, &id);
		if (rc != cases[i].rc) {
			print_error("%s: got %s want %s\n", cases[i].hex, edhoc_result_name(rc),
			            edhoc_result_name(cases[i].rc));
			fail();
		}
		free(b);
	}
}

/* Random byte flips, truncations and insertions in a CCS and in ID_CRED
 * maps by value: every outcome is 0 or a listed code, never a crash or an
 * out-of-bounds read (run under ASan).  Bounded: a fixed count, fixed seed. */
static void test_mutated_credentials_never_crash(void **state)
{
	size_t cl, dl;
	uint8_t *cred = tu_hex_member(t2, "CRED_I", &cl);
	uint8_t *der = tu_hex_member(t1, "CRED_R_der", &dl);
	uint8_t seeds[3][512], buf[600];
	size_t seed_len[3];
	uint32_t rnd = 0x12345678;
	unsigned accepted = 0;

	memcpy(seeds[0], cred, cl);
	seed_len[0] = cl;
	assert_int_equal(cose_id_cred_kccs(cred, cl, seeds[1], sizeof(seeds[1]), &seed_len[1]), 0);
	const uint8_t *ders[1] = {der};
	assert_int_equal(cose_id_cred_certs(EDHOC_ID_CRED_X5CHAIN, ders, &dl, 1, seeds[2],
	                                    sizeof(seeds[2]), &seed_len[2]),
	                 0);
	for (int iter = 0; iter < 6000; iter++) {
		int which = iter % 3;
		size_t len = seed_len[which];
		memcpy(buf, seeds[which], len);
		for (int k = 0; k < 1 + (iter / 3) % 4; k++) {
			rnd = rnd * 1103515245u + 12345u;
			size_t pos = (rnd >> 8) % len;
			switch ((rnd >> 4) % 4) {
			case 0:
				buf[pos] ^= (uint8_t)(1u << ((rnd >> 20) % 8));
				break;
			case 1:
				buf[pos] = (uint8_t)(rnd >> 24);
				break;
			case 2:
				len = pos + 1;
				break;
			default:
				if (len < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = (uint8_t)(rnd >> 16);
					len++;
				}
				break;
			}
		}
		/* An exact-size copy so ASan catches any read past the end. */
		uint8_t *copy = malloc(len);
		memcpy(copy, buf, len);
		cose_cred *c = NULL;
		int rc;
		if (which == 0) {
			cose_ccs p;
			rc = cose_ccs_parse(copy, len, true, &p);
			if (rc == 0)
				rc = cose_cred_from_ccs(copy, len, EDHOC_ID_CRED_KCCS, true, &c);
		} else {
			edhoc_id_cred id;
			rc = cose_id_cred_parse(copy, len, &id);
			if (rc == 0 &&
			    (id.label == EDHOC_ID_CRED_KCCS || id.label == EDHOC_ID_CRED_X5CHAIN ||
			     id.label == EDHOC_ID_CRED_X5BAG))
				rc = cose_cred_from_id_cred(&id, &c);
		}
		assert_true(rc <= 0);
		assert_true(rc == 0 || edhoc_result_name(rc)[0] != '\0');
		assert_true(strcmp(edhoc_result_name(rc), "EDHOC_E_UNKNOWN") != 0);
		if (rc == 0) {
			assert_non_null(c);
			accepted++;
		}
		cose_cred_free(c);
		free(copy);
	}
	/* Some mutations only touch values (e.g. the sub text): accepted. */
	assert_true(accepted > 0);
	free(cred);
	free(der);
}

/* ---- credential files ---- */

static const char *trace2_own_text(char *out, size_t cap, const char *extra)
{
	size_t sl;
	uint8_t *sk = tu_hex_member(t2, "SK_I", &sl);
	snprintf(out, cap,
	         "# initiator of RFC 9529 trace 2\n"
	         "type = ccs\n"
	         "sub = 42-50-31-FF-EF-37-32-39\n"
	         "kid = 2b\n"
	         "\n"
	         "curve = P-256\n"
	         "d = %s\n"
	         "%s",
	         tu_to_hex(sk, sl), extra);
	free(sk);
	return out;
}

static void test_text_file_own_credential_reproduces_cred_i(void **state)
{
	char text[1024], path[256], err[256];
	size_t cl, il, len;
	uint8_t *cred = tu_hex_member(t2, "CRED_I", &cl);
	uint8_t *id = tu_hex_member(t2, "ID_CRED_I", &il);
	credfile_opts own = {.own = true};
	credfile *f = NULL;

	write_text("own.cred", trace2_own_text(text, sizeof(text), ""), 0600, path, sizeof(path));
	assert_int_equal(credfile_load(path, &own, &f, err, sizeof(err)), 0);
	const edhoc_cred *e = credfile_edhoc(f);
	assert_bytes(e->cred, e->cred_len, cred, cl);
	assert_bytes(e->id_cred, e->id_cred_len, id, il);
	assert_true(crypto_key_has_private(e->key));
	assert_string_equal(e->identity, "42-50-31-FF-EF-37-32-39");
	credfile_free(f);
	f = NULL;

	/* Also with matching x/y lines, and id_cred = kccs. */
	size_t xl, yl;
	uint8_t *x = tu_hex_member(t2, "PK_I_x", &xl), *y = tu_hex_member(t2, "PK_I_y", &yl);
	char extra[512];
	snprintf(extra, sizeof(extra), "x = %s\n", tu_to_hex(x, xl));
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "y = %s\nid_cred = kccs\n",
	         tu_to_hex(y, yl));
	write_text("own2.cred", trace2_own_text(text, sizeof(text), extra), 0600, path,
	           sizeof(path));
	assert_int_equal(credfile_load(path, &own, &f, err, sizeof(err)), 0);
	const uint8_t *b = cose_cred_id_cred(credfile_cred(f), &len);
	assert_int_equal(len, 2 + cl);
	assert_memory_equal(b + 2, cred, cl);
	credfile_free(f);
	f = NULL;

	/* A peer file with the same public key (x, y only). */
	snprintf(text, sizeof(text),
	         "type = ccs\nsub = 42-50-31-FF-EF-37-32-39\nkid = 2b\ncurve = p-256\n%s", extra);
	write_text("peer.cred", text, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), 0);
	b = cose_cred_bytes(credfile_cred(f), &len);
	assert_bytes(b, len, cred, cl);
	assert_false(crypto_key_has_private(cose_cred_key(credfile_cred(f))));
	credfile_free(f);
	free(x);
	free(y);
	free(cred);
	free(id);
}

static void test_text_file_private_key_needs_mode_0600(void **state)
{
	char text[1024], path[256], err[256];
	credfile_opts own = {.own = true};
	credfile *f = NULL;

	write_text("loose.cred", trace2_own_text(text, sizeof(text), ""), 0640, path, sizeof(path));
	assert_int_equal(credfile_load(path, &own, &f, err, sizeof(err)), EDHOC_E_CRED_FILE_MODE);
	assert_null(f);
	assert_non_null(strstr(err, "chmod 600"));
	assert_non_null(strstr(err, "0640"));
	/* A peer credential must never carry the private key. */
	write_text("peer-d.cred", trace2_own_text(text, sizeof(text), ""), 0600, path,
	           sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_HAS_PRIVATE);
	assert_non_null(strstr(err, ":7:"));
}

static void test_text_file_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *where;
	} cases[] = {
	    {"type = ccs\ncurve = P-256\nkid = zz\nx = 00\n", EDHOC_E_CRED_FILE_SYNTAX, ":3: kid"},
	    {"# c\ntype = ccs\nfoo = 1\n", EDHOC_E_CRED_FILE_SYNTAX, ":3: unknown field 'foo'"},
	    {"type = ccs\ntype = ccs\n", EDHOC_E_CRED_FILE_SYNTAX, ":2: 'type' repeated"},
	    {"type = ccs\nno equals sign\n", EDHOC_E_CRED_FILE_SYNTAX, ":2: expected"},
	    {"type = ccs\n\ncurve = P-999\n", EDHOC_E_CRED_FILE_SYNTAX, ":3: unknown curve"},
	    {"type = rsa\n", EDHOC_E_CRED_FILE_SYNTAX, ":1: type must be"},
	    {"kid = 01\n", EDHOC_E_CRED_FILE_SYNTAX, "missing 'type"},
	    {"type = ccs\ncurve = X25519\nsub =\n", EDHOC_E_CRED_FILE_SYNTAX, ":3: 'sub' has no"},
	    {"type = ccs\ncurve = X25519\ny = 01\n", EDHOC_E_CRED_FILE_SYNTAX, ":3: y is only"},
	    {"type = ccs\ncurve = X25519\nkid = 01\n", EDHOC_E_CRED_FILE_SYNTAX, "missing 'x"},
	    {"type = ccs\ncurve = X25519\nx = 0102\n", EDHOC_E_KEY_INVALID, ":3: x/y"},
	    {"type = ccs\ncurve = Ed25519\nx = 00\nid_cred = bogus\n", EDHOC_E_CRED_FILE_SYNTAX,
	     ":4: id_cred"},
	    {"type = x509\ncurve = P-256\n", EDHOC_E_CRED_FILE_SYNTAX, ":2: 'curve' belongs"},
	    {"type = ccs\ncert = a.pem\n", EDHOC_E_CRED_FILE_SYNTAX, ":2: 'cert' belongs"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256], err[256], want[300];
		credfile *f = NULL;
		write_text("bad.cred", cases[i].text, 0644, path, sizeof(path));
		int rc = credfile_load(path, NULL, &f, err, sizeof(err));
		snprintf(want, sizeof(want), "%s", cases[i].where);
		if (rc != cases[i].rc || !strstr(err, want) ||
		    strncmp(err, path, strlen(path)) != 0) {
			print_error("case %zu: rc %s, err '%s', want %s '%s'\n", i,
			            edhoc_result_name(rc), err, edhoc_result_name(cases[i].rc),
			            want);
			fail();
		}
		assert_null(f);
	}
}

static void test_binary_ccs_file_loads_as_peer_credential(void **state)
{
	char path[256], err[256];
	size_t cl, il;
	uint8_t *cred = tu_hex_member(t2, "CRED_R", &cl);
	uint8_t *id = tu_hex_member(t2, "ID_CRED_R", &il);
	credfile *f = NULL;

	write_file("r.ccs", cred, cl, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), 0);
	const edhoc_cred *e = credfile_edhoc(f);
	assert_bytes(e->cred, e->cred_len, cred, cl);
	assert_bytes(e->id_cred, e->id_cred_len, id, il);
	credfile_free(f);
	f = NULL;
	/* As an own credential it lacks the private key. */
	credfile_opts own = {.own = true};
	assert_int_equal(credfile_load(path, &own, &f, err, sizeof(err)), EDHOC_E_CRED_NO_PRIVATE);
	/* A damaged one names the problem. */
	write_file("bad.ccs", cred, cl - 3, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CBOR_TRUNCATED);
	assert_non_null(strstr(err, "not a valid CCS"));
	/* A text file with a NUL byte in it. */
	write_file("nul.cred", "type = ccs\n\0kid = 01\n", 21, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_FILE_SYNTAX);
	assert_non_null(strstr(err, "NUL"));
	/* Missing file. */
	snprintf(path, sizeof(path), "%s/none.ccs", tmpdir);
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_FILE_IO);
	assert_non_null(strstr(err, "No such file"));
	free(cred);
	free(id);
}

static void write_pem_key(const crypto_key *k, const char *name, mode_t mode, char *path,
                          size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_int_equal(PEM_write_bio_PrivateKey(b, crypto_key_evp(k), NULL, NULL, 0, NULL, NULL),
	                 1);
	long n = BIO_get_mem_data(b, &data);
	write_file(name, data, (size_t)n, mode, path, cap);
	BIO_free(b);
}

static void write_pem_cert(const uint8_t *der, size_t len, const char *name, char *path, size_t cap)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_non_null(x);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	long n = BIO_get_mem_data(b, &data);
	write_file(name, data, (size_t)n, 0644, path, cap);
	BIO_free(b);
	X509_free(x);
}

static void test_pem_certificate_and_key_load_as_own_credential(void **state)
{
	crypto_key *k = NULL, *other = NULL;
	uint8_t *der = NULL;
	size_t dl, len;
	char cert_path[256], key_path[256], bad_key[256], loose_key[256], err[256], path[256];
	credfile *f = NULL;

	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &k), 0);
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &other), 0);
	assert_int_equal(certgen_make(k, "gateway.example", k, "gateway.example", false, &der, &dl),
	                 0);
	write_pem_cert(der, dl, "gw.pem", cert_path, sizeof(cert_path));
	write_pem_key(k, "gw.key", 0600, key_path, sizeof(key_path));
	write_pem_key(other, "other.key", 0600, bad_key, sizeof(bad_key));
	write_pem_key(k, "loose.key", 0644, loose_key, sizeof(loose_key));

	/* Peer: the certificate alone, by x5t. */
	assert_int_equal(credfile_load(cert_path, NULL, &f, err, sizeof(err)), 0);
	const edhoc_cred *e = credfile_edhoc(f);
	assert_int_equal(e->type, EDHOC_CRED_X509);
	assert_string_equal(e->identity, "gateway.example");
	assert_int_equal(e->cred_len, dl + 3);
	assert_memory_equal(e->cred + 3, der, dl);
	assert_int_equal(e->id_cred[0], 0xa1);
	assert_int_equal(e->id_cred[2], 0x22);
	assert_false(crypto_key_has_private(e->key));
	credfile_free(f);
	f = NULL;

	/* Own: with its key, by x5chain. */
	credfile_opts own = {.own = true, .key_path = key_path, .id_label = EDHOC_ID_CRED_X5CHAIN};
	assert_int_equal(credfile_load(cert_path, &own, &f, err, sizeof(err)), 0);
	e = credfile_edhoc(f);
	assert_true(crypto_key_has_private(e->key));
	assert_int_equal(e->id_cred_len, 3 + e->cred_len);
	credfile_free(f);
	f = NULL;
	/* Own without a key, with the wrong key, with a readable key. */
	own.key_path = NULL;
	assert_int_equal(credfile_load(cert_path, &own, &f, err, sizeof(err)),
	                 EDHOC_E_CRED_NO_PRIVATE);
	own.key_path = bad_key;
	assert_int_equal(credfile_load(cert_path, &own, &f, err, sizeof(err)),
	                 EDHOC_E_CRED_KEY_MISMATCH);
	own.key_path = loose_key;
	assert_int_equal(credfile_load(cert_path, &own, &f, err, sizeof(err)),
	                 EDHOC_E_CRED_FILE_MODE);
	assert_null(f);

	/* DER file works the same. */
	write_file("gw.der", der, dl, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), 0);
	const uint8_t *b = cose_cred_cert(credfile_cred(f), 0, &len);
	assert_bytes(b, len, der, dl);
	credfile_free(f);
	f = NULL;

	/* The .cred text form pointing at them (paths relative to it). */
	write_text("gw.cred", "type = x509\ncert = gw.pem\nkey = gw.key\nid_cred = x5t\n", 0644,
	           path, sizeof(path));
	own = (credfile_opts){.own = true};
	assert_int_equal(credfile_load(path, &own, &f, err, sizeof(err)), 0);
	assert_true(crypto_key_has_private(credfile_edhoc(f)->key));
	assert_string_equal(credfile_edhoc(f)->identity, "gateway.example");
	credfile_free(f);
	f = NULL;
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_HAS_PRIVATE);

	free(der);
	crypto_key_free(k);
	crypto_key_free(other);
}

/* A damaged certificate file gets a certificate error that names the file
 * (and the PEM block's line), never the .cred text parser's "expected
 * 'name = value'", which would send the operator looking for a syntax
 * error in a file that has no syntax. */
static void test_garbage_certificate_files_get_certificate_errors(void **state)
{
	crypto_key *k = NULL;
	uint8_t *der = NULL;
	size_t dl;
	char path[256], want[512], err[512];
	credfile *f = NULL;

	/* Text in a .pem/.crt/.der file: no PEM block, not DER. */
	static const char *const names[] = {"junk.pem", "junk.crt", "junk.der"};
	for (size_t i = 0; i < 3; i++) {
		write_text(names[i], "hello world\nthis is no certificate\n", 0644, path,
		           sizeof(path));
		assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)),
		                 EDHOC_E_CRED_MALFORMED);
		snprintf(want, sizeof(want),
		         "%s: not an X.509 certificate: no PEM '-----BEGIN' line and not DER",
		         path);
		assert_string_equal(err, want);
		assert_null(f);
	}
	/* A .ccs that is text: says what a .ccs must be. */
	write_text("junk.ccs", "hello\n", 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_MALFORMED);
	snprintf(want, sizeof(want),
	         "%s: not a CCS: a .ccs file is one binary CBOR map (first byte 0x68)", path);
	assert_string_equal(err, want);

	/* A PEM block with a damaged body: its line, OpenSSL's reason. */
	write_text("bad64.pem",
	           "# gateway certificate\n\n-----BEGIN CERTIFICATE-----\nMIIB!!!!\n"
	           "-----END CERTIFICATE-----\n",
	           0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_MALFORMED);
	snprintf(want, sizeof(want), "%s:3: PEM block does not decode", path);
	assert_non_null(strstr(err, want));

	/* A PEM file holding a private key where a certificate belongs. */
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &k), 0);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_int_equal(PEM_write_bio_PrivateKey(b, crypto_key_evp(k), NULL, NULL, 0, NULL, NULL),
	                 1);
	long n = BIO_get_mem_data(b, &data);
	write_file("key.pem", data, (size_t)n, 0644, path, sizeof(path));
	BIO_free(b);
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_HAS_PRIVATE);
	snprintf(want, sizeof(want),
	         "%s:1: a PEM PRIVATE KEY where a certificate belongs; a peer credential must "
	         "not contain a private key",
	         path);
	assert_string_equal(err, want);

	/* A PEM block of another kind and no certificate. */
	write_text("req.pem",
	           "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
	           "-----END CERTIFICATE REQUEST-----\n",
	           0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_MALFORMED);
	snprintf(want, sizeof(want), "%s:1: a PEM CERTIFICATE REQUEST, not a CERTIFICATE", path);
	assert_string_equal(err, want);

	/* DER with bytes after the certificate is refused; the same
	 * certificate as PEM loads. */
	assert_int_equal(certgen_make(k, "dev-9", k, "dev-9", false, &der, &dl), 0);
	uint8_t *padded = malloc(dl + 2);
	memcpy(padded, der, dl);
	padded[dl] = 0;
	padded[dl + 1] = 0;
	write_file("pad.der", padded, dl + 2, 0644, path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), EDHOC_E_CRED_MALFORMED);
	snprintf(want, sizeof(want), "%s: not a DER X.509 certificate", path);
	assert_non_null(strstr(err, want));
	free(padded);
	write_pem_cert(der, dl, "good.pem", path, sizeof(path));
	assert_int_equal(credfile_load(path, NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(credfile_edhoc(f)->identity, "dev-9");
	credfile_free(f);
	free(der);
	crypto_key_free(k);
}

static void test_written_files_reload_identically_and_are_not_overwritten(void **state)
{
	static const int crvs[] = {COSE_CRV_P256, COSE_CRV_P384,    COSE_CRV_X25519,
	                           COSE_CRV_X448, COSE_CRV_ED25519, COSE_CRV_ED448};
	for (size_t i = 0; i < sizeof(crvs) / sizeof(crvs[0]); i++) {
		crypto_key *k = NULL;
		cose_cred *c = NULL;
		credfile *f = NULL, *g = NULL;
		uint8_t ccs[512], kid[2] = {0xa0, (uint8_t)i};
		size_t ccs_len, l1, l2;
		char own_path[256], pub_path[256], err[256];
		struct stat st;

		snprintf(own_path, sizeof(own_path), "%s/k%zu.cred", tmpdir, i);
		snprintf(pub_path, sizeof(pub_path), "%s/k%zu.ccs", tmpdir, i);
		assert_int_equal(cose_key_generate(crvs[i], NULL, NULL, &k), 0);
		assert_int_equal(
		    cose_ccs_build(k, "dev", kid, 2, false, ccs, sizeof(ccs), &ccs_len), 0);
		assert_int_equal(cose_cred_from_ccs(ccs, ccs_len, EDHOC_ID_CRED_KID, false, &c), 0);
		assert_int_equal(cose_cred_set_private(c, k), 0);
		assert_int_equal(credfile_write_text(own_path, c, true, false, err, sizeof(err)),
		                 0);
		assert_int_equal(credfile_write_ccs(pub_path, c, false, err, sizeof(err)), 0);
		assert_int_equal(stat(own_path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(stat(pub_path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);

		credfile_opts own = {.own = true};
		assert_int_equal(credfile_load(own_path, &own, &f, err, sizeof(err)), 0);
		assert_int_equal(credfile_load(pub_path, NULL, &g, err, sizeof(err)), 0);
		const uint8_t *a = cose_cred_bytes(credfile_cred(f), &l1);
		const uint8_t *b = cose_cred_bytes(credfile_cred(g), &l2);
		assert_bytes(a, l1, ccs, ccs_len);
		assert_bytes(b, l2, ccs, ccs_len);
		assert_true(crypto_key_has_private(cose_cred_key(credfile_cred(f))));

		/* Existing files stay unless forced. */
		assert_int_equal(credfile_write_text(own_path, c, true, false, err, sizeof(err)),
		                 EDHOC_E_CRED_FILE_EXISTS);
		assert_non_null(strstr(err, "--force"));
		assert_int_equal(credfile_write_ccs(pub_path, c, true, err, sizeof(err)), 0);

		char text[4096];
		credfile_describe(credfile_cred(f), text, sizeof(text));
		assert_non_null(strstr(text, "kid:      a0"));
		assert_non_null(strstr(text, cose_curve_name(crvs[i])));
		assert_non_null(strstr(text, "private key present"));
		credfile_free(f);
		credfile_free(g);
		cose_cred_free(c);
		crypto_key_free(k);
	}
}

static void test_key_fits_suite_roles(void **state)
{
	crypto_key *p256 = NULL, *x25519 = NULL, *ed25519 = NULL;
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &p256), 0);
	assert_int_equal(cose_key_generate(COSE_CRV_X25519, NULL, NULL, &x25519), 0);
	assert_int_equal(cose_key_generate(COSE_CRV_ED25519, NULL, NULL, &ed25519), 0);
	const crypto_suite *s0 = crypto_suite_get(0), *s2 = crypto_suite_get(2);
	assert_non_null(s0);
	assert_non_null(s2);
	assert_true(cose_key_fits_suite(p256, s2, true));
	assert_true(cose_key_fits_suite(p256, s2, false));
	assert_false(cose_key_fits_suite(p256, s0, true));
	assert_true(cose_key_fits_suite(x25519, s0, true));
	assert_false(cose_key_fits_suite(x25519, s0, false));
	assert_true(cose_key_fits_suite(ed25519, s0, false));
	assert_false(cose_key_fits_suite(ed25519, s0, true));
	crypto_key_free(p256);
	crypto_key_free(x25519);
	crypto_key_free(ed25519);
	assert_int_equal(cose_curve_from_name("ed448"), COSE_CRV_ED448);
	assert_int_equal(cose_curve_from_name("P-521"), 0);
	assert_string_equal(cose_curve_name(COSE_CRV_X448), "X448");
	cose_cred_free(NULL);
	credfile_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace2_ccs_built_from_public_key_matches_cred_i_and_cred_r),
	    cmocka_unit_test(test_trace2_ccs_built_from_private_key_matches_cred_i),
	    cmocka_unit_test(test_trace2_ccs_parses_into_fields),
	    cmocka_unit_test(test_trace2_cred_by_kid_has_id_cred_of_vector),
	    cmocka_unit_test(test_trace2_cred_by_value_is_kccs_map),
	    cmocka_unit_test(test_trace1_x509_cred_and_x5t_match_vectors),
	    cmocka_unit_test(test_trace1_x5chain_by_value),
	    cmocka_unit_test(test_x5bag_end_entity_is_the_certificate_that_issued_none),
	    cmocka_unit_test(test_certificate_cn_with_control_characters_is_refused),
	    cmocka_unit_test(test_malformed_ccs_rejected_with_precise_codes),
	    cmocka_unit_test(test_malformed_id_cred_rejected),
	    cmocka_unit_test(test_mutated_credentials_never_crash),
	    cmocka_unit_test(test_text_file_own_credential_reproduces_cred_i),
	    cmocka_unit_test(test_text_file_private_key_needs_mode_0600),
	    cmocka_unit_test(test_text_file_errors_name_file_and_line),
	    cmocka_unit_test(test_binary_ccs_file_loads_as_peer_credential),
	    cmocka_unit_test(test_pem_certificate_and_key_load_as_own_credential),
	    cmocka_unit_test(test_garbage_certificate_files_get_certificate_errors),
	    cmocka_unit_test(test_written_files_reload_identically_and_are_not_overwritten),
	    cmocka_unit_test(test_key_fits_suite_roles),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
