"""Discovery of binaries and files, and variable substitution (kube-bench-compat.md#discovery-and-substitution)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubecis.benchmark.config import Component, Config, NodeSection
from kubecis.benchmark.loader import parse_controls
from kubecis.benchmark.variables import substitute, unsafe_reason
from kubecis.discovery import discover, find_binary, flag_value
from kubecis.errors import HostError
from kubecis.host.base import FileStat, NotInSnapshot
from tests.fakes import FakeHost


def _section(*comps: Component) -> NodeSection:
    return NodeSection("master", comps)


def test_binary_prefix_rules() -> None:
    host = FakeHost()
    host.add_process(["/usr/local/bin/kube-apiserver", "--a=1"])
    host.add_process(["hyperkube", "kubelet", "--x"])
    comp = Component("apiserver", bins=("kube-apiserver", "apiserver"))
    found = find_binary(comp, host.processes())
    assert found is not None and found[0] == "kube-apiserver"
    hk = Component("kubelet", bins=("'hyperkube kubelet'", "kubelet"))
    found = find_binary(hk, host.processes())
    assert found is not None and found[0] == "hyperkube kubelet"


def test_fifteen_character_comm_truncation() -> None:
    host = FakeHost()
    host.add_process(["/usr/bin/kube-controller-manager", "--kubeconfig=/etc/kubernetes/controller-manager.conf"])
    assert host.procs[0].comm == "kube-controller"
    comp = Component("controllermanager", bins=("kube-controller-manager", "kube-controller"))
    found = find_binary(comp, host.processes())
    assert found is not None and found[0] == "kube-controller-manager"


def test_mandatory_missing_empties_bins_but_files_resolve() -> None:
    host = FakeHost(files={"/b.yaml": b""})
    sec = _section(
        Component("etcd", bins=("etcd",), optional=True),
        Component("apiserver", bins=("kube-apiserver",), candidates={"conf": ("/a.yaml", "/b.yaml")}),
    )
    d = discover(sec, host)
    assert d.bins == {}
    assert "apiserver" in d.bin_error
    assert d.files["conf"]["apiserver"] == "/b.yaml"


def test_optional_gets_component_name_and_defaults() -> None:
    host = FakeHost()
    sec = _section(
        Component("etcd", bins=("etcd",), optional=True, candidates={"datadir": ("/x",)},
                  defaults={"datadir": "/var/lib/etcd/default.etcd"}),
        Component("proxy", candidates={"svc": ("/nope",)}),
    )
    d = discover(sec, host)
    assert d.bins == {"etcd": "etcd"}
    assert d.files["datadir"]["etcd"] == "/var/lib/etcd/default.etcd"
    assert d.files["svc"]["proxy"] == "proxy"  # kube-bench: the component name


def test_permission_denied_affects_only_its_variable() -> None:
    """kube-bench stops the run on a path it cannot stat; kubecis makes that variable undetermined (its checks
    WARN with the reason, see tests/host/test_nonroot.py) and goes on."""
    host = FakeHost(denied={"/a", "/k.conf"}, files={"/b": b"", "/c": b""})
    host.add_process(["kubelet", "--kubeconfig=/k.conf"])
    d = discover(_section(Component("x", candidates={"conf": ("/none", "/a", "/b"), "svc": ("/b", "/a")}),
                          Component("kubelet", bins=("kubelet",), candidates={"conf": ("/c",)})), host)
    assert d.refused == {
        "$xconf": "$xconf undetermined: cannot stat /a: Permission denied",
        "$kubeletkubeconfig": "$kubeletkubeconfig undetermined: cannot stat /k.conf: Permission denied",
    }
    assert d.files == {"svc": {"x": "/b"}, "conf": {"kubelet": "/c"}}  # an existing earlier candidate still wins
    why = {(x.component, x.kind): x.why for x in d.decisions}
    assert why[("x", "conf")] == "candidate 2 of 3 cannot be looked at; cannot stat /a: Permission denied"
    assert why[("kubelet", "kubeconfig")].endswith("names it with --kubeconfig; cannot stat /k.conf: Permission denied")


def test_snapshot_without_the_path_is_still_an_error() -> None:
    class Unrecorded(FakeHost):
        def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
            raise NotInSnapshot(path)

    with pytest.raises(HostError, match="the snapshot has no record of /a"):
        discover(_section(Component("x", candidates={"conf": ("/a",)})), Unrecorded())


def test_kubelet_config_from_command_line_wins() -> None:
    """kube-bench #1256: the running kubelet's --config beats the first existing candidate."""
    host = FakeHost(files={"/var/lib/kubelet/config.yaml": b"", "/etc/kubelet/custom.yaml": b""})
    host.add_process(["/usr/bin/kubelet", "--config=/etc/kubelet/custom.yaml", "--kubeconfig", "/etc/k.conf"])
    sec = NodeSection("node", (Component("kubelet", bins=("kubelet",), candidates={
        "conf": ("/var/lib/kubelet/config.yaml",), "kubeconfig": ("/etc/kubernetes/kubelet.conf",)}),))
    d = discover(sec, host)
    assert d.files["conf"]["kubelet"] == "/etc/kubelet/custom.yaml"
    assert d.files["kubeconfig"]["kubelet"] == "/etc/k.conf"
    why = next(x.why for x in d.decisions if x.kind == "kubeconfig")
    assert "--kubeconfig" in why and "does not exist" in why
    compat = discover(sec, host, use_cmdline=False)
    assert compat.files["conf"]["kubelet"] == "/var/lib/kubelet/config.yaml"


