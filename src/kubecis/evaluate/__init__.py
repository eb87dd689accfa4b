"""Test-item evaluation with kube-bench's exact semantics (kube-bench-compat.md#test-items).

Public entry points: :func:`evaluate_tests` / :func:`evaluate_item` (the
evaluator), :data:`~kubecis.evaluate.ops.OPS` (compare operators),
:func:`~kubecis.golang.jsonpath.render` (client-go JSONPath templates) and
:func:`~kubecis.golang.yaml.load_config` (JSON / go-yaml v2 decoding).
"""

from kubecis.evaluate.evaluator import ItemOutcome, Outcome, evaluate_item, evaluate_tests

__all__ = ["ItemOutcome", "Outcome", "evaluate_item", "evaluate_tests"]
