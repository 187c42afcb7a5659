"""Interchange local search for siting: the best one-site swap, all at once, until none helps.

Both searches take the demand rows (``cost`` n x m, ``weights``, ``existing``), the allowed
candidate columns ``cols`` and a starting set of ``k`` columns, and return a set that no
single swap (one chosen site out, one other candidate in) improves: the Teitz & Bart (1968)
interchange, with every swap of a step scored in one matrix product rather than one at a time.

- Coverage (MCLP): with ``cnt[i]`` the number of chosen sites covering row ``i``, closing site
  ``s`` loses the rows only ``s`` covers, and opening ``j`` then gains the rows ``j`` covers that
  nobody covers, plus those only ``s`` covered: ``gain0[j] + shared[j, s] - loss[s]``, where
  ``shared = reach @ (w * only[:, s])`` (sparse x dense).
- p-median: with each row's best cost ``b1`` (from site ``a1``, or the existing structures)
  and second best ``b2``, swapping ``s`` for ``j`` gives
  ``sum_i w_i min(c_ij, b1_i) + sum_{i: a1_i = s} w_i (min(c_ij, b2_i) - min(c_ij, b1_i))``
  (Whitaker 1983, "A fast algorithm for the greedy interchange for large-scale clustering and
  median location problems", *INFOR* 21(2)).

:func:`perturb` gives the next start of an iterated local search: a few chosen sites replaced
by random candidates, deterministically from a seed.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

#: Candidate columns scored at once by the p-median search (bounds memory to ~n x 512).
_CHUNK = 512
#: An improvement smaller than this share of the objective is rounding, not a better set.
_EPS = 1e-12
#: Bound on swaps per search (each strictly improves; the bound is a safeguard).
_MAX_SWAPS = 1000


def _block(cost: np.ndarray, cols: np.ndarray, start: int) -> np.ndarray:
    return np.asarray(cost[:, cols[start : start + _CHUNK]], dtype=float)


def coverage_swaps(reach: sparse.csr_matrix, open_w: np.ndarray, picks: list[int]) -> list[int]:
    """MCLP interchange on ``reach`` (candidates x rows, 1 where the candidate covers the row).

    ``open_w`` is each row's weight, 0 where the existing structures already cover it;
    ``picks`` are positions in ``reach``'s rows. Returns positions.
    """
    picks = list(picks)
    chosen = reach[picks]
    cnt = np.asarray(chosen.sum(axis=0)).ravel()
    for _ in range(_MAX_SWAPS):
        current = float(open_w[cnt > 0].sum())
        gain0 = reach @ np.where(cnt == 0, open_w, 0.0)
        only = chosen.multiply((cnt == 1) * open_w).T.tocsc()  # rows x k
        loss = np.asarray(only.sum(axis=0)).ravel()
        delta = gain0[:, None] + np.asarray((reach @ only).todense()) - loss[None, :]
        delta[picks, :] = -np.inf
        j, t = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[j, t] > _EPS * max(1.0, current):
            break
        picks[t] = int(j)
        chosen = reach[picks]
        cnt = np.asarray(chosen.sum(axis=0)).ravel()
    return picks


def _two_best(
    cost: np.ndarray, existing: np.ndarray, picks: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: best cost, its site's position in ``picks`` (-1: existing), second best."""
    opened = np.asarray(cost[:, picks], dtype=float)
    every = np.column_stack([existing, opened])  # column 0: the existing structures
    order = np.argsort(every, axis=1, kind="stable")
    rows = np.arange(every.shape[0])
    b1 = every[rows, order[:, 0]]
    b2 = every[rows, order[:, 1]] if every.shape[1] > 1 else np.full(len(rows), np.inf)
    return b1, order[:, 0] - 1, b2


def median_swaps(
    cost: np.ndarray, weights: np.ndarray, existing: np.ndarray, cols: np.ndarray, picks: list[int]
) -> list[int]:
    """p-median interchange; ``picks`` and the result are columns of ``cost`` among ``cols``."""
    picks = list(picks)
    k = len(picks)
    for _ in range(_MAX_SWAPS):
        b1, a1, b2 = _two_best(cost, existing, picks)
        current = float(np.dot(weights, b1))
        mine = a1 >= 0  # rows served by a chosen site (not by the existing structures)
        group = sparse.csr_matrix(
            (weights[mine], (a1[mine], np.flatnonzero(mine))), shape=(k, len(weights))
        )
        totals = np.empty((cols.size, k))
        for s in range(0, cols.size, _CHUNK):
            c = _block(cost, cols, s)
            keep = np.minimum(c, b1[:, None])
            change = group @ (np.minimum(c, b2[:, None]) - keep)  # k x chunk
            totals[s : s + c.shape[1], :] = (weights @ keep)[:, None] + change.T
        totals[np.isin(cols, picks), :] = np.inf
        j, t = np.unravel_index(int(np.argmin(totals)), totals.shape)
        if not totals[j, t] < current - _EPS * max(1.0, abs(current)):
            break
        picks[t] = int(cols[j])
    return picks


def perturb(picks: list[int], pool: np.ndarray, rng: np.random.Generator) -> list[int]:
    """``picks`` with about a third of its sites (at least one) replaced from ``pool``."""
    out = list(picks)
    free = np.setdiff1d(pool, out)
    if free.size == 0:
        return out
    n_out = min(max(1, len(out) // 3), free.size)
    for t, j in zip(
        rng.choice(len(out), n_out, replace=False),
        rng.choice(free, n_out, replace=False),
        strict=True,
    ):
        out[int(t)] = int(j)
    return out
