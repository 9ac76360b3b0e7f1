# src/store: durable daemon state (SQLite): sessions and sequence-number
# leases.  Owned by the store module.
src_libgw_a_SOURCES += src/store/store.c src/store/store.h

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
tests_unit_test_store_LDADD = $(GW_LIBS) $(CMOCKA_LIBS) tests/unit/libtestutil.a $(JANSSON_LIBS)
