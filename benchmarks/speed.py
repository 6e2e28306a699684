"""Speed benchmark: stablelint on the real sources of timm and transformers.

Downloads the packages' wheels with `pip download --no-deps` into a cache
folder (benchmarks/.cache, or $STABLELINT_BENCH_CACHE), unpacks them, and
times in one run, with the median of several repetitions:

* `stablelint check` (all rules) on each package, with the default pool;
* the floors: `ast.parse` and `libcst.parse_module` of every file, one process;
* ruff and flake8 on the same files, when they are installed.

It prints a table with the ratios measured in the same run and the peak
memory of the stablelint process tree.  Usage:

    python benchmarks/speed.py [--repeat 3] [--packages timm transformers] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sources import CACHE, fetch, python_files  # noqa: E402


def timed(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds of a command and the peak RSS (KiB) of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


def floor(kind: str, files: list[Path]) -> float:
    code = (
        "import sys, time, pathlib\n"
        f"import {'ast' if kind == 'ast' else 'libcst'} as m\n"
        "srcs = [pathlib.Path(p).read_text(encoding='utf-8', errors='replace') for p in sys.argv[1:]]\n"
        "t = time.perf_counter()\n"
        "for s in srcs:\n"
        "    try:\n"
        f"        m.{'parse' if kind == 'ast' else 'parse_module'}(s)\n"
        "    except Exception:\n"
        "        pass\n"
        "print(time.perf_counter() - t)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True,
                          check=True)
    return float(proc.stdout.strip())


def median(fn, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--packages", nargs="+", default=["timm", "transformers"])
    parser.add_argument("--jobs", type=int, default=None, help="stablelint --jobs (default: all cores)")
    args = parser.parse_args()
    stablelint = [sys.executable, "-m", "stablelint", "check", "--statistics", "--isolated"]
    if args.jobs:
        stablelint += ["--jobs", str(args.jobs)]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for package in args.packages:
        root = fetch(package)
        files = python_files(root)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        print(f"\n{package}: {len(files)} files, {lines:,} lines ({root})")
        peak = 0

        def run_stablelint() -> float:
            nonlocal peak
            elapsed, rss = timed([*stablelint, str(root)])
            peak = max(peak, rss)
            return elapsed

        ours = median(run_stablelint, args.repeat)
        ast_floor = median(lambda: floor("ast", files), args.repeat)
        cst_floor = median(lambda: floor("libcst", files), 1)
        rows = [("stablelint check (all rules)", ours), ("ast.parse floor, 1 process", ast_floor),
                ("libcst parse floor, 1 process", cst_floor)]
        for name, argv in (("ruff", ["ruff", "check", "--no-cache", "--exit-zero", "--isolated", str(root)]),
                           ("flake8", ["flake8", "--exit-zero", str(root)])):
            if shutil.which(argv[0]):
                rows.append((name, median(lambda argv=argv: timed(argv)[0], args.repeat)))
        for name, seconds in rows:
            print(f"  {name:<34} {seconds:8.2f} s")
        print(f"  stablelint / libcst floor          {ours / cst_floor:8.2f}x")
        ruff = dict(rows).get("ruff")
        if ruff:
            print(f"  stablelint / ruff                  {ours / ruff:8.1f}x")
        print(f"  peak RSS of one process            {peak / 1024:8.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
