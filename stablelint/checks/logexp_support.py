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
from ..dataflow import Context
from ..patterns import Match, Matcher, compile_pattern, root_op
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
                report(value.node, message)
            return

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        return True

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        raise NotImplementedError


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
