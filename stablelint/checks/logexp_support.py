"""What the log/exp rewrite rules (SL102-SL109) and SL502 share.

Each of those rules is a handful of patterns over canonical ops (matched on
the dataflow values, so they see through variables, layers and the file's
own functions) plus a question or two to the value facts; what differs is
the message, which names the replacement written in the framework and
alias the file already uses.  ``RewriteCheck`` runs the patterns, the
subclass decides whether a match counts (``accept``) and words the message
(``message``); the spelling helpers pick ``F.logsigmoid`` /
``tf.math.log_sigmoid`` / ``jax.nn.log_sigmoid`` / ``scipy.special.log_expit``.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize

from . import Checker, Report
from .. import fixes
from ..dataflow import Context
from ..diagnostic import Edit, Fix, Position
from ..patterns import Match, Matcher, PBind, PConst, POp, PVar, compile_pattern, root_op
from ..render import Renderer
from ..values import CONST, MEMBER, OP, PARAM, RESULT, SYMBOL, UNKNOWN_KIND, Value, same_syntax

FRAMEWORK_ORDER = ("torch", "tensorflow", "jax", "numpy")

# The spelling to suggest for each replacement op, per framework, best first.
# Deliberately a short list rather than every spelling ops.yaml knows: TF1-only
# names (tf.log1p, tf.log_sigmoid) and deprecated aliases must never be suggested.
PREFERRED: dict[str, dict[str, tuple[str, ...]]] = {
    "logsigmoid": {
        "torch": ("torch.nn.functional.logsigmoid",),
        "tensorflow": ("tensorflow.math.log_sigmoid", "keras.ops.log_sigmoid"),
        "jax": ("jax.nn.log_sigmoid", "flax.linen.log_sigmoid"),
        "numpy": ("scipy.special.log_expit",),
    },
    "log1p": {
        "torch": ("torch.log1p",),
        "tensorflow": ("tensorflow.math.log1p", "keras.ops.log1p"),
        "jax": ("jax.numpy.log1p",),
        "numpy": ("numpy.log1p", "math.log1p", "scipy.special.log1p"),
    },
    "expm1": {
        "torch": ("torch.expm1",),
        "tensorflow": ("tensorflow.math.expm1", "keras.ops.expm1"),
        "jax": ("jax.numpy.expm1",),
        "numpy": ("numpy.expm1", "math.expm1", "scipy.special.expm1"),
    },
    "logsumexp": {
        "torch": ("torch.logsumexp",),
        "tensorflow": ("tensorflow.math.reduce_logsumexp", "keras.ops.logsumexp", "keras.backend.logsumexp"),
        "jax": ("jax.nn.logsumexp", "jax.scipy.special.logsumexp"),
        "numpy": ("scipy.special.logsumexp",),
    },
    "logaddexp": {
        "torch": ("torch.logaddexp",),
        "tensorflow": ("keras.ops.logaddexp", "tensorflow.experimental.numpy.logaddexp"),
        "jax": ("jax.numpy.logaddexp",),
        "numpy": ("numpy.logaddexp",),
    },
    "softmax": {
        "torch": ("torch.nn.functional.softmax", "torch.softmax"),
        "tensorflow": ("tensorflow.nn.softmax", "keras.ops.softmax", "keras.backend.softmax",
                       "keras.activations.softmax"),
        "jax": ("jax.nn.softmax", "flax.linen.softmax"),
        "numpy": ("scipy.special.softmax",),
    },
    "sigmoid": {
        "torch": ("torch.sigmoid", "torch.nn.functional.sigmoid"),
        "tensorflow": ("tensorflow.math.sigmoid", "tensorflow.sigmoid", "tensorflow.nn.sigmoid", "keras.ops.sigmoid",
                       "keras.backend.sigmoid", "keras.activations.sigmoid"),
        "jax": ("jax.nn.sigmoid", "flax.linen.sigmoid"),
        "numpy": ("scipy.special.expit",),
    },
    "softplus": {
        "torch": ("torch.nn.functional.softplus",),
        "tensorflow": ("tensorflow.math.softplus", "tensorflow.nn.softplus", "keras.ops.softplus",
                       "keras.backend.softplus", "keras.activations.softplus"),
        "jax": ("jax.nn.softplus", "flax.linen.softplus"),
        "numpy": (),  # NumPy/SciPy have none: np.logaddexp(0, x)
    },
    # the floors SL111's fix puts under a log (torch clamps, the others take a maximum)
    "clamp": {"torch": ("torch.clamp",)},
    "maximum": {
        "tensorflow": ("tensorflow.math.maximum", "tensorflow.maximum", "keras.backend.maximum", "keras.ops.maximum"),
        "jax": ("jax.numpy.maximum",),
        "numpy": ("numpy.maximum",),
    },
    "var": {
        "torch": ("torch.var",),
        "tensorflow": ("tensorflow.math.reduce_variance", "keras.ops.var", "keras.backend.var"),
        "jax": ("jax.numpy.var",),
        "numpy": ("numpy.var",),
    },
}
# Reductions whose result, subtracted from x, leaves every exp(x - m) at most 1.
SHIFT_OPS = ("max", "amax", "maximum", "logsumexp", "adaptive_max_pool")
SHIFT_NAMES = ("max", "lse", "logsumexp", "logz", "log_z", "log_norm", "shift")
ARITHMETIC_OPS = ("add", "sub", "mul", "div", "true_divide", "neg", "pow", "sqrt", "log", "exp")
# Ops whose result is a whole number (a size, a count, an index).
INTEGER_OPS = ("len", "size", "shape", "numel", "numel_attr", "ndim", "dim", "count_nonzero", "argmax", "argmin",
               "randint", "floordiv", "floor", "ceil", "round")
INTEGER_BUILTINS = ("int", "len", "round", "range")
# Names that hold counts in real code: n, n_steps, num_layers, step, epoch, batch_idx, ...
INTEGER_NAMES = ("i", "j", "k", "n", "idx", "index", "step", "steps", "epoch", "epochs", "iteration", "iterations",
                 "count", "counts", "num", "it", "iter", "global_step", "depth", "level", "rank", "ids", "labels")
INTEGER_PREFIXES = ("n_", "num_", "number_of_", "count_")
INTEGER_SUFFIXES = ("_count", "_counts", "_steps", "_step", "_epochs", "_epoch", "_idx", "_index", "_len", "_size",
                    "_num", "_iter", "_iters", "_iterations", "_ids", "_id", "_labels", "_label")
# Element-selecting methods the op table does not know (yet): they keep the values, so the
# integers they pick from a count or a label tensor are still integers.
SELECTION_METHODS = ("masked_select", "index_select", "take", "take_along_dim", "masked_scatter", "flatten",
                     "ravel", "view", "reshape", "contiguous", "clone", "detach", "long", "int", "numpy")
# Per float type: the largest |log(x)| of a positive finite x (the log of the smallest
# subnormal) and the argument above which exp overflows.
LOG_EXTREME = {"float16": 16.64, "bfloat16": 92.2, "float32": 103.28, "float64": 744.44}
EXP_LIMIT = {"float16": 11.09, "bfloat16": 88.72, "float32": 88.72, "float64": 709.78}
LOG_BASE_SCALE = {"log": 1.0, "log1p": 1.0, "log2": 1.0 / math.log(2.0), "log10": 1.0 / math.log(10.0)}
# |copysign(c, y)| is |c|: the only part of a sign-flip helper that matters for a magnitude.
SIGN_FLIP_FUNCTIONS = ("copysign",)


class RewriteCheck(Checker):
    """Patterns (``(variant, pattern text)``, first match wins) reported at the matched op."""

    patterns: tuple[tuple[str, str], ...] = ()

    def __init__(self, rule, table):
        super().__init__(rule, table)
        self.compiled = [(variant, compile_pattern(text, table)) for variant, text in self.patterns]
        self.ops = tuple(dict.fromkeys(root_op(pattern) for _, pattern in self.compiled))

    def check(self, value: Value, context: Context, report: Report) -> None:
        if "base" in value.args:
            return  # math.log(y, base): the one-argument replacements do not fit
        matcher = Matcher(self.table, context.analyzer.is_passthrough)
        for variant, pattern in self.compiled:
            if root_op(pattern) != value.op:
                continue
            match = matcher.match(pattern, value)
            if match is None or not self.accept(variant, match, value, context):
                continue
            message = self.message(variant, match, value, report.render, context)
            if message:
                fix = None
                if self.rule.fix != "none" and self.fixable(pattern, match):
                    fix = self.fix(variant, match, value, report.render, context)
                report(value.node, message, fix=fix)
            return

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        return True

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        raise NotImplementedError

    def fixable(self, pattern, match: Match) -> bool:
        """Whether the reported expression can be rewritten: by default, when all of the pattern is written in it."""
        return written_in_place(pattern, match)

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """The rewrite of the reported expression; only asked when ``fixable``."""
        return None


# -- values -----------------------------------------------------------------------


def unwrap(value: Value | None, context: Context) -> Value | None:
    """The op behind ``value``: through calls of the file's functions and value-preserving ops."""
    seen = 0
    while value is not None and seen < 50:
        seen += 1
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and context.analyzer.is_passthrough(value.op) and "input" in value.args:
            value = value.args["input"]
        else:
            break
    return value


