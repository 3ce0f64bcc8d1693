"""The image installs the project's runtime dependencies only (no dev extra): every command and
service must start with nothing else. Here the packages only the dev extra brings are made
unimportable in a fresh interpreter, which then loads `cos` and every process it can serve."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _runtime_closure() -> set[str]:
    """Every distribution the runtime dependencies need, followed through their own requirements."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = _name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(Requirement(r) for r in requires)
    return seen


def _dev_only_modules() -> list[str]:
    needed = _runtime_closure() | {"community-os", "pip", "setuptools", "wheel"}
    blocked = set()
    for module, distributions in metadata.packages_distributions().items():
        if module.isidentifier() and all(_name(d) not in needed for d in distributions):
            blocked.add(module)
    return sorted(blocked)


PROBE = """
import importlib, importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (only the dev extra installs it)", name=name)
        return None
sys.meta_path.insert(0, Block())
from cos.cli import main
try:
    main(["--help"])
except SystemExit as exit:
    assert not exit.code, exit.code
for name in sys.argv[2].split(","):
    importlib.import_module(name)
print("ok")
"""


def test_cos_and_every_service_start_without_the_dev_extra() -> None:
    blocked = _dev_only_modules()
    assert {"pytest", "playwright", "hypothesis"} <= set(blocked)  # the probe blocks what it should
    processes = sorted(
        f"services.{path.parent.name}.bootstrap" for path in (ROOT / "services").glob("*/bootstrap.py")
    )
    assert len(processes) >= 8
    modules = [
        *processes,
        "services.gateway.app",
        *(f"bench.{p.stem}" for p in (ROOT / "bench").glob("[!_]*.py")),
    ]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(blocked), ",".join(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
