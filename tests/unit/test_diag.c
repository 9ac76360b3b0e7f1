/* Diagnostics: the stable stderr line format, tickets, throttling with
 * "suppressed N" lines, the peer text by disclosure level. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <syslog.h>

#include "diag/detail.h"
#include "diag/diag.h"
#include "edhoc/cred.h"
#include "edhoc/result.h"

struct fx {
	char *buf;
	size_t len;
	size_t taken;
	FILE *out;
	uint64_t now;
	diag *d;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->out = open_memstream(&f->buf, &f->len);
	f->now = 1000000;
	diag_options opt = {.target = DIAG_TARGET_STDERR,
	                    .stream = f->out,
	                    .burst = 3,
	                    .table_size = 4,
	                    .now_ms = fake_now,
	                    .now_ctx = f,
	                    .has_ticket_seed = true,
	                    .ticket_seed = 0x0a1b2c3d};
	assert_int_equal(diag_create(&opt, &f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	diag_free(f->d);
	fclose(f->out);
	free(f->buf);
	free(f);
	return 0;
}

/* Output so far, and forget it. */
static const char *take(struct fx *f)
{
	static char copy[8192];
	fflush(f->out);
	snprintf(copy, sizeof(copy), "%s", f->buf ? f->buf + f->taken : "");
	f->taken = f->len;
	return copy;
}

static void test_failure_line_is_stable(void **state)
{
	struct fx *f = *state;
	char ticket[DIAG_TICKET_SIZE];
	diag_event ev = {.code = EDHOC_E_MAC3_MISMATCH,
	                 .step = "message_3",
	                 .peer = "127.0.0.1:40000",
	                 .identity = "dev1",
	                 .detail = "MAC_3 does not verify"};
	assert_int_equal(diag_failure(f->d, &ev, ticket), 0);
	assert_string_equal(ticket, "T-0a1b2c3d");
	assert_string_equal(take(f), "edhocd: failure category=B code=EDHOC_E_MAC3_MISMATCH "
	                             "step=message_3 peer=127.0.0.1:40000 identity=dev1 "
	                             "ticket=T-0a1b2c3d detail=\"MAC_3 does not verify\"\n");
	assert_int_equal(diag_target_in_use(f->d), DIAG_TARGET_STDERR);
}

static void test_explicit_category_and_missing_fields(void **state)
{
	struct fx *f = *state;
	char ticket[DIAG_TICKET_SIZE];
	diag_event ev = {.category = 'D', .step = "acl", .peer = "[::1]:5683"};
	assert_int_equal(diag_failure(f->d, &ev, ticket), 0);
	assert_string_equal(take(f), "edhocd: failure category=D code=- step=acl peer=[::1]:5683 "
	                             "identity=- ticket=T-0a1b2c3d detail=\"\"\n");
	/* an unknown code falls into E (internal) */
	diag_event e2 = {.code = -9999};
	assert_int_equal(diag_failure(f->d, &e2, NULL), 0);
	assert_string_equal(take(f), "edhocd: failure category=E code=EDHOC_E_UNKNOWN step=- "
	                             "peer=- identity=- ticket=T-0a1b2c3e "
	                             "detail=\"unknown result code\"\n");
}

static void test_peer_text_cannot_forge_fields(void **state)
{
	struct fx *f = *state;
	diag_event ev = {.code = EDHOC_E_UNKNOWN_CRED,
	                 .step = "message_3",
	                 .peer = "10.0.0.1:1",
	                 .identity = "evil ticket=T-00000000",
	                 .detail = "line1\nline2 \"quoted\" back\\slash"};
	diag_failure(f->d, &ev, NULL);
	assert_string_equal(take(f), "edhocd: failure category=C code=EDHOC_E_UNKNOWN_CRED "
	                             "step=message_3 peer=10.0.0.1:1 "
	                             "identity=evil\\x20ticket\\x3dT-00000000 ticket=T-0a1b2c3d "
	                             "detail=\"line1\\x0aline2 \\\"quoted\\\" back\\\\slash\"\n");
}

