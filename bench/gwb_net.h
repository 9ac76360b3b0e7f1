/* gateway-bench: a load generator's CoAP/UDP client over raw sockets.
 *
 * A pool holds n slots; each slot is a UDP socket connected to one server
 * (so each slot is a peer of its own: the gateway keys half-open
 * handshakes and its retransmission cache by address and port) and runs
 * one job at a time.  A job is a short exchange of CON requests, driven by
 * callbacks; the pool keeps every slot busy until the window ends, resends
 * a request whose answer is late (same Message ID, so the server answers
 * from its cache), and gives up on a job after a bounded number of tries.
 * Framing is the core's oscore_coap_encode/decode.  Single-threaded. */
#ifndef GWB_NET_H
#define GWB_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "edhoc/oscore.h"

#define GWB_MAX_DGRAM 1500
#define GWB_MAX_SLOTS 256

typedef struct gwb_slot {
	unsigned idx; /* 0..n-1 in its pool */
	int fd;
	bool busy;
	uint16_t mid;
	uint32_t token_ctr;
	uint8_t token[4];
	uint8_t dgram[GWB_MAX_DGRAM];
	size_t dgram_len;
	double deadline; /* next retransmission or give-up time */
	double rto;
	unsigned tries;
	double job_start;
} gwb_slot;

/* A job's callbacks.  start: put the first request on the slot with
 * gwb_slot_request and return 0, or return 1 when there is no more work.
 * response: 1 when another request was put on the slot, 0 when the job is
 * done, negative when it failed.  abort (may be NULL): the job ends
 * without success (timeout, failed response, end of run): free its
 * state. */
typedef struct gwb_ops {
	int (*start)(void *arg, gwb_slot *s);
	int (*response)(void *arg, gwb_slot *s, const oscore_coap_hdr *h, const oscore_msg *m);
	void (*abort)(void *arg, gwb_slot *s, int why);
} gwb_ops;

typedef struct gwb_run_opts {
	double seconds;        /* start jobs for this long (0: no time limit) */
	uint64_t max_jobs;     /* start at most this many (0: no limit) */
	unsigned inflight;     /* slots used, at most the pool's size */
	pid_t watch_pid;       /* stop when it dies (0: none) */
	double rto;            /* first retransmission timeout, seconds */
	unsigned max_tries;    /* transmissions per request */
	uint64_t max_failures; /* stop starting jobs after this many (0: none) */
	double hard_limit;     /* whole run, seconds, draining included */
} gwb_run_opts;

typedef struct gwb_run_result {
	uint64_t ok, failed;
	uint64_t retransmits; /* requests sent again */
	uint64_t timeouts;    /* jobs given up for lack of an answer */
	double wall;          /* first start to last completion, seconds */
	double latency_sum;   /* of successful jobs, seconds */
	bool target_died;
	int first_error; /* first failure's code (0: none) */
} gwb_run_result;

typedef struct gwb_pool gwb_pool;

/* n slots (1..GWB_MAX_SLOTS) with sockets on 127.0.0.1 connected to to. */
int gwb_pool_create(const struct sockaddr_in *to, unsigned n, gwb_pool **ret);

/* NULL is a no-op. */
void gwb_pool_free(gwb_pool *p);

/* Encodes m as a CON request with a fresh Message ID and token and sends
 * it on the slot.  m (and what it borrows) may be reused afterwards. */
int gwb_slot_request(gwb_slot *s, const oscore_msg *m);

/* Runs jobs on the pool until the window closes, then lets the jobs in
 * flight finish (bounded by hard_limit and the retransmission budget). */
int gwb_pool_run(gwb_pool *p, const gwb_ops *ops, void *arg, const gwb_run_opts *o,
                 gwb_run_result *ret);

/* Monotonic seconds. */
double gwb_now(void);

/* Job failure codes the pool itself reports (to abort and first_error). */
#define GWB_E_TIMEOUT (-9001)
#define GWB_E_RESET   (-9002)
#define GWB_E_STOPPED (-9003)

#endif
