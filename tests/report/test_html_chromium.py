"""The HTML report in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium):
a screenshot in the test's tmp dir, the DOM as a person sees it (counts, a FAIL row's evidence visible),
the status and text filters working without a server, and not one request beyond the file itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubecis.report import ReportOptions, render
from tests.report.sample import demo_run

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def _real_chromium() -> str:
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).exists():
            pytest.skip(f"{exe} not installed (Debian packages chromium and chromium-driver; .ci/run installs them)")
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("Chromium "), f"{CHROMIUM} is not Chromium: {out!r}"
    drv = subprocess.run([CHROMEDRIVER, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert drv.startswith("ChromeDriver "), drv
    return out.split()[1]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    _real_chromium()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "driver.log")),
                              options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _visible_rows(driver) -> list[tuple[str, str]]:
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr.check'))"
        ".filter(r => r.offsetParent !== null).map(r => [r.dataset.status, r.dataset.check]);")
    return [(s, c) for s, c in rows]


def test_html_report_in_headless_chromium(browser, tmp_path: Path):
    from selenium.webdriver.common.by import By

    driver = browser
    run = demo_run()
    report = tmp_path / "report.html"
    report.write_text(render("html", run, ReportOptions()), encoding="utf-8")
    _requests(driver)  # drop what the browser did before (its own start page)
    driver.get(report.as_uri())

    # a screenshot of what a person sees first (kept in the test's tmp dir)
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

    # nothing but the file itself was requested: no font, script, style or image from anywhere
    requested = [u for u in _requests(driver) if not u.startswith(("chrome:", "chrome-untrusted:", "data:"))]
    assert requested == [report.as_uri()]
    # and the page's script ran without an error
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

    counts = run.sorted().status_counts
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.check")
    assert len(rows) == counts.total == 131
    assert len(_visible_rows(driver)) == 131
    legend = {li.get_attribute("data-status"): li.find_element(By.CSS_SELECTOR, "b.count").text
              for li in driver.find_elements(By.CSS_SELECTOR, "#totals li")}
    assert legend == {s: str(counts.get(s)) for s in ("PASS", "FAIL", "WARN", "INFO", "WAIVED")}
    assert driver.find_element(By.ID, "shown").text == "131"

    # a FAIL row's evidence is on screen, with its expected result and an open remediation
    fail = next(c for _, _, c in run.sorted().checks() if c.status == "FAIL" and c.actual_value)
    row = driver.find_element(By.CSS_SELECTOR, f'tr.check[data-check="{fail.id}"]')
    evidence = row.find_element(By.CSS_SELECTOR, "pre.evidence")
    assert evidence.is_displayed() and evidence.text == fail.actual_value
    assert row.find_element(By.CSS_SELECTOR, "pre.expected").text == fail.expected_result
    remediation = row.find_element(By.CSS_SELECTOR, "details.remediation pre")
    assert remediation.is_displayed() and remediation.text == fail.remediation.strip()

    # the status filter: FAIL only
    for box in driver.find_elements(By.CSS_SELECTOR, '#filters input[name="status"]'):
        if box.get_attribute("value") != "FAIL":
            box.click()
    visible = _visible_rows(driver)
    assert len(visible) == counts.fail == 65
    assert {s for s, _ in visible} == {"FAIL"}
    assert driver.find_element(By.ID, "shown").text == "65"
    driver.save_screenshot(str(tmp_path / "report-fail-only.png"))
    assert _hidden_targets(driver) == []  # every section has a FAIL

    # the text filter narrows further; clearing it and ticking every status shows all again
    search = driver.find_element(By.ID, "search")
    search.send_keys(fail.id)
    visible = _visible_rows(driver)
    assert ("FAIL", fail.id) in visible and len(visible) < 65 and all(s == "FAIL" for s, _ in visible)
    assert driver.find_element(By.ID, "shown").text == str(len(visible))
    search.clear()
    driver.execute_script("document.getElementById('search').dispatchEvent(new Event('input'))")

    # WARN only: sections without a WARN are hidden whole (2 Etcd Node Configuration has none)
    for box in driver.find_elements(By.CSS_SELECTOR, '#filters input[name="status"]'):
        if box.get_attribute("value") in ("FAIL", "WARN"):
            box.click()
    assert len(_visible_rows(driver)) == counts.warn == 25
    assert _hidden_targets(driver) == ["2"]
    for box in driver.find_elements(By.CSS_SELECTOR, '#filters input[name="status"]'):
        if not box.is_selected():
            box.click()
    assert len(_visible_rows(driver)) == 131


def test_cluster_report_in_headless_chromium(browser, tmp_path: Path, capsys):
    """`kubecis demo --cluster --format html`: the node x check matrix counts what the nodes' results say, the
    node that was not evaluated is shown as such with its reason (never as passing), and the filters apply to
    the matrix and to every node's checks."""
    from selenium.webdriver.common.by import By

    from kubecis.cli.main import main

    driver = browser
    report = tmp_path / "cluster.html"
    assert main(["demo", "--cluster", "--format", "html", "--outputfile", str(report)]) == 0
    assert main(["demo", "--cluster", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _requests(driver)
    driver.get(report.as_uri())
    shot = tmp_path / "cluster.png"
    assert driver.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [u for u in _requests(driver) if not u.startswith(("chrome:", "chrome-untrusted:", "data:"))] == [
        report.as_uri()]
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

    # coverage: the node that was not evaluated, with its reason on screen, in the table and in its section
    assert driver.find_element(By.ID, "coverage").text == "Nodes: 3 of 4 nodes evaluated"
    lost = next(n for n in doc["nodes"] if n["state"] == "not_evaluated")
    row = driver.find_element(By.CSS_SELECTOR, f'tr.node-row[data-node="{lost["name"]}"]')
    assert row.get_attribute("data-state") == "not_evaluated"
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "NOT EVALUATED"
    reason = row.find_element(By.CSS_SELECTOR, "td.node-reason")
    assert reason.is_displayed() and reason.text == lost["reason"]
    assert [c.text for c in row.find_elements(By.CSS_SELECTOR, "td.num")] == ["-"] * 5
    section = driver.find_element(By.CSS_SELECTOR, f'div.node.not-evaluated[data-node="{lost["name"]}"]')
    assert section.find_element(By.CSS_SELECTOR, ".node-reason").text == lost["reason"]

    # the matrix: a column per node, a row per node check; its cells count what each node's results say
    heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.matrix thead th")][1:]
    assert heads == [n["name"].upper() for n in doc["nodes"]]  # (shown upper-case by the style sheet)
    cells = driver.execute_script(
        "const out = {}; document.querySelectorAll('table.matrix tr.mrow').forEach(r => r.querySelectorAll("
        "'td.cell').forEach((c, i) => { const k = i + ':' + c.dataset.status; out[k] = (out[k] || 0) + 1; }));"
        "return out;")
    rows = len(driver.find_elements(By.CSS_SELECTOR, "table.matrix tr.mrow"))
    for i, n in enumerate(doc["nodes"]):
        if n["state"] == "not_evaluated":
            assert cells[f"{i}:NOT_EVALUATED"] == rows
            continue
        totals = n["results"]["Totals"]
        for status in ("PASS", "FAIL", "WARN"):
            assert cells.get(f"{i}:{status}", 0) == totals[f"total_{status.lower()}"], (n["name"], status)
    # the summary counts the evaluated nodes and the policies, nothing for the node not evaluated
    legend = {li.get_attribute("data-status"): li.find_element(By.CSS_SELECTOR, "b.count").text
              for li in driver.find_elements(By.CSS_SELECTOR, "#totals li")}
    assert legend["FAIL"] == str(doc["totals"]["total_fail"]) and legend["PASS"] == str(doc["totals"]["total_pass"])

    # FAIL only: the matrix keeps the checks failing on some node, the checks list the FAILs of every node and
    # of the policies; the node not evaluated stays on screen
    for box in driver.find_elements(By.CSS_SELECTOR, '#filters input[name="status"]'):
        if box.get_attribute("value") != "FAIL":
            box.click()
    visible_m = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr.mrow')).filter(r => r.offsetParent !== null)"
        ".map(r => r.dataset.check);")
    failing = {r["test_number"] for n in doc["nodes"] if n["results"] for c in n["results"]["Controls"]
               for g in c["tests"] for r in g["results"] if r["status"] == "FAIL"}
    assert sorted(visible_m) == sorted(failing)
    visible = _visible_rows(driver)
    assert {s for s, _ in visible} == {"FAIL"} and len(visible) == doc["totals"]["total_fail"]
    assert section.is_displayed() and reason.is_displayed()
    driver.save_screenshot(str(tmp_path / "cluster-fail-only.png"))
    # a text filter narrows the matrix too
    search = driver.find_element(By.ID, "search")
    search.send_keys("etcd data directory")
    visible_m = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr.mrow')).filter(r => r.offsetParent !== null)"
        ".map(r => r.dataset.check);")
    assert visible_m == ["1.1.11", "1.1.12"]


def _hidden_targets(driver) -> list[str]:
    """The ids of the sections the filters hide whole."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return Array.from(document.querySelectorAll('.target-block')).filter(b => b.hidden)"
        ".map(b => b.querySelector('h3').textContent.trim().split(' ')[0]);")
