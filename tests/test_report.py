"""The HTML report in a real browser: for the reference, the stubs and a mixed submission, headless Chromium opens
results/report.html and every plot image loads, no console error occurs, stubs and crashes show messages instead of
images, and hidden checks show no expected values. A screenshot of the reference report is kept as an artifact
(results/report-reference.png). Chromium comes from Debian's packages: this module installs them when missing and
fails, never skips, when it cannot.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder import config as cfg
from tests.conftest import KIT_ROOT, run_grader

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1200,900"]
ARTIFACT = KIT_ROOT / "results" / "report-reference.png"
#: The issue asks for under 3 s on top of grading; the suite runs beside other jobs on 2 shared cores, so the
#: test allows a generous margin and prints the measurement.
REPORT_SECONDS_BOUND = 3.0 * 2.5

#: What the page reports about itself (run in the page after it loaded).
PAGE_FACTS = """
return {
  images: Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
                                                 alt: i.alt})),
  plots: document.querySelectorAll('figure.plot').length,
  noplots: Array.from(document.querySelectorAll('figure.noplot .why')).map(e => e.textContent),
  failed: document.querySelectorAll('li.fail').length,
  hiddenWithExpected: Array.from(document.querySelectorAll('li.fail')).filter(
      li => li.querySelector('.tag') && li.querySelector('.row.expected')).length,
  scripts: document.scripts.length,
  title: document.title,
};
"""


# --- Chromium through chromedriver's W3C WebDriver API (plain HTTP, standard library only) -------------------

def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing (as root), or fail with what to do."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    with open(Path(tempfile.gettempdir()) / "neurograde-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers must not run apt-get at once
        if CHROMIUM.exists() and CHROMEDRIVER.exists():
            return
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail("Chromium is needed to test the HTML report and cannot be installed here: run "
                        "`apt-get update && apt-get install -y chromium chromium-driver` as root, then rerun.")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium", "chromium-driver"]):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env)
            if proc.returncode != 0:
                pytest.fail(f"could not install Chromium for the report test ({' '.join(cmd)} exited "
                            f"{proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"apt-get reported success but {CHROMIUM} or {CHROMEDRIVER} is still missing")


class Browser:
    """One headless Chromium session driven by chromedriver."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="neurograde-chromium-")
        self.driver = subprocess.Popen([str(CHROMEDRIVER), f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.driver.poll() is not None:
                    self.close()
                    pytest.fail("chromedriver did not start")
                time.sleep(0.1)
        options = {"binary": str(CHROMIUM), "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"]}
        session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"}, "goog:chromeOptions": options}}})
        self.session = session["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def open(self, page: Path) -> dict:
        """Load ``page`` (waits for its load event) and return PAGE_FACTS plus the console's messages."""
        self._call("POST", f"/session/{self.session}/se/log", {"type": "browser"})  # forget earlier messages
        self._call("POST", f"/session/{self.session}/url", {"url": page.resolve().as_uri()})
        facts = self._call("POST", f"/session/{self.session}/execute/sync", {"script": PAGE_FACTS, "args": []})
        facts["console"] = self._call("POST", f"/session/{self.session}/se/log", {"type": "browser"})
        return facts

    def screenshot(self, path: Path) -> None:
        """The whole page (beyond the window) as a PNG."""
        shot = self._call("POST", f"/session/{self.session}/goog/cdp/execute", {
            "cmd": "Page.captureScreenshot", "params": {"format": "png", "captureBeyondViewport": True}})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            if getattr(self, "session", None):
                self._call("DELETE", f"/session/{self.session}")
        except (urllib.error.URLError, ConnectionError):
            pass
        self.driver.terminate()
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    ensure_chromium()
    b = Browser()
    yield b
    b.close()


# --- grading the three submissions ---------------------------------------------------------------------------

def configured() -> list[str]:
    return list(cfg.load().assignments)


def grade_with_report(folder: Path, out: Path) -> tuple[dict, subprocess.CompletedProcess, Path]:
    doc, proc = run_grader(folder, results=out / "results.json", timeout=600, report=True)
    report = out / "report.html"
    last = proc.stdout.strip().splitlines()[-1]
    assert last.endswith(str(report)), f"the terminal output should end with the report's path, got {last!r}"
    assert report.is_file()
    return doc, proc, report


def errors(console: list[dict]) -> list[str]:
    return [f"{e.get('level')}: {e.get('message')}" for e in console if e.get("level") == "SEVERE"]


def assert_images_loaded(facts: dict) -> None:
    bad = [i for i in facts["images"] if not i["complete"] or i["w"] <= 0 or i["h"] <= 0]
    assert not bad, f"plot images that did not load: {bad}"
    assert not errors(facts["console"]), errors(facts["console"])
    assert facts["scripts"] == 0
    assert facts["hiddenWithExpected"] == 0, "a hidden check shows an expected value"


MIXED_TAILS = {
    # A student who halves every learning rate of the multi-input neuron: curves that miss the dashed ones.
    "linear_neuron": '''

_reference_fit = LinearNeuron.fit


def _fit_with_half_the_rate(self, X, y, lr=0.1, epochs=10, mode="batch", batch_size=32):
    return _reference_fit(self, X, y, lr=lr / 2, epochs=epochs, mode=mode, batch_size=batch_size)


LinearNeuron.fit = _fit_with_half_the_rate


def critical_learning_rate(x):
    raise NotImplementedError()
''',
    # fit_cubic crashes: its plot shows the exception instead.
    "pytorch_basics": '''

def fit_cubic(seed=0):
    raise RuntimeError("my fit_cubic crashed on purpose")
''',
}


def test_reference_report_shows_every_plot_and_is_fast(browser, tmp_path):
    doc, proc, report = grade_with_report(KIT_ROOT / "reference", tmp_path)
    assert doc["score"] == sum(t["max_score"] for t in doc["tests"])
    facts = browser.open(report)
    assert_images_loaded(facts)
    assert facts["noplots"] == [], f"the reference should get every plot: {facts['noplots']}"
    assert len(facts["images"]) >= 3 * len(configured()) - 1, facts["images"]
    shot = tmp_path / "report-reference.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000
    ARTIFACT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)
    seconds = float(re.search(r"Report with plots of your code \(([\d.]+) s\)", proc.stdout).group(1))
    print(f"\nreport for the whole kit: {seconds:.2f} s on top of grading (screenshot: {ARTIFACT})")
    assert seconds < REPORT_SECONDS_BOUND, f"the report took {seconds:.1f} s on top of grading"


def test_stub_report_shows_messages_instead_of_plots(browser, tmp_path):
    doc, _, report = grade_with_report(KIT_ROOT / "student_template", tmp_path)
    assert doc["score"] == 0
    facts = browser.open(report)
    assert_images_loaded(facts)
    assert facts["images"] == [], "a stub cannot have plots"
    assert facts["noplots"] and all("Not implemented yet" in text for text in facts["noplots"]), facts["noplots"]
    assert facts["failed"] == len(doc["tests"])


def test_mixed_report_has_plots_and_messages(browser, submission, tmp_path):
    files = {}
    for name in configured():
        if name in MIXED_TAILS:
            files[f"{name}.py"] = (KIT_ROOT / "reference" / f"{name}.py").read_text() + MIXED_TAILS[name]
        elif (KIT_ROOT / "student_template" / f"{name}.py").exists():
            files[f"{name}.py"] = (KIT_ROOT / "student_template" / f"{name}.py").read_text()
    folder = submission(files, name="mixed")
    doc, _, report = grade_with_report(folder, tmp_path / "out")
    assert 0 < doc["score"] < sum(t["max_score"] for t in doc["tests"])
    facts = browser.open(report)
    assert_images_loaded(facts)
    assert facts["images"], "the working parts should have plots"
    assert any("my fit_cubic crashed on purpose" in text for text in facts["noplots"]) or \
        "pytorch_basics" not in configured(), facts["noplots"]
    assert facts["failed"] > 0


def test_the_browser_check_catches_broken_images_and_blocked_loads(browser, tmp_path):
    """The harness itself: a broken image and a blocked network load must be seen, or the tests above prove
    nothing."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src '
                    '\'none\'; img-src data:"></head><body><img src="data:image/png;base64,AAAA">'
                    '<img src="http://neurograde.invalid/x.png"></body></html>')
    facts = browser.open(page)
    assert [i["w"] for i in facts["images"]] == [0, 0]
    assert errors(facts["console"]), "a load blocked by the page's policy should log a console error"
