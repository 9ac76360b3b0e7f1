# src/daemon: edhocd itself (lifecycle, event loop).  Owned by the gateway
# module.
#
# Not in the build yet: it links config (cfg_*), the CBOR reader and the
# trust store, which are still landing.  Until then build it by hand (see
# the brief in docs/ or the commit message); the next commit turns these
# into sbin_PROGRAMS.
#sbin_PROGRAMS += src/daemon/edhocd
#src_daemon_edhocd_SOURCES = src/daemon/main.c src/daemon/loop.c src/daemon/loop.h
#src_daemon_edhocd_CFLAGS = $(src_libgw_a_CFLAGS)
#src_daemon_edhocd_LDADD = $(GW_LIBS)
dist_man_MANS += man/edhocd.8
