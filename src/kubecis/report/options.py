"""Options shared by every report format (the kube-bench output flags)."""

from __future__ import annotations

from kubecis.records import dataclass


@dataclass(frozen=True, slots=True)
class AsffSettings:
    """What an AWS Security Finding needs beyond the results (kube-bench's AWS_ACCOUNT, AWS_REGION,
    CLUSTER_ARN and NODE_NAME settings)."""

    account: str
    region: str
    cluster_arn: str
    node_name: str = ""  # "" : the run's node name


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """kube-bench's output flags. Only the text format reads most of them.

    ``no_totals`` also changes JSON (bare array instead of ``{"Controls":...,"Totals":...}``);
    ``no_results``, ``no_remediations``, ``no_summary`` and ``include_test_output`` affect
    text only, as in kube-bench. ``color`` is decided by the caller (see
    :func:`kubecis.report.color_enabled`).
    """

    no_results: bool = False
    no_remediations: bool = False
    no_summary: bool = False
    no_totals: bool = False
    include_test_output: bool = False
    color: bool = False
    # Text shown on a terminal: control characters from check text, audit output or remediations are shown
    # escaped (\x1b...), so data read from a node cannot drive the terminal. Decided by the caller.
    escape_controls: bool = False
    # ``--format asff`` / ``--asff``: the AWS settings (None when not configured).
    asff: AsffSettings | None = None
