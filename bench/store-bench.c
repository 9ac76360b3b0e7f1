/* store-bench: cost of the durable state operations on the filesystem that
 * holds DIR (default: a fresh directory under /tmp).
 *
 *   store-bench [-n SESSIONS] [-l LEASES] [DIR]
 *
 * Prints: raw write+fdatasync latency (the floor), durable lease latency,
 * session put throughput (each put is one fsynced commit), batched touch
 * throughput, startup load time, and bytes on disk per session.  The numbers
 * feed the choice of the lease block K in docs/state.md. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_session(store_session *s, unsigned i)
{
	memset(s, 0, sizeof(*s));
	s->rid[0] = (uint8_t)(i >> 16);
	s->rid[1] = (uint8_t)(i >> 8);
	s->rid[2] = (uint8_t)i;
	s->rid_len = 3;
	s->sid[0] = (uint8_t)(i >> 8);
	s->sid[1] = (uint8_t)i;
	s->sid_len = 2;
	snprintf(s->identity, sizeof(s->identity), "device-%06u.example", i);
	s->method = 3;
	s->suite = 2;
	s->aead_alg = 10;
	s->hkdf_alg = -16;
	for (size_t k = 0; k < 16; k++)
		s->master_secret[k] = (uint8_t)(i * 31 + k);
	s->master_secret_len = 16;
	for (size_t k = 0; k < 8; k++)
		s->master_salt[k] = (uint8_t)(i * 17 + k);
	s->master_salt_len = 8;
	s->replay_window = 32;
	s->created = s->last_used = 1700000000 + i;
	s->expires = 1700000000 + 86400;
	s->seq_limit = STORE_DEFAULT_LEASE_BLOCK;
}

static int count_cb(void *arg, const store_session *s)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

static long file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (long)sb.st_size : 0;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	unsigned n_sessions = 10000, n_leases = 2000;
	char dir[256], path[320], raw[320], wal[330];
	store_limits lim;
	store *st = NULL;
	store_session s;
	double t0, t;
	size_t loaded = 0;
	int opt, r, fd;

	while ((opt = getopt(argc, argv, "n:l:")) != -1) {
		if (opt == 'n')
			n_sessions = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'l')
			n_leases = (unsigned)strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: store-bench [-n SESSIONS] [-l LEASES] [DIR]\n");
			return 2;
		}
	}
	if (n_sessions == 0 || n_leases == 0 || n_sessions > 1000000) {
		fprintf(stderr, "store-bench: counts must be 1..1000000\n");
		return 2;
	}
	if (optind < argc) {
		snprintf(dir, sizeof(dir), "%s/store-bench.XXXXXX", argv[optind]);
	} else {
		snprintf(dir, sizeof(dir), "/tmp/store-bench.XXXXXX");
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	snprintf(raw, sizeof(raw), "%s/raw", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);

	/* The floor: what one durable 4 KiB append costs on this filesystem. */
	fd = open(raw, O_CREAT | O_WRONLY | O_APPEND, 0600);
	if (fd >= 0) {
		char page[4096] = {0};

		t0 = now_s();
		for (unsigned i = 0; i < n_leases; i++)
			if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page) ||
			    fdatasync(fd) < 0)
				break;
		t = now_s() - t0;
		close(fd);
		unlink(raw);
		printf("raw write+fdatasync:  %8.1f us each\n", t / n_leases * 1e6);
	}

	store_limits_default(&lim);
	lim.sessions_max = n_sessions;
	lim.sessions_per_identity = 4;
	r = store_open(path, &lim, &st);
	if (r < 0) {
		fprintf(stderr, "store-bench: %s: %s\n", path, edhoc_result_describe(r));
		goto out;
	}

	t0 = now_s();
	for (unsigned i = 0; i < n_sessions; i++) {
		make_session(&s, i);
		r = store_session_put(st, &s, NULL, NULL);
		if (r < 0)
			goto fail;
	}
	t = now_s() - t0;
	printf("session put:          %8.1f us each, %.0f sessions/s (%u sessions)\n",
	       t / n_sessions * 1e6, n_sessions / t, n_sessions);

	/* Full store: every put now also evicts the least recently used. */
	t0 = now_s();
	for (unsigned i = 0; i < 1000; i++) {
		make_session(&s, n_sessions + i);
		r = store_session_put(st, &s, NULL, NULL);
		if (r < 0)
			goto fail;
	}
	t = now_s() - t0;
	printf("session put+evict:    %8.1f us each\n", t / 1000 * 1e6);

	make_session(&s, n_sessions + 999);
	t0 = now_s();
	for (unsigned i = 0; i < n_leases; i++) {
		r = store_lease(st, s.rid, s.rid_len,
		                (uint64_t)(i + 2) * STORE_DEFAULT_LEASE_BLOCK);
		if (r < 0)
			goto fail;
	}
	t = now_s() - t0;
	printf("lease (durable):      %8.1f us each; per message at K=%d: %.3f us\n",
	       t / n_leases * 1e6, STORE_DEFAULT_LEASE_BLOCK,
	       t / n_leases * 1e6 / STORE_DEFAULT_LEASE_BLOCK);

	t0 = now_s();
	for (unsigned i = 0; i < 100000; i++) {
		make_session(&s, n_sessions + (i % 1000));
		r = store_session_touch(st, s.rid, s.rid_len, 1800000000 + i);
		if (r < 0)
			goto fail;
	}
	r = store_flush(st);
	if (r < 0)
		goto fail;
	t = now_s() - t0;
	printf("touch (batched):      %8.2f us each (100000 over 1000 sessions)\n",
	       t / 100000 * 1e6);

	store_close(st);
	st = NULL;
	/* A clean close checkpoints and removes the WAL: the main file is all. */
	printf("on disk after close:  %ld bytes, %.0f bytes/session (wal %ld)\n", file_size(path),
	       (double)file_size(path) / n_sessions, file_size(wal));

	t0 = now_s();
	r = store_open(path, &lim, &st);
	if (r < 0)
		goto fail;
	t = now_s() - t0;
	printf("open (quick_check):   %8.1f ms\n", t * 1e3);
	t0 = now_s();
	r = store_session_load_all(st, 1700000000, count_cb, &loaded, NULL);
	if (r < 0)
		goto fail;
	t = now_s() - t0;
	printf("load_all:             %8.1f ms for %zu sessions\n", t * 1e3, loaded);
	r = 0;
	goto out;
fail:
	fprintf(stderr, "store-bench: %s\n", edhoc_result_describe(r));
out:
	store_close(st);
	rm_dir(dir);
	return r < 0 ? 1 : 0;
}
