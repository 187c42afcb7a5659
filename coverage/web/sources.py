"""Where a session's answers come from: the server's registry (shared caches) or an upload.

Both kinds of :class:`Source` answer the same questions (access table, analysis, what-if,
siting, maps, report). :class:`ServerSource` uses the process-wide Streamlit caches of
:mod:`coverage.web.loaders`, shared by every visitor of the server's registry.
:class:`UploadSource` keeps what it builds in small bounded memos of its own, and lives in
the uploader's ``st.session_state``: nothing an upload builds is reachable from another
session, and all of it is freed when the session closes. Its first heavy build takes one of
the upload slots of :mod:`coverage.web.budget`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import streamlit as st

from coverage.analysis.planning import Plan
from coverage.patient.finder import Finder, FinderResult
from coverage.web import budget, builders, loaders, tasks
from coverage.web.config import travel_model
from coverage.web.messages import show_queued
from coverage.web.worker import offload

if TYPE_CHECKING:
    from coverage.analysis.access import AccessTable
    from coverage.analysis.access_matrix import Cost
    from coverage.analysis.analyse import Analysis
    from coverage.analysis.planning import PlanningRequest
    from coverage.analysis.scenario import ScenarioResult

T = TypeVar("T")
Changes = tuple[tuple[str, ...], tuple[str, ...]]


class Source(Protocol):
    """What the pages ask of a registry in use."""

    @property
    def key(self) -> str: ...
    @property
    def finder(self) -> Finder: ...
    def access(self) -> AccessTable: ...
    def analysis(self, threshold: float, by: Cost) -> Analysis: ...
    def plan(self, request: PlanningRequest, key: Hashable) -> Plan: ...
    def with_model(self, kind: str) -> Source: ...
    def scenario(self, a: Analysis, changes: Changes) -> ScenarioResult: ...
    def finder_map(self, query: str, young: bool, result: FinderResult) -> str: ...
    def coverage_map(self, a: Analysis) -> str: ...
    def scenario_map(self, a: Analysis, changes: Changes, result: ScenarioResult) -> str: ...
    def report(self, a: Analysis) -> str: ...
    def charts(self, a: Analysis) -> tuple[str, str]: ...


def _by(a: Analysis) -> Cost:
    return a.by  # type: ignore[return-value]


@dataclass(frozen=True)
class ServerSource:
    """The server's registry: answers from the process-wide caches (shared by visitors)."""

    key: str
    finder: Finder

    def access(self) -> AccessTable:
        return loaders.get_access(self.key, self.finder)

    def analysis(self, threshold: float, by: Cost) -> Analysis:
        return loaders.get_analysis(self.key, threshold, by, self.access(), self.finder)

    def with_model(self, kind: str) -> ServerSource:
        """The same registry measured by the travel model ``kind`` (itself for its own)."""
        if kind == self.finder.model.name:
            return self
        finder = loaders.get_model_finder(self.key, kind, self.finder)
        return ServerSource(f"{self.key}|{kind}", finder)

    def plan(self, request: PlanningRequest, key: Hashable) -> Plan:
        """The answer to ``request``, whose planner files and siting ``key`` identifies
        (empty: none). The default request is shared by visitors; one with the visitor's
        files or siting is computed in a worker and kept in the session only."""
        if not key:
            return Plan(self.analysis(request.threshold, request.by))
        parts = tasks.FinderParts.of(self.key, self.finder)
        access = self.access()
        memo_key = ("plan", self.key, request.threshold, request.by, key)
        return session_memo().get(
            memo_key, _in_slot(lambda: offload(tasks.plan, parts, access, request))
        )

    def scenario(self, a: Analysis, changes: Changes) -> ScenarioResult:
        # A what-if is one visitor's (random communes, quick to redo): kept in the session, freed
        # with it, never in a process-wide cache that other visitors' scenarios would fill.
        w = loaders.get_whatif(self.key, a.threshold, _by(a), self.access(), self.finder.region)
        key = ("scenario", self.key, a.threshold, _by(a), changes)
        return session_memo().get(key, lambda: builders.run_scenario(w, *changes))

    def finder_map(self, query: str, young: bool, result: FinderResult) -> str:
        return loaders.finder_map_html(self.key, query, young, result, self.finder)

    def coverage_map(self, a: Analysis) -> str:
        return loaders.coverage_map_html(
            self.key, a.threshold, _by(a), _analysis=a, _region=self.finder.region
        )

    def scenario_map(self, a: Analysis, changes: Changes, result: ScenarioResult) -> str:
        # Drawn in a worker (``coverage.web.tasks``): every what-if redraws the region's
        # communes, short-lived objects that would stay with the server's allocators.
        key = ("scenario_map", self.key, a.threshold, _by(a), changes)
        parts = tasks.FinderParts.of(self.key, self.finder)
        return session_memo().get(key, lambda: offload(tasks.scenario_map, parts, result))

    def report(self, a: Analysis) -> str:
        return loaders.report_html(self.key, a.threshold, _by(a), _analysis=a)

    def charts(self, a: Analysis) -> tuple[str, str]:
        return loaders.charts_svg(self.key, a.threshold, _by(a), _analysis=a)