static void test_tickets_are_unique_and_consecutive(void **state)
{
	struct fx *f = *state;
	char prev[DIAG_TICKET_SIZE] = "";
	/* Each failure from its own peer, so throttling does not interfere. */
	for (unsigned i = 0; i < 1000; i++) {
		char peer[32], ticket[DIAG_TICKET_SIZE], want[DIAG_TICKET_SIZE];
		snprintf(peer, sizeof(peer), "10.0.%u.%u:1", i / 256, i % 256);
		diag_event ev = {.code = EDHOC_E_CBOR_MALFORMED, .peer = peer};
		diag_failure(f->d, &ev, ticket);
		snprintf(want, sizeof(want), "T-%08x", 0x0a1b2c3du + i);
		assert_string_equal(ticket, want);
		assert_string_not_equal(ticket, prev);
		memcpy(prev, ticket, sizeof(prev));
		f->now += 1;
	}
	take(f);

	/* Without a seed two sinks start at different random points. */
	diag *a = NULL, *b = NULL;
	diag_options opt = {.target = DIAG_TARGET_STDERR, .stream = f->out};
	assert_int_equal(diag_create(&opt, &a), 0);
	assert_int_equal(diag_create(&opt, &b), 0);
	char ta[DIAG_TICKET_SIZE], tb[DIAG_TICKET_SIZE];
	diag_event ev = {.code = EDHOC_E_CBOR_MALFORMED};
	diag_failure(a, &ev, ta);
	diag_failure(b, &ev, tb);
	assert_int_equal(strlen(ta), 10);
	assert_memory_equal(ta, "T-", 2);
	assert_string_not_equal(ta, tb);
	diag_free(a);
	diag_free(b);
	take(f);
}

static unsigned count_lines(const char *s, const char *needle)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_repeated_failures_are_throttled(void **state)
{
	struct fx *f = *state;
	diag_event ev = {
	    .code = EDHOC_E_MAC3_MISMATCH, .step = "message_3", .peer = "127.0.0.1:40000"};
	int suppressed = 0;
	for (int i = 0; i < 10; i++)
		suppressed += diag_failure(f->d, &ev, NULL);
	assert_int_equal(suppressed, 7); /* burst 3 */
	const char *out = take(f);
	assert_int_equal(count_lines(out, "edhocd: failure"), 3);

	/* another category from the same peer has its own budget */
	diag_event other = {.code = EDHOC_E_SUITE_NOT_SUPPORTED, .peer = "127.0.0.1:40000"};
	assert_int_equal(diag_failure(f->d, &other, NULL), 0);
	take(f);

	/* a second later the count is reported before the next record */
	f->now += 1000;
	char ticket[DIAG_TICKET_SIZE];
	assert_int_equal(diag_failure(f->d, &ev, ticket), 0);
	assert_string_equal(ticket, "T-0a1b2c48");
	out = take(f);
	assert_string_equal(out, "edhocd: suppressed 7 failures category=B peer=127.0.0.1:40000 "
	                         "tickets=T-0a1b2c40..T-0a1b2c46\n"
	                         "edhocd: failure category=B code=EDHOC_E_MAC3_MISMATCH "
	                         "step=message_3 peer=127.0.0.1:40000 identity=- "
	                         "ticket=T-0a1b2c48 detail=\"MAC_3 does not verify\"\n");
}

/* A flood from many source ports (each its own throttle key) is bounded by
 * the all-peers budget: burst x 16 records per second, then one line that
 * counts the rest; the next second starts a new budget. */
static void test_many_peers_share_one_budget(void **state)
{
	struct fx *f = *state;
	char peer[32];
	int suppressed = 0;
	for (int i = 0; i < 500; i++) {
		snprintf(peer, sizeof(peer), "127.0.0.1:%d", 20000 + i);
		diag_event ev = {.code = EDHOC_E_CBOR_MALFORMED, .step = "message_1", .peer = peer};
		suppressed += diag_failure(f->d, &ev, NULL);
	}
	const char *out = take(f);
	assert_int_equal(count_lines(out, "edhocd: failure"), 3 * 16); /* burst 3 */
	assert_int_equal(suppressed, 500 - 3 * 16);

	f->now += 1000;
	diag_event ev = {
	    .code = EDHOC_E_CBOR_MALFORMED, .step = "message_1", .peer = "127.0.0.1:30000"};
	assert_int_equal(diag_failure(f->d, &ev, NULL), 0);
	out = take(f);
	assert_non_null(strstr(out, "suppressed 452 failures from all peers"));
	assert_int_equal(count_lines(out, "edhocd: failure"), 1);
}

