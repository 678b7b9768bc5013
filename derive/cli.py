"""The `derive` command line: argument handling and I/O only; the library does the work.

Exit codes: 0 derived and verified, 1 the numeric check failed, 2 bad input or unsupported.
`derive check`: 0 the claimed gradient is right, 1 it is wrong, 2 bad input.
Heavy modules (SymPy, JAX) are imported inside the commands, so `derive --help` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("text", "latex", "markdown", "json")
EXAMPLES = r"""examples:
  derive list
  derive show softmax-ce --format latex --standalone -o softmax.tex
  derive mle gaussian
  derive grad '\frac12\|Ax-b\|_2^2' --wrt x --shape A=m,n
  derive hessian '\sum_i \log(1 + e^{-y_i w^\top x_i})' --wrt w --shape x=N,d --emit numpy
  derive check 'A^\top(Ax - b)' --of '\frac12\|Ax-b\|_2^2' --wrt x
  derive export --all --output book
  derive serve --open
  derive rules logdet"""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2."""

    # Set on a subcommand whose positional is LaTeX: then a word starting with one "-" that
    # is not one of its options is the LaTeX ("-A^\top b"), not an unknown option.
    latex_may_start_with_minus = False

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"derive: error: {message} (see derive --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)

    def _parse_optional(self, arg_string: str):  # argparse's hook: None means positional
        if (
            self.latex_may_start_with_minus
            and arg_string[:1] == "-"
            and arg_string[:2] != "--"
            and arg_string.partition("=")[0] not in self._option_string_actions
        ):
            return None
        return super()._parse_optional(arg_string)


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--standalone", action="store_true", help="LaTeX: a complete document for pdflatex"
    )
    p.add_argument("--no-check", action="store_true", help="skip the numeric verification")


def _problem_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wrt", required=True, metavar="NAME", help="the variable")
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="a symbol's shape: A=m,n (matrix), x=n (vector), lambda= (scalar); repeatable",
    )
    p.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="NAME=KIND",
        help="symmetric, spd, invertible, positive, nonnegative, nonzero, prob, onehot, "
        "binary, unit, full-column-rank, full-row-rank; repeatable",
    )


def parse_shapes(items: Sequence[str]) -> dict[str, tuple[int | str, ...]]:
    """--shape items read into the API's shapes (derive.options, shared with `derive serve`)."""
    from derive.options import parse_shapes as parse

    return parse(items)


def parse_assumptions(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """--assume items read into the API's assumptions (derive.options)."""
    from derive.options import parse_assumptions as parse

    return parse(items)


def build_parser() -> argparse.ArgumentParser:
    from derive import __version__

    parser = _Parser(
        prog="derive",
        # the description and the examples as written: one example to a line
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Step-by-step derivations for the mathematics of machine learning, each step\n"
            "citing its rule and every result verified numerically against JAX autodiff."
        ),
        epilog=EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("list", help="list the worked derivations")

    p = sub.add_parser("show", help="show a worked derivation")
    p.add_argument("name", help="a name from `derive list`")
    _output_options(p)

    p = sub.add_parser(
        "export",
        help="write worked derivations to a directory: one LaTeX book, or Markdown files",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="names from `derive list`")
    p.add_argument("--all", action="store_true", help="the whole catalogue")
    p.add_argument(
        "--format",
        choices=("latex", "markdown"),
        default="latex",
        help="latex: DIR/derive.tex; markdown: DIR/NAME.md each plus DIR/index.md",
    )
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="the directory")
    p.add_argument("--no-check", action="store_true", help="skip the numeric verification")

    p = sub.add_parser("mle", help="derive a maximum-likelihood estimator")
    p.add_argument(
        "family",
        help="gaussian, bernoulli, poisson, exponential, laplace, categorical, mvn, "
        "linear-regression, logistic-regression",
    )
    _output_options(p)

    p = sub.add_parser("map", help="derive a maximum-a-posteriori estimator")
    p.add_argument("family", help="linear-regression")
    p.add_argument(
        "--prior",
        default="gaussian",
        metavar="PRIOR",
        help="the prior on the weights: gaussian (ridge) or laplace (L1); default gaussian",
    )
    _output_options(p)

    for cmd, what in (
        ("grad", "the gradient of a scalar function written in LaTeX"),
        (
            "hessian",
            "the Hessian of a scalar function of a vector or matrix (vec convention), in LaTeX",
        ),
        (
            "jacobian",
            "the Jacobian of a vector or matrix function of a vector or matrix, in LaTeX",
        ),
    ):
        p = sub.add_parser(cmd, help=what)
        p.latex_may_start_with_minus = True
        p.add_argument("latex", help=r"the function, e.g. '\frac12\|Ax-b\|_2^2'")
        _problem_options(p)
        _output_options(p)
        p.add_argument(
            "--emit",
            choices=("numpy", "jax"),
            help="print the result as a standalone Python function (no steps)",
        )
        if cmd == "grad":
            p.add_argument(
                "--symmetric",
                action="store_true",
                help="the variable is a symmetric matrix: differentiate with respect to its "
                "free entries X_ij, i <= j (Cookbook (138)); the default is the unstructured "
                "gradient, what autodiff computes",
            )

    p = sub.add_parser(
        "parse",
        help="show how a LaTeX formula is read: the expression and each symbol's shape",
    )
    p.latex_may_start_with_minus = True
    p.add_argument("latex", help=r"the formula, e.g. '(x-\mu)^\top\Sigma^{-1}(x-\mu)'")
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="a symbol's shape: A=m,n (matrix), x=n (vector), lambda= (scalar)",
    )
    p.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="NAME=KIND",
        help="an assumption, as for grad",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")

    p = sub.add_parser(
        "check",
        help="check your own gradient: is CLAIM ∂F/∂NAME? if not, what slipped",
        epilog="exit codes: 0 correct, 1 wrong, 2 bad input",
    )
    p.latex_may_start_with_minus = True
    p.add_argument("claim", help=r"your gradient in LaTeX, e.g. 'A^\top(Ax - b)'")
    p.add_argument("--of", required=True, metavar="F", help="the scalar function, in LaTeX")
    _problem_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")

    p = sub.add_parser("rules", help="list or search the rulebook, or show one rule")
    p.add_argument("query", nargs="*", help="a rule id, or words to search for")

    p = sub.add_parser(
        "serve",
        help="a local page: type LaTeX, see the derivation as you type (offline)",
        epilog="its JSON: GET /api/derive?f=LATEX&wrt=NAME&kind=hessian&shape=A=m,n (kind, "
        'shape, assume optional) is what --format json prints; bad input: 400 {"error": …}',
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="the port (default 8765)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument(
        "--workers", type=int, default=2, metavar="N", help="worker processes (default 2)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time limit of one derivation; its worker is killed after it (default 30)",
    )
    return parser


