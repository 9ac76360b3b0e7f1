/* /proc readers for gateway-bench. */
#include "gwb_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads /proc/PID/stat into buf; returns the part after the command name
 * (which may itself hold spaces and parentheses, so search from the end). */
static const char *stat_fields(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	FILE *f;
	size_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return NULL;
	return p + 2;
}

int gwb_proc_cpu_split(pid_t pid, double *ret_user, double *ret_sys)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	unsigned long long utime = 0, stime = 0;
	long tck = sysconf(_SC_CLK_TCK);

	/* After "(comm) ": state is field 3; utime and stime are 14 and 15. */
	if (!p || tck <= 0 ||
	    sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -1;
	*ret_user = (double)utime / (double)tck;
	*ret_sys = (double)stime / (double)tck;
	return 0;
}

int gwb_proc_cpu(pid_t pid, double *ret_seconds)
{
	double u, s;
	if (gwb_proc_cpu_split(pid, &u, &s) != 0)
		return -1;
	*ret_seconds = u + s;
	return 0;
}

int gwb_proc_rss_kib(pid_t pid, long *ret_kib)
{
	char path[64], line[256];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long v;
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1) {
			*ret_kib = v;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

bool gwb_proc_alive(pid_t pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	return p && *p != 'Z' && *p != 'X' && *p != 'x';
}