static void test_flush_and_table_eviction_report_counts(void **state)
{
	struct fx *f = *state;
	diag_event ev = {.code = EDHOC_E_MAC3_MISMATCH, .peer = "1.1.1.1:1"};
	for (int i = 0; i < 5; i++)
		diag_failure(f->d, &ev, NULL);
	take(f);
	diag_flush(f->d);
	assert_string_equal(take(f), "edhocd: suppressed 2 failures category=B peer=1.1.1.1:1 "
	                             "tickets=T-0a1b2c40..T-0a1b2c41\n");
	diag_flush(f->d);
	assert_string_equal(take(f), "");

	/* table of 4 keys: a fifth key evicts the oldest, whose pending
	 * count must not be lost */
	for (int i = 0; i < 5; i++)
		diag_failure(f->d, &ev, NULL);
	take(f);
	for (unsigned i = 0; i < 4; i++) {
		char peer[32];
		snprintf(peer, sizeof(peer), "2.2.2.%u:1", i);
		diag_event e2 = {.code = EDHOC_E_CBOR_MALFORMED, .peer = peer};
		f->now += 1;
		diag_failure(f->d, &e2, NULL);
	}
	const char *out = take(f);
	assert_int_equal(count_lines(out, "edhocd: suppressed 5 failures category=B "
	                                  "peer=1.1.1.1:1"),
	                 1);
}

static void test_success_and_plain_lines(void **state)
{
	struct fx *f = *state;
	const uint8_t c_r[] = {0x27};
	diag_handshake_ok(f->d, "127.0.0.1:40000", "dev1", 3, 2, c_r, 1);
	assert_string_equal(take(f), "edhocd: handshake ok identity=dev1 method=3 suite=2 "
	                             "peer=127.0.0.1:40000 c_r=h'27'\n");
	diag_log(f->d, LOG_NOTICE, "reloaded %s", "/etc/edhocd/edhocd.conf");
	assert_string_equal(take(f), "edhocd: reloaded /etc/edhocd/edhocd.conf\n");
}

static void test_peer_text_by_disclosure(void **state)
{
	char out[DIAG_PEER_TEXT_SIZE];
	assert_int_equal(diag_peer_text(DIAG_DISCLOSE_NONE, 'B', EDHOC_E_MAC3_MISMATCH,
	                                "T-0a1b2c3d", out, sizeof(out)),
	                 strlen("ticket T-0a1b2c3d"));
	assert_string_equal(out, "ticket T-0a1b2c3d");
	diag_peer_text(DIAG_DISCLOSE_CATEGORY, 'B', EDHOC_E_MAC3_MISMATCH, "T-0a1b2c3d", out,
	               sizeof(out));
	assert_string_equal(out, "category B ticket T-0a1b2c3d");
	diag_peer_text(DIAG_DISCLOSE_FULL, 'B', EDHOC_E_MAC3_MISMATCH, "T-0a1b2c3d", out,
	               sizeof(out));
	assert_string_equal(out, "category B EDHOC_E_MAC3_MISMATCH ticket T-0a1b2c3d");
	/* truncation never overflows */
	char small[8];
	assert_int_equal(diag_peer_text(DIAG_DISCLOSE_FULL, 'B', EDHOC_E_MAC3_MISMATCH,
	                                "T-0a1b2c3d", small, sizeof(small)),
	                 7);
	assert_string_equal(small, "categor");
}

