/* edhoc-keygen: makes an own EDHOC credential (CCS with a COSE_Key) and the
 * public CCS a peer puts in its trust store; shows credential files.
 * See man/edhoc-keygen.1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "edhoc/cred.h"
#include "tools/credfile.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: edhoc-keygen --out FILE.cred [--public FILE.ccs] [--curve CURVE]\n"
	             "                    [--sub NAME] [--kid HEX] [--id-cred kid|kccs] [--force]\n"
	             "       edhoc-keygen --show FILE\n"
	             "\n"
	             "  -c, --curve CURVE   P-256 (default), P-384, X25519, X448, Ed25519, Ed448\n"
	             "  -s, --sub NAME      subject claim (identity used by ACLs and logs)\n"
	             "  -k, --kid HEX       key identifier (default: 4 random bytes)\n"
	             "  -o, --out FILE      own credential with the private key (mode 0600)\n"
	             "  -p, --public FILE   public CCS for the peer's trust store\n"
	             "  -i, --id-cred HOW   how the peer finds it: kid (default) or kccs\n"
	             "  -f, --force         replace existing files\n"
	             "  -S, --show FILE     print a credential file readably\n"
	             "  -h, --help          this text\n"
	             "  -V, --version       version\n");
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s);
	if (n == 0 || n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

static int show(const char *path)
{
	char err[512], text[8192];
	credfile *f = NULL;
	credfile_opts own = {.own = true};
	int rc;

	rc = credfile_load(path, NULL, &f, err, sizeof(err));
	if (rc == EDHOC_E_CRED_HAS_PRIVATE)
		rc = credfile_load(path, &own, &f, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "edhoc-keygen: %s\n", err[0] ? err : edhoc_result_describe(rc));
		return 1;
	}
	credfile_describe(credfile_cred(f), text, sizeof(text));
	fputs(text, stdout);
	credfile_free(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"curve", required_argument, NULL, 'c'},
	                                     {"sub", required_argument, NULL, 's'},
	                                     {"kid", required_argument, NULL, 'k'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"public", required_argument, NULL, 'p'},
	                                     {"id-cred", required_argument, NULL, 'i'},
	                                     {"force", no_argument, NULL, 'f'},
	                                     {"show", required_argument, NULL, 'S'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *curve_name = "P-256", *sub = NULL, *out = NULL, *pub = NULL, *show_path = NULL;
	uint8_t kid[COSE_MAX_KID], ccs[COSE_CRED_MAX_BYTES];
	size_t kid_len = 0, ccs_len;
	bool have_kid = false, force = false;
	int id_label = EDHOC_ID_CRED_KID, crv, opt, rc, status = 1;
	crypto_key *key = NULL;
	cose_cred *cred = NULL;
	char err[512];

	while ((opt = getopt_long(argc, argv, "c:s:k:o:p:i:fS:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			curve_name = optarg;
			break;
		case 's':
			sub = optarg;
			break;
		case 'k':
			if (parse_hex(optarg, kid, sizeof(kid), &kid_len) < 0) {
				fprintf(stderr,
				        "edhoc-keygen: --kid: expected 1 to %d bytes of hex, got "
				        "'%s'\n",
				        COSE_MAX_KID, optarg);
				return 2;
			}
			have_kid = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pub = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "kid") == 0) {
				id_label = EDHOC_ID_CRED_KID;
			} else if (strcmp(optarg, "kccs") == 0 || strcmp(optarg, "value") == 0) {
				id_label = EDHOC_ID_CRED_KCCS;
			} else {
				fprintf(stderr, "edhoc-keygen: --id-cred: kid or kccs\n");
				return 2;
			}
			break;
		case 'f':
			force = true;
			break;
		case 'S':
			show_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("edhoc-keygen %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "edhoc-keygen: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (show_path) {
		if (out || pub) {
			fprintf(stderr,
			        "edhoc-keygen: --show cannot be combined with --out/--public\n");
			return 2;
		}
		return show(show_path);
	}
	if (!out) {
		fprintf(stderr, "edhoc-keygen: --out FILE.cred is required\n");
		usage(stderr);
		return 2;
	}
	crv = cose_curve_from_name(curve_name);
	if (!crv) {
		fprintf(stderr,
		        "edhoc-keygen: unknown curve '%s' (P-256, P-384, X25519, X448, Ed25519, "
		        "Ed448)\n",
		        curve_name);
		return 2;
	}
	if (sub && strlen(sub) > COSE_MAX_SUB) {
		fprintf(stderr, "edhoc-keygen: --sub longer than %d bytes\n", COSE_MAX_SUB);
		return 2;
	}
	if (!have_kid) {
		/* A random kid keeps two keys made without --kid apart. */
		kid_len = 4;
		if (crypto_rng_default(NULL, kid, kid_len) < 0) {
			fprintf(stderr, "edhoc-keygen: no randomness\n");
			return 1;
		}
	}

	rc = cose_key_generate(crv, NULL, NULL, &key);
	if (rc == 0)
		rc = cose_ccs_build(key, sub, kid, kid_len, false, ccs, sizeof(ccs), &ccs_len);
	if (rc == 0)
		rc = cose_cred_from_ccs(ccs, ccs_len, id_label, false, &cred);
	if (rc == 0)
		rc = cose_cred_set_private(cred, key);
	if (rc < 0) {
		fprintf(stderr, "edhoc-keygen: %s\n", edhoc_result_describe(rc));
		goto out;
	}
	rc = credfile_write_text(out, cred, true, force, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "edhoc-keygen: %s\n", err);
		goto out;
	}
	if (pub) {
		rc = credfile_write_ccs(pub, cred, force, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "edhoc-keygen: %s (the own credential %s was written)\n",
			        err, out);
			goto out;
		}
	}
	printf("wrote %s (private, mode 0600)", out);
	if (pub)
		printf(" and %s (public CCS)", pub);
	printf("\ncurve %s, kid ", cose_curve_name(crv));
	for (size_t i = 0; i < kid_len; i++)
		printf("%02x", kid[i]);
	printf(", sub %s\n", sub ? sub : "(none)");
	status = 0;
out:
	cose_cred_free(cred);
	crypto_key_free(key);
	return status;
}
