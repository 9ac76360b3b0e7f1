/* Command line of edhoc-client. */
#include "client/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

enum {
	OPT_CRED = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_PEER_CRED,
	OPT_METHOD,
	OPT_SUITE,
	OPT_CID,
	OPT_COMBINED,
	OPT_MESSAGE_4,
	OPT_EAD,
	OPT_EAD_3,
	OPT_NO_OSCORE,
	OPT_REQUESTS,
	OPT_SAVE_CONTEXT,
	OPT_LOAD_CONTEXT,
	OPT_RAW_HEX,
	OPT_RETRANSMIT,
	OPT_REPLAY_MESSAGE_3,
	OPT_TIMEOUT,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
    {"cred", required_argument, NULL, OPT_CRED},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"peer-cred", required_argument, NULL, OPT_PEER_CRED},
    {"method", required_argument, NULL, OPT_METHOD},
    {"suite", required_argument, NULL, OPT_SUITE},
    {"cid", required_argument, NULL, OPT_CID},
    {"combined", no_argument, NULL, OPT_COMBINED},
    {"message-4", no_argument, NULL, OPT_MESSAGE_4},
    {"ead", required_argument, NULL, OPT_EAD},
    {"ead-3", required_argument, NULL, OPT_EAD_3},
    {"no-oscore", no_argument, NULL, OPT_NO_OSCORE},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"save-context", required_argument, NULL, OPT_SAVE_CONTEXT},
    {"load-context", required_argument, NULL, OPT_LOAD_CONTEXT},
    {"raw-hex", required_argument, NULL, OPT_RAW_HEX},
    {"retransmit", optional_argument, NULL, OPT_RETRANSMIT},
    {"replay-message-3", no_argument, NULL, OPT_REPLAY_MESSAGE_3},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: edhoc-client [OPTIONS] coap://HOST[:PORT][/PATH]\n"
    "EDHOC initiator (RFC 9528) and OSCORE client (RFC 8613) over CoAP/UDP.\n"
    "\n"
    "Credentials:\n"
    "  --cred FILE          own credential (.cred text form with private key)\n"
    "  --cert PEM --key PEM own X.509 certificate and private key\n"
    "  --peer-cred PATH     the gateway's credential (file or directory)\n"
    "EDHOC:\n"
    "  --method N           0-3 (default 0)\n"
    "  --suite N            cipher suite, repeatable, most preferred first\n"
    "  --cid HEX            own connection identifier C_I\n"
    "  --combined           send message_3 with the first OSCORE request (RFC 9668)\n"
    "  --message-4          expect message_4 in the answer to message_3\n"
    "  --ead LABEL[:HEX]    EAD item in message_1 (repeatable)\n"
    "  --ead-3 LABEL[:HEX]  EAD item in message_3 (repeatable)\n"
    "  --no-oscore          stop after the handshake\n"
    "OSCORE request:\n"
    "  -m METHOD            get, post, put, delete, fetch (default get)\n"
    "  -e TEXT | -f FILE    request payload\n"
    "  -t FORMAT            Content-Format (number or name)\n"
    "  -A FORMAT            Accept\n"
    "  --requests N         send N requests on one context\n"
    "  --save-context FILE  store the OSCORE context after the run\n"
    "  --load-context FILE  reuse a stored context instead of EDHOC\n"
    "Testing:\n"
    "  --raw-hex HEX        POST these bytes to /.well-known/edhoc and show the answer\n"
    "  --retransmit[=WHAT]  send WHAT twice with one MID: message_3 (default),\n"
    "                       message_1, oscore or all\n"
    "  --replay-message-3   send message_3 again as a new message afterwards\n"
    "General:\n"
    "  --timeout SECONDS    overall time limit (default 10)\n"
    "  -v, --verbose        show messages, decoded errors and OSCORE IDs\n"
    "  --help               this text\n"
    "  --version            print the version\n"
    "\n"
    "Exit status: 0 success, 1 usage or local error, 2 no answer, 3 EDHOC\n"
    "failure, 4 OSCORE failure, 5 CoAP error response, 6 retransmission check\n"
    "failed.\n";

