"""The vendored Cookbook table is the upstream one, byte for byte, whenever upstream is there."""

import pytest

from tests.conftest import EQUATIONS, UPSTREAM_EQUATIONS


def test_the_vendored_table_is_in_the_repository():
    assert EQUATIONS.is_file()
    assert "| 43 |" in EQUATIONS.read_text(encoding="utf-8")


def test_the_vendored_table_equals_upstream():
    if not UPSTREAM_EQUATIONS.is_file():
        pytest.skip("no shared/cookbook/equations.md beside the repository")
    assert EQUATIONS.read_bytes() == UPSTREAM_EQUATIONS.read_bytes(), (
        "rules/cookbook/equations.md differs from shared/cookbook/equations.md: copy it over"
    )
