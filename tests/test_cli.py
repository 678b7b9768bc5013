"""The CLI through its real entry point (the installed `derive` console script)."""

import json
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import require_pdflatex

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DERIVE, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )


def test_help_is_fast_and_imports_no_jax():
    code = (
        "import sys\n"
        "from derive.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "assert 'jax' not in sys.modules, 'jax imported'\n"
        "assert 'sympy' not in sys.modules, 'sympy imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "derive" in out.stdout and "mle" in out.stdout


def test_list():
    out = run("list")
    assert out.returncode == 0
    assert "gaussian-mle" in out.stdout and "softmax-ce" in out.stdout


def test_mle_gaussian_prints_cited_steps_and_a_passing_check():
    out = run("mle", "gaussian")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Cookbook (2012) eq. (346)" in text
    assert "verified against JAX autodiff" in text
    assert "max relative error" in text.splitlines()[-1]


def test_show_softmax_ce():
    out = run("show", "softmax-ce")
    assert out.returncode == 0, out.stderr
    assert "softmax(z) − y" in out.stdout
    assert "verified against JAX autodiff" in out.stdout


def test_no_check_says_so():
    out = run("show", "softmax-ce", "--no-check")
    assert out.returncode == 0
    assert "not checked" in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("show", "softmax-c"), "did you mean softmax-ce"),
        (("mle", "gausian"), "did you mean gaussian"),
        (("frobnicate",), "invalid choice"),
        (("show",), "required"),
        (("show", "softmax-ce", "--format", "pdf"), "invalid choice"),
        (("rules", "no-such-rule-anywhere"), "no rule matches"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle):
    out = run(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr


def test_json_output_follows_the_schema(tmp_path):
    target = tmp_path / "d.json"
    out = run("show", "softmax-ce", "--format", "json", "--output", str(target))
    assert out.returncode == 0, out.stderr
    data = json.loads(target.read_text())
    assert data["schema_version"] == 2
    assert data["check"]["passed"] is True and data["check"]["trials"] == 5
    for step in data["steps"]:
        assert set(step["rule"]) == {"id", "name", "source"}
        assert {"before", "after", "note"} <= set(step)


@pytest.mark.parametrize(
    "cmd",
    [
        ("show", "softmax-ce"),
        ("mle", "gaussian"),
        # L_sinm(·,·), cosm, the Fréchet-derivative rules' sources with superscripts ʲ, ᵏ
        ("grad", r"\operatorname{tr}(A\operatorname{sinm}(X) + \operatorname{expm}(X))",
         "--wrt", "X", "--shape", "X=n,n", "--shape", "A=n,n"),
        ("grad", r"\log\det((Y^{+})^\top Y^{+})", "--wrt", "Y", "--shape", "Y=n,m",
         "--assume", "Y=full-row-rank"),
    ],
)  # fmt: skip
def test_latex_export_compiles(tmp_path, cmd):
    pdflatex = require_pdflatex()
    tex = tmp_path / "d.tex"
    out = run(*cmd, "--format", "latex", "--standalone", "--output", str(tex))
    assert out.returncode == 0, out.stderr
    res = subprocess.run(
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-2000:]
    assert (tmp_path / "d.pdf").stat().st_size > 1000


def test_markdown_output():
    out = run("show", "softmax-ce", "--format", "markdown", "--no-check")
    assert out.returncode == 0 and "$$" in out.stdout


def test_rules_list_and_show():
    out = run("rules")
    assert out.returncode == 0 and "diff.logdet" in out.stdout
    out = run("rules", "diff.logdet")
    assert out.returncode == 0, out.stderr
    assert "(43)" in out.stdout and "self-check: passed" in out.stdout


def test_failed_check_exits_1(monkeypatch, capsys):
    """A derivation whose numeric check failed is printed with NOT VERIFIED and exit 1."""
    import dataclasses

    from derive import cli
    from derive.model import CheckReport

    real = cli._cmd_show

    def fake_show(args):
        import derive.collection

        d = derive.collection.worked("softmax-ce", check=False)
        bad = CheckReport(False, 0.5, 5, 0, (), "step 3 differs at seed 0 trial 1")
        return cli._emit(dataclasses.replace(d, verification=bad), args)

    monkeypatch.setitem(cli.COMMANDS, "show", fake_show)
    assert cli.main(["show", "softmax-ce"]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
    monkeypatch.setitem(cli.COMMANDS, "show", real)


def test_grad_takes_latex_names_in_its_options():
    out = run(
        "grad",
        r"\frac12 \log\det\Sigma + \frac12 (x-\mu)^\top \Sigma^{-1} (x-\mu)",
        "--wrt",
        r"\Sigma",
        "--assume",
        r"\Sigma=spd",
        "--shape",
        r"\mu=n",
    )
    assert out.returncode == 0, out.stderr
    result = out.stdout.split("Result:")[1]
    assert "∂f/∂Σ = (1/2)(Σ⁻¹ − Σ⁻¹(x − μ)(x − μ)ᵀΣ⁻¹)" in result
    assert "verified against JAX autodiff" in out.stdout


# --- polish (issue #18, item 7) ----------------------------------------------------------------


def test_version():
    from importlib.metadata import version

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"derive {version('derive')}"


def test_help_shows_one_example_a_line_and_each_parses():
    import shlex

    from derive.cli import EXAMPLES, build_parser

    out = run("--help")
    assert out.returncode == 0
    shown = out.stdout.split("examples:\n", 1)[1].splitlines()
    lines = [line for line in EXAMPLES.splitlines()[1:]]
    assert shown == lines and len(lines) >= 6
    parser = build_parser()
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "derive"
        assert parser.parse_args(words[1:]).command == words[1], line


def test_assume_help_lists_every_assumption_kind():
    from derive.problem import ASSUMPTIONS

    for cmd in ("grad", "hessian", "jacobian", "check"):
        out = run(cmd, "--help")
        assert out.returncode == 0
        help_text = " ".join(out.stdout.split())  # argparse wraps; hyphens stay whole
        missing = [kind for kind in ASSUMPTIONS if kind not in help_text]
        assert not missing, f"{cmd}: {missing}"
