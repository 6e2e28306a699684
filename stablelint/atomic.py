"""Writing a file so that readers see the old contents or the new, never a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, prefix: str, suffix: str, mode: int | None = None) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``.

    ``mode``: the permission bits the file gets (the original file's, when replacing one).
    The temporary file is removed if anything fails, and the error is raised.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
