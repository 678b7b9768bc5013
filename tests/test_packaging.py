"""Packaging: the wheel ships derive.rules and derive.recipes (no bare top-level `rules` or
`worked`), installs into a fresh environment and runs `derive mle gaussian` from elsewhere;
the README's commands and CI agree."""

import pathlib
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile

from tests.conftest import ROOT


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    mt = re.search(r"<!-- test-command -->\s*```(?:sh|bash)?\n(.+?)\n```", text, re.S)
    assert mt, "README marks its test command with <!-- test-command -->"
    return mt.group(1).strip()


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_test_command() in ci.splitlines()


def test_readme_first_screen_has_both_commands():
    first = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "derive mle gaussian" in first
    assert readme_test_command() in first


def test_every_subpackage_is_listed_for_the_wheel():
    """A folder of derive/ with an __init__.py that pyproject does not list is left out of the
    wheel, and an installed derive fails on its first import of it."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(("derive", *p.parent.relative_to(ROOT / "derive").parts))
        for p in (ROOT / "derive").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("derive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"derive", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert "derive/rules/textbook.py" in names and "derive/recipes/softmax_ce.py" in names
    assert "derive/rules/cookbook/equations.md" in names  # the citation table ships too

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Dependencies (sympy, jax, ...) come from this environment's site-packages, added as a
    # plain path: its .pth files (the editable install of derive) are not processed there.
    fresh_site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pathlib.Path(fresh_site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    probe = subprocess.run(
        [
            py,
            "-c",
            "import derive, derive.rules, derive.recipes, importlib.util as u;"
            "print(derive.__file__); print(u.find_spec('rules'), u.find_spec('worked'))",
        ],
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = probe.stdout.splitlines()
    assert first.startswith(str(env_dir)), first
    assert second == "None None"

    out = subprocess.run(
        [env_dir / "bin" / "derive", "mle", "gaussian"],
        cwd=outside,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "verified against JAX autodiff" in out.stdout