def same_value(a: Value | None, b: Value | None, context: Context) -> bool:
    """One value, or the same syntax computing it (``torch.exp(x)`` written twice)."""
    a, b = unwrap(a, context), unwrap(b, context)
    if a is None or b is None:
        return False
    if a is b:
        return True
    return a.node is not None and b.node is not None and type(a.node) is type(b.node) and same_syntax(a.node, b.node)


def is_constant(value: Value | None, context: Context, depth: int = 0) -> bool:
    """A literal or arithmetic on literals (``np.pi / 2``, ``torch.tensor(1.0)``): no rounding to speak of."""
    value = unwrap(value, context)
    if value is None or depth > 6:
        return False
    span = value.facts.range
    if value.kind == CONST or span.lo == span.hi or context.analyzer.table.has_tag(value.op, "constant"):
        return True  # also math.pi, math.e
    if value.kind == OP and value.op in ARITHMETIC_OPS:
        parts = [v for k, v in value.args.items() if k in ("input", "other", "exponent")]
        return bool(parts) and all(is_constant(p, context, depth + 1) for p in parts)
    return False


def is_kernel_exponent(value: Value | None, context: Context) -> bool:
    """``-d2 / (2 * sigma ** 2)``, ``-0.5 / s2 * x ** 2``: a negated square scaled by unknowns (a Gaussian kernel).

    The analysis cannot prove the scale positive, but the sign of such an
    exponent is evidently meant to be non-positive: exp of it cannot overflow.
    """
    negations = 0
    squares = 0
    stack = [value]
    while stack:
        current = unwrap(stack.pop(), context)
        if current is None:
            return False
        if current.kind == CONST:
            if not current.is_numeric_const:
                return False
            negations += current.const < 0
            continue
        if current.kind != OP:
            continue  # an unknown scale: sigma, a bandwidth, a temperature
        if current.op == "neg":
            negations += 1
            stack.append(current.args.get("input"))
        elif current.op in ("mul", "div", "true_divide"):
            stack.extend((current.args.get("input"), current.args.get("other")))
        elif current.facts.range.lo >= 0 and current.facts.growth is not None:
            squares += 1  # a square, an even power, a squared distance
        elif current.facts.range.lo >= 0 or is_constant(current, context):
            continue  # a norm, a count, a positive constant expression
        else:
            return False
    return squares > 0 and negations % 2 == 1


