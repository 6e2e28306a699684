"""`stablelint confirm` on methods of classes whose constructors need arguments.

fixtures/confirm_classes holds nn.Modules built from ``init`` (constructor keyword arguments) or
``instance`` (a function returning the instance) entries in its pyproject.toml, one built
automatically (required ``int``/``float``/``bool`` parameters filled), and ones whose build fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confirming import confirm

from stablelint.config import parse_config

pytest.importorskip("torch")

CLASSES = Path(__file__).resolve().parent.parent / "fixtures" / "confirm_classes"
FAST = ("--device", "cpu", "--timeout", "10")


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    result = confirm(*FAST, "--output-format", "json", str(CLASSES))
    assert result.exit_code == 1, result.stderr  # something was confirmed
    return {v["function"]: v for v in json.loads(result.stdout)}


def test_required_int_float_and_bool_parameters_are_filled_automatically(verdicts):
    verdict = verdicts["NeedsClasses.forward"]
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    assert (verdict["witness"]["argument"], verdict["witness"]["value"]) == ("logits", "-inf")
    # random nn.Linear weights: the original and the fixed copy are built with the same seed, so they agree
    assert verdict["fix"]["status"] == "verified"


def test_init_builds_the_class_and_the_methods_own_entry_gives_its_arguments(verdicts):
    verdict = verdicts["FocalLoss.forward"]  # forward raises unless logits have init's num_classes = 10 columns
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    assert verdict["witness"]["argument"] == "logits"
    assert verdict["fix"]["status"] == "verified"


def test_an_instance_function_builds_the_class_and_the_fixed_copys_method_runs_on_it(verdicts):
    verdict = verdicts["Encoder.forward"]
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    # helpers.py builds model.Encoder from its own import of model.py: were its (unfixed) forward run in
    # place of the fixed copy's, the fix would not remove the -inf
    assert verdict["fix"]["status"] == "verified", verdict["fix"]


@pytest.mark.parametrize(("function", "reason"), [
    ("Typo.forward", ("[tool.stablelint.confirm.Typo] init: Typo(widht=3) failed "
                      "(TypeError: Typo.__init__() got an unexpected keyword argument 'widht')")),
    ("Broken.forward", ('[tool.stablelint.confirm.Broken] instance = "helpers:load_broken" failed '
                        "(FileNotFoundError: no checkpoint at weights/broken.pt)")),
    ("Wrapped.forward", ('[tool.stablelint.confirm.Wrapped] instance = "helpers:not_a_model" returned dict, '
                         "not a Wrapped")),
])
def test_a_configured_build_that_fails_is_an_error_naming_the_key(verdicts, function, reason):
    assert (verdicts[function]["verdict"], verdicts[function]["reason"]) == ("ERROR", reason)


def test_a_class_that_cannot_be_built_is_skipped_saying_how_to_configure_it(verdicts):
    verdict = verdicts["Unconfigured.forward"]
    assert verdict["verdict"] == "SKIPPED"
    assert verdict["reason"] == (
        "class Unconfigured cannot be built from default constructor arguments (its parameter 'config' has no "
        "default and is not annotated int, float or bool); configure it with init = {...} (constructor keyword "
        'arguments) or instance = "module:function" in [tool.stablelint.confirm.Unconfigured]')


NARROW = '''import torch
from torch import nn


class Narrow(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        if width < 8:
            raise ValueError(f"width {width} is below 8")
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.softmax(self.proj(x), dim=-1))
'''


def test_a_failing_automatic_build_names_the_filled_arguments_and_an_entry_fixes_it(tmp_path):
    path = tmp_path / "narrow.py"
    path.write_text(NARROW)
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nselect = ["SL101"]\n')
    (verdict,) = json.loads(confirm(*FAST, "--output-format", "json", str(path)).stdout)
    assert (verdict["verdict"], verdict["reason"]) == ("SKIPPED", (
        "class Narrow cannot be built from constructor arguments width=5 (ValueError: width 5 is below 8); "
        'configure it with init = {...} (constructor keyword arguments) or instance = "module:function" in '
        "[tool.stablelint.confirm.Narrow]"))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.stablelint]\nselect = ["SL101"]\n\n[tool.stablelint.confirm."narrow.py:Narrow"]\ninit = {width = 8}\n'
        '\n[tool.stablelint.confirm."Narrow.forward"]\nshapes = {x = [4, 8]}\n')
    (verdict,) = json.loads(confirm(*FAST, "--output-format", "json", str(path)).stdout)
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]


# -- validation of class entries -------------------------------------------------------------------


@pytest.mark.parametrize(("table", "message"), [
    ('[tool.stablelint.confirm.FocalLoss]\ninit = {gamma = 2.0}\nshapes = {logits = [8, 10]}\n',
     "'tool.stablelint.confirm.FocalLoss.shapes': an entry with init or instance configures a class"),
    ('[tool.stablelint.confirm.Encoder]\ninstance = "helpers:make"\nfactory = "helpers:inputs"\n',
     "'tool.stablelint.confirm.Encoder.factory': an entry with init or instance configures a class"),
    ('[tool.stablelint.confirm.Encoder]\ninstance = "helpers"\n',
     "'tool.stablelint.confirm.Encoder.instance' must be \"module:function\""),
    ('[tool.stablelint.confirm.Encoder]\ninstance = ":make"\n',
     "'tool.stablelint.confirm.Encoder.instance' must be \"module:function\""),
    ('[tool.stablelint.confirm.Encoder]\ninstance = "helpers:make"\ninit = {width = 5}\n',
     "'tool.stablelint.confirm.Encoder': give init or instance, not both"),
    ('[tool.stablelint.confirm."model.py:Encoder.forward"]\ninit = {width = 5}\n',
     "'tool.stablelint.confirm.model.py:Encoder.forward': init and instance configure a class; name the class"),
    ('[tool.stablelint.confirm.Encoder]\ninit = [5]\n',
     "'tool.stablelint.confirm.Encoder.init' must map constructor parameter names to values"),
    ('[tool.stablelint.confirm.Encoder]\ninit = {since = 1979-05-27}\n',
     "'tool.stablelint.confirm.Encoder.init.since' must be a string, number or boolean"),
    ('[tool.stablelint.confirm.Encoder]\ninits = {width = 5}\n',
     "unknown key 'tool.stablelint.confirm.Encoder.inits'"),
])
def test_a_bad_class_entry_is_a_configuration_error(tmp_path, table, message):
    (tmp_path / "narrow.py").write_text(NARROW)
    (tmp_path / "pyproject.toml").write_text(f"[tool.stablelint]\n{table}")
    result = confirm(*FAST, str(tmp_path / "narrow.py"))
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_class_entries_and_function_entries_are_looked_up_apart(tmp_path):
    config = parse_config({"confirm": {
        "losses.py:FocalLoss": {"init": {"gamma": 2.0}},
        "FocalLoss": {"shapes": {"x": [2, 3]}},  # a function that happens to share the name
        "FocalLoss.forward": {"shapes": {"logits": [8, 10]}},
    }}, tmp_path / "pyproject.toml")
    losses, other = tmp_path / "losses.py", tmp_path / "other.py"
    assert config.class_entry(losses, "FocalLoss").init == {"gamma": 2.0}
    assert config.class_entry(other, "FocalLoss") is None  # the entry names losses.py
    assert config.confirm_entry(losses, "FocalLoss").shapes == (("x", (2, 3)),)
    assert config.confirm_entry(losses, "FocalLoss.forward").shapes == (("logits", (8, 10)),)
    assert config.class_entry(losses, "FocalLoss").as_request() == {
        "entry": "losses.py:FocalLoss", "init": {"gamma": 2.0}, "instance": None}
    hash(config)  # configurations are cached in sets: an init table must not make them unhashable
