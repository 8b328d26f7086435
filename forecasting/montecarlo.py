"""Per-cell Monte Carlo of weekly load: task-sum moments, a moment-matched mixture, draws.

A cell is one person-week. Pure numpy/scipy over spread matrices; must not import ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from forecasting.calendar import FloatArray, IntArray

CHUNK_VALUES = 250_000  # cell × draw values drawn at once: 1 MB per float32 array stays in cache
QUANTILES = (0.1, 0.5, 0.9)
MIN_SKEW = 1e-4  # below this a component is drawn as (numerically) normal
NEVER = 1e-12  # a component with less chance than this of any hours is drawn as empty


@dataclass(frozen=True)
class CellLoad:
    """Committed load of each cell: exact moments and the mixture its draws come from.

    The mixture conditions on the cell's *dominant* slip-prone task (whose slip moves the most
    variance in or out of the cell): late with probability ``p_late`` (component 1), on time
    otherwise (component 0). Within component ``s`` the load is 0 with probability
    ``zero[s]`` (every task that could reach the cell stayed out), else ``max(0, offset[s] +
    factor[s] × expm1(shape[s] × N(0, 1)))``: a shifted lognormal (mirrored when ``factor <
    0``) with the mean, variance and skewness of that positive part. Up to that clipping at 0,
    the mixture has the exact mean, variance and third moment of the task sum.

    Attributes:
        mean, var, third: central moments of the committed hours per cell (h, h², h³).
        p_late: probability of component 1 (0 where no slip changes the cell).
        zero, offset, factor, shape: ``(2, cells)``, per component.
    """

    mean: FloatArray
    var: FloatArray
    third: FloatArray
    p_late: FloatArray
    zero: FloatArray
    offset: FloatArray
    factor: FloatArray
    shape: FloatArray

    @property
    def busy(self) -> npt.NDArray[np.bool_]:
        """Cells where some draw can have committed hours (elsewhere every draw is 0 h)."""
        never_on_time = (self.p_late >= 1) | (self.zero[0] >= 1)
        never_late = (self.p_late <= 0) | (self.zero[1] >= 1)
        return np.asarray(~(never_on_time & never_late), dtype=np.bool_)


@dataclass(frozen=True)
class OtherWork:
    """Work beyond the committed tasks per cell: ``centre + sd × z``, ``z`` drawn from ``z``.

    Attributes:
        centre, sd: hours per cell.
        z: equally likely values of the standardised residual (its stored quantiles: picking
            one at random samples its distribution to their resolution, no interpolation).
    """

    centre: FloatArray
    sd: FloatArray
    z: FloatArray

    @property
    def mean(self) -> FloatArray:
        """Expected other work per cell (h)."""
        return np.asarray(self.centre + self.sd * float(np.mean(self.z)), dtype=np.float64)


@dataclass(frozen=True)
class LoadSummary:
    """Per-cell statistics of ``max(committed + other, 0)`` over the draws (hours, P)."""

    mean: FloatArray
    p10: FloatArray
    p50: FloatArray
    p90: FloatArray
    p_over: FloatArray


def committed_load(
    on: sparse.csr_matrix,
    late: sparse.csr_matrix,
    slipping: IntArray,
    slip_p: FloatArray,
    log_sd: FloatArray,
) -> CellLoad:
    """Moments and mixture of the committed load per cell from the tasks' spreads.

    Task ``t`` puts ``m_t × a⁰`` hours in a cell on time and ``m_t × a¹`` when late, with
    ``m_t`` a mean-one lognormal multiplier of log-sd ``σ_t`` and lateness a Bernoulli
    ``p_t``, independent of each other and across tasks. Its contribution ``X`` has raw
    moments ``E[X^k] = exp(k (k − 1) σ² / 2) × ((1 − p) a⁰^k + p a¹^k)``; the cell's mean,
    variance and third central moment are the sums of the tasks' (cumulants add).

    Args:
        on: ``(cells, tasks)`` on-time hours (expected, i.e. at ``m = 1``); a stored entry
            means the task reaches the cell, so store no zeros.
        late: ``(cells, len(slipping))`` hours of the slipping tasks when late (same rule).
        slipping: columns of ``on`` of the tasks that may slip.
        slip_p: their slip probabilities (> 0).
        log_sd: ``σ_t`` of every task.
    """
    n_cells, n_tasks = on.shape
    cell, task, a0, a1 = _entries(on, late, slipping)
    p = np.zeros(n_tasks)
    p[slipping] = slip_p
    p, sigma = p[task], log_sd[task]
    moments = _moments(a0, a1, p, sigma)
    mean, var, third = (_per_cell(cell, m, n_cells) for m in moments)

    # The dominant task: the largest slip variance p (1 - p) (a¹ - a⁰)² of the cell.
    dom = _dominant(cell, p * (1 - p) * (a1 - a0) ** 2, n_cells)
    # dom = -1 (no dominant task) picks the appended zero.
    d0, d1, p_d, sigma_d = (np.append(x, 0.0)[dom] for x in (a0, a1, p, sigma))
    own = _moments(d0, d1, p_d, sigma_d)
    rest = [total - mine for total, mine in zip((mean, var, third), own, strict=True)]
    rest_zero = _zero_probability(cell, a0, a1, p, dom, n_cells)

    # Component s: the dominant task's amount (times its multiplier) plus the rest.
    amount = np.stack([d0, d1])
    no_slip = np.zeros_like(amount)
    comp = [a + r for a, r in zip(_moments(amount, amount, no_slip, sigma_d), rest, strict=True)]
    zero = np.where(amount > 0, 0.0, rest_zero)
    zero = np.where((comp[0] > 0) & (zero < 1 - NEVER), zero, 1.0)
    # The positive part's raw moments are the component's over P(> 0); then central again.
    positive = np.where(zero < 1, 1.0 - zero, np.inf)  # moments 0 where always empty
    m1 = comp[0] / positive
    m2 = (comp[1] + comp[0] ** 2) / positive
    m3 = (comp[2] + 3 * comp[0] * comp[1] + comp[0] ** 3) / positive
    pos_var = np.maximum(m2 - m1**2, 0.0)
    offset, factor, shape = _shifted_lognormal(m1, pos_var, m3 - 3 * m1 * m2 + 2 * m1**3)
    return CellLoad(
        mean=mean,
        var=np.maximum(var, 0.0),
        third=third,
        p_late=p_d,
        zero=zero,
        offset=offset,
        factor=factor,
        shape=shape,
    )


def simulate_load(
    rng: np.random.Generator,
    committed: CellLoad,
    other: OtherWork,
    *,
    draws: int,
    limit: FloatArray,
) -> LoadSummary:
    """Draw ``max(committed + other, 0)`` per cell and summarise the draws.

    Cells are drawn independently, a chunk of cells at a time (float32), so memory stays at a
    few chunks whatever the horizon; the summary is per cell, which is all the forecast
    reports (correlation between a person's weeks is not represented). Cells whose committed
    load is 0 in every draw (see :attr:`CellLoad.busy`) draw their other work alone.

    Args:
        rng: the generator (consumed in a fixed order: same seed, same draws).
        committed: see :func:`committed_load`.
        other: see :class:`OtherWork`.
        draws: draws per cell.
        limit: a draw counts as over when it exceeds the cell's limit (h).
    """
    n_cells = committed.mean.size
    summary = LoadSummary(*(np.zeros(n_cells) for _ in range(5)))
    ranks = [min(int(round(q * (draws - 1))), draws - 1) for q in QUANTILES]
    z = other.z.astype(np.float32)
    step = max(1, CHUNK_VALUES // draws)
    busy = committed.busy
    for cells, with_tasks in ((np.flatnonzero(busy), True), (np.flatnonzero(~busy), False)):
        for lo in range(0, cells.size, step):
            chunk = cells[lo : lo + step]
            total = _other_draws(rng, other, z, chunk, draws)
            if with_tasks:
                total += _committed_draws(rng, committed, chunk, draws)
            np.maximum(total, 0.0, out=total)
            over = np.count_nonzero(total > limit[chunk, None], axis=1)
            summary.p_over[chunk] = over / draws
            summary.mean[chunk] = total.mean(axis=1, dtype=np.float64)
            # Sorting a row of float32 draws (SIMD) is several times faster than partitioning
            # it for three ranks, and gives the same order statistics.
            total.sort(axis=1)
            for out, rank in zip((summary.p10, summary.p50, summary.p90), ranks, strict=True):
                out[chunk] = total[:, rank]
    return summary


def _other_draws(
    rng: np.random.Generator, other: OtherWork, z: np.ndarray, cells: IntArray, draws: int
) -> np.ndarray:
    """``(cells, draws)`` float32 other work: ``centre + sd × z`` with ``z`` picked at random."""
    # 16-bit indices take half the random bits of 32-bit ones; take gathers faster than [].
    index = np.int16 if z.size <= np.iinfo(np.int16).max else np.int32
    total = np.take(z, rng.integers(0, z.size, size=(cells.size, draws), dtype=index))
    total *= other.sd[cells, None].astype(np.float32)
    total += other.centre[cells, None].astype(np.float32)
    return total


def _committed_draws(
    rng: np.random.Generator, load: CellLoad, cells: IntArray, draws: int
) -> np.ndarray:
    """``(cells, draws)`` float32 committed hours from the cells' mixtures.

    One uniform picks the component and the zero atom (late on ``[0, p)``, zero on ``[0, p ×
    zero₁)``; on time on ``[p, 1)``, zero on ``[p, p + (1 − p) × zero₀)``); one normal sets the
    value.
    """

    def column(values: FloatArray) -> np.ndarray:
        return values[..., cells, None].astype(np.float32)

    p, zero, offset = column(load.p_late), column(load.zero), column(load.offset)
    factor, shape = column(load.factor), column(load.shape)
    u = rng.random((cells.size, draws), dtype=np.float32)
    value = _standard_normal(rng, (cells.size, draws))
    # Few draws are late: every draw takes the on-time component, then the late ones are
    # redone with theirs (the same float32 operations, in the same order, as a selection).
    # They are found by flat position: a 2-d nonzero costs several times more.
    at = np.flatnonzero(u < p)
    row = at // draws
    late = value.reshape(-1)[at]
    value *= shape[0]
    np.expm1(value, out=value)
    value *= factor[0]
    value += offset[0]
    late *= shape[1, row, 0]
    np.expm1(late, out=late)
    late *= factor[1, row, 0]
    late += offset[1, row, 0]
    value.reshape(-1)[at] = late
    empty = u < p + (1 - p) * zero[0]
    empty.reshape(-1)[at] = u.reshape(-1)[at] < (p * zero[1])[row, 0]
    np.copyto(value, np.float32(0.0), where=empty)
    return np.maximum(value, 0.0, out=value)


def _standard_normal(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float32]:
    """float32 standard normals by the Box-Muller transform of float32 uniforms.

    Each pair of uniforms gives two independent normals, ``√(−2 ln(1 − u₁)) × (cos, sin)(2π
    u₂)``; with numpy's vectorised log, sqrt and sin/cos that is ~3× faster than its float32
    ziggurat. The uniforms' 2⁻²⁴ resolution caps ``|N|`` at 5.77 (a chance of 6 × 10⁻⁸ per
    pair lost from the tails).
    """
    n = shape[0] * shape[1]
    half = (n + 1) // 2
    u = rng.random(2 * half, dtype=np.float32)
    radius, angle = u[:half], u[half:]
    np.subtract(np.float32(1.0), radius, out=radius)  # (0, 1]: the log stays finite
    np.log(radius, out=radius)
    radius *= np.float32(-2.0)
    np.sqrt(radius, out=radius)
    angle *= np.float32(2 * np.pi)
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    out[:half] *= radius
    out[half:] *= radius
    return out[:n].reshape(shape)


def _entries(
    on: sparse.csr_matrix, late: sparse.csr_matrix, slipping: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """``(cell, task, a⁰, a¹)`` for every cell a task reaches on time or late, cell-major."""
    n_cells, n_tasks = on.shape
    late = late.tocsr()
    late_in_tasks = sparse.csr_matrix((late.data, slipping[late.indices], late.indptr), on.shape)
    # One sparse sum merges the two patterns row by row (no sort of the entries): a⁰ is its
    # real part, a¹ its imaginary part, both copied exactly. No stored hours are 0, so no
    # entry of the union is dropped as a zero sum.
    both = sparse.csr_matrix(on + 1j * late_in_tasks)
    both.sort_indices()  # already sorted when ``slipping`` is increasing
    cell = np.repeat(np.arange(n_cells, dtype=np.int64), np.diff(both.indptr))
    task = both.indices.astype(np.int64)
    a0 = both.data.real.copy()
    slips = np.zeros(n_tasks, dtype=bool)
    slips[slipping] = True
    a1 = np.where(slips[task], both.data.imag, a0)  # a task that never slips is where it is on time
    return cell, task, a0, a1


def _per_cell(cell: IntArray, values: npt.ArrayLike, n_cells: int) -> FloatArray:
    """Sum of ``values`` per cell."""
    return np.bincount(cell, values, minlength=n_cells).astype(np.float64)


def _moments(
    a0: FloatArray, a1: FloatArray, p: FloatArray, sigma: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, variance and third central moment of ``m × (a⁰, or a¹ with probability p)``."""
    s2 = sigma**2
    mean = (1 - p) * a0 + p * a1
    raw2 = np.exp(s2) * ((1 - p) * a0**2 + p * a1**2)
    raw3 = np.exp(3 * s2) * ((1 - p) * a0**3 + p * a1**3)
    return mean, raw2 - mean**2, raw3 - 3 * mean * raw2 + 2 * mean**3


