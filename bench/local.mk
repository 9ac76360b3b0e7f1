# bench: appended to the top-level Makefile.am variables

# store-bench: durable state costs (owned by the store module)
noinst_PROGRAMS += bench/store-bench
bench_store_bench_SOURCES = bench/store-bench.c
bench_store_bench_CFLAGS = $(src_libgw_a_CFLAGS)
bench_store_bench_LDADD = $(GW_LIBS)

# oscore-bench: OSCORE protect/unprotect against bare AES-CCM (owned by oscore)
noinst_PROGRAMS += bench/oscore-bench
bench_oscore_bench_SOURCES = bench/oscore-bench.c
bench_oscore_bench_LDADD = $(CORE_LIBS)
