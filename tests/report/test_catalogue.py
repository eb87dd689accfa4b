"""The check catalogue's words for audits and tests (kubecis.report.catalogue), its Markdown escaping, and the HTML
page in a real headless Chromium (nothing requested beyond the file, the text filter working)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubecis.benchmark.config import Component, NodeSection
from kubecis.benchmark.model import Check, Compare, TestItem, Tests
from kubecis.report import catalogue as cat
from tests.report.test_html_chromium import _requests, browser  # noqa: F401  (fixture)

SECTION = NodeSection("node", (
    Component("kubelet", bins=("hyperkube kubelet", "kubelet"),
              candidates={"conf": ("/etc/kubernetes/kubelet-config.yaml", "/var/lib/kubelet/config.yaml")},
              defaults={"conf": "/var/lib/kubelet/config.yaml"}),
    Component("proxy", bins=("kube-proxy",), candidates={"kubeconfig": ("/etc/kubernetes/proxy.conf",)}),
))


def test_variables_render_with_the_configured_default() -> None:
    v = cat.section_variables(SECTION)
    assert v["$kubeletbin"].default == "kubelet"  # the one-word candidate, not legacy hyperkube
    assert v["$kubeletconf"].default == "/var/lib/kubelet/config.yaml"  # default*, not the first candidate
    assert v["$kubeletconf"].cmdline_flag == "--config"
    assert v["$proxykubeconfig"].default == "/etc/kubernetes/proxy.conf"  # no default: the first candidate
    assert "the path on the running kubelet's `--config`; else the first existing of 2" in v["$kubeletconf"].how
    assert "`proxy` (kube-bench's rule" in v["$proxykubeconfig"].how


@pytest.mark.parametrize(("audit", "expected"), [
    ("test ! -e $kubeletconf || stat -c permissions=%a $kubeletconf",
     ["the permissions of `/var/lib/kubelet/config.yaml` ($kubeletconf, kubelet's configuration file)"]),
    ("find /etc/kubernetes/pki -name '*.crt' | xargs stat -c %U:%G",
     ["the owner and group of the entries named `*.crt` in or under `/etc/kubernetes/pki`"]),
    ("ps -fC $kubeletbin", ["the command line of the running kubelet ($kubeletbin, default `kubelet`)"]),
    ("/bin/ps -ef | grep kube-apiserver | grep -v grep", ["the command line of the running kube-apiserver"]),
    ("journalctl -m -u k3s | grep 'Running kube-apiserver' | tail -n1",
     ["the kube-apiserver command line logged in the systemd journal of the `k3s` unit (the last "
      "`Running kube-apiserver` line)"]),
    ("kubectl get pods -A -o json", ["API objects: pods (`kubectl get`, read from the cluster kubectl would use, or "
                                     "from `--objects`)"]),
    ("/bin/sh -c 'if test -e /etc/kubernetes/admin.conf; then stat -c %a /etc/kubernetes/admin.conf; fi'",
     ["the permissions of `/etc/kubernetes/admin.conf`"]),
    ("test -e $kubeletconf && stat -c %a $kubeletconf || echo 'File not found: /etc/x/y'",
     ["the permissions of `/var/lib/kubelet/config.yaml` ($kubeletconf, kubelet's configuration file)"]),
    ("gcloud services list --enabled | grep -q x && echo on", ["the output of `gcloud services list --enabled`"]),
    ("kubecis probe cluster-admin-bindings",
     ["bindings of the cluster-admin ClusterRole beyond the Kubernetes/kubeadm defaults, from Roles, ClusterRoles "
      "(aggregated ones with the rules the aggregation controller gives them), RoleBindings and ClusterRoleBindings"]),
])
def test_what_an_audit_inspects(audit: str, expected: list[str]) -> None:
    check = Check("1", audit=audit, tests=Tests(items=(TestItem(flag="x"),)))
    assert cat.inspects(check, cat.section_variables(SECTION)) == expected


def _item(**kw: object) -> TestItem:
    op, value = kw.pop("op", ""), kw.pop("value", "")
    return TestItem(compare=Compare(str(op), str(value)), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("item", "multiple", "words"), [
    (_item(flag="--anonymous-auth", path="{.authentication.anonymous.enabled}", op="eq", value="false"), False,
     "`--anonymous-auth` (or, when absent, `authentication.anonymous.enabled` in the config file) is `false`"),
    (_item(flag="--read-only-port", path="{.readOnlyPort}", set=False), False,
     "`--read-only-port` is not set, nor `readOnlyPort` in the config file"),
    (_item(flag="permissions", op="bitmask", value="600"), True,
     "`permissions` is 600 or more restrictive, on every line of the output"),
    (_item(flag="root:root"), True, "every line of the output shows `root:root`"),
    (_item(flag="--cert-file", env="ETCD_CERT_FILE"), False,
     "`--cert-file` (or, when absent, environment variable `ETCD_CERT_FILE`) is set"),
    (_item(flag="--enable-admission-plugins", op="has", value="NodeRestriction"), False,
     "`--enable-admission-plugins` includes `NodeRestriction`"),
    (_item(flag="--tls-cipher-suites", op="valid_elements", value="A,B"), False,
     "`--tls-cipher-suites` lists only elements of `A,B`"),
    (_item(flag="OK", op="eq", value="OK"), False, "the output shows `OK`"),
    (_item(flag="--x", op="noteqx", value="1"), False,
     "`--x` passes the unknown compare op `noteqx`: never (kube-bench's rule)"),
])
def test_tests_in_words(item: TestItem, multiple: bool, words: str) -> None:
    assert cat.describe_item(Check("1", use_multiple_values=multiple), item) == words


def test_probe_test_in_words() -> None:
    c = Check("5.1.1", audit="kubecis probe cluster-admin-bindings")
    item = _item(flag="cluster_admin_bindings", op="eq", value="0")
    assert cat.describe_item(c, item) == "the probe finds nothing (`cluster_admin_bindings: 0`)"


@pytest.mark.parametrize(("check", "verdict"), [
    (Check("1", scored=True, tests=Tests(items=(TestItem(flag="x"),))), "PASS or FAIL;"),
    (Check("1", tests=Tests(items=(TestItem(flag="x"),))), "PASS, or WARN when a test fails"),
    (Check("1", tests=Tests(items=(TestItem(flag="x"),)), fail_on_evidence=True), "kube-bench would show WARN"),
    (Check("1", type="manual"), "Always WARN"),
    (Check("1", type="skip"), "INFO"),
    (Check("1", scored=True), "WARN: there are no tests."),
])
def test_verdicts_follow_the_state_machine(check: Check, verdict: str) -> None:
    assert verdict in cat.verdict(check)


def test_markdown_escaping_keeps_code_and_lines() -> None:
    text = "Edit the file\n--kubelet-certificate-authority=<ca-string>\nset `a_b: *` and *not* this_one"
    assert cat.md_text(text) == ("Edit the file\\\n\\--kubelet-certificate-authority=\\<ca-string\\>\\\n"
                                 "set `a_b: *` and \\*not\\* this\\_one")
    assert cat.md_code("a `b` c") == "``a `b` c``"


def test_html_catalogue_in_headless_chromium(browser, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    from kubecis.benchmark import bundled
    from kubecis.benchmark.config import Config

    driver = browser
    bs = bundled.get_set("cis-2.0")
    c = cat.build("cis-2.0", bs.controls, Config.load(bundled.materialise()).merged_with("cis-2.0"),
                  description=bs.description, kubernetes=bs.kubernetes)
    page = tmp_path / "cis-2.0.html"
    page.write_text(cat.html(c), encoding="utf-8")
    _requests(driver)
    driver.get(page.as_uri())
    assert driver.save_screenshot(str(tmp_path / "catalogue.png"))
    requested = [u for u in _requests(driver) if not u.startswith(("chrome:", "chrome-untrusted:", "data:"))]
    assert requested == [page.as_uri()]
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    total = len(bs.checks())
    assert len(driver.find_elements(By.CSS_SELECTOR, "article.check")) == total
    assert driver.find_element(By.ID, "shown").text == str(total)
    driver.find_element(By.ID, "search").send_keys("kubeletconf")
    visible = driver.execute_script("return Array.from(document.querySelectorAll('article.check'))"
                                    ".filter(a => a.offsetParent !== null).map(a => a.dataset.check);")
    assert "4.1.9" in visible and "1.2.1" not in visible and 0 < len(visible) < total
    assert driver.find_element(By.ID, "shown").text == str(len(visible))
    driver.save_screenshot(str(tmp_path / "catalogue-filtered.png"))
