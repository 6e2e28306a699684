"""Abstract values: what the dataflow analysis knows about one expression.

A ``Value`` records which canonical op produced it and the Values of that
op's arguments, so the values form a graph that follows the data through
variables, attributes and calls: ``p = softmax(z)`` ... ``log(p)`` gives a
``log`` Value whose input *is* the ``softmax`` Value.  Rules and patterns
match on this graph, which is why they see through assignments and calls
without any special casing.
"""

from __future__ import annotations

from typing import Any

import ast

from .facts import UNKNOWN, Facts

# kinds
UNKNOWN_KIND = "unknown"  # nothing known (a tensor, a number, anything)
CONST = "const"  # a Python literal (number, string, bool, None)
OP = "op"  # result of a canonical op
PARAM = "param"  # a function parameter
MODULE = "module"  # an imported module or a dotted name inside one
SYMBOL = "symbol"  # a framework function or class not yet called
LAYER = "layer"  # an instance of a framework layer/loss class
FUNCTION = "function"  # a function or lambda defined in the file
CLASS = "class"  # a class defined in the file
INSTANCE = "instance"  # an instance of such a class
BOUND = "bound"  # a method of such an instance
MEMBER = "member"  # ``x.name`` on a value that is not one of the above
TUPLE = "tuple"  # a tuple/list display or a tuple returned by a function
RESULT = "result"  # the result of calling a function defined in the file


class Value:
    __slots__ = (
        "kind", "op", "node", "args", "arg_nodes", "facts", "const", "spelling", "method",
        "qualname", "ref", "via", "items", "name", "shape",
    )

    def __init__(
        self,
        kind: str,
        node: ast.AST | None = None,
        *,
        op: str | None = None,
        facts: Facts = UNKNOWN,
        args: dict[str, Value] | None = None,
        arg_nodes: dict[str, ast.AST] | None = None,
        const: Any = None,
        spelling: Any = None,
        method: bool = False,
        qualname: str | None = None,
        ref: Any = None,
        via: Value | None = None,
        items: list[Value] | None = None,
        name: str | None = None,
    ) -> None:
        self.kind = kind
        self.op = op
        self.node = node
        self.args = args if args is not None else {}
        self.arg_nodes = arg_nodes if arg_nodes is not None else {}
        self.facts = facts
        self.const = const
        self.spelling = spelling
        self.method = method
        self.qualname = qualname
        self.ref = ref
        self.via = via
        self.items = items
        self.name = name
        self.shape = None  # what shapes.py knows about the array's shape, if anything

    def __repr__(self) -> str:  # for debugging and test failure messages
        label = self.op or self.qualname or self.name or ""
        return f"<Value {self.kind} {label}>"

    def with_facts(self, facts: Facts) -> Value:
        """A copy that knows more (a branch where ``x > 0`` holds), same in every other way."""
        copy = Value(self.kind, self.node, op=self.op, facts=facts, args=self.args, arg_nodes=self.arg_nodes,
                     const=self.const, spelling=self.spelling, method=self.method, qualname=self.qualname,
                     ref=self.ref, via=self.via, items=self.items, name=self.name)
        copy.shape = self.shape
        return copy

    @property
    def is_numeric_const(self) -> bool:
        return self.kind == CONST and isinstance(self.const, (int, float)) and not isinstance(self.const, bool)

    def arg(self, name: str) -> Value | None:
        return self.args.get(name)


def unknown(node: ast.AST | None = None) -> Value:
    return Value(UNKNOWN_KIND, node)


def same_syntax(a: object, b: object) -> bool:
    """Two syntax trees that read the same (``x.max()`` written twice in one expression)."""
    if a is b:
        return True
    if not isinstance(a, ast.AST) or not isinstance(b, ast.AST) or type(a) is not type(b):
        return False
    return ast.dump(a) == ast.dump(b)
