"""`derive export`: the whole catalogue as one LaTeX book (compiled with pdflatex) or as
Markdown files with an index, through the real entry point."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own entry point
        [DERIVE, *args], capture_output=True, text=True, timeout=900, check=False
    )


def catalogue() -> list[str]:
    res = run("list")
    assert res.returncode == 0, res.stderr
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def test_markdown_writes_one_file_per_derivation_and_an_index(tmp_path):
    names = catalogue()
    res = run("export", "--all", "--format", "markdown", "--output", str(tmp_path), "--no-check")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.md" for n in names] + ["index.md"]
    )
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    for n in names:
        assert f"]({n}.md)" in index
        assert (tmp_path / f"{n}.md").read_text(encoding="utf-8").startswith("## ")
    # Progress on stderr, one line per derivation when stderr is not a terminal.
    assert f"{len(names)}/{len(names)} done" in res.stderr
    assert res.stdout.startswith(f"wrote {len(names) + 1} files")


def test_named_entries_are_checked(tmp_path):
    res = run("export", "bernoulli-ce", "--format", "markdown", "--output", str(tmp_path))
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "bernoulli-ce.md").read_text(encoding="utf-8")
    assert "verified against JAX autodiff" in text


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--format", "markdown"),  # no --output
        ("export", "--output", "x"),  # neither --all nor a name
        ("export", "--all", "softmax-ce", "--output", "x"),  # both
        ("export", "no-such-entry", "--output", "x"),
    ],
)
def test_bad_export_is_one_line_and_exit_2(args):
    res = run(*args)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_latex_book_of_everything_is_verified_and_compiles(tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed")
        pytest.skip("pdflatex is not installed")
    names = catalogue()
    res = run("export", "--all", "--format", "latex", "--output", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    source = (tmp_path / "derive.tex").read_text(encoding="utf-8")
    assert r"\tableofcontents" in source
    assert source.count(r"\section{") == len(names)
    assert "NOT VERIFIED" not in source
    for _ in range(2):  # twice: the table of contents is filled in on the second pass
        proc = subprocess.run(  # noqa: S603 - a fixed command on a file we wrote
            [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "derive.tex"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
    toc = (tmp_path / "derive.toc").read_text(encoding="utf-8", errors="replace")
    assert toc.count(r"\contentsline {section}") == len(names)
