# src/diag: failure records, ticket IDs, journald/stderr sinks, throttling
src_libgw_a_SOURCES += src/diag/diag.c src/diag/diag.h