def is_shifted(value: Value | None, context: Context, depth: int = 0) -> bool:
    """``x - max(x)`` (or ``- logsumexp``, ``- maximum(a, b)``), possibly scaled: exp of it cannot overflow."""
    if value is None or depth > 6:
        return False
    if value.facts.shifted or value.facts.has_one:
        return True
    current = unwrap(value, context)
    if current is None or current.kind != OP:
        return False
    if current.facts.shifted:
        return True
    if current.op == "sub":
        subtracted = unwrap(current.args.get("other"), context)
        if subtracted is None:
            return False
        if subtracted.kind == OP:
            return subtracted.op in SHIFT_OPS
        # x_max, _ = torch.max(x, dim=1): the analysis does not follow the unpacking, the name tells
        name = (subtracted.name or render_name(subtracted.node)).lower()
        return any(hint in name for hint in SHIFT_NAMES)
    if current.op == "mul":  # a temperature: t * (x - m)
        return any(is_shifted(current.args.get(k), context, depth + 1) for k in ("input", "other"))
    if current.op in ("div", "true_divide"):  # (x - m) / t
        return is_shifted(current.args.get("input"), context, depth + 1)
    return False


def render_name(node: ast.AST | None) -> str:
    """The identifier a value was read from (``x_max``, ``self.max_val``), or ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.arg):
        return node.arg
    return ""


def operand_leading_to(container: Value, target: Value, context: Context) -> tuple[ast.AST | None, Value | None]:
    """The argument (syntax and value) of ``container`` through which ``target`` was reached."""
    for name, argument in container.args.items():
        if argument is target or unwrap(argument, context) is target:
            return container.arg_nodes.get(name), argument
    return None, None


def is_integer(value: Value | None, context: Context, depth: int = 0) -> bool:
    """A whole number: a count, a size, an index, an integer literal (no precision to lose near 0)."""
    if value is None or depth > 8:
        return False
    if value.kind == CONST:
        return isinstance(value.const, int)
    if value.facts.count:
        return True
    node = value.node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in INTEGER_BUILTINS:
        return True
    if value.kind == OP:
        if value.op in INTEGER_OPS:
            return True
        if value.facts.zero is not None and value.facts.zero.text.startswith("a count"):
            return True  # mask.sum(): the facts call it "a count of a 0/1 mask"
        if value.op in ("add", "sub", "mul", "mod", "max", "min", "maximum", "minimum"):
            parts = [v for k, v in value.args.items() if k in ("input", "other")]
            return bool(parts) and all(is_integer(p, context, depth + 1) for p in parts)
        if value.op == "getitem" or context.analyzer.is_passthrough(value.op):  # x.shape[0], n.float()
            return is_integer(value.args.get("input"), context, depth + 1)
        if value.op == "arange":  # arange(n), arange(a, b) with whole a, arange(a, b, s) with whole a and s
            # (device=, dtype= do not change the values: arange(n, dtype=torch.float32) is still 0, 1, 2, ...)
            if "end" not in value.args:
                return True
            bounds = [value.args.get(k) for k in ("start", "step") if k in value.args]
            return all(is_integer(v, context, depth + 1) for v in bounds)
        if value.op in ("neg", "abs"):
            return is_integer(value.args.get("input"), context, depth + 1)
        return False
    if value.kind == UNKNOWN_KIND and _selected_from_integers(value):
        return True
    return value.kind in (PARAM, UNKNOWN_KIND, MEMBER) and _integer_name(value)


def _selected_from_integers(value: Value) -> bool:
    """``labels.masked_select(mask)``: an unresolved element selection from an integer-named tensor."""
    node = value.node
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in SELECTION_METHODS):
        return False
    receiver = node.func.value
    while isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) \
            and receiver.func.attr in SELECTION_METHODS:
        receiver = receiver.func.value
    if isinstance(receiver, ast.Name):
        return _is_integer_identifier(receiver.id)
    if isinstance(receiver, ast.Attribute):
        return _is_integer_identifier(receiver.attr)
    return False


def _integer_name(value: Value) -> bool:
    name = value.name
    node = value.node
    if name is None and isinstance(node, ast.arg):
        name = node.arg
    if name is None and isinstance(node, ast.Attribute):
        name = node.attr
    if name is None and isinstance(node, ast.Name):
        name = node.id
    return _is_integer_identifier(name)


def _is_integer_identifier(name: str | None) -> bool:
    if not name:
        return False
    lowered = name.lower().lstrip("_")
    return (lowered in INTEGER_NAMES or lowered.startswith(INTEGER_PREFIXES)
            or lowered.endswith(INTEGER_SUFFIXES))


# |x| at the defaults from which log(1 + x) and exp(x) - 1 lose less than a bit
NOT_SMALL = 0.5


def may_be_small(x: Value, context: Context) -> bool:
    """Whether ``x`` can be tiny next to 1, where log(1 + x) and exp(x) - 1 lose its digits.

    Not a constant, not a count or size (``log(1 + len(v))``, ``n_steps``), and not configuration
    arithmetic far from 0 at its defaults (``log(1 + gamma)`` with ``gamma=2.0``).
    """
    if is_constant(x, context) or is_integer(x, context):
        return False
    at_defaults = value_at_defaults(x, context)
    return at_defaults is None or abs(at_defaults) < NOT_SMALL


def value_at_defaults(value: Value | None, context: Context, depth: int = 0) -> float | None:
    """The number ``value`` is when every parameter takes its default, or None.

    Only for configuration arithmetic: literals, named constants and parameters
    with a numeric default (``1 - min_derivative``, ``0.5 * logsnr_max``); any
    tensor, unknown or parameter without a default gives None.
    """
    value = unwrap(value, context)
    if value is None or depth > 12:
        return None
    if value.is_numeric_const:
        return float(value.const)
    if value.kind == PARAM:
        default = value.ref
        if isinstance(default, Value) and default.is_numeric_const:
            return float(default.const)
        return None
    span = value.facts.range
    if value.kind == OP and context.analyzer.table.has_tag(value.op, "constant") and span.lo == span.hi:
        return span.lo  # math.pi, np.e
    if value.kind != OP or value.op not in ARITHMETIC_OPS:
        return None
    operands = []
    for key in ("input", "other", "exponent"):
        if key in value.args:
            number = value_at_defaults(value.args[key], context, depth + 1)
            if number is None:
                return None
            operands.append(number)
    try:
        if value.op == "neg" and len(operands) == 1:
            return -operands[0]
        if value.op in ("sqrt", "log", "exp") and len(operands) == 1:
            return getattr(math, value.op)(operands[0])
        if len(operands) != 2:
            return None
        a, b = operands
        if value.op == "add":
            return a + b
        if value.op == "sub":
            return a - b
        if value.op == "mul":
            return a * b
        if value.op in ("div", "true_divide"):
            return a / b
        if value.op == "pow":
            return float(a ** b)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return None


def magnitude_bound(value: Value | None, context: Context, dtype: str, depth: int = 0) -> float:
    """An upper bound on ``|value|`` in the float type ``dtype``, or inf.

    Knows what the facts do not: a log is bounded in magnitude by the log of the
    smallest positive number of its type (745 in float64, 103 in float32), so
    ``0.5 * log(y)`` or ``copysign(1, t) * log(y) / 2`` can never make exp
    overflow, whatever ``y`` is.
    """
    value = unwrap(value, context)
    if value is None or depth > 12:
        return math.inf
    span = value.facts.range
    if span.lo > -math.inf and span.hi < math.inf:
        return max(abs(span.lo), abs(span.hi))
    if value.is_numeric_const:
        return abs(float(value.const))
    if value.kind == UNKNOWN_KIND:
        return _sign_flip_magnitude(value.node)
    if value.kind != OP:
        return math.inf
    op, args = value.op, value.args
    if op in LOG_BASE_SCALE:
        return LOG_EXTREME[dtype] * LOG_BASE_SCALE[op]
    if op == "sign":
        return 1.0
    if op in ("neg", "abs"):
        return magnitude_bound(args.get("input"), context, dtype, depth + 1)
    if op in ("add", "sub") and "input" in args and "other" in args:
        return (magnitude_bound(args["input"], context, dtype, depth + 1)
                + magnitude_bound(args["other"], context, dtype, depth + 1))
    if op == "mul" and "input" in args and "other" in args:
        left = magnitude_bound(args["input"], context, dtype, depth + 1)
        right = magnitude_bound(args["other"], context, dtype, depth + 1)
        return 0.0 if left == 0 or right == 0 else left * right
    if op in ("div", "true_divide") and "input" in args and "other" in args:
        divisor = unwrap(args["other"], context)
        smallest = _smallest_magnitude(divisor)
        if smallest > 0:
            return magnitude_bound(args["input"], context, dtype, depth + 1) / smallest
    return math.inf


def _smallest_magnitude(value: Value | None) -> float:
    """A lower bound on ``|value|`` (0 when it may be 0 or its sign is unknown)."""
    if value is None:
        return 0.0
    span = value.facts.range
    if span.lo > 0:
        return span.lo
    if span.hi < 0:
        return -span.hi
    return 0.0


def _sign_flip_magnitude(node: ast.AST | None) -> float:
    """``copysign(2, y)`` -> 2: a literal magnitude given the sign of something else."""
    arguments = call_arguments(node) if isinstance(node, ast.Call) else []
    if not arguments:
        return math.inf
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in SIGN_FLIP_FUNCTIONS:
        return math.inf
    literal = arguments[0]
    if isinstance(literal, ast.UnaryOp) and isinstance(literal.op, ast.USub):
        literal = literal.operand
    if is_number_literal(literal):
        try:
            return abs(float(literal.value))
        except (TypeError, ValueError, OverflowError):
            return math.inf
    return math.inf


def call_arguments(node: ast.Call) -> list[ast.expr]:
    """The argument expressions of a call in the order written, positional and keyword alike
    (``*args`` and ``**kwargs`` give the starred expression)."""
    parts: list[ast.expr] = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
    if node.keywords:
        parts.extend(k.value for k in node.keywords)
        parts.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return parts


def is_number_literal(node: ast.AST | None) -> bool:
    """An int or float literal (not a bool, a complex number or a string)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def cannot_overflow_exp(argument: Value | None, context: Context, dtypes: tuple[str, ...]) -> bool:
    """exp(argument) stays finite in every one of ``dtypes``: the argument's magnitude is bounded below the limit."""
    return all(magnitude_bound(argument, context, dtype) < EXP_LIMIT[dtype] for dtype in dtypes)


