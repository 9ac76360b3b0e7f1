# src/edhoc: EDHOC state machines, key schedule, exporter (owned by the EDHOC module)
src_libedhoc_a_SOURCES += src/edhoc/result.c
