# src/edhoc: EDHOC state machines, key schedule, exporter (owned by the EDHOC module)
src_libedhoc_a_SOURCES += \
	src/edhoc/result.c \
	src/edhoc/internal.h \
	src/edhoc/cid.c \
	src/edhoc/ead.c \
	src/edhoc/error.c \
	src/edhoc/id_cred.c \
	src/edhoc/keys.c \
	src/edhoc/message.c \
	src/edhoc/handshake.c \
	src/edhoc/responder.c \
	src/edhoc/initiator.c

# Unit tests of the EDHOC core (RFC 9529 traces, invalid messages, units).
check_PROGRAMS += tests/unit/test_edhoc_vectors
tests_unit_test_edhoc_vectors_SOURCES = tests/unit/test_edhoc_vectors.c tests/unit/edhoc_fixture.h
tests_unit_test_edhoc_vectors_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_edhoc_vectors_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_edhoc_vectors

check_PROGRAMS += tests/unit/test_edhoc_negative
tests_unit_test_edhoc_negative_SOURCES = tests/unit/test_edhoc_negative.c tests/unit/edhoc_fixture.h
tests_unit_test_edhoc_negative_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_edhoc_negative_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_edhoc_negative

check_PROGRAMS += tests/unit/test_edhoc_unit
tests_unit_test_edhoc_unit_SOURCES = tests/unit/test_edhoc_unit.c tests/unit/edhoc_fixture.h
tests_unit_test_edhoc_unit_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_edhoc_unit_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_edhoc_unit
