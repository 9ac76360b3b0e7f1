# src/config: appended to the top-level Makefile.am variables
