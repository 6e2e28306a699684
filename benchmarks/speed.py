"""Speed benchmark: stablelint on the real sources of timm and transformers, against the field.

Downloads the packages' wheels with `pip download --no-deps` into a cache
folder (benchmarks/.cache, or $STABLELINT_BENCH_CACHE), unpacks them, and
times in one run, with the median of several repetitions:

* `stablelint check` with every rule, cold (`--no-cache`) and warm (a primed
  result cache), with the default process pool (all cores);
* the floors: `ast.parse` and `libcst.parse_module` of every file in one
  process;
* TorchFix, Fixit, flake8 and ruff on the same files, when installed (on the
  PATH, or in the virtualenv benchmarks/.cache/tools: `python -m venv
  benchmarks/.cache/tools && benchmarks/.cache/tools/bin/pip install torchfix
  fixit flake8 ruff`; TorchFix pins an old libcst, so keep it out of
  stablelint's environment).  The slow ones (flake8, TorchFix, Fixit) run once, on timm only
  unless --slow-packages says otherwise.

It prints the times, the ratios measured in the same run (stablelint cold /
libcst floor, TorchFix / stablelint, stablelint warm / ruff) and the peak
memory (largest resident set of any stablelint process).  A slow tool's ratio
is taken against stablelint cold timed just before and just after it, so that
a shared machine's drift over its minutes of running affects both sides.  Usage:

    python benchmarks/speed.py [--repeat 3] [--packages timm transformers] [--jobs N] [--skip-slow]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sources import fetch, python_files  # noqa: E402


def timed(argv: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0, 1)) -> tuple[float, int]:
    """Wall seconds of a command and the largest resident set (KiB) of it or any process it waited for.

    ``wait4`` gives this one command's usage; the process-wide RUSAGE_CHILDREN would report the
    largest child ever run, another tool's included.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss


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


TOOLS = Path(__file__).resolve().parent / ".cache" / "tools" / "bin"


def tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidate = TOOLS / name
    return str(candidate) if candidate.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--packages", nargs="+", default=["timm", "transformers"])
    parser.add_argument("--jobs", type=int, default=None, help="stablelint --jobs (default: all cores)")
    parser.add_argument("--skip-slow", action="store_true", help="do not run flake8, TorchFix and Fixit")
    parser.add_argument("--slow-packages", nargs="*", default=["timm"],
                        help="packages flake8, TorchFix and Fixit run on (default: timm; they take minutes)")
    args = parser.parse_args()
    base = [sys.executable, "-m", "stablelint", "check", "--statistics", "--isolated", "--no-progress"]
    if args.jobs:
        base += ["--jobs", str(args.jobs)]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    # Byte-compile stablelint as `pip install` does for a wheel: an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise compile every module from source on every run.
    import compileall

    import stablelint

    compileall.compile_dir(Path(stablelint.__file__).parent, quiet=1)
    scratch = Path(tempfile.mkdtemp(prefix="stablelint-speed-"))
    try:
        for package in args.packages:
            # A copy outside any git work tree: Fixit (and anything else honouring .gitignore) would
            # otherwise skip the files, which live in a gitignored cache, and time an empty run.
            root = scratch / package
            shutil.copytree(fetch(package), root)
            bench_package(package, root, base, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def bench_package(package: str, root: Path, base: list[str], args: argparse.Namespace) -> None:
    files = python_files(root)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    print(f"\n{package}: {len(files)} files, {lines:,} lines ({root})")
    peak = 0

    def run(argv: list[str]) -> float:
        nonlocal peak
        elapsed, rss = timed(argv)
        peak = max(peak, rss)
        return elapsed

    with tempfile.TemporaryDirectory() as cache_dir:
        cold = median(lambda: run([*base, "--no-cache", str(root)]), args.repeat)
        warm_cmd = [*base, "--cache-dir", cache_dir, str(root)]
        run(warm_cmd)  # prime
        warm = median(lambda: run(warm_cmd), args.repeat)
    ast_floor = median(lambda: floor("ast", files), args.repeat)
    cst_floor = median(lambda: floor("libcst", files), 1)
    rows = [("stablelint cold (all rules)", cold), ("stablelint warm (cache)", warm),
            ("ast.parse floor, 1 process", ast_floor), ("libcst parse floor, 1 process", cst_floor)]
    others = [("ruff", ["check", "--no-cache", "--exit-zero", "--isolated"], args.repeat)]
    if not args.skip_slow and package in args.slow_packages:
        others += [("flake8", ["--exit-zero", "--select", "E,F,W,C90"], 1), ("torchfix", [], 1),
                   ("fixit", ["lint"], 1)]
    # A slow tool runs for minutes, long enough for a shared machine's speed to drift: its ratio is
    # taken against stablelint cold timed right before and right after it (the mean of the two).
    beside: dict[str, float] = {}
    for name, options, repeat in others:
        path = tool(name)
        if path:
            slow = repeat == 1 and name != "ruff"
            before = run([*base, "--no-cache", str(root)]) if slow else 0.0
            rows.append((name, median(lambda path=path, options=options: timed([path, *options, str(root)],
                                                                                ok=(0, 1))[0], repeat)))
            if slow:
                beside[name] = (before + run([*base, "--no-cache", str(root)])) / 2
    for name, seconds in rows:
        print(f"  {name:<34} {seconds:8.2f} s")
    times = dict(rows)
    print(f"  stablelint cold / libcst floor     {cold / cst_floor:8.2f}x")
    for name, label in (("torchfix", "TorchFix"), ("fixit", "Fixit"), ("flake8", "flake8")):
        if name in times:
            print(f"  {label + ' / stablelint cold':<34} {times[name] / beside[name]:8.1f}x"
                  f"   (stablelint {beside[name]:.2f} s around it)")
    if "ruff" in times:
        print(f"  stablelint warm / ruff             {warm / times['ruff']:8.1f}x")
    print(f"  peak RSS (largest process)         {peak / 1024:8.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
