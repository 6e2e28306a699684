"""Verdicts: what confirming one finding established, as plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CONFIRMED, NOT_REPRODUCED, SKIPPED, ERROR = "CONFIRMED", "NOT REPRODUCED", "SKIPPED", "ERROR"


@dataclass
class Witness:
    argument: str | None  # the argument the regime was applied to ("all": every float array)
    regime: str
    dtype: str
    device: str
    where: str  # "output" or "gradient of <argument>"
    value: str  # "NaN", "inf" or "-inf"; for a shape rule, what showed the shape bug
    shapes: dict[str, list[int]] | None = None  # shape rules: the shape each array argument was given
    plan: int = 0  # which of inputs.plans() the arguments came from (replayed on the fixed copy)
    inputs: str = ""  # how that plan departs from the default inputs ("" for the default)
    at_finding: str | None = None  # 'NaN'/'inf'/'-inf' when the flagged expression's own value held it


@dataclass
class FixCheck:
    status: str  # verified | not-removed | disagrees | error
    detail: str
    applicability: str = "safe"  # the fix's: "unsafe" ones are run only with --unsafe-fixes

    @property
    def summary(self) -> str:
        summary = {"verified": "fix verified", "not-removed": "fix does not remove the NaN",
                   "disagrees": "fix changes the result"}.get(self.status, "fix not checked")
        return summary if self.applicability == "safe" else f"{self.applicability} {summary}"


@dataclass
class Verdict:
    path: str
    line: int
    column: int
    code: str
    rule: str
    message: str
    verdict: str
    reason: str
    function: str | None = None
    device: str | None = None
    witness: Witness | None = None
    tried: list[str] = field(default_factory=list)
    fix: FixCheck | None = None
    output: str = ""  # what the user's code printed, when it failed
    cell: int | None = None  # in a notebook: the 1-based cell that line and column count in

    def as_json(self) -> dict:
        data = asdict(self)
        if self.fix is not None:
            data["fix"]["summary"] = self.fix.summary
        return data
