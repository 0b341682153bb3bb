"""The pending txs: the pool and its local policy, wallet intake and its journal, gossip, admission."""