# -- spelling the replacement -----------------------------------------------------


def framework_of(render: Renderer, like: list[Value]) -> str:
    for value in like:
        spelling = value.spelling if value.kind == OP else None
        if spelling is not None and spelling.framework in FRAMEWORK_ORDER:
            return spelling.framework
    for framework in FRAMEWORK_ORDER:
        if framework in render.frameworks:
            return framework
    return "torch"


def uses_methods(like: list[Value]) -> bool:
    return any(v.kind == OP and v.method and isinstance(v.node, ast.Call) for v in like)


def method_name(render: Renderer, op: str, framework: str) -> str | None:
    spelling = render.table.methods.get(op, {}).get(framework)
    if spelling is None:
        for attr, options in render.table.methods.items():
            if framework in options and options[framework].op == op:
                return attr
        return None
    return spelling.attr


def function_name(render: Renderer, op: str, like: list[Value], framework: str | None = None) -> str:
    """``op`` as the file would write it: ``F.logsigmoid``, ``tf.math.log_sigmoid``, ``np.log1p``."""
    framework = framework or framework_of(render, like)
    candidates = list(PREFERRED.get(op, {}).get(framework, ()))
    if not candidates:
        return op
    keras_style = any(v.kind == OP and v.spelling is not None and v.spelling.qualname.startswith("keras.")
                      for v in like)
    if not any(v.kind == OP and v.spelling is not None and v.spelling.qualname.startswith("keras.ops.")
               for v in like):
        # keras.ops is Keras 3 only: tf.keras and keras.backend code (Keras 2) has no such module
        candidates = [q for q in candidates if not q.startswith("keras.ops.")] or candidates
    if keras_style:
        candidates.sort(key=lambda q: not q.startswith("keras."))
    # 1. the module (and alias) of a call the finding is about: F.sigmoid -> F.logsigmoid
    for value in like:
        if value.kind != OP or value.spelling is None or value.method or not isinstance(value.node, ast.Call):
            continue
        func = value.node.func
        if not isinstance(func, ast.Attribute):
            continue
        module = render.table.normalize(value.spelling.module)
        for qualname in candidates:
            owner, _, attr = qualname.rpartition(".")
            if owner == module:
                return f"{render.text(func.value, 80)}.{attr}"
    # 2. a module the file imports: tf.math.log_sigmoid, or a name imported from it
    for qualname in candidates:
        owner, _, attr = qualname.rpartition(".")
        for name, bound in render.module_scope.vars.items():
            if bound.kind == SYMBOL and bound.qualname and render.table.normalize(bound.qualname) == qualname:
                return name
        alias = render._alias_for(owner)  # the renderer's own import lookup (no public accessor)
        if alias is not None:
            return f"{alias}.{attr}" if alias else attr
    return candidates[0]


