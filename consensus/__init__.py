"""consensus: see ../shared/DESIGN.md."""
