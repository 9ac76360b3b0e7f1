# tests/e2e: end-to-end tests.  Bash scripts that start the real edhocd,
# edhoc-client and coap-server on 127.0.0.1 and print TAP; they run under
# the same tap-driver as the unit tests (see tests/e2e/lib.sh).
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = bash
E2E_TESTS = \
	tests/e2e/client.sh \
	tests/e2e/handshake.sh \
	tests/e2e/errors.sh \
	tests/e2e/retransmit.sh \
	tests/e2e/lifecycle.sh \
	tests/e2e/oscore.sh
TESTS += $(E2E_TESTS)
EXTRA_DIST += tests/e2e/lib.sh $(E2E_TESTS)

# Forwarding e2e tests: a backend with timing control and a raw OSCORE
# client (block-wise, Observe, retransmission, replay).  Owned by the
# forwarding work.
check_PROGRAMS += tests/e2e/backend/test-backend tests/e2e/backend/oscore-probe
tests_e2e_backend_test_backend_SOURCES = tests/e2e/backend/test-backend.c
tests_e2e_backend_test_backend_CFLAGS = $(AM_CFLAGS) $(COAP_CFLAGS)
tests_e2e_backend_test_backend_LDADD = $(COAP_LIBS)
tests_e2e_backend_oscore_probe_SOURCES = tests/e2e/backend/oscore-probe.c \
	src/client/ctxfile.c src/client/options.c src/gateway/block.c src/gateway/hash.c
tests_e2e_backend_oscore_probe_CFLAGS = $(AM_CFLAGS)
tests_e2e_backend_oscore_probe_LDADD = $(CORE_LIBS)
TESTS += tests/e2e/forward.sh
EXTRA_DIST += tests/e2e/forward.sh tests/e2e/backend
TESTS += tests/e2e/static.sh
EXTRA_DIST += tests/e2e/static.sh
# tests/systemd: edhocd's sd_notify protocol against a stand-in receiver,
# systemd-analyze verify, and the unit under a real systemd booted in
# systemd-nspawn (skips unless root with a cached container root or
# EDHOCD_NSPAWN=1; see tests/systemd/README.md).
SYSTEMD_TESTS = \
	tests/systemd/notify.sh \
	tests/systemd/nspawn.sh
TESTS += $(SYSTEMD_TESTS)
EXTRA_DIST += $(SYSTEMD_TESTS) tests/systemd/README.md \
	tests/systemd/notify-recv.py tests/systemd/journal-get.py

# Handshake matrix (methods x suites x credential kinds), X.509 trust
# failures and whole failure records (record-lib.sh asserts them);
# pki.sh makes the test CAs and certificates; --help and man
# pages against the getopt tables.
TESTS += tests/e2e/matrix.sh tests/e2e/x509.sh tests/e2e/records.sh tests/e2e/help.sh
EXTRA_DIST += tests/e2e/matrix.sh tests/e2e/x509.sh tests/e2e/records.sh tests/e2e/help.sh \
	tests/e2e/pki.sh tests/e2e/record-lib.sh
# Outer block-wise OSCORE (RFC 8613 §4.1.3.4.2) through the gateway, with
# oscore-probe's outer block modes.
TESTS += tests/e2e/outer-block.sh
TESTS += tests/e2e/transport.sh
EXTRA_DIST += tests/e2e/transport.sh
EXTRA_DIST += tests/e2e/outer-block.sh
# Flood and resource-bound tests: flooder sends message_1, garbage,
# retransmission-cache, unknown-kid, Block1 and pending-forward floods.
check_PROGRAMS += tests/e2e/flood/flooder
tests_e2e_flood_flooder_SOURCES = tests/e2e/flood/flooder.c \
	src/client/ctxfile.c src/client/options.c src/gateway/block.c src/gateway/hash.c
tests_e2e_flood_flooder_CFLAGS = $(AM_CFLAGS)
tests_e2e_flood_flooder_LDADD = $(CORE_LIBS)
TESTS += tests/e2e/flood.sh tests/e2e/flood-source.sh
EXTRA_DIST += tests/e2e/flood.sh tests/e2e/flood-source.sh tests/e2e/flood
