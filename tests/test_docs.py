"""README.md and docs/: short, linked, and naming only sessions, files and commands that exist.

The README is the first screen of the project: it must stay small (the analysis rewrites its
findings and headline blocks, which can grow), keep the two set-up commands CI runs, and point only
at things that are there.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
while not (ROOT / "noxfile.py").exists():
    ROOT = ROOT.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, ROOT / "CHANGELOG.md", ROOT / ".github" / "workflows" / "README.md"]
SETUP = ['python3 -m pip install "nox>=2025.10.14" && python3 -m nox -s bench-3.13t',
         'python3 -m pip install "nox>=2025.10.14" && python3 -m nox -s tests -- -m "slow or not slow"']


def test_readme_is_at_most_10_kb():
    assert len(README.read_bytes()) <= 10 * 1024


def test_readme_keeps_the_two_setup_commands_and_ci_runs_the_second():
    text = README.read_text()
    assert all(text.count(cmd) == 1 for cmd in SETUP)
    assert SETUP[1] in (ROOT / ".ci" / "run").read_text()


def test_readme_has_the_findings_then_the_headline_markers_once():
    text = README.read_text()
    markers = ["<!-- findings:start -->", "<!-- findings:end -->", "<!-- headline:start -->", "<!-- headline:end -->"]
    assert all(text.count(m) == 1 for m in markers)
    assert [text.index(m) for m in markers] == sorted(text.index(m) for m in markers)


def relative_links(page: Path) -> list[str]:
    """Targets of the page's Markdown links that are files of the repository (no URL, no anchor)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [t.split("#")[0] for t in targets if "://" not in t and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert missing == []


def test_the_link_check_can_fail(tmp_path):
    page = tmp_path / "x.md"
    page.write_text("[a](docs/nowhere.md) [b](https://example.org) [c](#anchor)")
    assert relative_links(page) == ["docs/nowhere.md"]


def nox_sessions(env: dict | None = None) -> set[str]:
    out = subprocess.run([sys.executable, "-m", "nox", "--list"], cwd=ROOT, capture_output=True, text=True,
                         env=env, check=True).stdout
    return set(re.findall(r"^[*-] (\S+) ->", out, flags=re.M))


def test_every_nox_session_named_in_the_docs_exists():
    pytest.importorskip("nox")
    known = nox_sessions() | nox_sessions({**os.environ, "FTBENCH_FLAVOUR": "optimized"})
    names = re.compile(r"nox -s ([a-z0-9][a-z0-9.-]*[a-z0-9])(?![<\w-])")  # not bench-<variant>
    named = {m for page in PAGES for m in names.findall(page.read_text())}
    assert named and named - known == set()