def _emit(d, args: argparse.Namespace) -> int:
    fmt = args.format
    if fmt == "latex":
        out = d.to_latex(standalone=args.standalone)
    elif fmt == "markdown":
        out = d.to_markdown()
    elif fmt == "json":
        out = d.to_json()
    else:
        out = d.to_text()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(out if out.endswith("\n") else out + "\n")
        summary = d.verification.summary() if d.verification else "not checked numerically"
        print(f"wrote {args.output} ({summary})")
    else:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if d.verification is not None and not d.verification.passed:
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _quietly(fn, *args, **kwargs):
    """Call fn with VerificationWarning silenced: the CLI reports failures itself."""
    import warnings

    from derive.api import VerificationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerificationWarning)
        return fn(*args, **kwargs)


def _cmd_list(args: argparse.Namespace) -> int:
    from derive.collection import catalog

    entries = catalog()
    width = max(len(name) for name, _ in entries)
    for name, title in entries:
        print(f"{name:<{width}}  {title}")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from derive.collection import worked

    return _emit(_quietly(worked, args.name, check=not args.no_check), args)


def _cmd_mle(args: argparse.Namespace) -> int:
    from derive.api import mle

    return _emit(_quietly(mle, args.family, check=not args.no_check), args)


def _cmd_map(args: argparse.Namespace) -> int:
    from derive.api import map_estimate

    d = _quietly(map_estimate, args.family, prior=args.prior, check=not args.no_check)
    return _emit(d, args)


