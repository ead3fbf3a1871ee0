"""Static checks of answer cells: monkeypatching, forbidden calls and suspicious reaching around.

Reads the code with ``ast`` (never runs it). Import aliases are followed, so ``import numpy.testing
as t; t.assert_allclose = f`` and ``from tensorflow import clip_by_global_norm as c`` are seen
for what they are. Dynamic tricks (``getattr`` with a computed name, ``exec``) cannot be resolved
statically; they are reported as suspicious, and the runtime guard (sandbox/guard.py) and the
sandbox (sandbox/kernel.py) catch what they actually do.
"""

import ast
from dataclasses import dataclass

from ..course import policy

# Modules that tests trust: assigning to their attributes is monkeypatching.
PATCHABLE_MODULES = ("numpy", "builtins", "rnn_tf", "course_checks", "rnn_course_student",
                     "tensorflow", "keras", "math", "unittest")
ALIASES = {"tf.keras": "keras", "tensorflow.keras": "keras", "np": "numpy", "tf": "tensorflow"}


@dataclass(frozen=True)
class Finding:
    kind: str  # "monkeypatch" | "forbidden" | "suspicious"
    cell: str  # grade id (or "cell N") of the cell where it was found
    detail: str


def _canonical(dotted: str) -> str:
    for short, full in ALIASES.items():
        if dotted == short or dotted.startswith(short + "."):
            return full + dotted[len(short):]
    return dotted


class _Imports(ast.NodeVisitor):
    """Collects ``alias -> dotted module path`` from every import in some code."""

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases

    def visit_Import(self, node):
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = _canonical(a.name)
            else:
                root = a.name.split(".")[0]
                self.aliases[root] = _canonical(root)

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            for a in node.names:
                self.aliases[a.asname or a.name] = _canonical(f"{node.module}.{a.name}")


def parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None  # IPython magics or a syntax error: the kernel will report the latter


def collect_aliases(sources: list[str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for src in sources:
        tree = parse(src)
        if tree is not None:
            _Imports(aliases).visit(tree)
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    head = aliases.get(node.id, node.id)
    return _canonical(".".join([head, *reversed(parts)]))


def _is_patchable(dotted: str) -> bool:
    return dotted.split(".")[0] in PATCHABLE_MODULES or dotted.startswith("__builtins__")


def _matches(dotted: str, prefix: str) -> bool:
    return dotted == prefix or dotted.startswith(prefix + ".")


def scan_cell(source: str, cell: str, forbidden: dict[str, list[str]], aliases: dict[str, str],
              setup_names: set[str]) -> list[Finding]:
    """Findings for one answer cell.

    ``forbidden`` maps a definition's name (or "class", "*") to the dotted names it may not use
    (one assignment's entry of the policy table); ``aliases`` come from the set-up and all
    student cells.
    """
    tree = parse(source)
    if tree is None:
        return []
    aliases = dict(aliases)
    _Imports(aliases).visit(tree)
    found: list[Finding] = []
    rules = forbidden

    def note(kind, detail):
        finding = Finding(kind, cell, detail)
        if finding not in found:
            found.append(finding)

    # Monkeypatching: assignments to attributes of trusted modules, or rebinding set-up names.
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            # The targets themselves (and tuple elements), not their inner attribute chains.
            parts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            for sub in parts:
                if isinstance(sub, ast.Attribute):
                    dotted = _dotted(sub, aliases)
                    if dotted and _is_patchable(dotted):
                        note("monkeypatch", f"replaces {dotted}")
                elif isinstance(sub, ast.Subscript):
                    base = _dotted(sub.value, aliases) or ""
                    if base.endswith("__dict__") or base.startswith("__builtins__"):
                        note("monkeypatch", f"writes into {base}")
                elif (isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del))
                      and sub.id in setup_names):
                    note("monkeypatch", f"rebinds the set-up name {sub.id!r}")
        if isinstance(node, ast.Call):
            func = _dotted(node.func, aliases) or ""
            if func in ("setattr", "delattr", "builtins.setattr") and node.args:
                obj = _dotted(node.args[0], aliases)
                if obj and _is_patchable(obj):
                    note("monkeypatch", f"{func}() on {obj}")
            if func in ("unittest.mock.patch", "mock.patch") or func.startswith("unittest.mock"):
                note("monkeypatch", f"uses {func}")
            for name in policy.SUSPICIOUS_CALLS:
                if _matches(func, name):
                    note("suspicious", f"calls {func}()")
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            note("monkeypatch", "touches __builtins__")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            low = node.value.lower()
            for word in policy.SUSPICIOUS_STRINGS:
                if word.lower() in low:
                    note("suspicious", f"mentions {word!r}")

    # Forbidden calls, scoped to the definitions the exercise asks for.
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope = node.name
            forbidden = rules.get(scope, rules.get("*", []))
        elif isinstance(node, ast.ClassDef):
            scope = node.name
            forbidden = rules.get(scope, rules.get("class", rules.get("*", [])))
        else:
            continue
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Attribute, ast.Name)):
                dotted = _dotted(sub, aliases)
                if not dotted:
                    continue
                hit = next((f for f in forbidden if _matches(dotted, f)), None)
                if hit is None and dotted.startswith("rnn_tf.") and dotted.endswith("." + scope):
                    hit = dotted
                if hit:
                    note("forbidden", f"{scope} uses {dotted}, which is what it should implement")
    return found
