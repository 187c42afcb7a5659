"""What region switches may cost: a bounded cache of regions and a per-session build budget.

Any visitor may ask for any region (``?region=``, the page's picker), and a region not in
memory is built (France's, the largest, takes the longest and the most memory). Two rules
bound that:

- :class:`RegionCache` keeps France (``FR``) and the server's own region
  (:func:`coverage.web.config.served_region`) pinned, never evicted by other visitors'
  switches, and at most :data:`LRU_REGIONS` other regions, least recently used first out. At most
  :data:`MAX_REGIONS_IN_MEMORY` regions are held, one entry per region (a new registry file
  replaces its region's entry). Builds of the other regions run one at a time, so at most one
  more region is in memory while it is being built. (The communes of the regions loaded
  also stay in :mod:`coverage.data.region`'s memo, bounded to the same number.)
- :class:`SwitchBudget` lets one session cause at most :data:`SWITCH_LIMIT` builds in
  :data:`SWITCH_WINDOW_S` seconds; beyond, it is answered with :class:`RegionSwitchError`
  (plain French) and nothing is built. A region in the cache, or pinned (built once per
  process), costs nothing and is always served.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from coverage._errors import ValidationError
from coverage.geography import FRANCE, region_spec

#: Regions other than France and the server's own that stay in memory (least recently used out).
LRU_REGIONS = 3
#: Pinned regions: France and the server's own (one when the server serves France).
PINNED_REGIONS = 2
#: The most regions in memory at once (plus one being built).
MAX_REGIONS_IN_MEMORY = PINNED_REGIONS + LRU_REGIONS
#: Builds one session may cause in :data:`SWITCH_WINDOW_S` seconds.
SWITCH_LIMIT = 5
#: The sliding window of :data:`SWITCH_LIMIT`, in seconds (ten minutes).
SWITCH_WINDOW_S = 600.0


class RegionCache[T]:
    """One built object per region: ``pinned`` regions kept for good, ``lru_size`` others.

    An entry is found by its region and the registry key it was built with; a region asked
    with another key (its registry file changed) is built again and replaces the old entry.
    Thread-safe: the pages of every session share one cache. Two sessions asking for the same
    missing region build it once.
    """

    def __init__(self, pinned: Iterable[str], *, lru_size: int = LRU_REGIONS) -> None:
        self.pinned = frozenset(pinned)
        self.lru_size = lru_size
        self._pinned: dict[str, tuple[str, T]] = {}
        self._lru: OrderedDict[str, tuple[str, T]] = OrderedDict()
        self._lock = threading.Lock()  # guards the two dicts, never held while building
        #: One build at a time per pinned region, and one at a time for all the others.
        self._build_locks = {code: threading.Lock() for code in self.pinned}
        self._lru_build_lock = threading.Lock()

    def is_pinned(self, region: str) -> bool:
        """True for France and the server's own region (never evicted)."""
        return region in self.pinned

    def peek(self, region: str, key: str) -> T | None:
        """The object built for ``region`` with ``key``, if in memory (marked recently used)."""
        with self._lock:
            if region in self.pinned:
                entry = self._pinned.get(region)
            else:
                entry = self._lru.get(region)
                if entry is not None and entry[0] == key:
                    self._lru.move_to_end(region)
        return entry[1] if entry is not None and entry[0] == key else None

    def is_free(self, region: str, key: str) -> bool:
        """True when serving ``region`` builds nothing a visitor pays for: it is in memory, or
        pinned (built at most once per registry file, whoever asks)."""
        return self.is_pinned(region) or self.peek(region, key) is not None

    def get(self, region: str, key: str, build: Callable[[], T]) -> T:
        """The object of ``region`` for ``key``, built by ``build()`` when not in memory."""
        found = self.peek(region, key)
        if found is not None:
            return found
        lock = self._build_locks.get(region, self._lru_build_lock)
        with lock:
            found = self.peek(region, key)  # built by another session while this one waited
            if found is not None:
                return found
            value = build()
            with self._lock:
                if region in self.pinned:
                    self._pinned[region] = (key, value)
                else:
                    self._lru[region] = (key, value)
                    self._lru.move_to_end(region)
                    while len(self._lru) > self.lru_size:
                        self._lru.popitem(last=False)
            return value

    def regions(self) -> tuple[str, ...]:
        """The regions in memory: pinned first, then the others from least recently used."""
        with self._lock:
            return (*self._pinned, *self._lru)


class SwitchBudget:
    """The builds one session caused: at most ``limit`` in any ``window_s`` seconds.

    Kept in the session's ``st.session_state``; ``now`` is a monotonic clock in seconds.
    """

    def __init__(self, *, limit: int = SWITCH_LIMIT, window_s: float = SWITCH_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._builds: deque[float] = deque()
        #: The regions this session was served, most recent last (a few, for the refusal).
        self.recent: deque[str] = deque(maxlen=4)

    def admit(self, *, free: bool, now: float) -> bool:
        """May this session be served a region now? ``free``: the region builds nothing
        (:meth:`RegionCache.is_free`). A costly region admitted is counted as one build."""
        if free:
            return True
        while self._builds and now - self._builds[0] >= self.window_s:
            self._builds.popleft()
        if len(self._builds) >= self.limit:
            return False
        self._builds.append(now)
        return True

    def served(self, region: str) -> None:
        """Remember that ``region`` was served to this session (for the refusal's advice)."""
        if region in self.recent:
            self.recent.remove(region)
        self.recent.append(region)


class RegionSwitchError(ValidationError):
    """A session asked for more region builds than its budget allows (French message).

    ``stay_on``: INSEE codes of regions it may keep using at once, most useful first.
    """

    def __init__(self, *, stay_on: Iterable[str]) -> None:
        self.stay_on = tuple(dict.fromkeys(stay_on))
        names = [_the_name(code) for code in self.stay_on]
        advice = f", ou restez sur {' ou '.join(names)}" if names else ""
        super().__init__(
            "Trop de changements de région en peu de temps : réessayez dans quelques "
            f"minutes{advice}."
        )


def _the_name(code: str) -> str:
    spec = region_spec(code)
    return spec.the_name or spec.name


def pinned_regions(served: str) -> tuple[str, ...]:
    """The regions never evicted: France and ``served`` (the server's own INSEE code)."""
    return tuple(dict.fromkeys((FRANCE, served)))
