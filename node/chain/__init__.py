"""Writing the chain: the consensus driver, block execution, the replica's application, block sync."""
