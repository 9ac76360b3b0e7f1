# tests/e2e: appended to the top-level Makefile.am variables