def call_text(render: Renderer, op: str, like: list[Value], subject: str, rest: tuple[str, ...] = (),
              framework: str | None = None) -> str:
    """A call of ``op`` on ``subject``: ``F.logsigmoid(x)``, or ``x.logsumexp(-1)`` in a method-style file."""
    framework = framework or framework_of(render, like)
    if uses_methods(like):
        attr = method_name(render, op, framework)
        if attr is not None:
            return f"{parenthesize(subject)}.{attr}({', '.join(rest)})"
    return f"{function_name(render, op, like, framework)}({', '.join((subject, *rest))})"


def parenthesize(text: str) -> str:
    """``text`` safe as a method receiver or an operand."""
    node = _parse_expression(text)
    if node is None:  # placeholder text such as 'x, y = ...'
        return text
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) or _is_name_like_constant(node) \
            or _wrapped_in_parentheses(text):
        return text
    return f"({text})"


def _parse_expression(text: str) -> ast.expr | None:
    """``text`` parsed as one expression, or None."""
    try:
        return ast.parse(text, mode="eval").body
    except Exception:  # noqa: BLE001 - SyntaxError, and RecursionError/MemoryError on absurd nesting
        return None


def _is_name_like_constant(node: ast.AST) -> bool:
    """A literal that needs no parentheses as an operand: a number (not negative, not complex), True/False/None."""
    if not isinstance(node, ast.Constant):
        return False
    value = node.value
    return value is None or isinstance(value, (bool, int, float)) and not isinstance(value, complex)


