"""The import contract: imports flow one way, from the expressions up to the command line.

Every import of the package is read from the source (at the top of a module, inside a
function, under TYPE_CHECKING, or as a string passed to `importlib.import_module`), so a lazy
import cannot hide an upward edge. A module may import its own layer or a layer below it;
`test_no_module_imports_a_higher_layer` fails on the first import that runs upward, and
`test_no_circles` on any loop of imports, even inside one layer.
"""

from __future__ import annotations

import ast
import pathlib
import re
from collections.abc import Iterable, Mapping

import pytest

from tests.conftest import ROOT

# The layers, lowest first; a module belongs to the first layer whose pattern matches its
# dotted name. A layer may import itself and every layer listed before it, nothing after.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("errors", ("derive.errors",)),
    ("expressions", ("derive.expr", "derive.distributions")),
    ("notation", ("derive.notation", "derive.notation.*")),
    ("data", ("derive.model",)),
    ("rulebook", ("derive.rules", "derive.rules.*")),
    (
        "engine",
        (
            "derive.simplify",
            "derive.rewrite",
            "derive.record",
            "derive.differential",
            "derive.readoff",
            "derive.derivatives",
            "derive.latex",
            "derive.latex.*",
            "derive.problem",
            "derive.families",
            "derive.likelihood",
            "derive.likelihood.*",
            "derive.expectation",
        ),
    ),
    (
        "numeric",
        (
            "derive.jax_runtime",
            "derive.arguments",
            "derive.evaluate",
            "derive.sampling",
            "derive.integrate",
        ),
    ),
    (
        "checker, code generator and printers",
        (
            "derive.check",
            "derive.check.*",
            "derive.selfcheck",
            "derive.codegen",
            "derive.codegen.*",
            "derive.render",
            "derive.render.*",
        ),
    ),
    ("API", ("derive.methods", "derive.api", "derive.answer", "derive.options")),
    ("worked derivations", ("derive.recipes", "derive.recipes.*")),
    ("public namespace", ("derive.collection", "derive")),
    ("server", ("derive.serve", "derive.serve.*")),
    ("command line", ("derive.cli",)),
)

# Where each installed package's source lives (pyproject's [tool.setuptools.package-dir]).
SOURCES = {
    "derive": ROOT / "derive",
    "derive.rules": ROOT / "rules",
    "derive.recipes": ROOT / "worked",
}


def modules() -> dict[str, pathlib.Path]:
    """Every module of the package by dotted name."""
    out: dict[str, pathlib.Path] = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "derive" and parts[:1] in (["rules"], ["recipes"]):
                continue
            out[name] = path
    return out


def _import_module_target(node: ast.Call) -> str | None:
    """The module named by ``import_module("derive.x")`` or ``import_module(f"derive.x.{y}")``."""
    fn = node.func
    called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".")
    return None


def imports(source: str, known: Iterable[str]) -> set[str]:
    """The package's modules that `source` imports, wherever the import statement stands.

    ``from derive.rules import textbook`` is an import of derive.rules.textbook (a submodule),
    ``from derive.api import gradient`` one of derive.api.
    """
    known = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            if subs:
                found |= subs
            if not subs or len(subs) < len(node.names):
                found.add(node.module)
        elif isinstance(node, ast.Call):
            target = _import_module_target(node)
            if target:
                found.add(target)
    return {m for m in found if m in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {
        name: imports(path.read_text(encoding="utf-8"), mods) - {name}
        for name, path in mods.items()
    }


def layer_of(module: str) -> int:
    for index, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return index
    raise KeyError(module)


def upward(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """Each import that runs from a lower layer to a higher one, in words."""
    out = []
    for a, targets in sorted(edges.items()):
        for b in sorted(targets):
            if layer_of(b) > layer_of(a):
                out.append(f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})")
    return out


def circles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    unplaced = []
    for m in modules():
        try:
            layer_of(m)
        except KeyError:
            unplaced.append(m)
    assert not unplaced, f"add these modules to LAYERS: {unplaced}"


def test_no_module_imports_a_higher_layer():
    bad = upward(graph())
    assert not bad, "imports running up the layers:\n" + "\n".join(bad)


def test_no_circles():
    loops = circles(graph())
    assert not loops, f"import circles: {loops}"


# --- the checker can fail ----------------------------------------------------------------------


def test_an_upward_import_added_on_purpose_is_caught():
    edges = graph()
    edges["derive.model"] = set(edges["derive.model"]) | {"derive.render.text"}
    assert upward(edges) == [
        "derive.model (data) imports derive.render.text (checker, code generator and printers)"
    ]


def test_a_circle_added_on_purpose_is_caught():
    edges = {k: set(v) for k, v in graph().items()}
    edges["derive.simplify"].add("derive.derivatives")
    assert any({"derive.simplify", "derive.derivatives"} <= set(c) for c in circles(edges))


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import derive.check", {"derive.check"}),
        ("def f():\n    from derive.render.text import text", {"derive.render.text"}),
        ("from derive.rules import textbook", {"derive.rules.textbook"}),
        ("from derive.rules import get", {"derive.rules"}),
        ("import importlib\nimportlib.import_module(f'derive.recipes.{x}')", {"derive.recipes"}),
        ("if TYPE_CHECKING:\n    from derive.api import gradient", {"derive.api"}),
    ],
)
def test_imports_are_read_wherever_they_stand(source, expected):
    assert imports(source, modules()) == expected


def test_the_layer_table_names_no_module_twice():
    names = [p for _, patterns in LAYERS for p in patterns]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"derive(\.[a-z_]+)*(\.\*)?", p) for p in names)


# --- one idea a module ---------------------------------------------------------------------------

#: modules allowed past ~600 lines, each with the reason its docstring also gives
LONG_MODULES = {
    "derive/evaluate.py": "one short evaluator for each node type, one dispatch table",
    "rules/differential.py": "one rule per kind of node, with citations and examples",
    "derive/latex/parser.py": "one recursive-descent grammar, read top to bottom",
    "derive/answer.py": "judging a claim, with the counterexample its report prints",
}


def test_modules_stay_short_or_say_why():
    long = {}
    for folder in SOURCES.values():
        for path in folder.rglob("*.py"):
            count = len(path.read_text(encoding="utf-8").splitlines())
            if count > 600:
                long[str(path.relative_to(ROOT))] = count
    unexplained = set(long) - set(LONG_MODULES)
    assert not unexplained, (
        f"split these along their seams, or say why: { {k: long[k] for k in unexplained} }"
    )
    assert all(count < 900 for count in long.values()), long
