/* gateway-bench: what /proc says about another process (the daemon under
 * test, the backend): CPU time and resident memory.  Linux only. */
#ifndef GWB_PROC_H
#define GWB_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* utime + stime of pid in seconds (clock-tick resolution, usually 10 ms).
 * -1 when the process is gone or /proc cannot be read. */
int gwb_proc_cpu(pid_t pid, double *ret_seconds);

/* The same split into user and system time (system time holds the
 * kernel's share of sending, receiving and fsync). */
int gwb_proc_cpu_split(pid_t pid, double *ret_user, double *ret_sys);

/* VmRSS of pid in KiB.  -1 when unreadable. */
int gwb_proc_rss_kib(pid_t pid, long *ret_kib);

/* True while pid exists and is neither a zombie nor dead. */
bool gwb_proc_alive(pid_t pid);

#endif