def _wrapped_in_parentheses(text: str) -> bool:
    """The whole of ``text`` is one parenthesized expression: ``(a + b)``, ``(a, b)`` (not ``(a) + (b)``)."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in _LAYOUT_TOKENS]
    except (tokenize.TokenError, SyntaxError):
        return False
    if not tokens or tokens[0].string != "(":
        return False
    depth = 0
    for index, token in enumerate(tokens):
        if token.type != tokenize.OP:
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
            if depth == 0:
                return index == len(tokens) - 1
    return False


_LAYOUT_TOKENS = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
                  tokenize.ENDMARKER)


def operand_short(render: Renderer, value: Value, key: str = "input", limit: int = 32) -> str:
    """``render.short`` of an operand of ``value``, for ``render.call(value, ...)`` and the message.

    ast positions leave a node's parentheses out, so the receiver of ``(1 - p).log()`` reads
    ``1 - p``; a method's receiver keeps the parentheses the source puts around it, or the
    message would say ``1 - p.log()``.
    """
    node = value.arg_nodes.get(key)
    call = value.node
    if (node is not None and value.method and isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.value is node and len(render.text(node, 1000)) <= limit):
        return render.receiver(call.func, limit + 2)
    return render.short(node, value.args.get(key), limit)


def operand_text(render: Renderer, node: ast.AST | None, limit: int = 30, fallback: str = "x") -> str:
    """Source text of an operand for a message, or ``fallback`` when there is none or it is too long."""
    if node is None:
        return fallback
    text = expression_text(render, node, 1000)
    return text if len(text) <= limit else fallback


def negated(text: str) -> str:
    """``-text`` for a message, simplified: ``-x`` -> ``x``, ``-beta * x`` -> ``beta * x``."""
    node = _parse_expression(text)
    if node is None:  # placeholder text
        return f"-{text}"
    # A node starting at the very beginning of the text has no parentheses of its own
    # (ast positions leave a node's parentheses out), so its leading '-' is text[0].
    if _starts_text(node) and not _wrapped_in_parentheses(text):
        inner = node
        while isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Mult, ast.Div)) and _starts_text(inner):
            inner = inner.left
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub) and _starts_text(inner):
            # -x -> x; -beta * x / t -> beta * x / t (the '-' and the space after it dropped)
            return (ast.get_source_segment(text, node) or text)[1:].lstrip()
    return f"-{parenthesize(text)}"


def _starts_text(node: ast.AST) -> bool:
    return getattr(node, "lineno", None) == 1 and getattr(node, "col_offset", None) == 0


def origin_note(render: Renderer, arg_node: ast.AST | None, arg_value: Value | None,
                produced: Value | None) -> str:
    """`` ('p' is the output of torch.sigmoid(...) on line 3)`` or ''."""
    if arg_value is None or produced is None or arg_node is None:
        return ""
    note = render.origin(arg_node, arg_value, produced)
    return f" ({note})" if note else ""


def keepdim_keyword(framework: str) -> str:
    return "keepdim" if framework == "torch" else "keepdims"


def reduction_args(render: Renderer, reduction: Value, framework: str, *, keepdim: bool = True) -> tuple[str, ...]:
    """The axis (and keepdim) arguments of a reduction, as text for the replacement call."""
    rest: list[str] = []
    axis = reduction.arg_nodes.get("axis")
    if axis is not None:
        rest.append(render.text(axis, 40))
    if keepdim:
        flag = reduction.arg_nodes.get("keepdim")
        if flag is not None:
            rest.append(f"{keepdim_keyword(framework)}={render.text(flag, 20)}")
    return tuple(rest)


def is_python_scalar_code(like: list[Value]) -> bool:
    """Every framework call involved is Python's ``math`` module."""
    spelled = [v for v in like if v.kind == OP and v.spelling is not None]
    return bool(spelled) and all(v.spelling.qualname.startswith("math.") for v in spelled)


def returned_by(values) -> object | None:
    """The file's function (FunctionInfo) whose call result one of ``values`` is, if any."""
    for value in values:
        if value is not None and value.kind == RESULT and value.ref is not None:
            return value.ref
    return None


def expression_text(render: Renderer, node: ast.AST | None, limit: int = 50) -> str:
    """Source text of an expression for a message, without its outer parentheses.

    ast positions leave a node's parentheses out, except a parenthesized tuple's and a
    generator expression's own ones, which are dropped here.
    """
    if isinstance(node, (ast.Tuple, ast.GeneratorExp)):
        code = render.segment(node)
        while _wrapped_in_parentheses(code):
            code = code.strip()[1:-1]
        return _one_line(code, limit)
    return render.text(node, limit)


def _one_line(code: str, limit: int) -> str:
    """``code`` on one line, shortened to ``limit`` characters, as ``Renderer.text`` does."""
    code = " ".join(code.split())
    if not code:
        return "..."
    if len(code) > limit:
        code = code[: limit - 3].rstrip() + "..."
    return code


# -- fixes ------------------------------------------------------------------------
#
# A rewrite replaces the reported expression with one call, so it needs every op the
# pattern matched to be written right there: each op's value computed by the syntax of
# its parent's argument (no variable, attribute, function of the file, layer or
# value-preserving op such as ``.detach()`` or ``[:, 0]`` in between, which the
# replacement would silently drop).  Dataflow findings get no fix.

SYNTAX_NODES = (ast.BinOp, ast.UnaryOp, ast.Compare)
AXIS_PARAMS = ("input", "axis", "keepdim")
Imports = tuple[tuple[str, "str | None", "str | None"], ...]


def written_in_place(pattern, match: Match) -> bool:
    """Every op of ``pattern`` is written inside the one expression the match starts from."""
    if isinstance(pattern, PBind):
        return written_in_place(pattern.sub, match)
    if not isinstance(pattern, POp):
        return True
    value = match.matched.get(id(pattern))
    if value is None or not is_written_call(value):
        return False
    for sub in (*pattern.args, *(p for _, p in pattern.kwargs)):
        while isinstance(sub, PBind):
            sub = sub.sub
        if isinstance(sub, PVar):
            if sub.name != "_" and match.sites.get(sub.name) is None:
                return False  # bound from a layer or a Sequential: no syntax to reuse
            continue
        if isinstance(sub, PConst):
            continue
        child = match.matched.get(id(sub))
        if child is None or match.reached.get(id(sub)) is not child or not is_argument_node(value, child.node):
            return False
        if not written_in_place(sub, match):
            return False
    return True


