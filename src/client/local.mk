# src/client: edhoc-client, the EDHOC initiator / OSCORE client tool.
bin_PROGRAMS += src/client/edhoc-client
src_client_edhoc_client_SOURCES = \
	src/client/main.c \
	src/client/run.h \
	src/client/handshake.c \
	src/client/options.c \
	src/client/options.h \
	src/client/ctxfile.c \
	src/client/ctxfile.h \
	src/client/transport.c \
	src/client/transport.h
src_client_edhoc_client_CFLAGS = $(AM_CFLAGS) $(COAP_CFLAGS)
src_client_edhoc_client_LDADD = $(CREDFILE_LIBS) $(CORE_LIBS) $(COAP_LIBS)
dist_man_MANS += man/edhoc-client.1

check_PROGRAMS += tests/unit/test_client
tests_unit_test_client_SOURCES = tests/unit/test_client.c \
	src/client/options.c src/client/ctxfile.c
tests_unit_test_client_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_client_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_client