static void test_names_and_addresses(void **state)
{
	assert_int_equal(diag_disclosure_from_name("none"), DIAG_DISCLOSE_NONE);
	assert_int_equal(diag_disclosure_from_name("full"), DIAG_DISCLOSE_FULL);
	assert_int_equal(diag_disclosure_from_name("all"), -1);
	assert_int_equal(diag_target_from_name("journal"), DIAG_TARGET_JOURNAL);
	assert_int_equal(diag_target_from_name("auto"), DIAG_TARGET_AUTO);
	assert_int_equal(diag_target_from_name("syslog"), -1);
	assert_string_equal(diag_target_name(DIAG_TARGET_STDERR), "stderr");
	assert_string_equal(diag_disclosure_name(DIAG_DISCLOSE_CATEGORY), "category");
	assert_non_null(diag_message_id('A'));
	assert_int_equal(strlen(diag_message_id('G')), 32);
	assert_null(diag_message_id('H'));
	assert_string_not_equal(diag_message_id('A'), diag_message_id('B'));

	char buf[DIAG_ADDR_SIZE];
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40000)};
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_string_equal(diag_format_addr((struct sockaddr *)&in, sizeof(in), buf, sizeof(buf)),
	                    "127.0.0.1:40000");
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(5683)};
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	assert_string_equal(
	    diag_format_addr((struct sockaddr *)&in6, sizeof(in6), buf, sizeof(buf)),
	    "[fe80::1]:5683");
	in6.sin6_scope_id = 2;
	assert_string_equal(
	    diag_format_addr((struct sockaddr *)&in6, sizeof(in6), buf, sizeof(buf)),
	    "[fe80::1%2]:5683");
	assert_string_equal(diag_format_addr(NULL, 0, buf, sizeof(buf)), "?");
}

static void test_auto_target_resolves(void **state)
{
	diag *d = NULL;
	diag_options opt = {.target = DIAG_TARGET_AUTO};
	setenv("JOURNAL_STREAM", "8:1234", 1);
	assert_int_equal(diag_create(&opt, &d), 0);
	assert_int_equal(diag_target_in_use(d), DIAG_TARGET_JOURNAL);
	diag_free(d);
	unsetenv("JOURNAL_STREAM");
	opt.target = 7;
	assert_int_equal(diag_create(&opt, &d), EDHOC_E_INVALID_ARGUMENT);
	diag_free(NULL);
}

/* A record never has an empty detail: without one from the caller it
 * says what the code means, so an operator reading only the journal's
 * EDHOCD_DETAIL field is not left with nothing. */
static void test_empty_detail_falls_back_to_the_code_description(void **state)
{
	struct fx *f = *state;
	diag_event ev = {.code = EDHOC_E_MSG3_DECRYPT, .step = "message_3", .peer = "10.0.0.2:9"};
	diag_failure(f->d, &ev, NULL);
	assert_string_equal(take(f), "edhocd: failure category=B code=EDHOC_E_MSG3_DECRYPT "
	                             "step=message_3 peer=10.0.0.2:9 identity=- ticket=T-0a1b2c3d "
	                             "detail=\"message_3 ciphertext does not decrypt\"\n");
	ev.detail = "";
	diag_failure(f->d, &ev, NULL);
	assert_non_null(strstr(take(f), "detail=\"message_3 ciphertext does not decrypt\"\n"));
	ev.detail = "given";
	diag_failure(f->d, &ev, NULL);
	assert_non_null(strstr(take(f), "detail=\"given\"\n"));
}