def test_flag_value_forms() -> None:
    argv = ("kubelet", "--config", "/a", "--config=/b", "--kubeconfig=")
    assert flag_value(argv, "--config") == "/b"
    assert flag_value(argv, "--missing") is None


CONTROLS = """\
type: etcd
groups:
  - id: "2"
    text: $etcdbin group
    checks:
      - id: "2.1"
        text: "t"
        audit: "/bin/ps -ef | /bin/grep $etcdbin | /bin/grep -v grep"
        remediation: "edit $etcdconf"
        tests:
          test_items:
            - flag: "--cert-file"
              env: "ETCD_CERT_FILE"
"""


def test_substitution_and_default_audit_env() -> None:
    host = FakeHost(files={"/etc/kubernetes/manifests/etcd.yaml": b""})
    host.add_process(["etcd", "--data-dir=/var/lib/etcd"])
    sec = NodeSection("etcd", (Component("etcd", bins=("etcd",),
                                         candidates={"conf": ("/etc/kubernetes/manifests/etcd.yaml",)}),))
    loaded = parse_controls(CONTROLS, "etcd.yaml", "etcd")
    d = discover(sec, host)
    c = substitute(loaded.controls, d, loaded.text)
    chk = c.groups[0].checks[0]
    assert chk.audit == "/bin/ps -ef | /bin/grep etcd | /bin/grep -v grep"
    assert chk.remediation == "edit /etc/kubernetes/manifests/etcd.yaml"
    assert c.groups[0].text == "etcd group"
    assert chk.audit_env == "cat \"/proc/$(/bin/ps -C etcd -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"


def test_multiword_bins_are_quoted_and_unknown_vars_stay() -> None:
    host = FakeHost()
    host.add_process(["hyperkube", "kubelet"])
    sec = NodeSection("node", (Component("kubelet", bins=("hyperkube kubelet",)),))
    text = "type: node\ngroups:\n- id: '4'\n  checks:\n  - id: '4.1'\n    audit: ps -fC $kubeletbin $proxyconf\n"
    loaded = parse_controls(text, "node.yaml")
    c = substitute(loaded.controls, discover(sec, host), loaded.text)
    assert c.groups[0].checks[0].audit == "ps -fC 'hyperkube kubelet' $proxyconf"


def test_config_merge_replaces_lists(cfg_dir: Path) -> None:
    base = Config.load(cfg_dir)
    k3s = base.merged_with("k3s-cis-1.9")
    master = k3s.section("master")
    assert master is not None
    api = next(c for c in master.components if c.name == "apiserver")
    assert api.bins == ("containerd",)
    plain = base.section("master")
    assert plain is not None
    assert next(c for c in plain.components if c.name == "apiserver").bins[0] == "kube-apiserver"
    assert base.version_mapping()["1.33"] == "cis-1.12"
    assert base.targets_for("cis-1.12") == ["master", "node", "controlplane", "etcd", "policies"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/var/lib/kubelet/config.yaml", ""),
        ("/etc/kubernetes/kubelet.conf", ""),
        ("relative/dir-1_2/a.b:c@d%e+f,g=h", ""),
        ("/x;touch /tmp/pwned", 'it contains " " ";"'),
        ("/x$(id)", 'it contains "$" "(" ")"'),
        ("/x`id`", 'it contains "`"'),
        ("/x'y", "it contains \"'\""),
        ('/x"y', 'it contains "\\""'),
        ("/x\\y", 'it contains "\\\\"'),
        ("/x\ny", 'it contains "\\n"'),
        ("/x*", 'it contains "*"'),
        ("~/x", 'it contains "~"'),
        ("/kübelet", 'it contains "ü"'),
        ("/a b", 'it contains " "'),
        ("-delete", 'it starts with "-"'),
        ("--help", 'it starts with "-"'),
    ],
)
def test_unsafe_reason(value: str, why: str) -> None:
    assert unsafe_reason(value).startswith(why) if why else unsafe_reason(value) == ""


HOSTILE_CONTROLS = """\
type: node
groups:
  - id: "4"
    text: "group about $kubeletconf"
    checks:
      - id: "4.1"
        text: "config at $kubeletconf"
        audit: "/bin/sh -c 'if test -e $kubeletconf; then stat -c %a $kubeletconf; fi'"
        tests:
          test_items:
            - flag: "644"
        remediation: "chmod 644 $kubeletconf"
      - id: "4.2"
        text: "tests only"
        audit: "echo x"
        tests:
          test_items:
            - flag: "$kubeletconf"
              set: false
      - id: "4.3"
        audit: "stat -c %a $kubeletkubeconfig"
        tests:
          test_items:
            - flag: "600"
        remediation: "see $kubeletconf"
"""


