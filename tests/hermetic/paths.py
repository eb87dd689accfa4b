"""Where the hermetic tests find kube-bench's data and the kubecis console script."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.shared import COMPAT

CFG = COMPAT / "cfg"
GOLDEN = COMPAT / "integration" / "testdata" / "Expected_output.data"
KUBECIS = Path(sys.executable).parent / "kubecis"