class Memo:
    """A small least-recently-used memo owned by one object (``size`` entries at most)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept for ``key``, built (and kept) on first use."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


#: ``st.session_state`` key of the session's own memo (its what-ifs and their maps).
SESSION_MEMO = "session_memo"
#: Entries the session memo keeps: a visitor compares a few scenarios at a time.
SESSION_MEMO_SIZE = 6


def session_memo() -> Memo:
    """This session's small memo: freed when the session closes."""
    memo = st.session_state.get(SESSION_MEMO)
    if not isinstance(memo, Memo):
        memo = st.session_state[SESSION_MEMO] = Memo(SESSION_MEMO_SIZE)
    return memo


def _in_slot[R](build: Callable[[], R]) -> Callable[[], R]:
    """``build`` run while holding one of the upload slots."""

    def run() -> R:
        with budget.upload_slot(on_wait=show_queued):
            return build()

    return run


@dataclass(eq=False)
class UploadSource:
    """A registry uploaded in this session: its key, the file name shown, its finder.

    Everything derived from it is kept here (bounded), in this session only. It is built by
    the tasks of :mod:`coverage.web.tasks` in a worker process (``worker.offload``): the
    server receives tables, figures and HTML, and the builds' short-lived objects die with
    the worker.
    """

    key: str
    name: str
    finder: Finder
    _tables: Memo = field(default_factory=lambda: Memo(1), repr=False)
    _analyses: Memo = field(default_factory=lambda: Memo(4), repr=False)
    _files: Memo = field(default_factory=lambda: Memo(6), repr=False)
    _parts: tasks.FinderParts | None = field(default=None, repr=False)
    _variants: Memo = field(default_factory=lambda: Memo(2), repr=False)

    @property
    def parts(self) -> tasks.FinderParts:
        """The finder's parts, as a worker rebuilds it."""
        if self._parts is None:
            self._parts = tasks.FinderParts.of(self.key, self.finder)
        return self._parts

    def access(self) -> AccessTable:
        def build() -> AccessTable:
            with budget.upload_slot(on_wait=show_queued):
                return offload(tasks.access, self.parts)

        return self._tables.get("access", build)

    def analysis(self, threshold: float, by: Cost) -> Analysis:
        access = self.access()
        return self._analyses.get(
            ("analysis", threshold, by),
            lambda: offload(tasks.analysis, self.parts, access, threshold, by),
        )

    def with_model(self, kind: str) -> UploadSource:
        """The upload measured by the travel model ``kind`` (itself for its own), kept here."""
        if kind == self.finder.model.name:
            return self

        def build() -> UploadSource:
            model = travel_model(kind, self.finder.region)
            finder = builders.finder_with_model(self.finder, model)
            return UploadSource(f"{self.key}|{kind}", self.name, finder)

        return self._variants.get(kind, build)

    def plan(self, request: PlanningRequest, key: Hashable) -> Plan:
        if not key:
            return Plan(self.analysis(request.threshold, request.by))
        access = self.access()
        return self._analyses.get(
            ("plan", request.threshold, request.by, key),
            _in_slot(lambda: offload(tasks.plan, self.parts, access, request)),
        )

    def scenario(self, a: Analysis, changes: Changes) -> ScenarioResult:
        access, by = self.access(), _by(a)
        return self._analyses.get(
            ("scenario", a.threshold, by, changes),
            lambda: offload(tasks.scenario, self.parts.region, access, a.threshold, by, changes),
        )

    # Maps draw every structure of the upload: their cost grows with it, so they take a slot.

    def finder_map(self, query: str, young: bool, result: FinderResult) -> str:
        return self._files.get(
            ("finder", query, young),
            _in_slot(lambda: offload(tasks.finder_map, self.parts, result)),
        )

    def coverage_map(self, a: Analysis) -> str:
        return self._files.get(
            ("coverage", a.threshold, a.by),
            _in_slot(lambda: offload(tasks.coverage_map, self.parts.region, a)),
        )

    def scenario_map(self, a: Analysis, changes: Changes, result: ScenarioResult) -> str:
        return self._files.get(
            ("scenario", a.threshold, a.by, changes),
            _in_slot(lambda: offload(tasks.scenario_map, self.parts, result)),
        )

    def report(self, a: Analysis) -> str:
        return self._files.get(("report", a.threshold, a.by), lambda: offload(tasks.report, a))

    def charts(self, a: Analysis) -> tuple[str, str]:
        return self._files.get(("charts", a.threshold, a.by), lambda: offload(tasks.charts, a))
