"""Encrypted messages between accounts: which envelopes a node keeps and forwards, their store, the service."""
