"""Scale benchmark: memory stays flat from 2,000 to 20,000 files.

Builds trees of N small ML files (realistic bodies from the fixtures, each
file distinct) in a temporary folder and runs `stablelint check --no-cache`
on each, printing wall time and the largest resident set of any stablelint
process.  Results stream back from the workers as diagnostics only, so the
peak should not grow with N.

    python benchmarks/scale.py [--sizes 2000 20000] [--jobs N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def build(root: Path, count: int) -> None:
    bodies = [p.read_text() for p in sorted((FIXTURES / "dataflow").glob("*.py"))]
    bodies += [p.read_text() for p in sorted((FIXTURES / "spellings").glob("*.py"))]
    for i in range(count):
        folder = root / f"pkg{i // 500:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"module_{i}.py").write_text(f"# module {i}\n" + bodies[i % len(bodies)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[2000, 20000])
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            build(root, size)
            command = [sys.executable, "-m", "stablelint", "check", "--no-cache", "--statistics", "--no-progress",
                       str(root)]
            if args.jobs:
                command += ["--jobs", str(args.jobs)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            if proc.returncode not in (0, 1):
                raise SystemExit(proc.stderr[-2000:])
            findings = sum(int(line.split()[0]) for line in proc.stdout.splitlines() if line.strip())
            print(f"{size:>6} files: {elapsed:6.1f} s, {findings} findings, peak RSS {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
