"""Makes the cocotb bench helpers in ``sim/`` (lane packing, serial bit lists) importable by
the pytest suite, beside the test-only network generator ``tests/netgen.py``."""

import sys
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parents[1] / "sim"
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))
