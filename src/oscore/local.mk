# src/oscore: appended to the top-level Makefile.am variables
# OSCORE (RFC 8613): messages, security contexts, protect/unprotect, replay.
src_libedhoc_a_SOURCES += \
	src/oscore/internal.h \
	src/oscore/replay.h \
	src/oscore/replay.c \
	src/oscore/message.c \
	src/oscore/context.c \
	src/oscore/protect.c

# Unit tests of this module (listed here, next to the code they test).
check_PROGRAMS += tests/unit/test_oscore_vectors
tests_unit_test_oscore_vectors_SOURCES = tests/unit/test_oscore_vectors.c
tests_unit_test_oscore_vectors_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_oscore_vectors_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_oscore_vectors

check_PROGRAMS += tests/unit/test_oscore_replay
tests_unit_test_oscore_replay_SOURCES = tests/unit/test_oscore_replay.c
tests_unit_test_oscore_replay_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_oscore_replay_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_oscore_replay

check_PROGRAMS += tests/unit/test_oscore_message
tests_unit_test_oscore_message_SOURCES = tests/unit/test_oscore_message.c
tests_unit_test_oscore_message_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_oscore_message_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_oscore_message

check_PROGRAMS += tests/unit/test_oscore_edhoc
tests_unit_test_oscore_edhoc_SOURCES = tests/unit/test_oscore_edhoc.c tests/unit/edhoc_fixture.h
tests_unit_test_oscore_edhoc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_oscore_edhoc_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_oscore_edhoc
