# src/store: appended to the top-level Makefile.am variables
