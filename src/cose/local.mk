# src/cose: appended to the top-level Makefile.am variables
