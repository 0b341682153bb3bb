"""testnet: lay out, start, watch and load a local multi-node testnet (`marketnode testnet`)."""
