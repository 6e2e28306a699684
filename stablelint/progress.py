"""Progress on long runs: files done / total on stderr, on a terminal only."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Callable ``(done, total)``; draws at most ten times a second, and only when enabled."""

    def __init__(self, enabled: bool, stream: TextIO | None = None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._drawn = False

    @classmethod
    def for_terminal(cls, forced: bool | None) -> Progress:
        """On when stderr is a terminal and not in CI, unless ``--progress``/``--no-progress`` says."""
        if forced is not None:
            return cls(forced)
        interactive = sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
        return cls(interactive)

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = len(str(total))
        self.stream.write(f"\rstablelint: {done:>{width}}/{total} files")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K" if self.stream.isatty() else "\n")
            self.stream.flush()
            self._drawn = False
