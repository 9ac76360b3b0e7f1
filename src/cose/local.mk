# src/cose: appended to the top-level Makefile.am variables
# Strict CBOR reader/writer over libcbor (crypto/CBOR engineer).
src_libedhoc_a_SOURCES += src/cose/cbor.c
# CCS and X.509 credentials, ID_CRED_x (credentials engineer).
src_libedhoc_a_SOURCES += src/cose/cred.c
check_PROGRAMS += tests/unit/test_cbor
tests_unit_test_cbor_SOURCES = tests/unit/test_cbor.c
tests_unit_test_cbor_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cbor_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_cbor
