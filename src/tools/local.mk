# src/tools: small operator tools (edhoc-keygen)
