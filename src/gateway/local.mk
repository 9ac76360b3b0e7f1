# src/gateway: CoAP glue of the daemon (tables, caches, EDHOC and OSCORE
# resources).  Owned by the gateway module.
src_libgw_a_SOURCES += \
	src/gateway/addr.c src/gateway/addr.h \
	src/gateway/hash.c src/gateway/hash.h \
	src/gateway/lru.h \
	src/gateway/cid.c src/gateway/cid.h \
	src/gateway/halfopen.c src/gateway/halfopen.h \
	src/gateway/rtx.c src/gateway/rtx.h \
	src/gateway/sessions.c src/gateway/sessions.h \
	src/gateway/gateway.c src/gateway/gateway.h

# Unit tests of the gateway's tables (no sockets, no libcoap).
GW_TABLE_TEST_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
GW_TABLE_TEST_LIBS = $(GW_LIBS) $(CMOCKA_LIBS) tests/unit/libtestutil.a $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_gw_cid tests/unit/test_gw_halfopen \
	tests/unit/test_gw_rtx tests/unit/test_gw_sessions
TESTS += tests/unit/test_gw_cid tests/unit/test_gw_halfopen \
	tests/unit/test_gw_rtx tests/unit/test_gw_sessions
tests_unit_test_gw_cid_SOURCES = tests/unit/test_gw_cid.c
tests_unit_test_gw_cid_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_cid_LDADD = $(GW_TABLE_TEST_LIBS)
tests_unit_test_gw_halfopen_SOURCES = tests/unit/test_gw_halfopen.c
tests_unit_test_gw_halfopen_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_halfopen_LDADD = $(GW_TABLE_TEST_LIBS)
tests_unit_test_gw_rtx_SOURCES = tests/unit/test_gw_rtx.c
tests_unit_test_gw_rtx_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_rtx_LDADD = $(GW_TABLE_TEST_LIBS)
tests_unit_test_gw_sessions_SOURCES = tests/unit/test_gw_sessions.c
tests_unit_test_gw_sessions_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_sessions_LDADD = $(GW_TABLE_TEST_LIBS)

# Forwarding to CoAP backends (backend client, device-side relay, inner
# block-wise bodies).  Owned by the forwarding work.
src_libgw_a_SOURCES += \
	src/gateway/forward.c src/gateway/forward.h src/gateway/backend.c src/gateway/backend.h src/gateway/io.h src/gateway/tlist.h src/gateway/udp.c src/gateway/udp.h \
	src/gateway/block.c src/gateway/block.h

check_PROGRAMS += tests/unit/test_gw_forward
TESTS += tests/unit/test_gw_forward
tests_unit_test_gw_forward_SOURCES = tests/unit/test_gw_forward.c
tests_unit_test_gw_forward_CFLAGS = $(GW_TABLE_TEST_CFLAGS) $(COAP_CFLAGS)
tests_unit_test_gw_forward_LDADD = $(GW_TABLE_TEST_LIBS) $(COAP_LIBS)
src_libgw_a_SOURCES += src/gateway/static_ctx.c src/gateway/static_ctx.h

# Session management (drop, listing, expiry) of a gateway driven in-process
# by a raw-UDP EDHOC/OSCORE device and a hand-answered backend.
check_PROGRAMS += tests/unit/test_gw_drop
TESTS += tests/unit/test_gw_drop
tests_unit_test_gw_drop_SOURCES = tests/unit/test_gw_drop.c tests/unit/trustgen.c \
	tests/unit/trustgen.h
tests_unit_test_gw_drop_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_drop_LDADD = $(CREDFILE_LIBS) $(GW_TABLE_TEST_LIBS)

# Outer block-wise transfer of OSCORE messages with devices (RFC 8613
# §4.1.3.4.2): Block1 reassembly and Block2 serving of protected messages.
src_libgw_a_SOURCES += src/gateway/outer_block.c src/gateway/outer_block.h
check_PROGRAMS += tests/unit/test_gw_outer_block
TESTS += tests/unit/test_gw_outer_block
tests_unit_test_gw_outer_block_SOURCES = tests/unit/test_gw_outer_block.c
tests_unit_test_gw_outer_block_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_outer_block_LDADD = $(GW_TABLE_TEST_LIBS)
# Block-wise Observe notifications from a libcoap backend, delivered whole.
check_PROGRAMS += tests/unit/test_gw_obs_block
TESTS += tests/unit/test_gw_obs_block
tests_unit_test_gw_obs_block_SOURCES = tests/unit/test_gw_obs_block.c
tests_unit_test_gw_obs_block_CFLAGS = $(GW_TABLE_TEST_CFLAGS) $(COAP_CFLAGS)
tests_unit_test_gw_obs_block_LDADD = $(GW_TABLE_TEST_LIBS) $(COAP_LIBS)
