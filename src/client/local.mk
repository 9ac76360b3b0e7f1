# src/client: appended to the top-level Makefile.am variables
