"""The exception hierarchy: everything `derive` raises on purpose is a `DeriveError`."""

from __future__ import annotations


class DeriveError(Exception):
    """Base class. The message names what was wrong or unsupported, in one line."""


class InputError(DeriveError, ValueError):
    """The input is malformed: an unknown name, a bad option, unparsable text."""


class DomainError(InputError):
    """The function is not real-valued at any point tried: there is nothing to differentiate."""


class AmbiguityError(InputError):
    """The text has two conventional readings that differ in value; the message spells out
    both and how to write each. Never resolved by a guess."""

    def __init__(self, written: str, readings: list[tuple[str, str]]) -> None:
        self.written = written
        self.readings = tuple(readings)
        ways = "; ".join(f"for {meaning} write {how}" for meaning, how in readings)
        alternatives = " or ".join(meaning for meaning, _ in readings)
        super().__init__(
            f"{written} is ambiguous: it can mean {alternatives}. {ways[0].upper()}{ways[1:]}"
        )


class ShapeError(InputError):
    """Shapes do not conform (the message names both sides and their shapes)."""


class UnsupportedError(DeriveError, NotImplementedError):
    """The input is well formed, but the engine has no rule for a construct in it."""

    def __init__(self, construct: str, detail: str = "") -> None:
        self.construct = construct
        msg = f"unsupported: {construct}"
        super().__init__(f"{msg} ({detail})" if detail else msg)


class UnknownNameError(InputError, KeyError):
    """A family, worked derivation or rule name that does not exist; lists close matches."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known)}"
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0])


class VerificationError(DeriveError):
    """A numeric cross-check could not be carried out (not: it ran and failed)."""