static void test_message_1_detail_names_field_and_offset(void **state)
{
	(void)state;
	char out[DIAG_DETAIL_SIZE];
	/* METHOD 3 and nothing else */
	const uint8_t m1[] = {0x03};
	assert_ptr_equal(
	    diag_message_1_detail(EDHOC_E_CBOR_TRUNCATED, m1, sizeof(m1), out, sizeof(out)), out);
	assert_string_equal(out, "message_1 (1 byte h'03'): SUITES_I at offset 1: CBOR item "
	                         "extends past the end of the input");
	/* METHOD 3, SUITES_I [6, 2], G_X declared 32 bytes, 2 present */
	const uint8_t m2[] = {0x03, 0x82, 0x06, 0x02, 0x58, 0x20, 0x01, 0x02};
	diag_message_1_detail(EDHOC_E_CBOR_TRUNCATED, m2, sizeof(m2), out, sizeof(out));
	assert_string_equal(out, "message_1 (8 bytes h'0382060258200102'): G_X at offset 4: "
	                         "CBOR item extends past the end of the input");
	/* a suite list that says 3 entries and has 1: its head is wrong */
	const uint8_t m3[] = {0x03, 0x83, 0x02};
	diag_message_1_detail(EDHOC_E_CBOR_TRUNCATED, m3, sizeof(m3), out, sizeof(out));
	assert_string_equal(out, "message_1 (3 bytes h'038302'): SUITES_I at offset 1: CBOR item "
	                         "extends past the end of the input");
	/* SUITES_I [2, h'..']: the second entry */
	const uint8_t m6[] = {0x03, 0x82, 0x02, 0x41, 0x00};
	diag_message_1_detail(EDHOC_E_SUITES_MALFORMED, m6, sizeof(m6), out, sizeof(out));
	assert_string_equal(out, "message_1 (5 bytes h'0382024100'): SUITES_I at offset 3: CBOR "
	                         "item has the wrong major type");
	/* C_I as a text string */
	uint8_t m4[40] = {0x03, 0x02, 0x58, 0x20};
	m4[36] = 0x61;
	m4[37] = 'x';
	diag_message_1_detail(EDHOC_E_CONN_ID_MALFORMED, m4, 38, out, sizeof(out));
	assert_string_equal(out, "message_1 (38 bytes h'03025820000000000000000000000000...'): "
	                         "C_I at offset 36: CBOR item has the wrong major type");
	/* well-formed CBOR refused for another reason: the code says why */
	const uint8_t m5[] = {0x03, 0x02, 0x41, 0x00, 0x37};
	diag_message_1_detail(EDHOC_E_EPHEMERAL_KEY_LENGTH, m5, sizeof(m5), out, sizeof(out));
	assert_string_equal(out, "message_1 (5 bytes h'0302410037'): G_X or G_Y length does not "
	                         "match the cipher suite's curve");
	/* not category A: nothing to add */
	assert_null(diag_message_1_detail(EDHOC_E_EAD_CRITICAL, m1, 1, out, sizeof(out)));
	assert_null(diag_message_1_detail(EDHOC_E_SUITE_NOT_SUPPORTED, m1, 1, out, sizeof(out)));
}

static void test_ead_note_names_the_critical_label(void **state)
{
	(void)state;
	diag_ead_note n = {0};
	char out[DIAG_DETAIL_SIZE];
	const uint8_t v[] = {1, 2};
	assert_null(diag_ead_detail(&n, out, sizeof(out)));
	edhoc_ead_item item = {.label = -65000, .value = v, .value_len = 2};
	/* "not recognised", as the core assumes without a callback */
	assert_int_equal(diag_ead_note_fn(&n, 1, &item), 1);
	assert_string_equal(
	    diag_ead_detail(&n, out, sizeof(out)),
	    "critical EAD item -65000 (2-byte value) in EAD_1: the gateway supports "
	    "no EAD item with this label");
	edhoc_ead_item bare = {.label = -3};
	assert_int_equal(diag_ead_note_fn(&n, 3, &bare), 1);
	assert_string_equal(diag_ead_detail(&n, out, sizeof(out)),
	                    "critical EAD item -3 (no value) in EAD_3: the gateway supports no EAD "
	                    "item with this label");
}

/* ---- message_3 details from real handshakes ---- */

struct party {
	crypto_key *key;
	cose_cred *own; /* with the private key */
	cose_cred *pub; /* what the other side stores */
	edhoc_config cfg;
};

static int lookup_one(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	const cose_cred *c = ctx;
	if (!cose_cred_matches(c, id))
		return EDHOC_E_UNKNOWN_CRED;
	*ret = *cose_cred_edhoc(c);
	return 0;
}

static void make_party(struct party *p, const char *sub, uint8_t kid)
{
	uint8_t ccs[512];
	size_t len;
	memset(p, 0, sizeof(*p));
	assert_int_equal(cose_key_generate(COSE_CRV_P256, NULL, NULL, &p->key), 0);
	assert_int_equal(cose_ccs_build(p->key, sub, &kid, 1, true, ccs, sizeof(ccs), &len), 0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, true, &p->own), 0);
	assert_int_equal(cose_ccs_build(p->key, sub, &kid, 1, false, ccs, sizeof(ccs), &len), 0);
	assert_int_equal(cose_cred_from_ccs(ccs, len, EDHOC_ID_CRED_KID, false, &p->pub), 0);
}

