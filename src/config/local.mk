# src/config: configuration files -> validated, immutable config object
src_libgw_a_SOURCES += src/config/errors.c src/config/errors.h \
	src/config/ini.c src/config/ini.h \
	src/config/config.c src/config/config.h
