"""market: see ../shared/DESIGN.md."""
