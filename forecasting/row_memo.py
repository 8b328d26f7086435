"""The row memo: outputs of a fitted, row-wise estimator kept per exact feature row.

Lets repeated forecasts skip the predictions of unchanged rows; pure numpy, must not import
``bot`` (nor the models that use it).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from typing import cast

import numpy as np

from forecasting.calendar import FloatArray, IntArray

MEMO_ROWS = 200_000  # feature rows whose predictions a memo keeps (~45 MB at 15 features)


class RowMemo:
    """Outputs of a fitted, row-wise estimator, kept per exact feature row (its bytes).

    A row whose bytes equal one seen before gets the output computed for it then: the
    estimators scored here (boosted trees, their calibration) treat rows independently and
    deterministically, so a hit is the number a fresh prediction would give. It lets repeated
    forecasts of the same or slightly changed data skip the predictions of unchanged rows.
    The rows are forgotten when the estimator, or any of its attributes (a refit), is another
    object than before; at most :data:`MEMO_ROWS` are kept (older ones dropped all at once).
    """

    def __init__(self) -> None:
        # One attribute, replaced whole: a thread never pairs one estimator's rows with another.
        self._state: tuple[tuple[object, ...], dict[bytes, float]] = ((), {})

    def apply(
        self, estimator: object, matrix: FloatArray, compute: Callable[[IntArray], FloatArray]
    ) -> FloatArray:
        """One output per row of ``matrix``; ``compute(rows)`` gives those of unseen rows."""
        rows = np.ascontiguousarray(matrix, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] == 0:
            return compute(np.arange(len(rows)))
        fitted = (estimator, *getattr(estimator, "__dict__", {}).values())
        seen, known = self._state
        if len(seen) != len(fitted) or any(a is not b for a, b in zip(seen, fitted, strict=False)):
            known = {}
            self._state = (fitted, known)
        row_bytes = np.dtype((np.void, rows.itemsize * rows.shape[1]))
        keys = cast(list[bytes], rows.view(row_bytes).ravel().tolist())
        if not known:  # the first call after a fit: nothing to look up
            out = compute(np.arange(len(keys)))
            if len(keys) <= MEMO_ROWS:
                known.update(zip(keys, out.tolist(), strict=True))
            return out
        # NaN marks a miss; a NaN output, were there one, would only be computed again.
        out = np.fromiter(map(known.get, keys, repeat(np.nan)), np.float64, len(keys))
        miss = np.flatnonzero(np.isnan(out))
        if miss.size:
            out[miss] = compute(miss)
            if len(known) + miss.size <= MEMO_ROWS:
                new = [keys[i] for i in miss.tolist()]
                known.update(zip(new, out[miss].tolist(), strict=True))
            else:  # start again from the rows of this call
                known = {}
                self._state = (fitted, known)
                if len(keys) <= MEMO_ROWS:
                    known.update(zip(keys, out.tolist(), strict=True))
        return out
