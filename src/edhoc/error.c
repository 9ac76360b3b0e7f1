/* EDHOC error messages (RFC 9528 §6): (ERR_CODE : int, ERR_INFO : any). */
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/edhoc.h"
#include "internal.h"

static void write_suites(cose_writer *w, const int *suites, size_t n)
{
	/* A single suite travels as an int, several as an array (§5.2.2). */
	if (n == 1) {
		cose_write_int(w, suites[0]);
		return;
	}
	cose_write_array(w, n);
	for (size_t i = 0; i < n; i++)
		cose_write_int(w, suites[i]);
}

int edhoc_error_encode(int err_code, const char *text, const int *suites, size_t n_suites,
                       uint8_t *out, size_t cap, size_t *ret_len)
{
	cose_writer w;
	int rc;

	if (!out || !ret_len)
		return EDHOC_E_INVALID_ARGUMENT;
	cose_writer_init(&w, out, cap);
	switch (err_code) {
	case EDHOC_ERR_UNSPECIFIED:
		cose_write_int(&w, err_code);
		cose_write_tstr(&w, text ? text : "", text ? strlen(text) : 0);
		break;
	case EDHOC_ERR_WRONG_SUITE:
		if (!suites || n_suites == 0 || n_suites > EDHOC_MAX_SUITES)
			return EDHOC_E_INVALID_ARGUMENT;
		cose_write_int(&w, err_code);
		write_suites(&w, suites, n_suites);
		break;
	case EDHOC_ERR_UNKNOWN_CRED:
		cose_write_int(&w, err_code);
		cose_write_bool(&w, true);
		break;
	default:
		return EDHOC_E_INVALID_ARGUMENT;
	}
	rc = cose_writer_result(&w);
	if (rc < 0)
		return rc;
	*ret_len = w.len;
	return 0;
}

int edhoc_error_message(const edhoc_handshake *h, int result, const char *diag_text, uint8_t *out,
                        size_t cap, size_t *ret_len)
{
	const edhoc_config *cfg;

	if (!h)
		return EDHOC_E_INVALID_ARGUMENT;
	cfg = h->cfg;
	if (result == EDHOC_E_SUITE_NOT_SUPPORTED && cfg->n_suites > 0 &&
	    cfg->n_suites <= EDHOC_MAX_SUITES)
		return edhoc_error_encode(EDHOC_ERR_WRONG_SUITE, NULL, cfg->suites, cfg->n_suites,
		                          out, cap, ret_len);
	if (result == EDHOC_E_UNKNOWN_CRED && cfg->unknown_cred_error)
		return edhoc_error_encode(EDHOC_ERR_UNKNOWN_CRED, NULL, NULL, 0, out, cap, ret_len);
	return edhoc_error_encode(EDHOC_ERR_UNSPECIFIED, diag_text, NULL, 0, out, cap, ret_len);
}

/* SUITES_R: a single suite may also come as an array of one. */
static int read_suites(cose_reader *r, edhoc_error *e)
{
	int64_t v[EDHOC_MAX_SUITES];
	size_t n;
	int rc;

	rc = edhoc_read_suites(r, 1, v, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < -65536 || v[i] > 65535)
			return EDHOC_E_ERROR_MALFORMED;
		e->suites[i] = (int)v[i];
	}
	e->n_suites = n;
	return 0;
}

int edhoc_error_decode(const uint8_t *msg, size_t len, edhoc_error *ret)
{
	edhoc_error e;
	cose_reader r;
	const char *text;
	const uint8_t *item;
	size_t text_len, item_len;
	bool b;
	int rc;

	if (!msg || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&e, 0, sizeof(e));
	cose_reader_init(&r, msg, len);
	rc = cose_read_int(&r, &e.err_code);
	if (rc < 0)
		return EDHOC_E_ERROR_MALFORMED;
	switch (e.err_code) {
	case EDHOC_ERR_UNSPECIFIED:
		rc = cose_read_tstr(&r, &text, &text_len);
		if (rc < 0)
			return EDHOC_E_ERROR_MALFORMED;
		if (text_len >= sizeof(e.text))
			text_len = sizeof(e.text) - 1;
		memcpy(e.text, text, text_len);
		e.text[text_len] = '\0';
		break;
	case EDHOC_ERR_WRONG_SUITE:
		if (read_suites(&r, &e) < 0)
			return EDHOC_E_ERROR_MALFORMED;
		break;
	case EDHOC_ERR_UNKNOWN_CRED:
		if (cose_read_bool(&r, &b) < 0 || !b)
			return EDHOC_E_ERROR_MALFORMED;
		break;
	default:
		/* Codes we do not know carry ERR_INFO of any type. */
		if (cose_read_item(&r, EDHOC_MAX_DEPTH, &item, &item_len) < 0)
			return EDHOC_E_ERROR_MALFORMED;
		break;
	}
	if (!cose_reader_done(&r))
		return EDHOC_E_ERROR_MALFORMED;
	*ret = e;
	return 0;
}

bool edhoc_is_error_message(const uint8_t *msg, size_t len)
{
	cose_reader r;
	int major;

	if (!msg)
		return false;
	cose_reader_init(&r, msg, len);
	if (cose_peek_type(&r, &major) < 0)
		return false;
	return major == COSE_CBOR_UINT || major == COSE_CBOR_NEGINT;
}
