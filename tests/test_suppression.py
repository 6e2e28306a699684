"""noqa and stablelint: disable comments, on a line and for the whole file."""

from __future__ import annotations

import json


def findings(result):
    return sorted((d["location"]["row"], d["code"]) for d in json.loads(result.stdout))


def test_line_suppressions(fixtures, run_cli):
    result = run_cli("check", "--output-format", "json", str(fixtures / "suppression" / "noqa.py"))
    # line 6: bare noqa; 7: its code; 8: another code (still reported); 9: prefix;
    # 10: two codes; 11: disable=; 12: disable= another code; 13: upper-case NOQA with spaces
    assert findings(result) == [(8, "SL201"), (12, "SL503")]


def test_disable_file(fixtures, run_cli):
    result = run_cli("check", str(fixtures / "suppression" / "disabled_file.py"))
    assert result.exit_code == 0


def test_disable_file_for_some_codes(fixtures, run_cli):
    result = run_cli("check", "--output-format", "json", str(fixtures / "suppression" / "disabled_codes.py"))
    assert [code for _, code in findings(result)] == ["SL101"]
