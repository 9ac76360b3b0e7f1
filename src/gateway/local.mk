# src/gateway: appended to the top-level Makefile.am variables
