"""cli: see ../shared/DESIGN.md."""
