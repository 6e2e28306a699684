"""Fixture files say what they expect: `# expect: SL101 SL111` on each line with findings.

Runs the CLI (JSON output) on each fixture folder and compares every finding
with the expectations, in both directions: missing findings and extra ones
both fail, so these files pin recall and precision of the engine (canonical
ops in every framework, dataflow, guards).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*((?:SL\d{3}\s*)+)")


def expectations(folder: Path) -> Counter:
    expected: Counter = Counter()
    for file in sorted(folder.rglob("*.py")):
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in match[1].split():
                    expected[(file.name, number, code)] += 1
    return expected


FOLDERS = ["spellings", "dataflow"] + sorted(
    f"rules/{p.name}" for p in (FIXTURES / "rules").glob("*") if p.is_dir()
)


@pytest.mark.parametrize("folder", FOLDERS)
def test_findings_match_expectations(folder, run_cli):
    result = run_cli("check", "--output-format", "json", str(FIXTURES / folder))
    assert result.exit_code == 1, result.output
    found = Counter((Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in json.loads(result.stdout))
    expected = expectations(FIXTURES / folder)
    missing = sorted((expected - found).elements())
    extra = sorted((found - expected).elements())
    details = {(Path(d["filename"]).name, d["location"]["row"], d["code"]): d["message"]
               for d in json.loads(result.stdout)}
    assert not missing and not extra, (
        f"missing: {missing}\nextra: " + "\n".join(f"{k}: {details[k]}" for k in extra)
    )