static void free_party(struct party *p)
{
	cose_cred_free(p->own);
	cose_cred_free(p->pub);
	crypto_key_free(p->key);
}

/* Runs method m, suite 2 with the initiator using `as` while the responder
 * stores `stored` for it; returns the responder's message_3 result, with
 * h_r and message_3 left for the detail. */
static int run_until_message_3(int method, struct party *gw, struct party *as, struct party *stored,
                               edhoc_handshake **ret_r, uint8_t *m3, size_t *m3_len)
{
	edhoc_config ci = {.role = EDHOC_INITIATOR,
	                   .method = method,
	                   .suites = {2},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(as->own),
	                   .lookup = lookup_one,
	                   .lookup_ctx = gw->pub};
	edhoc_config cr = {.role = EDHOC_RESPONDER,
	                   .methods = 0xf,
	                   .suites = {2},
	                   .n_suites = 1,
	                   .own = cose_cred_edhoc(gw->own),
	                   .lookup = lookup_one,
	                   .lookup_ctx = stored->pub};
	static edhoc_config keep_i, keep_r; /* outlive the handshakes */
	keep_i = ci;
	keep_r = cr;
	edhoc_handshake *hi = edhoc_handshake_new(&keep_i), *hr = edhoc_handshake_new(&keep_r);
	uint8_t m1[512], m2[1024];
	size_t l1, l2;
	edhoc_cid c_i = {.len = 1, .bytes = {0x37}}, c_r = {.len = 1, .bytes = {0x27}};
	assert_int_equal(edhoc_initiator_write_message_1(hi, &c_i, m1, sizeof(m1), &l1), 0);
	assert_int_equal(edhoc_responder_read_message_1(hr, m1, l1), 0);
	assert_int_equal(edhoc_responder_write_message_2(hr, &c_r, m2, sizeof(m2), &l2), 0);
	assert_int_equal(edhoc_initiator_read_message_2(hi, m2, l2), 0);
	assert_int_equal(edhoc_initiator_write_message_3(hi, m3, 1024, m3_len), 0);
	edhoc_handshake_free(hi);
	*ret_r = hr;
	return edhoc_responder_read_message_3(hr, m3, *m3_len);
}

static void test_message_3_detail_names_the_claimed_credential(void **state)
{
	(void)state;
	struct party gw, dev, impostor;
	edhoc_handshake *hr = NULL;
	uint8_t m3[1024];
	size_t l3;
	char out[DIAG_DETAIL_SIZE];
	make_party(&gw, "gw", 0x32);
	make_party(&dev, "dev1", 0x01);
	make_party(&impostor, "dev1", 0x01); /* dev1's name and kid, another key */

	/* method 3: MAC_3 from the wrong static DH key */
	assert_int_equal(run_until_message_3(3, &gw, &impostor, &dev, &hr, m3, &l3),
	                 EDHOC_E_MAC3_MISMATCH);
	assert_string_equal(diag_message_3_detail(EDHOC_E_MAC3_MISMATCH, hr, m3, l3,
	                                          "trust file dev1.ccs", out, sizeof(out)),
	                    "MAC_3 does not verify against the credential of 'dev1' (ID_CRED_I "
	                    "{4: h'01'}, trust file dev1.ccs) with static DH on P-256 (method 3): "
	                    "the device's key or credential is not the stored one");
	edhoc_handshake_free(hr);

	/* method 0: the signature from the wrong key */
	assert_int_equal(run_until_message_3(0, &gw, &impostor, &dev, &hr, m3, &l3),
	                 EDHOC_E_SIG3_INVALID);
	assert_string_equal(
	    diag_message_3_detail(EDHOC_E_SIG3_INVALID, hr, m3, l3, NULL, out, sizeof(out)),
	    "ES256 signature in Signature_or_MAC_3 does not verify with the key of "
	    "the credential of 'dev1' (ID_CRED_I {4: h'01'}) (method 0): the device "
	    "signed with a key other than the stored one");
	edhoc_handshake_free(hr);

	/* message_3 damaged on the way: the outer bstr, then the ciphertext */
	assert_int_equal(run_until_message_3(3, &gw, &dev, &dev, &hr, m3, &l3), 0);
	edhoc_handshake_free(hr);
	assert_int_equal(run_until_message_3(3, &gw, &dev, &dev, &hr, m3, &l3), 0);
	assert_string_equal(
	    diag_message_3_detail(EDHOC_E_CBOR_TRUNCATED, hr, m3, l3 - 1, NULL, out, sizeof(out)),
	    "message_3 (18 bytes): CIPHERTEXT_3 at offset 0: CBOR item extends past "
	    "the end of the input");
	assert_string_equal(
	    diag_message_3_detail(EDHOC_E_MSG3_DECRYPT, hr, m3, l3, NULL, out, sizeof(out)),
	    "CIPHERTEXT_3 of message_3 (19 bytes) does not decrypt: not made from "
	    "the message_2 of this handshake, or altered on the way");
	/* credential problems are the trust store's to explain */
	assert_null(
	    diag_message_3_detail(EDHOC_E_UNKNOWN_CRED, hr, m3, l3, NULL, out, sizeof(out)));
	edhoc_handshake_free(hr);
	free_party(&gw);
	free_party(&dev);
	free_party(&impostor);
}

