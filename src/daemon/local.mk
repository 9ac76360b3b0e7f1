# src/daemon: edhocd itself (lifecycle, event loop).  Owned by the gateway
# module.  config links the credential-file reader, hence CREDFILE_LIBS
# between libgw and the core.
sbin_PROGRAMS += src/daemon/edhocd
src_daemon_edhocd_SOURCES = src/daemon/main.c src/daemon/loop.c src/daemon/loop.h
src_daemon_edhocd_CFLAGS = $(src_libgw_a_CFLAGS)
src_daemon_edhocd_LDADD = src/libgw.a $(CREDFILE_LIBS) $(GW_LIBS)
dist_man_MANS += man/edhocd.8
