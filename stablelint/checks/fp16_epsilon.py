"""SL501: an epsilon that float16 rounds to 0, in code that runs in float16.

The file-level evidence (``.half()``, ``torch.float16``, autocast) says float16 is in play somewhere;
an epsilon is left alone where the arithmetic it guards is visibly done in float32 anyway: the
guarded operand was cast up (``x.float()``, ``x.to(torch.float32)``), or the code belongs to a module
the file casts to float32 as a whole (``self.vocoder.float()``) — together with every module that
one builds.
"""

from __future__ import annotations

import ast

from . import Checker, Report
from .. import fixes
from ..dataflow import Context
from ..values import CONST, INSTANCE, MEMBER, OP, PARAM, RESULT, Value

# float16's smallest subnormal is 2**-24 (5.96e-8); anything below rounds to 0 or loses all precision.
FLOAT16_TINY = 2.0 ** -24
EPS_KEYWORDS = ("eps", "epsilon", "smooth", "tiny")
CASTS = ("float", "double", "half", "bfloat16", "to", "type", "astype", "cast")
WIDE_DTYPES = ("dtype_float32", "dtype_float64")
NARROW_DTYPES = ("dtype_float16", "dtype_bfloat16")


class Check(Checker):
    ops = ("div", "true_divide", "clamp", "clamp_min", "maximum", "@call", "normalize", "cosine_similarity",
           "layer_norm", "batch_norm", "group_norm", "rms_norm") + CASTS

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op in CASTS:
            self._note_module_cast(value, context)
            return
        found = context.analyzer.rule_state(self, dict)
        for literal, where, operand in self._candidates(value):
            if operand is not None and _computed_wide(operand):
                continue  # the operand is float32 (or wider): so is the sum with the epsilon
            found.setdefault(id(literal.node), (literal, where, value))

    def _candidates(self, value: Value):
        if value.op in ("div", "true_divide"):
            divisor = value.args.get("other")
            terms = list(_terms(divisor))
            tensors = [t for t in terms if t.kind not in (CONST, PARAM)]
            for addend in terms:
                if _tiny(addend):
                    yield addend, "added to a denominator", _first_wide(tensors)
            return
        if value.op in ("clamp", "clamp_min", "maximum"):
            bound = value.args.get("min") or value.args.get("other")
            if bound is not None and _tiny(bound):
                yield bound, "used as a lower bound", value.args.get("input")
            return
        for name, arg in value.args.items():
            if name in EPS_KEYWORDS and _tiny(arg):
                yield arg, f"passed as {name}=", value.args.get("input")

    def _note_module_cast(self, value: Value, context: Context) -> None:
        """``model.float()`` / ``model.half()`` on an instance of a class defined in the file."""
        receiver = value.args.get("input")
        if receiver is None or receiver.kind != INSTANCE or receiver.ref is None:
            return
        width = _cast_width(value)
        if width is not None:
            casts = context.analyzer.rule_state(self, list)
            casts.append((receiver.ref, width))

    def finish(self, context: Context, report: Report) -> None:
        if "float16" not in context.analyzer.flags:
            return
        candidates = context.analyzer.rule_state(self, dict)
        if not candidates:
            return
        wide_code = _wide_modules(context, context.analyzer.rule_state(self, list))
        inside = _nodes_within(wide_code)
        render = report.render
        for literal, where, op_value in candidates.values():
            if op_value.node is not None and id(op_value.node) in inside:
                continue
            constant = _constant(literal)
            # 1e-4 for an optimizer's or a norm layer's eps= and for a guard in arithmetic alike: a subnormal
            # guard such as 1e-6 keeps the forward finite but a / (b + eps) still has NaN gradients at 0 / 0
            larger = "1e-4"
            fix = None
            if isinstance(constant.node, ast.Constant):
                fix = fixes.replace(render, constant.node, larger, "unsafe", f"raise the epsilon to {larger}")
            report(constant.node,
                   f"{render.text(constant.node, 20)} is {where} in float16 code (this file uses "
                   f"float16), where it rounds to 0 and guards nothing: float16's smallest subnormal is 6e-08; "
                   f"use a larger epsilon ({larger}) or torch.finfo(dtype).eps", fix=fix)