/* The detail functions read peer bytes: every prefix and many one-byte
 * changes of a message must give a bounded, terminated text (and, under
 * the sanitizers, no read outside the message). */
static void test_details_of_damaged_messages_stay_in_bounds(void **state)
{
	(void)state;
	/* METHOD 3, SUITES_I [6, 2], G_X (32 bytes), C_I -24, EAD_1 -2 h'00' */
	uint8_t m1[44] = {0x03, 0x82, 0x06, 0x02, 0x58, 0x20};
	m1[38] = 0x37;
	m1[39] = 0x21;
	m1[40] = 0x41;
	m1[41] = 0x00;
	const size_t len = 42;
	const uint8_t flips[] = {0xff, 0x80, 0x1f, 0x40};
	char out[64];
	edhoc_config cfg = {.role = EDHOC_RESPONDER, .methods = 0xf, .suites = {2}, .n_suites = 1};
	edhoc_handshake *h = edhoc_handshake_new(&cfg);
	assert_non_null(h);
	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
		memcpy(copy, m1, cut);
		for (size_t pos = 0; pos <= cut; pos++) {
			for (size_t fi = 0; fi < sizeof(flips); fi++) {
				if (pos < cut)
					copy[pos] ^= flips[fi];
				const char *d = diag_message_1_detail(EDHOC_E_CBOR_MALFORMED, copy,
				                                      cut, out, sizeof(out));
				assert_ptr_equal(d, out);
				assert_true(strlen(out) < sizeof(out));
				d = diag_message_3_detail(EDHOC_E_CBOR_MALFORMED, h, copy, cut,
				                          NULL, out, sizeof(out));
				assert_ptr_equal(d, out);
				assert_true(strlen(out) < sizeof(out));
				if (pos < cut)
					copy[pos] ^= flips[fi];
			}
		}
		free(copy);
	}
	edhoc_handshake_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_failure_line_is_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_explicit_category_and_missing_fields, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_peer_text_cannot_forge_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tickets_are_unique_and_consecutive, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_repeated_failures_are_throttled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_peers_share_one_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_and_table_eviction_report_counts, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_success_and_plain_lines, setup, teardown),
	    cmocka_unit_test(test_peer_text_by_disclosure),
	    cmocka_unit_test(test_names_and_addresses),
	    cmocka_unit_test(test_auto_target_resolves),
	    cmocka_unit_test_setup_teardown(test_empty_detail_falls_back_to_the_code_description,
	                                    setup, teardown),
	    cmocka_unit_test(test_message_1_detail_names_field_and_offset),
	    cmocka_unit_test(test_ead_note_names_the_critical_label),
	    cmocka_unit_test(test_message_3_detail_names_the_claimed_credential),
	    cmocka_unit_test(test_details_of_damaged_messages_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
