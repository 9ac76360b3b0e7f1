# src/diag: appended to the top-level Makefile.am variables