def is_written_call(value: Value) -> bool:
    """An op value computed by its own syntax: a framework function or method call, or an operator."""
    if value.kind != OP or value.node is None:
        return False
    spelling = value.spelling
    if spelling is None:
        return isinstance(value.node, SYNTAX_NODES)
    return spelling.kind in ("function", "method") and isinstance(value.node, ast.Call) and not is_in_place(value)


def is_in_place(value: Value) -> bool:
    """``x.exp_()``, ``torch.exp_(x)``: the call changes its input, which a rewrite must keep doing."""
    node = value.node
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name.endswith("_") and not name.endswith("__")


def is_argument_node(value: Value, node: ast.AST | None) -> bool:
    """``node`` is one of the argument expressions of ``value`` as written (a method's receiver included)."""
    return node is not None and any(argument is node for argument in value.arg_nodes.values())


def site(match: Match, name: str) -> ast.AST | None:
    """The syntax a metavariable was bound from (the argument written in the matched call)."""
    return match.sites.get(name)


def node_argument(value: Value, name: str) -> ast.AST | None:
    return value.arg_nodes.get(name)


def only_arguments(value: Value, allowed: tuple[str, ...] = ("input",)) -> bool:
    """``value``'s call passes nothing but the ``allowed`` canonical arguments (no ``out=``, ``dtype=``)."""
    if any(name not in allowed for name in value.args):
        return False
    node = value.node
    if isinstance(node, ast.Call):
        count = len(node.args) + len(node.keywords) + (1 if value.method else 0)
        return count == len(value.arg_nodes)  # nothing *args/**kwargs, nothing left unbound
    return True


def callee(render: Renderer, op: str, like: list[Value], framework: str) -> tuple[str, Imports] | None:
    """The function to call for ``op`` in the file's idiom, and the import it needs (if the file has none)."""
    imported = _imported_by_name(render, op, like, framework)
    if imported is not None:
        return imported
    name = function_name(render, op, like, framework)
    if "." not in name:
        bound = render.module_scope.vars.get(name)
        if bound is not None and bound.kind == SYMBOL and (name != op or _is_preferred(render, bound, op, framework)):
            return name, ()  # from scipy.special import logsumexp: the file's own name for it
        return None  # no spelling for the op in this framework
    top = name.split(".", 1)[0]
    if top in render.module_scope.vars:
        return name, ()
    # Nothing in the file fits: import the module, the way such code usually does.
    if any(v.kind == OP and v.spelling is not None and v.spelling.qualname.startswith("keras.backend.")
           for v in like) and name.startswith("keras."):
        # keras.backend.log & co. exist only in Keras 2 (tf.keras), which has no keras.ops
        name = next((q for q in PREFERRED.get(op, {}).get(framework, ()) if q.startswith("tensorflow.")), name)
    module, _, attr = name.rpartition(".")
    if module.split(".", 1)[0] == "scipy" and not any(
            (bound.qualname or "").split(".", 1)[0] == "scipy" for bound in render.module_scope.vars.values()):
        return None  # NumPy code that does not use SciPy: adding a dependency is not ours to decide
    for prefix, alias in CONVENTIONAL_ALIASES:
        if module == prefix or module.startswith(prefix + "."):
            if alias not in render.module_scope.vars:
                return f"{alias}{module[len(prefix):]}.{attr}", ((prefix, None, alias),)
            break
    if module in IMPORTED_BY_PACKAGE:
        return name, ((module.split(".", 1)[0], None, None),)  # import jax, then jax.nn.softplus
    return name, ((module, None, None),)


def _is_preferred(render: Renderer, bound: Value, op: str, framework: str) -> bool:
    """``bound`` (an imported name) is one of the spellings to suggest for ``op``."""
    return bool(bound.qualname) and render.table.normalize(bound.qualname) in PREFERRED.get(op, {}).get(framework, ())


# How code conventionally imports the modules a replacement may need when the file has none that fits.
CONVENTIONAL_ALIASES = (("torch.nn.functional", "F"), ("tensorflow", "tf"), ("jax.numpy", "jnp"), ("numpy", "np"))
# Submodules their package imports itself, which code reaches through the package (``import jax``).
IMPORTED_BY_PACKAGE = ("jax.nn",)


def _imported_by_name(render: Renderer, op: str, like: list[Value], framework: str
                      ) -> tuple[str, Imports] | None:
    """``from scipy.special import expit`` in the file: write ``log_expit`` and import it the same way."""
    preferred = PREFERRED.get(op, {}).get(framework, ())
    return fixes.imported_like(render, like, lambda module: [q for q in preferred if q.rpartition(".")[0] == module])


def fix_call(render: Renderer, op: str, like: list[Value], subject: str, rest: list[str] | tuple[str, ...] = (),
             framework: str | None = None, *, receiver: str | None = None) -> tuple[str, Imports] | None:
    """A call of ``op`` on ``subject`` in the file's idiom (``F.logsigmoid(x)``, ``x.logsumexp(dim=1)``).

    ``subject`` is written as a call argument; ``receiver`` is the same operand written as a method
    receiver (parenthesised when it is not atomic), for files that use methods.
    """
    framework = framework or framework_of(render, like)
    if uses_methods(like) and receiver is not None:
        attr = method_name(render, op, framework)
        if attr is not None:
            return f"{receiver}.{attr}({', '.join(rest)})", ()
    spelled_as = callee(render, op, like, framework)
    if spelled_as is None:
        return None
    name, imports = spelled_as
    return f"{name}({', '.join((subject, *rest))})", imports


