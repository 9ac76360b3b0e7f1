/* libinih wrapper: line numbers, section events, continuation lines. */
#include "config/ini.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "edhoc/result.h"

struct ini_run {
	const char *file;
	cfg_errors *errs;
	cfg_ini_fn fn;
	void *user;
	/* source: a FILE or a string */
	FILE *fp;
	const char *text;
	size_t text_off;
	unsigned line; /* number of the line last handed to libinih */
	bool line_is_continuation;
	bool failed;
	char *buf; /* getline buffer */
	size_t buf_cap;
};

/* Reads one whole line (any length) into run->buf; NULL at the end. */
static const char *next_line(struct ini_run *run, size_t *ret_len)
{
	if (run->fp) {
		ssize_t n = getline(&run->buf, &run->buf_cap, run->fp);
		if (n < 0)
			return NULL;
		*ret_len = (size_t)n;
		return run->buf;
	}
	const char *start = run->text + run->text_off;
	if (*start == '\0')
		return NULL;
	const char *nl = strchr(start, '\n');
	size_t n = nl ? (size_t)(nl - start) + 1 : strlen(start);
	run->text_off += n;
	*ret_len = n;
	return start;
}

/* Section headers never reach libinih's handler, so they are seen here, as
 * libinih itself would parse them. */
static void maybe_section(struct ini_run *run, const char *line)
{
	if (run->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3; /* libinih skips a UTF-8 BOM too */
	while (*line && isspace((unsigned char)*line))
		line++;
	if (*line != '[')
		return;
	const char *close = strchr(line, ']');
	if (!close)
		return; /* libinih reports the syntax error */
	char name[256];
	size_t n = (size_t)(close - line - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + 1, n);
	name[n] = '\0';
	run->fn(run->user, name, NULL, NULL, run->line, false);
}

static char *reader(char *str, int num, void *stream)
{
	struct ini_run *run = stream;
	size_t len;
	const char *line = next_line(run, &len);
	if (!line)
		return NULL;
	run->line++;
	size_t content = len;
	while (content > 0 && (line[content - 1] == '\n' || line[content - 1] == '\r'))
		content--;
	if (num <= 1) {
		str[0] = '\0';
		return str;
	}
	if (content >= (size_t)num - 1) {
		cfg_errors_add(run->errs, run->file, run->line,
		               "line is longer than %d characters (use continuation lines for "
		               "long lists)",
		               num - 2);
		run->failed = true;
		/* An empty line keeps libinih's line count in step. */
		str[0] = '\n';
		str[1] = '\0';
		run->line_is_continuation = false;
		return str;
	}
	memcpy(str, line, content);
	str[content] = '\n';
	str[content + 1] = '\0';
	/* libinih treats an indented non-empty line after a key as a
	 * continuation; comments are not continuations. */
	run->line_is_continuation = content > 0 && (line[0] == ' ' || line[0] == '\t');
	if (run->line_is_continuation) {
		const char *p = line;
		while (p < line + content && isspace((unsigned char)*p))
			p++;
		if (p == line + content || *p == ';' || *p == '#')
			run->line_is_continuation = false;
	}
	str[content] = '\0';
	maybe_section(run, str);
	str[content] = '\n';
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_run *run = user;
	run->fn(run->user, section, name, value, run->line, run->line_is_continuation);
	return 1;
}

static int run_parse(struct ini_run *run)
{
	int rc = ini_parse_stream(reader, run, handler, run);
	if (rc > 0) {
		cfg_errors_add(run->errs, run->file, (unsigned)rc,
		               "syntax error (expected [section], key = value or a comment)");
		run->failed = true;
	} else if (rc < 0) {
		cfg_errors_add(run->errs, run->file, 0, "cannot be parsed (out of memory)");
		run->failed = true;
	}
	/* Lines may have held a static context's master_secret. */
	if (run->buf)
		OPENSSL_cleanse(run->buf, run->buf_cap);
	free(run->buf);
	run->buf = NULL;
	return run->failed ? EDHOC_E_INVALID_ARGUMENT : 0;
}

int cfg_ini_parse_file(const char *path, cfg_ini_fn fn, void *user, cfg_errors *errs)
{
	struct ini_run run = {.file = path, .errs = errs, .fn = fn, .user = user};
	run.fp = fopen(path, "re");
	if (!run.fp) {
		cfg_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return EDHOC_E_INVALID_ARGUMENT;
	}
	int rc = run_parse(&run);
	fclose(run.fp);
	return rc;
}

int cfg_ini_parse_string(const char *text, const char *file, cfg_ini_fn fn, void *user,
                         cfg_errors *errs)
{
	struct ini_run run = {.file = file, .errs = errs, .fn = fn, .user = user, .text = text};
	return run_parse(&run);
}

int cfg_list_each(const char *value, size_t item_max, cfg_list_fn fn, void *user)
{
	char item[512];
	int count = 0;
	if (item_max > sizeof(item))
		item_max = sizeof(item);
	const char *p = value;
	while (p && *p) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, ", \t\r\n");
		bool too_long = n >= item_max;
		size_t copy = too_long ? item_max - 1 : n;
		memcpy(item, p, copy);
		item[copy] = '\0';
		int rc = fn(user, item, too_long);
		if (rc)
			return rc;
		count++;
		p += n;
	}
	return count;
}
