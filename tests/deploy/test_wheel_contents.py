"""The wheel is what the image installs (`pip wheel .`, then `pip install --no-index`): it must carry
every file the packages keep beside their code, not only the Python. It once carried no web app,
so the image's gateway answered 404 at /app/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services", "cos", "bench")  # as [tool.setuptools.packages.find] includes


def _tracked(*paths: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [line for line in listed.stdout.splitlines() if line]


def test_the_wheel_carries_every_packaged_file_and_the_web_app(tmp_path: Path) -> None:
    # Build from a copy of what the image's build stage copies in, as it does (.dockerignore).
    source = tmp_path / "src"
    tracked = _tracked("pyproject.toml", "README.md", *PACKAGES)
    for name in tracked:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path / "dist"
    build = f"from setuptools import build_meta; print(build_meta.build_wheel({str(out)!r}))"
    built = subprocess.run(
        [sys.executable, "-c", build],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = out / built.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        carried = set(archive.namelist())

    # Every tracked file of the packages is in the wheel, except their READMEs (documentation).
    expected = {name for name in tracked if name.startswith(PACKAGES) and Path(name).name != "README.md"}
    missing = sorted(expected - carried)
    assert missing == [], f"the wheel lacks {len(missing)} file(s), e.g. {missing[:5]}"
    for page in ("index.html", "app.css", "sw.js", "manifest.webmanifest", "js/app.js", "bip39-english.txt"):
        assert f"services/gateway/web/{page}" in carried
    # And nothing of the tests or the repository's own tooling rides along.
    assert not any(name.startswith(("tests/", "docs/", "deploy/", "scripts/")) for name in carried)
