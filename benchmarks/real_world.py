"""Findings on real code: stablelint over timm, transformers, diffusers, lightning and torchvision.

Downloads the packages' wheels (`pip download --no-deps`, cached in
benchmarks/.cache), lints each with every rule and prints the findings per
rule and package, and the internal errors (there must be none).  For
triage, `--show SL201` prints the findings of one rule (all, or a
deterministic sample of `--sample N`) with their source line.

    python benchmarks/real_world.py
    python benchmarks/real_world.py --show SL201 --sample 20
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sources import fetch, print_per_rule, python_files  # noqa: E402

PACKAGES = ("timm", "transformers", "diffusers", "lightning", "torchvision")


def lint(root: Path) -> tuple[list[dict], list[str]]:
    proc = subprocess.run([sys.executable, "-m", "stablelint", "check", "--isolated", "--output-format", "json",
                           str(root)], capture_output=True, text=True)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"stablelint failed on {root} ({proc.returncode}):\n{proc.stderr[-3000:]}")
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    return json.loads(proc.stdout or "[]"), errors


def source_line(finding: dict) -> str:
    try:
        lines = Path(finding["filename"]).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[finding["location"]["row"] - 1].strip()
    except (OSError, IndexError):
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES))
    parser.add_argument("--show", metavar="RULE", help="print the findings of this rule")
    parser.add_argument("--sample", type=int, default=0, help="with --show: at most this many, sampled")
    args = parser.parse_args()
    per_rule: dict[str, Counter] = {}
    findings: list[dict] = []
    errors: list[str] = []
    totals = Counter()
    for package in args.packages:
        root = fetch(package)
        files = python_files(root)
        found, failed = lint(root)
        totals[package] = len(files)
        for finding in found:
            finding["package"] = package
            per_rule.setdefault(finding["code"], Counter())[package] += 1
        findings.extend(found)
        errors.extend(failed)
    print_per_rule(args.packages, per_rule, totals)
    print(f"\nfindings: {len(findings)}; internal errors: {len(errors)}")
    for line in errors[:20]:
        print("  " + line)
    if args.show:
        chosen = [f for f in findings if f["code"] == args.show]
        if args.sample and len(chosen) > args.sample:
            chosen = sorted(random.Random(0).sample(chosen, args.sample),
                            key=lambda f: (f["filename"], f["location"]["row"]))
        print(f"\n{args.show}: showing {len(chosen)}")
        for finding in chosen:
            where = f"{finding['filename']}:{finding['location']['row']}:{finding['location']['column']}"
            print(f"\n{where}\n    {source_line(finding)}\n    -> {finding['message']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