static int fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long client_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (hex == NULL)
		return -1;
	for (const char *p = hex; *p != '\0';) {
		int hi, lo;

		if (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t') {
			p++;
			continue;
		}
		hi = hexval((unsigned char)p[0]);
		lo = p[1] != '\0' ? hexval((unsigned char)p[1]) : -1;
		if (hi < 0 || lo < 0 || n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return (long)n;
}

void client_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

uint8_t client_method_from_name(const char *name)
{
	static const char *const names[] = {"get", "post", "put", "delete", "fetch"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return (uint8_t)(i + 1);
	return 0;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*ret = v;
	return true;
}

int client_content_format_from_name(const char *name)
{
	static const struct {
		const char *name;
		int cf;
	} names[] = {
	    {"text/plain", 0},
	    {"text", 0},
	    {"link-format", 40},
	    {"application/link-format", 40},
	    {"xml", 41},
	    {"octet-stream", 42},
	    {"application/octet-stream", 42},
	    {"json", 50},
	    {"application/json", 50},
	    {"cbor", 60},
	    {"application/cbor", 60},
	};
	unsigned long v;

	if (parse_ulong(name, 65535, &v))
		return (int)v;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].cf;
	return -1;
}

/* LABEL[:HEX]; labels are CBOR ints (negative = critical). */
static int parse_ead(const char *arg, client_ead_opt *ret, char *err, size_t err_size)
{
	const char *colon = strchr(arg, ':');
	char label[24];
	size_t llen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	char *end;
	long long v;
	long n;

	if (llen == 0 || llen >= sizeof(label))
		return fail(err, err_size, "--ead %s: expected LABEL[:HEX]", arg);
	memcpy(label, arg, llen);
	label[llen] = '\0';
	errno = 0;
	v = strtoll(label, &end, 10);
	if (errno != 0 || *end != '\0')
		return fail(err, err_size, "--ead %s: label is not an integer", arg);
	memset(ret, 0, sizeof(*ret));
	ret->label = v;
	if (colon != NULL) {
		n = client_hex_decode(colon + 1, ret->value, sizeof(ret->value));
		if (n < 0)
			return fail(err, err_size,
			            "--ead %s: value is not hex of at most %zu bytes", arg,
			            sizeof(ret->value));
		ret->value_len = (size_t)n;
		ret->has_value = true;
	}
	return 0;
}

int client_opts_parse(int argc, char **argv, client_opts *ret, char *err, size_t err_size)
{
	unsigned long v;
	long n;
	int c;

	memset(ret, 0, sizeof(*ret));
	ret->method = EDHOC_METHOD_SIG_SIG;
	ret->coap_method = 1;
	ret->content_format = -1;
	ret->accept = -1;
	ret->requests = 1;
	ret->timeout_ms = 10000;

	optind = 0; /* glibc: full re-initialisation, parse may run twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:e:f:t:A:v", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_CRED:
			ret->cred_path = optarg;
			break;
		case OPT_CERT:
			ret->cert_path = optarg;
			break;
		case OPT_KEY:
			ret->key_path = optarg;
			break;
		case OPT_PEER_CRED:
			ret->peer_cred_path = optarg;
			break;
		case OPT_METHOD:
			if (!parse_ulong(optarg, 3, &v))
				return fail(err, err_size, "--method %s: expected 0-3", optarg);
			ret->method = (int)v;
			break;
		case OPT_SUITE:
			if (!parse_ulong(optarg, 65535, &v))
				return fail(err, err_size, "--suite %s: not a suite number",
				            optarg);
			if (ret->n_suites == EDHOC_MAX_SUITES)
				return fail(err, err_size, "--suite: at most %d suites",
				            EDHOC_MAX_SUITES);
			for (size_t i = 0; i < ret->n_suites; i++)
				if (ret->suites[i] == (int)v)
					return fail(err, err_size, "--suite %lu given twice", v);
			ret->suites[ret->n_suites++] = (int)v;
			break;
		case OPT_CID:
			n = client_hex_decode(optarg, ret->c_i.bytes, sizeof(ret->c_i.bytes));
			if (n < 0)
				return fail(err, err_size,
				            "--cid %s: expected hex, at most %d bytes", optarg,
				            EDHOC_MAX_CID);
			ret->c_i.len = (size_t)n;
			ret->has_c_i = true;
			break;
		case OPT_COMBINED:
			ret->combined = true;
			break;
		case OPT_MESSAGE_4:
			ret->message_4 = true;
			break;
		case OPT_EAD:
			if (ret->n_ead1 == CLIENT_MAX_EAD)
				return fail(err, err_size, "--ead: at most %d items",
				            CLIENT_MAX_EAD);
			if (parse_ead(optarg, &ret->ead1[ret->n_ead1], err, err_size) < 0)
				return -1;
			ret->n_ead1++;
			break;
		case OPT_EAD_3:
			if (ret->n_ead3 == CLIENT_MAX_EAD)
				return fail(err, err_size, "--ead-3: at most %d items",
				            CLIENT_MAX_EAD);
			if (parse_ead(optarg, &ret->ead3[ret->n_ead3], err, err_size) < 0)
				return -1;
			ret->n_ead3++;
			break;
		case OPT_NO_OSCORE:
			ret->no_oscore = true;
			break;
		case OPT_REQUESTS:
			if (!parse_ulong(optarg, CLIENT_MAX_REQUESTS, &v) || v == 0)
				return fail(err, err_size, "--requests %s: expected 1-%d", optarg,
				            CLIENT_MAX_REQUESTS);
			ret->requests = v;
			break;
		case OPT_SAVE_CONTEXT:
			ret->save_context = optarg;
			break;
		case OPT_LOAD_CONTEXT:
			ret->load_context = optarg;
			break;
		case OPT_RAW_HEX:
			n = client_hex_decode(optarg, ret->raw, sizeof(ret->raw));
			if (n < 0)
				return fail(err, err_size,
				            "--raw-hex: expected hex, at most %d bytes",
				            CLIENT_MAX_RAW);
			ret->raw_len = (size_t)n;
			ret->has_raw = true;
			break;
		case OPT_RETRANSMIT:
			if (optarg == NULL || strcmp(optarg, "message_3") == 0)
				ret->retransmit = CLIENT_RTX_MESSAGE_3;
			else if (strcmp(optarg, "oscore") == 0)
				ret->retransmit = CLIENT_RTX_OSCORE;
			else if (strcmp(optarg, "message_1") == 0)
				ret->retransmit = CLIENT_RTX_MESSAGE_1;
			else if (strcmp(optarg, "all") == 0)
				ret->retransmit = CLIENT_RTX_ALL;
			else
				return fail(
				    err, err_size,
				    "--retransmit=%s: expected message_1, message_3, oscore or all",
				    optarg);
			break;
		case OPT_REPLAY_MESSAGE_3:
			ret->replay_message_3 = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_ulong(optarg, 3600, &v) || v == 0)
				return fail(err, err_size, "--timeout %s: expected 1-3600 seconds",
				            optarg);
			ret->timeout_ms = (unsigned)v * 1000u;
			break;
		case 'm':
			ret->coap_method = client_method_from_name(optarg);
			if (ret->coap_method == 0)
				return fail(err, err_size,
				            "-m %s: expected get, post, put, delete or fetch",
				            optarg);
			break;
		case 'e':
			ret->payload = optarg;
			break;
		case 'f':
			ret->payload_file = optarg;
			break;
		case 't':
			ret->content_format = client_content_format_from_name(optarg);
			if (ret->content_format < 0)
				return fail(err, err_size, "-t %s: unknown Content-Format", optarg);
			break;
		case 'A':
			ret->accept = client_content_format_from_name(optarg);
			if (ret->accept < 0)
				return fail(err, err_size, "-A %s: unknown Content-Format", optarg);
			break;
		case 'v':
			ret->verbose = true;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return 1;
		case OPT_VERSION:
			printf("edhoc-client %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			return fail(err, err_size, "option %s needs an argument", argv[optind - 1]);
		default:
			return fail(err, err_size, "unknown option %s (see --help)",
			            argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return fail(err, err_size, "expected exactly one coap:// URI (see --help)");
	ret->uri = argv[optind];
	if (ret->payload != NULL && ret->payload_file != NULL)
		return fail(err, err_size, "-e and -f exclude each other");
	if (ret->cred_path != NULL && (ret->cert_path != NULL || ret->key_path != NULL))
		return fail(err, err_size, "--cred excludes --cert/--key");
	if ((ret->cert_path == NULL) != (ret->key_path == NULL))
		return fail(err, err_size, "--cert and --key go together");
	if (ret->load_context != NULL && ret->save_context == NULL)
		ret->save_context = ret->load_context; /* keep the sequence number moving */
	if (!ret->has_raw && ret->load_context == NULL && ret->cred_path == NULL &&
	    ret->cert_path == NULL)
		return fail(err, err_size, "need --cred or --cert/--key (or --load-context)");
	if (ret->combined && (ret->no_oscore || ret->message_4))
		return fail(err, err_size, "--combined excludes --no-oscore and --message-4");
	if (ret->no_oscore && (ret->save_context != NULL || ret->load_context != NULL))
		return fail(err, err_size, "--no-oscore excludes the context options");
	return 0;
}
