/* Bounded list of "file:line: message" configuration errors. */
#include "config/errors.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct cfg_errors {
	size_t n;
	size_t dropped;
	char msg[CFG_ERRORS_MAX][CFG_ERROR_LEN];
};

cfg_errors *cfg_errors_new(void)
{
	return calloc(1, sizeof(cfg_errors));
}

void cfg_errors_free(cfg_errors *e)
{
	free(e);
}

void cfg_errors_add(cfg_errors *e, const char *file, unsigned line, const char *fmt, ...)
{
	if (!e)
		return;
	if (e->n >= CFG_ERRORS_MAX) {
		e->dropped++;
		return;
	}
	char *out = e->msg[e->n];
	int used = 0;
	if (file && line)
		used = snprintf(out, CFG_ERROR_LEN, "%s:%u: ", file, line);
	else if (file)
		used = snprintf(out, CFG_ERROR_LEN, "%s: ", file);
	if (used < 0)
		used = 0;
	if ((size_t)used < CFG_ERROR_LEN) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(out + used, CFG_ERROR_LEN - (size_t)used, fmt, ap);
		va_end(ap);
	}
	/* A message must stay one line: a file name or value could hold a
	 * newline, and callers print one entry per line. */
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	e->n++;
}

size_t cfg_errors_count(const cfg_errors *e)
{
	return e ? e->n : 0;
}

size_t cfg_errors_dropped(const cfg_errors *e)
{
	return e ? e->dropped : 0;
}

const char *cfg_errors_get(const cfg_errors *e, size_t i)
{
	if (!e || i >= e->n)
		return NULL;
	return e->msg[i];
}

bool cfg_errors_contains(const cfg_errors *e, const char *text)
{
	for (size_t i = 0; e && i < e->n; i++)
		if (strcmp(e->msg[i], text) == 0)
			return true;
	return false;
}

size_t cfg_errors_print(const cfg_errors *e, FILE *out)
{
	size_t i;
	for (i = 0; e && i < e->n; i++)
		fprintf(out, "%s\n", e->msg[i]);
	if (e && e->dropped)
		fprintf(out, "... and %zu more errors\n", e->dropped);
	return i;
}
