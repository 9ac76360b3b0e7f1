# src/config: configuration files -> validated, immutable config object
src_libgw_a_SOURCES += src/config/errors.c src/config/errors.h \
	src/config/ini.c src/config/ini.h \
	src/config/config.c src/config/config.h
dist_man_MANS += man/edhocd.conf.5

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/trustgen.c \
	tests/unit/trustgen.h
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
tests_unit_test_config_LDADD = tests/unit/libtestutil.a src/libgw.a $(CREDFILE_LIBS) \
	$(GW_LIBS) $(CMOCKA_LIBS) $(JANSSON_LIBS)
TESTS += tests/unit/test_config
