"""kubecis: check Kubernetes nodes against the CIS Kubernetes Benchmark.

kubecis reads kube-bench's benchmark YAML with kube-bench's exact semantics and
writes kube-bench's text, JSON and JUnit reports.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
