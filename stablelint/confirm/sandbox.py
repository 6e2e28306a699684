"""Child-process isolation for one probe: timeout, memory cap, captured output, crash reasons.

The child is ``python -m stablelint.confirm.probe RESULT_PATH`` in its own process group (so a
timeout kills whatever it started), with ``RLIMIT_DATA`` as the memory cap (not ``RLIMIT_AS``: CUDA
reserves far more address space than it uses, and fails to initialise under an address-space cap
small enough to matter; GPU memory itself is not capped); the request goes in on
stdin and the result comes back in a temporary file, so whatever the user's code prints (it
is captured here) never mixes with the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import stablelint

PACKAGE_ROOT = str(Path(stablelint.__file__).resolve().parent.parent)
OUTPUT_TAIL = 2000


@dataclass
class Outcome:
    status: str  # what the probe reported (confirmed, not-reproduced, ...), or error / skipped
    data: dict
    output: str = ""  # the tail of what the user's code printed


def _limit_memory(megabytes: int):
    def apply() -> None:
        if megabytes > 0:
            import resource

            limit = megabytes * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    return apply


def run_probe(request: dict, timeout: float, memory_mb: int) -> Outcome:
    """Run one request in a fresh child and turn whatever happened into an Outcome."""
    with tempfile.TemporaryDirectory(prefix="stablelint-confirm-") as folder:
        result_path = Path(folder) / "result.json"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
        env.pop("PYTHONFAULTHANDLER", None)  # a crash is reported by its signal, not a dump
        process = subprocess.Popen(
            [sys.executable, "-m", "stablelint.confirm.probe", str(result_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, preexec_fn=_limit_memory(memory_mb))
        try:
            printed, _ = process.communicate(json.dumps(request).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            printed, _ = process.communicate()
            return Outcome("skipped", {"reason": f"timed out after {timeout:g}s"}, _tail(printed))
        finally:
            if process.poll() is None:
                _kill_group(process)
                process.wait()
        output = _tail(printed)
        if result_path.exists():
            try:
                data = json.loads(result_path.read_text())
                return Outcome(data.get("status", "error"), data, output)
            except ValueError:
                pass
        code = process.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            reason = f"the module crashed ({name})"
            if name == "SIGKILL" and memory_mb > 0:
                reason += f"; it may have exceeded the memory cap of {memory_mb} MiB"
            return Outcome("error", {"reason": reason}, output)
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if "MemoryError" in last:
            return Outcome("error", {"reason": f"the probe ran out of memory (cap {memory_mb} MiB)"}, output)
        return Outcome("error", {"reason": f"the probe exited with status {code} before reporting"
                                           + (f": {last}" if last else "")}, output)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(printed: bytes | None) -> str:
    return (printed or b"").decode("utf-8", "replace")[-OUTPUT_TAIL:]