def _dominant(cell: IntArray, score: FloatArray, n_cells: int) -> IntArray:
    """Per cell, the entry with the largest positive ``score`` (-1 where none is positive)."""
    # Two scatter passes instead of a sort: the top score of each cell (NaN never wins), then
    # the first entry that reaches it.
    top = np.full(n_cells, -np.inf)
    np.fmax.at(top, cell, score)
    reaches = np.flatnonzero((score == top[cell]) & (score > 0))
    first = np.full(n_cells, cell.size, dtype=np.int64)
    np.minimum.at(first, cell[reaches], reaches)
    return np.where(first < cell.size, first, -1)


def _zero_probability(
    cell: IntArray, a0: FloatArray, a1: FloatArray, p: FloatArray, dom: IntArray, n_cells: int
) -> FloatArray:
    """P(no task but the dominant one puts hours in the cell), per cell.

    A task that reaches the cell both on time and late rules a zero out; one that reaches it
    only on time stays out with its ``p``, one only when late with ``1 − p``.
    """
    factor = np.where(a0 > 0, np.where(a1 > 0, 0.0, p), np.where(a1 > 0, 1.0 - p, 1.0))
    has = dom >= 0
    factor[dom[has]] = 1.0  # the dominant task is a component of its own
    blockers = _per_cell(cell, factor <= 0, n_cells)
    log_zero = _per_cell(cell, np.log(np.where(factor > 0, factor, 1.0)), n_cells)
    return np.where(blockers > 0, 0.0, np.exp(np.minimum(log_zero, 0.0)))


