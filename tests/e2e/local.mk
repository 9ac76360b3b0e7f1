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
