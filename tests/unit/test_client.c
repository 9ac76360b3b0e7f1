/* edhoc-client pieces that need no network: command line, hex, stored
 * OSCORE contexts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/ctxfile.h"
#include "client/options.h"

/* Parses n arguments after the program name. */
static int parse(client_opts *o, char *err, size_t err_size, int n, ...)
{
	char *argv[32];
	int argc = n + 1;
	va_list ap;

	assert_true(argc < 32);
	argv[0] = (char *)"edhoc-client";
	va_start(ap, n);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return client_opts_parse(argc, argv, o, err, err_size);
}

static void test_defaults_and_full_command_line(void **state)
{
	client_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), 3, "--cred", "d.cred", "coap://h"), 0);
	assert_int_equal(o.method, 0);
	assert_int_equal(o.n_suites, 0);
	assert_int_equal(o.coap_method, 1);
	assert_int_equal(o.requests, 1);
	assert_int_equal(o.timeout_ms, 10000);
	assert_int_equal(o.content_format, -1);
	assert_int_equal(o.retransmit, CLIENT_RTX_NONE);
	assert_string_equal(o.uri, "coap://h");

	assert_int_equal(parse(&o, err, sizeof(err), 26, "--cred", "d.cred", "--method", "3",
	                       "--suite", "6", "--suite", "2", "--cid", "2b", "--ead", "-5:0102",
	                       "--ead-3", "7", "-m", "post", "-e", "hi", "-t", "cbor", "--requests",
	                       "4", "--retransmit=oscore", "--timeout", "3", "coap://[::1]:5683/x"),
	                 0);
	assert_int_equal(o.method, 3);
	assert_int_equal(o.n_suites, 2);
	assert_int_equal(o.suites[0], 6);
	assert_int_equal(o.suites[1], 2);
	assert_true(o.has_c_i);
	assert_int_equal(o.c_i.len, 1);
	assert_int_equal(o.c_i.bytes[0], 0x2b);
	assert_int_equal(o.n_ead1, 1);
	assert_int_equal(o.ead1[0].label, -5);
	assert_true(o.ead1[0].has_value);
	assert_int_equal(o.ead1[0].value_len, 2);
	assert_int_equal(o.n_ead3, 1);
	assert_int_equal(o.ead3[0].label, 7);
	assert_false(o.ead3[0].has_value);
	assert_int_equal(o.coap_method, 2);
	assert_string_equal(o.payload, "hi");
	assert_int_equal(o.content_format, 60);
	assert_int_equal(o.requests, 4);
	assert_int_equal(o.retransmit, CLIENT_RTX_OSCORE);
	assert_int_equal(o.timeout_ms, 3000);
}

static void test_bad_command_lines_are_refused_with_a_reason(void **state)
{
	client_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), 1, "coap://h"), -1);
	assert_non_null(strstr(err, "--cred"));
	assert_int_equal(parse(&o, err, sizeof(err), 5, "--cred", "a", "--method", "4", "coap://h"),
	                 -1);
	assert_non_null(strstr(err, "--method 4"));
	assert_int_equal(parse(&o, err, sizeof(err), 5, "--cred", "a", "--suite", "-1", "coap://h"),
	                 -1);
	assert_int_equal(parse(&o, err, sizeof(err), 7, "--cred", "a", "--suite", "2", "--suite",
	                       "2", "coap://h"),
	                 -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse(&o, err, sizeof(err), 5, "--cred", "a", "--cid", "abc", "coap://h"),
	                 -1);
	assert_int_equal(parse(&o, err, sizeof(err), 5, "--cred", "a", "--ead", "x:00", "coap://h"),
	                 -1);
	assert_int_equal(
	    parse(&o, err, sizeof(err), 5, "--cred", "a", "--requests", "0", "coap://h"), -1);
	assert_int_equal(
	    parse(&o, err, sizeof(err), 4, "--cred", "a", "--retransmit=twice", "coap://h"), -1);
	assert_int_equal(parse(&o, err, sizeof(err), 5, "--cred", "a", "--cert", "c", "coap://h"),
	                 -1);
	assert_int_equal(
	    parse(&o, err, sizeof(err), 5, "--cred", "a", "--combined", "--no-oscore", "coap://h"),
	    -1);
	assert_int_equal(parse(&o, err, sizeof(err), 4, "--cred", "a", "coap://h", "extra"), -1);
	assert_int_equal(parse(&o, err, sizeof(err), 4, "--cred", "a", "--bogus", "coap://h"), -1);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(parse(&o, err, sizeof(err), 3, "--cred", "a", "--timeout"), -1);
}

static void test_load_context_implies_saving_back(void **state)
{
	client_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), 3, "--load-context", "c", "coap://h"), 0);
	assert_string_equal(o.save_context, "c");
	assert_int_equal(parse(&o, err, sizeof(err), 3, "--raw-hex", "f5 03", "coap://h"), 0);
	assert_true(o.has_raw);
	assert_int_equal(o.raw_len, 2);
	assert_int_equal(o.raw[0], 0xf5);
}

