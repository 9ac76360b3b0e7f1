# src/diag: failure records, ticket IDs, journald/stderr sinks, throttling
src_libgw_a_SOURCES += src/diag/diag.c src/diag/diag.h src/diag/detail.c src/diag/detail.h

check_PROGRAMS += tests/unit/test_diag
tests_unit_test_diag_SOURCES = tests/unit/test_diag.c
tests_unit_test_diag_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
tests_unit_test_diag_LDADD = src/libgw.a $(GW_LIBS) $(CMOCKA_LIBS)
TESTS += tests/unit/test_diag