def test_a_host_value_that_is_not_plain_is_never_substituted() -> None:
    host = FakeHost(files={"/var/lib/kubelet/config.yaml": b"", "/etc/k.conf": b""})
    host.add_process(["/usr/bin/kubelet", "--config=/x';touch /tmp/pwned;'", "--kubeconfig=/etc/k.conf"])
    sec = NodeSection("node", (Component("kubelet", bins=("kubelet",), candidates={
        "conf": ("/var/lib/kubelet/config.yaml",), "kubeconfig": ("/etc/kubernetes/kubelet.conf",)}),))
    loaded = parse_controls(HOSTILE_CONTROLS, "node.yaml", "node")
    d = discover(sec, host)
    assert "kubelet" not in d.files.get("conf", {})  # no fallback to a candidate either: nothing is guessed
    c = substitute(loaded.controls, d, loaded.text)
    by_id = {x.id: x for x in c.checks()}
    reason = ("$kubeletconf not substituted: the running kubelet's --config is \"/x';touch /tmp/pwned;'\"; "
              "it contains \" \" \"'\" \";\" (a value from the host is substituted only when made of "
              "A-Z a-z 0-9 _ . / : @ % + , = -)")
    assert by_id["4.1"].not_run == reason and by_id["4.2"].not_run == reason
    assert by_id["4.1"].audit == loaded.controls.checks()[0].audit  # left literal, never pasted
    assert by_id["4.1"].remediation == "chmod 644 $kubeletconf"
    assert by_id["4.3"].not_run == "" and by_id["4.3"].audit == "stat -c %a /etc/k.conf"  # the plain value is used
    assert by_id["4.3"].remediation == "see $kubeletconf"
    why = next(x.why for x in d.decisions if x.kind == "conf")
    assert why.startswith("the running kubelet names it with --config; not substituted: it contains")


def test_refused_check_is_warn_without_running_anything() -> None:
    from kubecis.results.model import State
    from kubecis.results.runner import run_check
    from tests.fakes import ScriptedExecutor

    host = FakeHost()
    host.add_process(["/usr/bin/kubelet", "--config=$(reboot)"])
    sec = NodeSection("node", (Component("kubelet", bins=("kubelet",), candidates={"conf": ("/c",)}),))
    loaded = parse_controls(HOSTILE_CONTROLS, "node.yaml", "node")
    check = substitute(loaded.controls, discover(sec, host), loaded.text).checks()[0]
    ex = ScriptedExecutor()
    r = run_check(check, ex)
    assert r.state is State.WARN and r.reason.startswith("$kubeletconf not substituted: the running kubelet's")
    assert ex.ran == []


def test_files_named_only_by_a_running_components_flag() -> None:
    """kubecis's flag-only kinds ($apiserverencryptionconfig, $apiserveradmissionconfig, $apiserverauditpolicy): the
    running API server's flag, else "" (kubeadm's default: the flag is not set), never the component's name; when
    no command line is read, undetermined (the checks using it WARN)."""
    api = Component("apiserver", bins=("kube-apiserver",))
    host = FakeHost()
    host.add_process(["kube-apiserver", "--encryption-provider-config=/etc/kubernetes/enc/enc.yaml",
                      "--audit-policy-file", "/etc/kubernetes/audit.yaml"])
    d = discover(_section(api), host)
    assert d.files["encryptionconfig"] == {"apiserver": "/etc/kubernetes/enc/enc.yaml"}
    assert d.files["auditpolicy"] == {"apiserver": "/etc/kubernetes/audit.yaml"}
    assert d.files["admissionconfig"] == {"apiserver": ""}
    assert not d.refused
    why = {x.kind: x.why for x in d.decisions if x.component == "apiserver"}
    assert why["admissionconfig"] == "the running apiserver names none with --admission-control-config-file (not set)"
    assert why["encryptionconfig"] == ("the running apiserver names it with --encryption-provider-config (it does not "
                                       "exist on this host)")
    controls = parse_controls(
        'controls:\ngroups:\n- id: "1"\n  checks:\n  - id: "1.1"\n'
        '    audit: kubecis probe x "$apiserveradmissionconfig" "$apiserverencryptionconfig"\n', "t.yaml").controls
    assert substitute(controls, d).checks()[0].audit == 'kubecis probe x "" "/etc/kubernetes/enc/enc.yaml"'

    for d in (discover(_section(api), FakeHost()), discover(_section(api), host, use_cmdline=False)):
        assert "encryptionconfig" not in d.files
        assert d.refused["$apiserverencryptionconfig"] == (
            "$apiserverencryptionconfig undetermined: no apiserver command line was read (not running, or "
            "--discovery candidates)")
        assert "$apiserveradmissionconfig undetermined" in substitute(controls, d).checks()[0].not_run

    # a configured candidate or default (a distribution's fixed path) is used as for every kind
    with_default = Component("apiserver", bins=("kube-apiserver",), defaults={"auditpolicy": "/etc/audit.yaml"})
    assert discover(_section(with_default), FakeHost()).files["auditpolicy"] == {"apiserver": "/etc/audit.yaml"}
