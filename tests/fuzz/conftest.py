"""Fuzz tests reuse the integration harness (a real node process) and the core test samples."""

import sys
from pathlib import Path

TESTS = Path(__file__).parents[1]
for folder in ("integration", "reliability", "core"):
    sys.path.insert(0, str(TESTS / folder))
