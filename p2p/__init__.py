"""p2p: see ../shared/DESIGN.md."""