static void test_hex_decoding_accepts_separators_and_refuses_junk(void **state)
{
	uint8_t b[4];
	char s[9];

	(void)state;
	assert_int_equal(client_hex_decode("", b, sizeof(b)), 0);
	assert_int_equal(client_hex_decode("0aFf", b, sizeof(b)), 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(client_hex_decode("01:02 03", b, sizeof(b)), 3);
	assert_int_equal(b[2], 3);
	assert_int_equal(client_hex_decode("0", b, sizeof(b)), -1);
	assert_int_equal(client_hex_decode("0g", b, sizeof(b)), -1);
	assert_int_equal(client_hex_decode("0102030405", b, sizeof(b)), -1);
	client_hex_encode((const uint8_t *)"\x00\xab\x10", 3, s);
	assert_string_equal(s, "00ab10");
}

static void test_names_of_methods_and_formats(void **state)
{
	(void)state;
	assert_int_equal(client_method_from_name("GET"), 1);
	assert_int_equal(client_method_from_name("fetch"), 5);
	assert_int_equal(client_method_from_name("patch"), 0);
	assert_int_equal(client_content_format_from_name("text/plain"), 0);
	assert_int_equal(client_content_format_from_name("json"), 50);
	assert_int_equal(client_content_format_from_name("65"), 65);
	assert_int_equal(client_content_format_from_name("65536"), -1);
	assert_int_equal(client_content_format_from_name("image/png"), -1);
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	const char *dir = getenv("TMPDIR");

	snprintf(out, cap, "%s/test_client.%ld.%s", dir ? dir : "/tmp", (long)getpid(), name);
}

static void test_context_file_round_trip_is_private(void **state)
{
	client_ctxfile c, back;
	char path[512], err[512];
	struct stat st;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < 16; i++)
		c.master_secret[i] = (uint8_t)i;
	c.master_secret_len = 16;
	memcpy(c.master_salt, "\x9e\x7c\xa9\x22\x23\x78\x63\x40", 8);
	c.master_salt_len = 8;
	c.sender_id_len = 0;
	c.recipient_id[0] = 0x27;
	c.recipient_id_len = 1;
	c.aead_alg = 10;
	c.hkdf_alg = -16;
	c.sender_seq = 1099511627775ull; /* 2^40 - 1 */
	tmp_path(path, sizeof(path), "ctx");
	unlink(path);
	assert_int_equal(client_ctxfile_save(path, &c, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(client_ctxfile_load(path, &back, err, sizeof(err)), 0);
	assert_memory_equal(back.master_secret, c.master_secret, 16);
	assert_int_equal(back.master_secret_len, 16);
	assert_memory_equal(back.master_salt, c.master_salt, 8);
	assert_int_equal(back.sender_id_len, 0);
	assert_int_equal(back.recipient_id_len, 1);
	assert_int_equal(back.recipient_id[0], 0x27);
	assert_int_equal(back.aead_alg, 10);
	assert_int_equal(back.hkdf_alg, -16);
	assert_true(back.sender_seq == 1099511627775ull);
	/* Saving again replaces the file atomically. */
	c.sender_seq = 5;
	assert_int_equal(client_ctxfile_save(path, &c, err, sizeof(err)), 0);
	assert_int_equal(client_ctxfile_load(path, &back, err, sizeof(err)), 0);
	assert_true(back.sender_seq == 5);
	unlink(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_bad_context_files_name_file_and_line(void **state)
{
	client_ctxfile c;
	char path[512], err[512], expect[600];

	(void)state;
	tmp_path(path, sizeof(path), "bad");
	write_file(path, "# comment\nmaster_secret = 00\nsender_seq = 1099511627776\n");
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s:3: bad value for sender_seq", path);
	assert_string_equal(err, expect);
	write_file(path, "colour = blue\n");
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: unknown key 'colour'"));
	write_file(path, "master_secret\n");
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: expected key = value"));
	write_file(path, "master_secret = \n");
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	write_file(path, "master_secret = 0102\nmaster_salt =\nsender_id = 00\n"
	                 "recipient_id = 01\naead = 10\nhkdf = -16\n");
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "incomplete"));
	unlink(path);
	assert_int_equal(client_ctxfile_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_full_command_line),
	    cmocka_unit_test(test_bad_command_lines_are_refused_with_a_reason),
	    cmocka_unit_test(test_load_context_implies_saving_back),
	    cmocka_unit_test(test_hex_decoding_accepts_separators_and_refuses_junk),
	    cmocka_unit_test(test_names_of_methods_and_formats),
	    cmocka_unit_test(test_context_file_round_trip_is_private),
	    cmocka_unit_test(test_bad_context_files_name_file_and_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
