"""Real package sources for the benchmarks: pip-downloaded wheels, unpacked once into a cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

CACHE = Path(os.environ.get("STABLELINT_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))


def fetch(package: str) -> Path:
    """The unpacked sources of ``package`` (downloaded with `pip download --no-deps` once)."""
    target = CACHE / package
    if target.is_dir() and any(target.rglob("*.py")):
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = CACHE / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d",
                    str(wheels), package], check=True, capture_output=True)
    stem = package.replace("-", "_").lower()
    wheel = max((p for p in wheels.glob("*.whl") if p.name.lower().startswith(stem + "-")),
                key=lambda p: p.stat().st_mtime)
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def print_per_rule(packages: list[str], per_rule: dict[str, Counter], files: Counter, files_label: str = "") -> None:
    """A table of counts per rule (rows) and package (columns), with a total column and a files row."""
    width = max(max(len(p) for p in packages), 6)
    print(f"{'rule':<6} " + " ".join(f"{p:>{width}}" for p in packages) + "   total")
    for code in sorted(per_rule):
        counts = per_rule[code]
        print(f"{code:<6} " + " ".join(f"{counts[p]:>{width}}" for p in packages) + f"   {sum(counts.values()):>5}")
    print("files  " + " ".join(f"{files[p]:>{width}}" for p in packages) + f"   {sum(files.values()):>5}"
          + (f"   ({files_label})" if files_label else ""))
