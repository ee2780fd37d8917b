"""Open the HTML report in headless Chromium: no console errors, the paper search works."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
_install_tried: list[str] = []  # why the one install attempt failed, if it did


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def _chromium() -> str:
    """Chromium's path; install it with apt-get once if missing, else skip with the reason."""
    if path := _find_chromium():
        return path
    if not _install_tried:
        _install_tried.append(_try_install())
    if path := _find_chromium():
        return path
    pytest.skip(f"headless Chromium is not installed and installing it failed: {_install_tried[0]}")


def _try_install() -> str:
    if not shutil.which("apt-get"):
        return "apt-get is not available"
    try:
        for command, limit in ((["apt-get", "update"], 180),
                               (["apt-get", "install", "-y", "chromium"], 420)):
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                                  check=False)
            if done.returncode != 0:
                return f"`{' '.join(command)}` exited {done.returncode}: {done.stderr[-300:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "chromium still not found after apt-get install"


def _open(url: str, tmp_path: Path) -> tuple[str, str]:
    """Load ``url``, let its scripts run, and return (DOM after scripts, Chromium's log)."""
    done = subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if "Uncaught" in line or re.search(r"(?:ERROR|WARNING):CONSOLE", line)]


def _shown_rows(dom: str) -> int:
    return len(re.findall(r'<tr class="paper-row">', dom))


def _count(dom: str) -> int:
    return int(re.search(r'id="paper-count"[^>]*data-count="(\d+)"', dom).group(1))


def test_report_renders_without_console_errors(
    report_files: dict[str, Path], tmp_path: Path
) -> None:
    dom, log = _open(report_files["html"].as_uri(), tmp_path)
    assert _console_errors(log) == []
    assert 'data-ready="1"' in dom  # the report's script ran to the end
    assert _count(dom) == 30
    assert _shown_rows(dom) == 30
    # injected markup stayed text: no element was created from it
    assert "<script>alert(1)" not in dom and not re.search(r"<img[^>]*onerror", dom)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_search_in_url_hash_filters_the_paper_table(
    report_files: dict[str, Path], tmp_path: Path
) -> None:
    dom, log = _open(report_files["html"].as_uri() + "#q=refusal%20tokens", tmp_path)
    assert _console_errors(log) == []
    assert _count(dom) == _shown_rows(dom) == 2
    assert "2 of 30 papers" in dom


def test_theme_filter_in_url_hash_shows_outliers(
    report_files: dict[str, Path], tmp_path: Path
) -> None:
    dom, _ = _open(report_files["html"].as_uri() + "#theme=-1", tmp_path)
    assert _count(dom) == _shown_rows(dom) == 3
