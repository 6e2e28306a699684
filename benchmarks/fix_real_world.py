"""Fixing real code: every fix, unsafe ones included, over copies of timm, transformers, diffusers,
lightning and torchvision.

For each package (the wheels of `real_world.py`, cached in benchmarks/.cache), a copy is linted,
fixed with `stablelint check --fix --unsafe-fixes --show-fixes`, and checked:

* every changed file still parses;
* stablelint reported no error (a fix rolled back because it would not parse counts as a failure);
* each rule has at least as many fewer findings as fixes of it were applied;
* a second `--fix` run changes nothing.

Prints files changed, fixes applied per rule and the failures (there must be none); exit status 1
when there is a failure.

    python benchmarks/fix_real_world.py
    python benchmarks/fix_real_world.py --packages timm --keep /tmp/fixed   # look at the result
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_world import PACKAGES  # noqa: E402
from sources import fetch, print_per_rule, python_files  # noqa: E402

SHOWN = re.compile(r"^\s+(\d+) x (\S+) ")


def stablelint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stablelint", "check", "--isolated", "--no-cache", *args],
                          cwd=cwd, capture_output=True, text=True)


def findings(root: Path) -> Counter:
    proc = stablelint("--output-format", "json", ".", cwd=root)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"stablelint check failed in {root} ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return Counter(d["code"] for d in json.loads(proc.stdout or "[]"))


def fix_package(package: str, keep: Path | None) -> tuple[int, Counter, list[str]]:
    """(files changed, fixes applied per rule, failures) for one package."""
    source = fetch(package)
    work = Path(tempfile.mkdtemp(prefix=f"fix-{package}-"))
    root = work / package
    shutil.copytree(source, root)
    before = {p: p.read_bytes() for p in python_files(root)}
    counts_before = findings(root)

    proc = stablelint("--fix", "--unsafe-fixes", "--show-fixes", ".", cwd=root)
    failures = [f"{package}: {line}" for line in proc.stderr.splitlines() if line.strip()]
    if proc.returncode not in (0, 1):
        failures.append(f"{package}: --fix exited {proc.returncode}")
    applied = Counter()
    for line in proc.stdout.splitlines():
        match = SHOWN.match(line)
        if match:
            applied[match.group(2)] += int(match.group(1))

    changed = [p for p, data in before.items() if p.read_bytes() != data]
    for path in changed:
        try:
            ast.parse(path.read_bytes())
        except SyntaxError as exc:
            failures.append(f"{package}: {path.relative_to(root)} does not parse after fixing: {exc}")

    counts_after = findings(root)
    for code, n in applied.items():
        if counts_after[code] > counts_before[code] - n:
            failures.append(f"{package}: {code}: {n} fixed but {counts_before[code]} -> {counts_after[code]} findings")

    snapshot = {p: p.read_bytes() for p in python_files(root)}
    again = stablelint("--fix", "--unsafe-fixes", ".", cwd=root)
    if again.returncode not in (0, 1) or {p: p.read_bytes() for p in python_files(root)} != snapshot:
        failures.append(f"{package}: a second --fix run changed files again")

    if keep is not None:
        shutil.rmtree(keep / package, ignore_errors=True)
        shutil.copytree(root, keep / package)
    shutil.rmtree(work, ignore_errors=True)
    return len(changed), applied, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES))
    parser.add_argument("--keep", type=Path, help="copy the fixed packages here")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    per_rule: dict[str, Counter] = {}
    changed_files = Counter()
    failures: list[str] = []
    for package in args.packages:
        changed, applied, failed = fix_package(package, args.keep)
        changed_files[package] = changed
        for code, n in applied.items():
            per_rule.setdefault(code, Counter())[package] = n
        failures.extend(failed)
    print_per_rule(args.packages, per_rule, changed_files, "changed")
    total = sum(sum(c.values()) for c in per_rule.values())
    print(f"\nfixes applied: {total}; files changed: {sum(changed_files.values())}; failures: {len(failures)}")
    for line in failures[:40]:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