def _progress(done: int, total: int, label: str) -> None:
    """``[#####.....] 5/12 name`` on stderr: redrawn in place on a terminal, a line otherwise."""
    width = 20
    filled = width * done // max(total, 1)
    bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + bar + ("\n" if done == total else ""))
    else:
        sys.stderr.write(bar + "\n")
    sys.stderr.flush()


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from derive.collection import catalog, worked
    from derive.errors import InputError, UnknownNameError

    known = [name for name, _ in catalog()]
    if args.all == bool(args.names):
        raise InputError("export takes either --all or the names of worked derivations")
    names = known if args.all else list(dict.fromkeys(args.names))
    for name in names:  # before any work: a typo should not cost a dozen derivations
        if name not in known:
            raise UnknownNameError("worked derivation", name, known)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output {out} exists and is not a directory")
    derivations = []
    for k, name in enumerate(names):
        _progress(k, len(names), name)
        derivations.append(_quietly(worked, name, check=not args.no_check))
    _progress(len(names), len(names), "done")
    out.mkdir(parents=True, exist_ok=True)
    if args.format == "latex":
        from derive.render.latex import render_book

        files = [out / "derive.tex"]
        files[0].write_text(render_book(derivations, "Derivations"), encoding="utf-8")
    else:
        from derive.render.markdown import render_index

        files = []
        for d in derivations:
            files.append(out / f"{d.name}.md")
            files[-1].write_text(d.to_markdown(), encoding="utf-8")
        index = [(d.name, d.title, f"{d.name}.md") for d in derivations]
        files.append(out / "index.md")
        files[-1].write_text(render_index(index), encoding="utf-8")
    failed = [d.name for d in derivations if d.verification and not d.verification.passed]
    print(f"wrote {len(files)} file{'s' * (len(files) != 1)} to {out}")
    if failed:
        print(f"NOT VERIFIED: {', '.join(failed)}")
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _cmd_rules(args: argparse.Namespace) -> int:
    from derive import rules

    query = " ".join(args.query)
    ids = {r.id for r in rules.all_rules()}
    if query in ids:
        from derive.selfcheck import self_check

        r = rules.get(query)
        print(f"{r.id}: {r.name}")
        print(f"  source:     {r.source}")
        print(f"  statement:  {r.statement}")
        if r.conditions:
            print(f"  conditions: {'; '.join(r.conditions)}")
        ok, detail = self_check(r)
        print(f"  self-check: {detail}")
        return EXIT_OK if ok else EXIT_CHECK_FAILED
    found = rules.search(query) if query else rules.all_rules()
    if not found:
        print(f"derive: no rule matches {query!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    width = max(len(r.id) for r in found)
    for r in found:
        print(f"{r.id:<{width}}  {r.name} — {r.source}")
    return EXIT_OK


def _cmd_derivative(args: argparse.Namespace) -> int:
    import derive.api as api

    fn = {"grad": api.gradient, "hessian": api.hessian, "jacobian": api.jacobian}[args.command]
    structure = {"structure": "symmetric"} if getattr(args, "symmetric", False) else {}
    d = _quietly(
        fn,
        args.latex,
        args.wrt,
        shapes=parse_shapes(args.shape),
        assume=parse_assumptions(args.assume),
        check=not args.no_check,
        **structure,
    )
    if args.emit:
        return _emit_source(d, args)
    return _emit(d, args)


def _emit_source(d, args: argparse.Namespace) -> int:
    """--emit: the generated function, only if the derivation verified (or was not checked)."""
    if d.verification is not None and not d.verification.passed:
        print(f"derive: {d.verification.summary()}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    out = d.source(args.emit)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(out)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(out)
    return EXIT_OK


def _cmd_parse(args: argparse.Namespace) -> int:
    """The reading of a formula: f in notation and in LaTeX, then each symbol, its shape and
    where the shape came from (given, a convention, or inferred)."""
    import json

    import sympy as sp

    from derive.expr import is_matrix
    from derive.latex import read_latex
    from derive.notation.latex import latex
    from derive.notation.text import text
    from derive.problem import shape_of, symbols_of

    reading = read_latex(args.latex, parse_shapes(args.shape), parse_assumptions(args.assume))
    f = reading.expr
    kind = "a scalar" if not is_matrix(f) else f"shape {text(f.shape[0])} × {text(f.shape[1])}"
    symbols = sorted(symbols_of(f).items())
    if args.format == "json":
        out = {
            "text": text(f),
            "latex": latex(f),
            "symbols": [
                {
                    "name": name,
                    "shape": [str(d) for d in shape_of(sym)],
                    "source": reading.sources.get(name, ""),
                }
                for name, sym in symbols
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"f = {text(f)}    ({kind})")
    print(f"LaTeX: {latex(f)}")
    for name, sym in symbols:
        shape = shape_of(sym)
        dims = [text(sp.Symbol(str(d))) for d in shape]
        what = (
            "scalar"
            if not dims
            else (f"{dims[0]}-vector" if len(dims) == 1 else " × ".join(dims) + " matrix")
        )
        source = reading.sources.get(name, "")
        print(f"  {text(sp.Symbol(name))}: {what}" + (f"    [{source}]" if source else ""))
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from derive.errors import InputError
    from derive.serve import serve

    if not 0 <= args.port <= 65535 or args.workers < 1 or not args.timeout > 0:
        raise InputError("serve takes a port 0-65535, at least one worker and a timeout > 0")
    try:
        serve(
            args.host, args.port, open_browser=args.open, workers=args.workers, timeout=args.timeout
        )
    except OSError as e:  # the address is in use, or not this machine's
        raise InputError(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from e
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from derive.answer import check_answer

    report = check_answer(
        args.claim,
        args.of,
        args.wrt,
        shapes=parse_shapes(args.shape),
        assume=parse_assumptions(args.assume),
    )
    print(report.to_json() if args.format == "json" else report.to_text())
    return EXIT_OK if report.correct else EXIT_CHECK_FAILED


COMMANDS = {
    "list": _cmd_list,
    "show": _cmd_show,
    "mle": _cmd_mle,
    "map": _cmd_map,
    "export": _cmd_export,
    "rules": _cmd_rules,
    "grad": _cmd_derivative,
    "hessian": _cmd_derivative,
    "jacobian": _cmd_derivative,
    "check": _cmd_check,
    "parse": _cmd_parse,
    "serve": _cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (derive show NAME | head): not a failure of ours. Point stdout
        # at /dev/null so that Python's flush at exit does not raise again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - the CLI turns every failure into one line
        from derive.errors import DeriveError

        if args.debug:
            raise
        kind = "error" if isinstance(e, DeriveError) else f"internal error ({type(e).__name__})"
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"derive: {kind}: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
