"""Where the shared compatibility data lives: ``../shared`` beside the repository (never a machine path)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# KUBECIS_SHARED overrides the location (a checkout placed elsewhere); the default is the repository's sibling.
SHARED = Path(os.environ.get("KUBECIS_SHARED") or (REPO.parent / "shared")).resolve()
COMPAT = SHARED / "compat" / "kube-bench"
CFG = COMPAT / "cfg"