def _constant(value: Value) -> Value:
    if value.kind == PARAM and isinstance(value.ref, Value):
        return value.ref
    return value


def _tiny(value: Value) -> bool:
    constant = _constant(value)
    return constant.is_numeric_const and 0 < float(constant.const) < FLOAT16_TINY


def _terms(value: Value | None):
    """The terms of a sum (through nested additions)."""
    if value is None:
        return
    stack = [value]
    while stack:
        current = stack.pop()
        if current.kind == OP and current.op == "add":
            stack.extend(v for k, v in current.args.items() if k in ("input", "other"))
        else:
            yield current


def _first_wide(values: list[Value]) -> Value | None:
    return next((v for v in values if _computed_wide(v)), values[0] if values else None)


def _cast_width(value: Value) -> str | None:
    """'wide' for a cast to float32/float64, 'narrow' for one to float16/bfloat16, None otherwise."""
    if value.op in ("float", "double"):
        return "wide"
    if value.op in ("half", "bfloat16"):
        return "narrow"
    for name, arg in value.args.items():
        if name != "input" and arg.kind == OP:
            if arg.op in WIDE_DTYPES:
                return "wide"
            if arg.op in NARROW_DTYPES:
                return "narrow"
    return None


def _computed_wide(value: Value, limit: int = 40) -> bool:
    """Whether ``value`` is visibly a float32/float64 tensor: cast up on the way, with no cast down after.

    Type promotion makes an op float32 as soon as one operand is, so one wide path is enough.
    """
    stack, seen = [value], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if current.kind == RESULT and current.via is not None:
            stack.append(current.via)
            continue
        if current.kind != OP:
            continue
        if current.op in CASTS or "dtype" in current.args:
            if current.spelling is not None and current.spelling.qualname == "builtins.float":
                return True  # a Python float
            width = _cast_width(current)
            if width == "wide":
                return True
            if width == "narrow" or current.op != "to" or not all(_device_like(a) for k, a in
                                                                 current.args.items() if k != "input"):
                continue  # cast down, or to a dtype we cannot tell (x.to(other.dtype), .astype(t))
        for name in ("input", "other"):
            arg = current.args.get(name)
            if arg is not None:
                stack.append(arg)
    return False


def _device_like(value: Value) -> bool:
    """An argument of .to() that is a device, not a dtype: 'cuda', x.device, non_blocking=True."""
    if value.kind == CONST:
        return True
    return value.kind == MEMBER and value.name == "device"


# -- modules the file casts to float32 as a whole --------------------------------------------------


def _wide_modules(context: Context, casts: list[tuple[object, str]]) -> list[ast.ClassDef]:
    """Class bodies that run in float32: classes cast with .float(), the classes they build, their bases."""
    if not casts:
        return []
    classes = {info.name: info for info in context.analyzer.classes.values()}

    def reach(roots: list[object]) -> set[int]:
        seen: set[int] = set()
        queue = list(roots)
        while queue:
            info = queue.pop()
            for cls in info.lineage():
                if id(cls) in seen:
                    continue
                seen.add(id(cls))
                queue.extend(classes[name] for name in _called_names(cls.node) if name in classes)
        return seen

    wide = reach([info for info, width in casts if width == "wide"])
    narrow = reach([info for info, width in casts if width == "narrow"])
    return [info.node for info in context.analyzer.classes.values() if id(info) in wide and id(info) not in narrow]


def _called_names(node: ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            func = func.value  # Block.from_config(...): an alternate constructor, or a static helper
        if isinstance(func, ast.Name):
            names.add(func.id)
    return names


def _nodes_within(roots: list[ast.ClassDef]) -> set[int]:
    """The ids of every node inside ``roots`` (the trees stay alive with the module, so ids stay unique)."""
    return {id(node) for root in roots for node in ast.walk(root)}
