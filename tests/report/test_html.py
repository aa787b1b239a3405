"""The HTML report: escaped, self-contained, deterministic, and rendered by a real Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from edgebench.report.html import render
from edgebench.report.matrix import recommend, rows
from edgebench.store import Store

CHROMIUM = shutil.which("chromium")
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture
def page(store, tmp_path):
    with Store(store) as s:
        grid, runs = rows(s.latest_attempts()), s.runs()
    html = render(grid, recommend(grid), runs)
    path = tmp_path / "report.html"
    path.write_text(html)
    return path, html, grid, runs


def test_every_name_is_escaped_and_the_data_is_embedded_once(page):
    _, html, grid, _ = page
    assert "pi&lt;script&gt;" in html and "<script>" not in html
    (data,) = re.findall(r'<script type="application/json" id="edgebench-data">(.*?)</script>',
                         html, re.S)
    assert "<" not in data  # nothing in the data can close its script element
    assert len(json.loads(data)["cells"]) == len(grid)
    assert 'title="load_failed: object is not initialized | x' in html  # the reason on hover


def test_it_fetches_nothing_and_is_the_same_bytes_twice(page, store):
    _, html, grid, runs = page
    assert not re.search(r'(src|href)\s*=\s*"(?!#|data:)', html)  # no external resource
    assert "default-src 'none'" in html
    assert html.count("<svg") == 2 and "<title>resnet18 int8 onnx/onnxruntime</title>" in html
    assert render(grid, recommend(grid), runs) == html


def _open(page, profile, netlog) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Chromium's DOM dump of ``page``, and the URLs the page itself requested (from its net
    log: the browser's own background requests have no origin, the page's have its own)."""
    dom = subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                          "--v=0", f"--log-net-log={netlog}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    text = netlog.read_text().rstrip()
    log = json.loads(text if text.endswith("}") else text.rstrip(",") + "]}")  # cut short at exit
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return dom, [e["params"]["url"] for e in log["events"] if e["type"] == start
                 and e["params"].get("initiator") not in (None, "not an origin")]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (make test installs it)")
def test_chromium_renders_it_without_console_errors(page, tmp_path):
    path, _, _, _ = page
    profile = tmp_path / "chromium-profile"
    dom, requests = _open(path, profile, tmp_path / "netlog.json")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert requests == []  # the page asked the network for nothing
    control = tmp_path / "control.html"  # the same check sees a page that does fetch
    control.write_text('<html><body><img src="http://127.0.0.1:9/x.png">x</body></html>')
    assert _open(control, profile, tmp_path / "control.json")[1] == ["http://127.0.0.1:9/x.png"]
    assert "Compatibility" in dom.stdout and 'class="load_failed"' in dom.stdout
    assert "pi&lt;script&gt;" in dom.stdout
    assert "CONSOLE" not in dom.stderr, [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
    shot = tmp_path / "report.png"  # kept with the test's files
    subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                    "--window-size=1200,1600", path.as_uri()], capture_output=True, timeout=120,
                   check=True)
    assert shot.stat().st_size > 20_000


def test_report_command_writes_the_html(store, tmp_path, run_cli):
    out = tmp_path / "r.html"
    code, _, err = run_cli("report", "--store", store, "--html", out)
    assert code == 0, err
    assert out.read_text().startswith("<!DOCTYPE html>")
