# src/tools: small operator tools (edhoc-keygen)
#
# src/libcredfile.a: credential files (binary CCS, the .cred text form,
# PEM/DER certificates and PEM keys; docs/credentials.md).  Kept out of the
# pure core because it reads and writes files; the daemon, edhoc-client,
# edhoc-keygen and the tests link it before $(CORE_LIBS):
#     foo_LDADD = src/libcredfile.a $(CORE_LIBS)
noinst_LIBRARIES += src/libcredfile.a
src_libcredfile_a_SOURCES = src/tools/credfile.c src/tools/credfile.h
CREDFILE_LIBS = src/libcredfile.a

bin_PROGRAMS += src/edhoc-keygen
src_edhoc_keygen_SOURCES = src/tools/edhoc-keygen.c
src_edhoc_keygen_LDADD = $(CREDFILE_LIBS) $(CORE_LIBS)
dist_man_MANS += man/edhoc-keygen.1

# Credential tests (test_cred) and the EDHOC round-trip matrix; certgen.c
# makes X.509 certificates in-test.
check_PROGRAMS += tests/unit/test_cred tests/unit/test_edhoc_roundtrip
tests_unit_test_cred_SOURCES = tests/unit/test_cred.c tests/unit/certgen.c tests/unit/certgen.h
tests_unit_test_cred_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cred_LDADD = tests/unit/libtestutil.a $(CREDFILE_LIBS) $(CORE_LIBS) $(CMOCKA_LIBS) $(JANSSON_LIBS)
tests_unit_test_edhoc_roundtrip_SOURCES = tests/unit/test_edhoc_roundtrip.c tests/unit/certgen.c tests/unit/certgen.h
tests_unit_test_edhoc_roundtrip_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_edhoc_roundtrip_LDADD = tests/unit/libtestutil.a $(CREDFILE_LIBS) $(CORE_LIBS) $(CMOCKA_LIBS) $(JANSSON_LIBS)
TESTS += tests/unit/test_cred tests/unit/test_edhoc_roundtrip
