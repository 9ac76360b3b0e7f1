# src/edhoc: EDHOC state machines, key schedule, exporter (owned by the EDHOC module)
src_libedhoc_a_SOURCES += \
	src/edhoc/result.c \
	src/edhoc/internal.h \
	src/edhoc/cid.c \
	src/edhoc/ead.c \
	src/edhoc/error.c \
	src/edhoc/id_cred.c \
	src/edhoc/keys.c \
	src/edhoc/handshake.c \
	src/edhoc/responder.c \
	src/edhoc/initiator.c
