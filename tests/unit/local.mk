# tests/unit: cmocka unit tests.  Each module's fragment adds its own test
# programs; they link TEST_LIBS and the shared helper below.
noinst_LIBRARIES += tests/unit/libtestutil.a
tests_unit_libtestutil_a_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
tests_unit_libtestutil_a_CFLAGS = $(TEST_CFLAGS)

# The gateway's CoAP/UDP endpoint towards devices (src/gateway/udp.c), over
# loopback with a plain UDP socket as the device.
check_PROGRAMS += tests/unit/test_gw_udp
TESTS += tests/unit/test_gw_udp
tests_unit_test_gw_udp_SOURCES = tests/unit/test_gw_udp.c
tests_unit_test_gw_udp_CFLAGS = $(GW_TABLE_TEST_CFLAGS)
tests_unit_test_gw_udp_LDADD = $(GW_TABLE_TEST_LIBS)
