# src/policy: trust store, ACL, routes
src_libgw_a_SOURCES += src/policy/routes.c src/policy/routes.h \
	src/policy/acl.c src/policy/acl.h \
	src/policy/trust.c src/policy/trust.h
