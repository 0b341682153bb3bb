"""Reliability tests share the integration harness (real processes) and the fault-injecting proxy."""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))
