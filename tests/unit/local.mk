# tests/unit: cmocka unit tests.  Each module's fragment adds its own test
# programs; they link TEST_LIBS and the shared helper below.
noinst_LIBRARIES += tests/unit/libtestutil.a
tests_unit_libtestutil_a_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
tests_unit_libtestutil_a_CFLAGS = $(TEST_CFLAGS)
