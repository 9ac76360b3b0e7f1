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

# edhoc-bench: handshakes per second beside the raw cost of the exact crypto
# calls each side makes (credentials module).  --wrap lets the bench record
# and replay every crypto-layer call the EDHOC core makes.
noinst_PROGRAMS += bench/edhoc-bench
bench_edhoc_bench_SOURCES = bench/edhoc-bench.c tests/unit/certgen.c tests/unit/certgen.h
bench_edhoc_bench_LDFLAGS = -Wl,--wrap=crypto_hash,--wrap=crypto_kdf_extract,--wrap=crypto_kdf_expand,--wrap=crypto_aead_encrypt,--wrap=crypto_aead_decrypt,--wrap=crypto_dh_keygen,--wrap=crypto_dh_derive,--wrap=crypto_dh_derive_raw,--wrap=crypto_dh_derive_priv,--wrap=crypto_key_from_public,--wrap=crypto_key_public,--wrap=crypto_sign,--wrap=crypto_verify
bench_edhoc_bench_LDADD = $(CORE_LIBS)

# gateway-bench: edhocd end to end over loopback (handshakes/s through the
# daemon vs in-process, memory per session, OSCORE vs plain CoAP).  Run by
# scripts/bench-gateway, not by make check; docs/benchmarks.md.
noinst_PROGRAMS += bench/gateway-bench
bench_gateway_bench_SOURCES = bench/gateway-bench.c bench/gwb_net.c bench/gwb_net.h \
	bench/gwb_proc.c bench/gwb_proc.h
bench_gateway_bench_LDADD = $(CREDFILE_LIBS) $(CORE_LIBS)
