# src/daemon: appended to the top-level Makefile.am variables
