/* The daemon's configuration: /etc/edhocd/edhocd.conf plus the *.conf files
 * of the conf.d directory next to it (in strcmp order; a later assignment
 * of a key replaces an earlier one, a later [route X]/[static X] section
 * with the same name adds to or overrides that entry key by key).
 *
 * Loading parses and validates everything (ranges, formats, that files
 * exist and keys parse, that the ACL names known identities and routes) and
 * builds one immutable, reference-counted object that also owns the loaded
 * trust store, ACL, routes and own credential.  Reload = load a complete
 * new object and swap only when it is valid (cfg_reload).  Relative paths
 * in a file are relative to the directory of that file.  Unknown sections
 * and keys are errors.  See man/edhocd.conf.5 for every key. */
#ifndef EDHOCD_CONFIG_CONFIG_H
#define EDHOCD_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config/errors.h"
#include "diag/diag.h"
#include "edhoc/cred.h"
#include "edhoc/edhoc.h"
#include "policy/acl.h"
#include "policy/routes.h"
#include "policy/trust.h"

#define CFG_DEFAULT_PATH "/etc/edhocd/edhocd.conf"
#define CFG_DEFAULT_PORT 5683
#define CFG_LISTEN_MAX   8
#define CFG_PATH_MAX     4096
#define CFG_STATIC_MAX   1024

typedef struct cfg_listen {
	char text[DIAG_ADDR_SIZE];    /* as configured, normalised: "[::1]:5683" */
	struct sockaddr_storage addr; /* AF_INET or AF_INET6 */
	socklen_t addr_len;
} cfg_listen;

typedef struct cfg_gateway {
	cfg_listen listen[CFG_LISTEN_MAX]; /* default: 0.0.0.0:5683 */
	size_t n_listen;
	unsigned methods;             /* bit (1u << m) per EDHOC method; default all 4 */
	int suites[EDHOC_MAX_SUITES]; /* most preferred first; default 2,0 */
	size_t n_suites;
	char credential[CFG_PATH_MAX];     /* own .cred file, or "" when certificate is used */
	char certificate[CFG_PATH_MAX];    /* own PEM certificate (chain) */
	char private_key[CFG_PATH_MAX];    /* its PEM private key */
	int id_cred;                       /* EDHOC_ID_CRED_* of ID_CRED_R; 0: what the
	                                      credential file says, else x5t for a
	                                      certificate, kid (kccs without kid) for a CCS */
	char trust_dir[CFG_PATH_MAX];      /* default /etc/edhocd/trust */
	char acl[CFG_PATH_MAX];            /* default /etc/edhocd/acl.conf */
	char state_dir[CFG_PATH_MAX];      /* default /var/lib/edhocd */
	char control_socket[CFG_PATH_MAX]; /* default /run/edhocd/control.sock */
	int log_target;                    /* enum diag_target; default auto */
	int disclosure;                    /* enum diag_disclosure; default category */
	bool unknown_cred_error;           /* answer ERR_CODE 3; default false */
	bool message_4;                    /* send message_4 after message_3; default false */
} cfg_gateway;

/* Every resource a peer can make the gateway allocate (man page: defaults
 * and ranges). */
typedef struct cfg_limits {
	size_t half_open_max;
	unsigned half_open_timeout_ms;
	size_t half_open_per_address; /* per IPv4 address or IPv6 /64; 0: no limit */
	size_t sessions_max;
	size_t sessions_per_identity;
	size_t retransmit_cache_max;
	size_t message_max;
	size_t ead_items_max;
	size_t chain_length_max;
	size_t pending_forwards_max;
	size_t observations_per_device;
	size_t payload_max;
} cfg_limits;

typedef struct cfg_oscore {
	unsigned replay_window;      /* 1..64, default 32 */
	uint64_t seq_lease_block;    /* sequence numbers leased per store write */
	uint64_t session_lifetime_s; /* 0: unlimited */
} cfg_oscore;

/* A static OSCORE context ([static NAME]) for a device without EDHOC.
 * Secrets in fixed buffers, cleansed when the config is freed. */
typedef struct cfg_static {
	char name[ROUTE_NAME_MAX];
	char identity[EDHOC_MAX_IDENTITY];
	uint8_t master_secret[32];
	size_t master_secret_len; /* 16..32 */
	uint8_t master_salt[32];
	size_t master_salt_len; /* 0..32 */
	uint8_t sender_id[EDHOC_MAX_CID];
	size_t sender_id_len;
	uint8_t recipient_id[EDHOC_MAX_CID];
	size_t recipient_id_len;
	uint8_t id_context[EDHOC_MAX_CID];
	size_t id_context_len;
	bool has_id_context;
	int aead_alg; /* COSE AEAD; default AES-CCM-16-64-128 (10) */
	int hkdf_alg; /* COSE hash for HKDF; SHA-256 (-16) */
} cfg_static;

typedef struct cfg cfg;

/* Loads path and <dir of path>/conf.d/\*.conf.  On success *ret_cfg holds a
 * new object with one reference.  On failure returns
 * EDHOC_E_INVALID_ARGUMENT (or EDHOC_E_NOMEM) and, when ret_errors is not
 * NULL, a list the caller frees with cfg_errors_free; *ret_cfg untouched. */
int cfg_load(const char *path, cfg **ret_cfg, cfg_errors **ret_errors);

/* Loads path; when valid, replaces *current (dropping the caller's
 * reference to the old object) and returns 0.  When not, *current stays as
 * it was and the errors are returned as for cfg_load. */
int cfg_reload(cfg **current, const char *path, cfg_errors **ret_errors);

/* --check-config: loads path, prints "path: configuration OK" or the errors
 * to out, returns 0 when valid, 1 when not. */
int cfg_check(const char *path, FILE *out);

/* Reference counting.  cfg_unref(NULL) is a no-op; the last unref frees the
 * trust store, ACL, routes and credential and cleanses the secrets. */
cfg *cfg_ref(cfg *c);
void cfg_unref(cfg *c);

const cfg_gateway *cfg_gateway_get(const cfg *c);
const cfg_limits *cfg_limits_get(const cfg *c);
const cfg_oscore *cfg_oscore_get(const cfg *c);
size_t cfg_static_count(const cfg *c);
const cfg_static *cfg_static_at(const cfg *c, size_t i);
/* Static context by recipient ID (the kid a device sends), NULL if none. */
const cfg_static *cfg_static_by_kid(const cfg *c, const uint8_t *kid, size_t kid_len);

/* The loaded policy objects, owned by the config.  The trust store is not
 * const because lookups use its scratch slot (see trust.h). */
trust_store *cfg_trust(const cfg *c);
const acl *cfg_acl(const cfg *c);
const routes *cfg_routes(const cfg *c);

/* The gateway's own credential with its private key (owned by the config). */
const cose_cred *cfg_own_cred(const cfg *c);

/* Path the object was loaded from. */
const char *cfg_path(const cfg *c);

/* Fills an edhoc_config for the responder from c: methods, suites, own
 * credential, trust_lookup with cfg_trust(c), limits (message_max,
 * ead_items_max), unknown_cred_error.  ead/rng are left NULL. */
void cfg_edhoc_responder(const cfg *c, edhoc_config *ret);

#endif
