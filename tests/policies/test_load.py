"""Object dumps in every accepted shape, and bad input: one clear line naming the file, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kubecis.policies import load
from kubecis.policies.load import ObjectsError, iter_objects
from kubecis.policies.objects import ObjectStore

from .conftest import EXAMPLE

KUBECIS = Path(sys.executable).parent / "kubecis"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "spec": {"containers": []}}


def names(path: Path) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in iter_objects(path)]


def test_shapes(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [POD]}, indent=4))
    # a typed list (kubectl get --raw): items carry no kind/apiVersion
    (tmp_path / "typed.json").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {},
                                                     "items": [{"metadata": {"name": "q", "namespace": "a"}}]}))
    # concatenated values (kubectl get a -o json; kubectl get b -o json)
    (tmp_path / "concat.json").write_text(json.dumps(POD) + "\n" + json.dumps({**POD, "metadata": {"name": "r"}}))
    (tmp_path / "multi.yaml").write_text("---\nkind: Namespace\napiVersion: v1\nmetadata: {name: n1}\n---\n"
                                         "kind: List\napiVersion: v1\nitems:\n- {kind: Namespace, apiVersion: v1, "
                                         "metadata: {name: n2, creationTimestamp: 2024-01-02T03:04:05Z}}\n---\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ns.yml").write_text("kind: Namespace\napiVersion: v1\nmetadata:\n  name: n3\n")
    (sub / "README.md").write_text("not a manifest")
    (tmp_path / ".hidden.yaml").write_text(": broken")
    # files in sorted path order, a directory's own files before its subdirectories
    assert names(tmp_path) == ["Pod/p", "Pod/r", "Pod/p", "Namespace/n1", "Namespace/n2", "Pod/q", "Namespace/n3"]
    typed = next(iter(iter_objects(tmp_path / "typed.json")))
    assert (typed["kind"], typed["apiVersion"]) == ("Pod", "v1")
    ts = list(iter_objects(tmp_path / "multi.yaml"))[1]["metadata"]["creationTimestamp"]
    assert ts == "2024-01-02T03:04:05Z"  # a string, as in JSON
    store = ObjectStore.load(tmp_path)
    assert store.count == 6  # Pod a/p twice: the first one counts


BAD = [
    ("bad.json", '{"kind": "List", "items": [', r"bad\.json:1: invalid JSON"),
    ("nokind.json", '{"foo": 1}', r"nokind\.json: object without a kind"),
    ("arr.json", '[{"kind": "Pod"}]', r"arr\.json: a JSON array at the top level"),
    ("nometa.yaml", "kind: Pod\napiVersion: v1\n", r"nometa\.yaml: document 1: Pod without metadata"),
    ("noname.yaml", "kind: Pod\nmetadata: {generateName: x-}\n", r"Pod without metadata\.name"),
    ("item.json", '{"kind": "List", "items": [{"kind": "Pod", "metadata": {}}, 3]}', r"items\[0\]: Pod without"),
    ("scalar.yaml", "just text\n", r"expected a Kubernetes object \(a mapping\), found a string"),
    ("broken.yaml", "kind: Pod\n  metadata: x: y\n", r"broken\.yaml:2: invalid YAML"),
    ("empty.json", "   \n", r"empty\.json: empty file"),
    ("ns.json", '{"kind": "Pod", "metadata": {"name": "a", "namespace": 5}}', r"namespace is not a string"),
    ("notutf8.json", b'{"kind": "Pod", "metadata": {"name": "\xff"}}', r"not UTF-8"),
    ("deep.json", "[" * 100000 + "]" * 100000, r"deep\.json: (JSON nested too deeply|a JSON array)"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD)
def test_bad_input_is_one_clear_error(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    with pytest.raises(ObjectsError, match=message):
        ObjectStore.load(p)


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(ObjectsError, match="no such file or directory"):
        ObjectStore.load(tmp_path / "nope.json")
    with pytest.raises(ObjectsError, match=r"no \.json, \.yaml or \.yml files"):
        ObjectStore.load(tmp_path)
    (tmp_path / "empty.yaml").write_text("---\n---\n")
    with pytest.raises(ObjectsError, match="no Kubernetes objects"):
        ObjectStore.load(tmp_path / "empty.yaml")


def test_large_json_is_streamed_and_gives_the_same_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = list(iter_objects(EXAMPLE))
    p = tmp_path / "dump.json"
    p.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": small}, indent=2))
    monkeypatch.setattr(load, "STREAM_ABOVE", 100)
    assert list(iter_objects(p)) == small
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps({"apiVersion": "v1", "kind": "PodList",
                                 "items": [{"metadata": {"name": "x", "namespace": "a"}}]}))
    assert [(o["kind"], o["apiVersion"]) for o in iter_objects(typed)] == [("Pod", "v1")]
    single = tmp_path / "single.json"
    single.write_text(json.dumps(POD))
    with pytest.raises(ObjectsError, match="must hold Lists only.*found a top-level Pod"):
        list(iter_objects(single))
    trunc = tmp_path / "trunc.json"
    trunc.write_text(p.read_text()[: len(p.read_text()) // 2])
    with pytest.raises(ObjectsError, match="trunc.json: invalid JSON"):
        list(iter_objects(trunc))


def test_large_yaml_is_refused_with_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "dump.yaml"
    p.write_text(EXAMPLE.read_text())
    monkeypatch.setattr(load, "YAML_LIMIT", 100)
    with pytest.raises(ObjectsError, match=r"dump JSON instead \(kubectl get \.\.\. -o json\)"):
        list(iter_objects(p))


@pytest.mark.parametrize("content", ['{"kind": "List", "items": [{"kind": "Pod"', "kind: [\n"])
def test_cli_one_line_and_exit_1(tmp_path: Path, content: str) -> None:
    p = tmp_path / "dump.json"
    p.write_text(content)
    out = tmp_path / "report.json"
    r = subprocess.run([str(KUBECIS), "run", "--objects", str(p), "--targets", "policies", "--benchmark", "cis-1.12",
                        "--outputfile", str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       check=False)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"kubecis: error: {p}")
    assert "Traceback" not in r.stderr and not out.exists()
