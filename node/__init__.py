"""node: see ../shared/DESIGN.md."""
