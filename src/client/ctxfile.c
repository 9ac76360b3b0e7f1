/* Stored OSCORE client contexts (see ctxfile.h). */
#include "client/ctxfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client/options.h"

#define LINE_MAX_LEN 512
#define LINES_MAX    64

void client_ctxfile_clear(client_ctxfile *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool hex_field(const char *v, uint8_t *out, size_t cap, size_t *ret_len)
{
	long n = client_hex_decode(v, out, cap);

	if (n < 0)
		return false;
	*ret_len = (size_t)n;
	return true;
}

static bool int_field(const char *v, long min, long max, long *ret)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
		return false;
	*ret = x;
	return true;
}

int client_ctxfile_load(const char *path, client_ctxfile *ret, char *err, size_t err_size)
{
	char line[LINE_MAX_LEN];
	client_ctxfile c;
	unsigned seen = 0, lineno = 0;
	FILE *f;
	int r = -1;

	memset(&c, 0, sizeof(c));
	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *key, *val;
		long x;
		bool ok;

		if (++lineno > LINES_MAX) {
			snprintf(err, err_size, "%s:%u: too many lines", path, lineno);
			goto out;
		}
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, err_size, "%s:%u: line too long", path, lineno);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, err_size, "%s:%u: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (strcmp(key, "master_secret") == 0) {
			ok = hex_field(val, c.master_secret, sizeof(c.master_secret),
			               &c.master_secret_len) &&
			     c.master_secret_len > 0;
			seen |= 1;
		} else if (strcmp(key, "master_salt") == 0) {
			ok = hex_field(val, c.master_salt, sizeof(c.master_salt),
			               &c.master_salt_len);
			seen |= 2;
		} else if (strcmp(key, "sender_id") == 0) {
			ok = hex_field(val, c.sender_id, sizeof(c.sender_id), &c.sender_id_len);
			seen |= 4;
		} else if (strcmp(key, "recipient_id") == 0) {
			ok = hex_field(val, c.recipient_id, sizeof(c.recipient_id),
			               &c.recipient_id_len);
			seen |= 8;
		} else if (strcmp(key, "aead") == 0) {
			ok = int_field(val, -65536, 65535, &x);
			c.aead_alg = (int)x;
			seen |= 16;
		} else if (strcmp(key, "hkdf") == 0) {
			ok = int_field(val, -65536, 65535, &x);
			c.hkdf_alg = (int)x;
			seen |= 32;
		} else if (strcmp(key, "sender_seq") == 0) {
			char *end;
			unsigned long long s;

			errno = 0;
			s = strtoull(val, &end, 10);
			ok = errno == 0 && end != val && *end == '\0' && val[0] != '-' &&
			     s <= OSCORE_SEQ_MAX;
			c.sender_seq = s;
			seen |= 64;
		} else {
			snprintf(err, err_size, "%s:%u: unknown key '%s'", path, lineno, key);
			goto out;
		}
		if (!ok) {
			snprintf(err, err_size, "%s:%u: bad value for %s", path, lineno, key);
			goto out;
		}
	}
	if (seen != 127) {
		snprintf(err, err_size,
		         "%s: incomplete context (need master_secret, master_salt, "
		         "sender_id, recipient_id, aead, hkdf, sender_seq)",
		         path);
		goto out;
	}
	*ret = c;
	r = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	client_ctxfile_clear(&c);
	fclose(f);
	return r;
}

int client_ctxfile_save(const char *path, const client_ctxfile *c, char *err, size_t err_size)
{
	char tmp[4096];
	char hex[2 * OSCORE_MAX_MASTER_SECRET + 1];
	FILE *f = NULL;
	int fd = -1, r = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, err_size, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	fputs("# edhoc-client OSCORE context: holds a secret, keep it private\n", f);
	client_hex_encode(c->master_secret, c->master_secret_len, hex);
	fprintf(f, "master_secret = %s\n", hex);
	client_hex_encode(c->master_salt, c->master_salt_len, hex);
	fprintf(f, "master_salt = %s\n", hex);
	client_hex_encode(c->sender_id, c->sender_id_len, hex);
	fprintf(f, "sender_id = %s\n", hex);
	client_hex_encode(c->recipient_id, c->recipient_id_len, hex);
	fprintf(f, "recipient_id = %s\n", hex);
	fprintf(f, "aead = %d\nhkdf = %d\nsender_seq = %" PRIu64 "\n", c->aead_alg, c->hkdf_alg,
	        c->sender_seq);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(hex, sizeof(hex));
	if (f != NULL)
		fclose(f);
	if (r != 0)
		unlink(tmp);
	return r;
}

int client_ctxfile_context(const client_ctxfile *c, oscore_ctx **ret)
{
	oscore_ctx_params p;

	memset(&p, 0, sizeof(p));
	p.master_secret = c->master_secret;
	p.master_secret_len = c->master_secret_len;
	p.master_salt = c->master_salt;
	p.master_salt_len = c->master_salt_len;
	p.sender_id = c->sender_id;
	p.sender_id_len = c->sender_id_len;
	p.recipient_id = c->recipient_id;
	p.recipient_id_len = c->recipient_id_len;
	p.aead_alg = c->aead_alg;
	p.hash_alg = c->hkdf_alg;
	p.sender_seq = c->sender_seq;
	return oscore_ctx_new(&p, ret);
}