def _shifted_lognormal(
    mean: FloatArray, var: FloatArray, third: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(offset, factor, shape)`` of ``offset + factor × expm1(shape × N)`` with these moments.

    ``exp(σ N)`` has skewness ``(ω + 2) √(ω − 1)`` with ``ω = exp(σ²)``; solving that cubic
    for ``ω`` (closed form) gives the shape, the variance ``ω (ω − 1)`` the factor and the mean
    ``exp(σ² / 2)`` the offset. Negative skew mirrors it; tiny skew tends to the normal. A sum
    less skewed than a lognormal of its spread gets a lower bound below 0 h; the draws clip it.
    """
    sd = np.sqrt(var)
    skew = np.divide(third, var * sd, out=np.zeros_like(var), where=var > 0)
    g = np.maximum(np.abs(skew), MIN_SKEW)
    root = g * np.sqrt(1 + g**2 / 4)
    w1 = np.cbrt(1 + g**2 / 2 + root) + np.cbrt(1 + g**2 / 2 - root) - 2  # ω − 1
    w1 = np.maximum(w1, np.finfo(np.float64).eps * g)  # cancellation at tiny skew
    shape = np.sqrt(np.log1p(w1))
    factor = np.where(skew < 0, -1.0, 1.0) * sd / np.sqrt((1 + w1) * w1)
    return mean - factor * np.expm1(shape**2 / 2), factor, shape