def argument_text(render: Renderer, node: ast.AST) -> str:
    """The source of ``node`` as a whole call argument (no parentheses needed)."""
    text = render.segment(node)
    if isinstance(node, (ast.Starred, ast.Yield, ast.YieldFrom)):
        return f"({text})"
    return text


def receiver_text(render: Renderer, node: ast.AST) -> str:
    """The source of ``node`` as a method receiver or an operand of ``-``: parenthesised unless atomic."""
    text = render.segment(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)):
        return f"({text})"  # 1.real is not 1 .real; keep it simple
    return fixes.operand(render, node)


def negation_text(render: Renderer, node: ast.AST) -> str:
    """``-node`` written simply: ``-x`` -> ``x``, ``-beta * x`` -> ``beta * x``, ``a + b`` -> ``-(a + b)``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return argument_text(render, node.operand)
    leftmost = node
    while isinstance(leftmost, ast.BinOp) and isinstance(leftmost.op, (ast.Mult, ast.Div)):
        leftmost = leftmost.left
    if (leftmost is not node and isinstance(leftmost, ast.UnaryOp) and isinstance(leftmost.op, ast.USub)
            and render.source.start(leftmost) == render.source.start(node)):
        # -beta * x: the '-' is the first character of the expression (no parentheses around -beta)
        full = render.segment(node)
        head = render.segment(leftmost)
        inner = render.segment(leftmost.operand)
        if full.startswith(head) and head.endswith(inner) and not isinstance(leftmost.operand, ast.BinOp):
            return inner + full[len(head):]
    return f"-{receiver_text(render, node)}"


def axis_arguments(render: Renderer, reduction: Value, framework: str, *, keepdim: bool = True
                   ) -> list[str] | None:
    """The axis (and keepdim) arguments of a reduction for the replacement call, or None when the
    reduction passes anything else (``dtype=``, ``out=``, ``where=``) or keepdim is unwanted and set.

    A positional axis stays positional; a keyword one takes the replacement's keyword (``dim=`` in
    PyTorch, ``axis=`` elsewhere); keepdim is always a keyword (``keepdim=``/``keepdims=``).
    """
    if not only_arguments(reduction, AXIS_PARAMS):
        return None
    rest: list[str] = []
    axis = reduction.arg_nodes.get("axis")
    if axis is not None:
        text = render.segment(axis)
        rest.append(text if _is_positional(reduction, axis) else f"{axis_keyword(framework)}={text}")
    flag = reduction.arg_nodes.get("keepdim")
    if flag is not None:
        if not keepdim:
            return None
        rest.append(f"{keepdim_keyword(framework)}={render.segment(flag)}")
    return rest


def axis_keyword(framework: str) -> str:
    return "dim" if framework == "torch" else "axis"


def _is_positional(value: Value, node: ast.AST) -> bool:
    call = value.node
    return isinstance(call, ast.Call) and any(arg is node for arg in call.args)


def is_literal_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def built_fix(render: Renderer, node: ast.AST, built: tuple[str, Imports] | None, applicability: str) -> Fix | None:
    """The fix replacing ``node`` with what ``fix_call``/``callee`` built, or None when nothing was."""
    return None if built is None else replace_fix(render, node, built[0], applicability, built[1])


def replace_fix(render: Renderer, node: ast.AST, text: str, applicability: str, imports: Imports = ()
                ) -> Fix | None:
    """Replace ``node`` with ``text`` (the engine drops the fix if that would delete a comment)."""
    return fixes.replace(render, node, text, applicability, f"use {_one_line(text, 80)}", imports)


def receiver_end(render: Renderer, attribute: ast.Attribute) -> Position | None:
    """Where the receiver of ``x.method`` ends, after the parentheses the source puts around it
    (``(1 - p)`` in ``(1 - p).log()``); None when something other than blanks separates them."""
    value = attribute.value
    start, inner = render.source.start(attribute), render.source.start(value)
    end = render.source.end(value)
    if start == inner:
        return end
    lines = render.source.lines
    opened = _count_between(lines, start, inner, "(")
    if opened is None or opened == 0:
        return None
    line, column = end.line, end.column  # 1-based, column of the next character
    closed = 0
    while closed < opened:
        if line > len(lines):
            return None
        text = lines[line - 1]
        if column > len(text):
            line, column = line + 1, 1
            continue
        char = text[column - 1]
        if char == ")":
            closed += 1
        elif not char.isspace() and char != "\\":
            return None
        column += 1
    return Position(line, column)


def _count_between(lines: list[str], start: Position, end: Position, char: str) -> int | None:
    """How many ``char`` lie between two positions, or None when anything but them and blanks does."""
    count = 0
    line, column = start.line, start.column
    while (line, column) < (end.line, end.column):
        text = lines[line - 1]
        if column > len(text):
            line, column = line + 1, 1
            continue
        current = text[column - 1]
        if current == char:
            count += 1
        elif not current.isspace() and current != "\\":
            return None
        column += 1
    return count


def insertion(position: Position, text: str, applicability: str, description: str) -> Fix:
    return Fix((Edit(position, position, text),), applicability, description)  # type: ignore[arg-type]
