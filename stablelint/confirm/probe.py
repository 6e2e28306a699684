"""The child process's entry point: read the request, run the probe it asks for, write the result.

Started by ``sandbox`` as ``python -m stablelint.confirm.probe RESULT_PATH`` with a JSON request
on stdin; writes one JSON object to RESULT_PATH (never to stdout, which belongs to the user's
code). Modes: ``probe`` sweeps the NaN/Inf regimes and ``verify`` replays a witness on the fixed
copy (``value_probe``); ``shapes`` and ``verify-shapes`` do the same for the shape rules
(``shape_probe``); importing the module and filling the function's parameters is ``loading``'s.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .backends import Unavailable
from .loading import ConfigProblem, FixedCopyFailed, ImportFailed, package_of
from .shape_probe import sweep_shapes, verify_shapes
from .value_probe import sweep, verify


def main(argv: list[str]) -> int:
    result_path = Path(argv[1])
    request = json.loads(sys.stdin.read())
    # the module's siblings import, as when Python runs it as a script (a notebook's module is a temporary copy:
    # "folder" is the notebook's); not for a module inside a package, whose siblings may shadow the standard
    # library (a package's utils/logging.py): import_module puts the package's root on the path instead
    package, _ = package_of(Path(request["path"]))
    if request.get("folder") or package is None:
        sys.path.insert(0, request.get("folder") or str(Path(request["path"]).resolve().parent))
    if request.get("folder"):
        os.chdir(request["folder"])  # as Jupyter runs a notebook: its relative file paths are its folder's
    try:
        mode = request["mode"]
        run = {"verify": verify, "verify-shapes": verify_shapes, "shapes": sweep_shapes}.get(mode, sweep)
        result = run(request)
    except ImportFailed as exc:
        result = {"status": "error", "reason": str(exc)}
    except FixedCopyFailed as exc:
        result = {"status": "error", "detail": str(exc)}
    except Unavailable as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except ConfigProblem as exc:
        result = {"status": "error", "reason": str(exc)}
    except MemoryError:
        result = {"status": "error", "reason": "the probe ran out of memory"}
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
