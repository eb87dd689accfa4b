"""A cluster scan or collect in the history store (``--store``): one batch holding every node, evaluated or not,
and the cluster-wide policies.

Each evaluated node is stored as a scan with all its checks (as ``kubecis run --store`` stores a node); a node
that was not evaluated is stored as a scan with ``state`` ``not_evaluated`` and its reason, so that ``kubecis
diff`` of two batches can say a node is newly not evaluated; the policies are a scan of scope ``cluster`` (no
node) when they were due (a scan, ``collect --objects``), evaluated or not. Everything goes in one
transaction: a batch is stored whole or not at all.
"""

from __future__ import annotations

import uuid

from kubecis.cluster.model import ClusterResult
from kubecis.store import CLUSTER, BatchItem, Store


def items(c: ClusterResult) -> list[BatchItem]:
    """The scans of the batch, nodes in order, then the policies."""
    name, when = c.cluster.name, c.scanned_at
    out = []
    for n in c.nodes:
        if n.evaluated and n.result is None:
            raise AssertionError(f"{n.name}: results were not kept for the store")
        out.append(BatchItem(n.result if n.evaluated else None, n.name, name, when, n.benchmark,
                             "" if n.evaluated else n.reason))
    if c.policies is not None or c.policies_expected:
        out.append(BatchItem(c.policies, "", name, when, c.policies.benchmark if c.policies is not None else "",
                             "" if c.policies is not None else c.policies_reason, scope=CLUSTER))
    return out


def save(c: ClusterResult, url: str) -> tuple[str, int]:
    """Store the cluster's batch; returns its id and the number of scans stored."""
    batch = uuid.uuid4().hex
    todo = items(c)
    with Store.open(url) as store:
        store.save_batch(todo, batch)
    return batch, len(todo)
