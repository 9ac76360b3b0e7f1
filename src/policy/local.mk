# src/policy: appended to the top-level Makefile.am variables
