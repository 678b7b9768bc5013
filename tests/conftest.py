import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
#: the checked Cookbook table, vendored so that a clone stands alone; its upstream is
#: shared/cookbook/equations.md beside the repository (tests/test_vendored.py keeps them equal)
EQUATIONS = ROOT / "rules" / "cookbook" / "equations.md"
UPSTREAM_EQUATIONS = SHARED / "cookbook" / "equations.md"


def require_pdflatex() -> str:
    """pdflatex, or skip locally / fail in CI (where .ci/run installs TeX)."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is required in CI (.ci/run installs texlive)")
        pytest.skip(
            "pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)"
        )
    return exe
