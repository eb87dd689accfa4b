"""History of fleets on SQLite and a real PostgreSQL server, with the same test code: a cluster scan is one batch
(every node, evaluated or not, and the cluster-wide policies), batches are listed and found by a prefix of their
id, two batches give the exact per-node diff (newly not evaluated, evaluated again, still not evaluated, added,
removed, check changes), and a store of schema version 2 is migrated."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from kubecis.errors import StoreError
from kubecis.results.model import RunResult, State
from kubecis.store import CLUSTER, BatchItem, Store, engine_for, schema
from kubecis.store.diff import batch_diff, render_text, summary, to_dict
from tests.report.sample import sample_run


def node_run(node: str, when: str, **states: State) -> RunResult:
    run = sample_run(node=node, cluster="prod")
    run.scanned_at = when
    for _, _, check in run.checks():
        key = "c" + check.id.replace(".", "_")
        if key in states:
            check.state = states[key]
    return run


def policies_run(when: str, fail: bool) -> RunResult:
    run = sample_run(node="", cluster="prod")
    run.scanned_at = when
    for _, _, check in run.checks():
        if check.id == "4.2.1":
            check.state = State.FAIL if fail else State.PASS
    return run


def batch(when: str, nodes: dict[str, RunResult | str], policies: RunResult | str) -> list[BatchItem]:
    out = [BatchItem(v if isinstance(v, RunResult) else None, name, "prod", when, "cis-1.12",
                     v if isinstance(v, str) else "") for name, v in nodes.items()]
    out.append(BatchItem(policies if isinstance(policies, RunResult) else None, "", "prod", when, "cis-1.12",
                         policies if isinstance(policies, str) else "", scope=CLUSTER))
    return out


T1, T2 = "2025-04-01T08:00:00Z", "2025-04-08T08:00:00Z"


def two_batches(store: Store) -> None:
    store.save_batch(batch(T1, {
        "cp-1": node_run("cp-1", T1),
        "w-1": node_run("w-1", T1),
        "w-2": "pod evicted: The node was low on resource: memory.",
        "w-3": "agent OOM-killed (memory limit 256Mi)",
        "w-old": node_run("w-old", T1),
    }, policies_run(T1, fail=False)), "a1b2c3d4" + "0" * 24)
    store.save_batch(batch(T2, {
        "cp-1": node_run("cp-1", T2, c1_1_2=State.FAIL, c1_1_1=State.PASS),  # one newly failing, one fixed
        "w-1": "the node became NotReady during the scan (Ready=False (KubeletNotReady))",
        "w-2": node_run("w-2", T2),
        "w-3": "agent OOM-killed (memory limit 256Mi)",
        "w-new": node_run("w-new", T2),
    }, policies_run(T2, fail=True)), "e5f6a7b8" + "0" * 24)


def test_a_fleet_is_one_batch_with_its_not_evaluated_nodes_and_policies(store_url):
    with Store.open(store_url) as store:
        two_batches(store)
        scans = store.scans(batch="e5f6a7b8" + "0" * 24, newest_first=False)
        assert [(s.node, s.scope, s.state, s.origin) for s in scans] == [
            ("cp-1", "node", "evaluated", "cluster"), ("w-1", "node", "not_evaluated", "cluster"),
            ("w-2", "node", "evaluated", "cluster"), ("w-3", "node", "not_evaluated", "cluster"),
            ("w-new", "node", "evaluated", "cluster"), ("", "cluster", "evaluated", "cluster")]
        w1 = scans[1]
        assert (w1.reason, w1.benchmark, w1.counts.total) == (
            "the node became NotReady during the scan (Ready=False (KubeletNotReady))", "cis-1.12", 0)
        assert store.checks(w1.id) == {}  # no checks for a node that was not evaluated
        assert len(store.checks(scans[0].id)) == 8
        batches = store.batches()
        assert [(b.id[:8], b.cluster, b.origin, b.scanned_at, b.nodes, b.evaluated) for b in batches] == [
            ("e5f6a7b8", "prod", "cluster", T2, 5, 3), ("a1b2c3d4", "prod", "cluster", T1, 5, 3)]
        # totals over the evaluated scans, the policies included
        assert batches[1].counts.total == 4 * 8
        assert store.batch("a1b2").id == "a1b2c3d4" + "0" * 24
        with pytest.raises(StoreError, match=r"no batch ffff \(see `kubecis history --batches`\)$"):
            store.batch("ffff")
        with pytest.raises(StoreError, match=r"give at least 4 characters"):
            store.batch("a1")
        # a node's own run is a batch of its own, origin run
        store.save(node_run("cp-1", "2025-04-09T08:00:00Z"))
        assert [(b.origin, b.nodes) for b in store.batches(limit=1)] == [("run", 1)]
        assert [b.origin for b in store.batches(origin=CLUSTER)] == ["cluster", "cluster"]


def test_batch_diff_per_node(store_url):
    with Store.open(store_url) as store:
        two_batches(store)
        old, new = store.batch("a1b2"), store.batch("e5f6")
        diffs = batch_diff(store.scans(batch=old.id, newest_first=False), store.scans(batch=new.id, newest_first=False),
                           store.checks)
    got = {(d.scope, d.node): d for d in diffs}
    assert [(d.node, d.coverage) for d in diffs] == [
        ("cp-1", ""), ("w-1", "newly_not_evaluated"), ("w-2", "evaluated_again"), ("w-3", "still_not_evaluated"),
        ("w-new", "added"), ("w-old", "removed"), ("", "")]
    cp = got[("node", "cp-1")]
    assert {c: [(x.check_id, x.before, x.after) for x in v] for c, v in cp.changes.items() if v} == {
        "newly_failing": [("1.1.2", "PASS", "FAIL")], "fixed": [("1.1.1", "FAIL", "PASS")]}
    # a node not evaluated on either side: no check is compared (nothing "removed" or "newly failing")
    assert not any(got[("node", n)].changes.get(c) for n in ("w-1", "w-2", "w-3") for c in got[("node", n)].changes)
    pol = got[("cluster", "")]
    assert [(x.check_id, x.before, x.after) for x in pol.changes["newly_failing"]] == [("4.2.1", "PASS", "FAIL")]
    assert summary(diffs) == {"nodes": 6, "newly_failing": 2, "fixed": 1, "newly_not_evaluated": 1,
                              "evaluated_again": 1, "still_not_evaluated": 1, "added": 1, "removed": 1,
                              "unchanged": 0}
    text = render_text(diffs, (old, new))
    assert text.splitlines()[:2] == [
        f"== cluster prod: batch a1b2c3d40000 ({T1}, 3 of 5 nodes evaluated) -> batch e5f6a7b80000 ({T2}, 3 of 5 "
        "nodes evaluated) ==",
        "6 nodes: 2 with newly failing checks, 1 with fixed checks, 1 newly NOT EVALUATED, 1 evaluated again, "
        "1 still NOT EVALUATED, 1 node added, 1 node removed; 0 unchanged"]
    assert ("newly NOT EVALUATED: the node became NotReady during the scan (Ready=False (KubeletNotReady))"
            in text)
    assert "== cluster-wide (policies) (cluster prod) ==" in text
    doc = to_dict(diffs, (old, new))
    assert doc["from_batch"]["batch"] == old.id and doc["to_batch"]["not_evaluated"] == 2
    w1 = next(n for n in doc["nodes"] if n["node"] == "w-1")
    assert (w1["coverage"], w1["from"]["state"], w1["to"]["state"]) == ("newly_not_evaluated", "evaluated",
                                                                       "not_evaluated")
    assert next(n for n in doc["nodes"] if n["node"] == "w-new")["from"] is None


def test_a_store_of_schema_version_2_is_migrated(store_url):
    engine = engine_for(store_url)
    with engine.begin() as conn:  # what kubecis with schema version 2 wrote
        assert schema.migrate(conn, target=2) == (0, 2)
        conn.execute(sa.text(
            "INSERT INTO scans (node, scanned_at, benchmark, total_pass, total_fail, total_warn, total_info, cluster, "
            "batch) VALUES ('cp-1', :t, 'cis-1.12', 1, 0, 0, 0, 'prod', 'b-old')"
        ).bindparams(sa.bindparam("t", type_=sa.DateTime())), {"t": dt.datetime(2025, 1, 1, 8)})  # as the ORM binds it
        assert "state" not in {c["name"] for c in sa.inspect(conn).get_columns("scans")}
    engine.dispose()
    with Store.open(store_url) as store:
        with store.engine.connect() as conn:
            assert schema.current_version(conn) == 3
            assert "ix_scans_batch" in {i["name"] for i in sa.inspect(conn).get_indexes("scans")}
        [old] = store.scans()
        assert (old.batch, old.state, old.reason, old.scope, old.origin) == ("b-old", "evaluated", "", "node", "run")
        assert [(b.id, b.nodes, b.evaluated) for b in store.batches()] == [("b-old", 1, 1)]
