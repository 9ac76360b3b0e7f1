# src/crypto: appended to the top-level Makefile.am variables
# OpenSSL 3: suite table, hashes, HKDF/KMAC, AEADs, ECDH, signatures.
src_libedhoc_a_SOURCES += \
	src/crypto/crypto_internal.h \
	src/crypto/suite.c \
	src/crypto/kdf.c \
	src/crypto/aead.c \
	src/crypto/keys.c

check_PROGRAMS += tests/unit/test_crypto
tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c
tests_unit_test_crypto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_crypto_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_crypto
