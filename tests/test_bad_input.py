"""Bad input never hurts: one clear line on stderr, exit code 2, no traceback, a DeriveError.

Every entry of tests/bad_inputs.py goes through the real `derive` script (in parallel, so the
suite stays fast; tests/benchmarks/bad_input.py times each one) and through the library. No
user text may reach eval, exec, sympify or parse_expr: checked on the source and at run time.
"""

from __future__ import annotations

import ast
import builtins
import concurrent.futures
import importlib
import os
import pathlib
import subprocess
import sys
import warnings

import pytest
import sympy
import sympy.parsing.sympy_parser

import derive
from derive.latex import parse_latex
from tests.bad_inputs import CORPUS, MORE, Bad

ROOT = pathlib.Path(__file__).resolve().parents[1]
DERIVE = str(pathlib.Path(sys.executable).parent / "derive")
PWNED = pathlib.Path("/tmp/derive-pwned")  # what the shell-injection entries try to create


def run_cli(bad: Bad) -> subprocess.CompletedProcess:
    # timeout: a hang guard only; the time of each entry is measured by the benchmark script
    return subprocess.run(
        [DERIVE, *bad.cli_args()], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture(scope="module")
def cli_results() -> dict[str, subprocess.CompletedProcess]:
    entries = [b for b in CORPUS if b.cli]
    workers = min(8, 2 * (os.cpu_count() or 2))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return dict(zip([b.id for b in entries], pool.map(run_cli, entries), strict=True))


def test_the_corpus_is_large_and_has_every_category():
    assert len(CORPUS) >= 60
    assert sum(b.cli for b in CORPUS) >= 60
    everything = CORPUS + MORE
    assert len({b.id for b in everything}) == len(everything), "ids must be unique"
    ids = {b.id for b in CORPUS}
    for required in (
        "open-brace",  # unbalanced braces
        "unknown-command",
        "frac-empty-denominator",  # \frac{1}{}
        "shape-mismatch-Ax+y",
        "wrt-missing",  # a --wrt that does not occur
        "empty",
        "100kB",
        "nested-1000",
        "python-import",  # __import__('os').system('true')
        "undefined-function",
        "sign-of-scalar",  # non-differentiable
    ):
        assert required in ids
    assert len(CORPUS[[b.id for b in CORPUS].index("100kB")].latex) >= 100_000


@pytest.mark.parametrize("bad", [b for b in CORPUS if b.cli], ids=lambda b: b.id)
def test_cli_gives_one_line_and_exit_2(bad: Bad, cli_results):
    out = cli_results[bad.id]
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("derive: error: "), lines[0]  # not "internal error"
    assert bad.needle in lines[0]
    assert out.returncode == 2
    assert out.stdout == ""


@pytest.mark.parametrize("bad", [b for b in CORPUS + MORE if b.library], ids=lambda b: b.id)
def test_library_raises_a_derive_error(bad: Bad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", derive.VerificationWarning)
        with pytest.raises(derive.DeriveError) as info:
            derive.gradient(bad.latex, bad.wrt, shapes=bad.shapes, assume=bad.assume, check=False)
    message = str(info.value)
    assert bad.needle in message
    assert "\n" not in message


def test_nothing_was_executed(cli_results):
    assert cli_results  # the CLI runs are done
    assert not PWNED.exists(), f"{PWNED} was created: some input was executed"


def test_a_traceback_only_with_debug():
    out = subprocess.run(
        [DERIVE, "--debug", "grad", r"\frac{1}{}", "--wrt", "x"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_parse_latex_raises_only_derive_errors_on_bad_arguments():
    for text, shapes, assume in [
        (None, None, None),
        (b"x", None, None),
        (r"x^\top x", [("x", ("n",))], None),
        (r"x^\top x", {"x": ("n",)}, {"x": 3}),
        (r"x^\top x", {"x": ("n", 0)}, None),
        (r"x^\top x", {"x": (True,)}, None),
        (r"x^\top x", {3: ("n",)}, None),
    ]:
        with pytest.raises(derive.DeriveError):
            parse_latex(text, shapes, assume)


# --- no user text is ever evaluated ----------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "sympify", "parse_expr", "lambdify"}
FORBIDDEN_ATTRIBUTES = {"sympify", "parse_expr", "lambdify", "parse_latex", "S"}


def _calls(path: pathlib.Path) -> list[str]:
    """Calls of eval/exec/sympify/... in a source file (sympy's parse_latex and sp.S too)."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {f.id}(…)")
        elif isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_ATTRIBUTES:
            owner = ast.unparse(f.value)
            if f.attr == "parse_latex" and owner not in ("sympy", "sp", "sympy.parsing.latex"):
                continue  # our own parse_latex
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner}.{f.attr}(…)")
    return found


def test_no_eval_exec_sympify_or_parse_expr_in_the_source():
    sources = [p for d in ("derive", "rules", "worked") for p in (ROOT / d).rglob("*.py")]
    assert len(sources) > 20
    found = [hit for p in sources for hit in _calls(p)]
    assert found == []
    for p in sources:  # nor the imports that would make them available under another name
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and "sympy" in node.module:
                names = {a.name for a in node.names}
                assert not names & {"sympify", "parse_expr", "S", "lambdify"}, p
            imported = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                imported.append(node.module or "")
            if any(name.split(".")[0] == "latex2sympy2" for name in imported):
                pytest.fail(f"{p} imports latex2sympy2, which evaluates text")


GOOD_INPUTS = [
    r"\frac12\|Ax - b\|_2^2",
    r"x^\top A x + \lambda \|x\|^2",
    r"\log\det X - \operatorname{tr}(S X)",
    r"-y^\top \log \operatorname{softmax}(z)",
    r"\mathbf{1}^\top \log(1 + e^{-X w})",
    r"\sum_{i=1}^n (y_i - w^\top x_i)^2",
    r"\sigma(w^\top x) + \tanh(\lambda) + \sqrt{\lambda} + \log_2 \lambda",
    r"\operatorname{tr}(A^{-\top} B) + |X| + \ln|\det Y|",
    r"x \odot y \odot z + \operatorname{diag}(v) u + 2.5 u",
]


def test_parsing_never_calls_eval_or_sympify_at_run_time(monkeypatch):
    # Import what the run below uses first: imports and dataclasses exec their own code.
    importlib.import_module("derive.render.text")
    importlib.import_module("derive.api")

    def refuse(*args, **kwargs):
        raise AssertionError("user text reached eval/exec/sympify/parse_expr")

    module = importlib.import_module("sympy.core.sympify")  # sympy.core.sympify is the function
    real = module.sympify

    def sympify_non_text(a, *args, **kwargs):  # SymPy sympifies its own objects everywhere
        if isinstance(a, str):
            refuse()
        return real(a, *args, **kwargs)

    def text_refused(real_fn):
        def guarded(source, *args, **kwargs):  # imports exec code objects: not text
            # SymPy compiles code it writes itself (polys/monomials.py builds monomial
            # arithmetic with exec on first use); text from anywhere else is refused. User
            # text cannot reach SymPy's own exec: sympify and parse_expr are refused below.
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if isinstance(source, str | bytes) and not caller.startswith("sympy."):
                refuse()
            return real_fn(source, *args, **kwargs)

        return guarded

    monkeypatch.setattr(builtins, "eval", text_refused(builtins.eval))
    monkeypatch.setattr(builtins, "exec", text_refused(builtins.exec))
    monkeypatch.setattr(sympy, "sympify", sympify_non_text)
    monkeypatch.setattr(module, "sympify", sympify_non_text)
    # every sympify of a string goes through parse_expr, however sympify was imported
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", refuse)
    for text in GOOD_INPUTS:
        assert parse_latex(text) is not None
    for bad in CORPUS + MORE:  # a DeriveError or an expression, never the refusal above
        if bad.library:
            try:
                parse_latex(bad.latex, bad.shapes, bad.assume)
            except derive.DeriveError:
                pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", derive.VerificationWarning)
        d = derive.gradient(GOOD_INPUTS[0], "x", shapes={"A": ("m", "n")}, check=False)
    assert d.result is not None


# --- known engine failures, pinned (the LaTeX layer parses these correctly) ---------------------


def test_entrywise_sign_is_not_differentiated():
    """d sign(t) exists only as 2 DiracDelta(t): refused, never shown as a gradient."""
    with pytest.raises(derive.UnsupportedError, match="not differentiable"):
        derive.gradient(r"\mathbf{1}^\top \operatorname{sign}(x)", "x", check=False)
