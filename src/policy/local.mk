# src/policy: trust store, ACL, routes
src_libgw_a_SOURCES += src/policy/routes.c src/policy/routes.h \
	src/policy/acl.c src/policy/acl.h \
	src/policy/trust.c src/policy/trust.h

# Unit tests of the policy layer.  trustgen makes keys, certificates and
# CRLs in-test (nothing committed can expire).
POLICY_TEST_LIBS = tests/unit/libtestutil.a src/libgw.a $(CREDFILE_LIBS) $(GW_LIBS) \
	$(CMOCKA_LIBS) $(JANSSON_LIBS)
check_PROGRAMS += tests/unit/test_trust
tests_unit_test_trust_SOURCES = tests/unit/test_trust.c tests/unit/trustgen.c tests/unit/trustgen.h
tests_unit_test_trust_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
tests_unit_test_trust_LDADD = $(POLICY_TEST_LIBS)
TESTS += tests/unit/test_trust
check_PROGRAMS += tests/unit/test_acl
tests_unit_test_acl_SOURCES = tests/unit/test_acl.c
tests_unit_test_acl_CFLAGS = $(TEST_CFLAGS) $(src_libgw_a_CFLAGS)
tests_unit_test_acl_LDADD = $(POLICY_TEST_LIBS)
TESTS += tests/unit/test_acl
