# src/client: edhoc-client, the EDHOC initiator / OSCORE client tool.
# Built as EXTRA_PROGRAMS until the core (edhoc, cose) and src/libcredfile.a
# it links are in the tree; then it moves to bin_PROGRAMS.
EXTRA_PROGRAMS = src/client/edhoc-client
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
src_client_edhoc_client_LDADD = src/libcredfile.a $(CORE_LIBS) $(COAP_LIBS)
