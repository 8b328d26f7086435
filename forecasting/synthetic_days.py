"""Day numbers of the synthetic organisation (days since 1970-01-01) and their conversions.

Pure numpy and pandas; must not import ``bot`` or ``sandbox``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Days = npt.NDArray[np.int64]  # days since 1970-01-01


def busday(days: Days, roll: Literal["forward", "backward"]) -> Days:
    """Each day rolled to a weekday (Monday to Friday) in the direction of ``roll``."""
    shifted = np.busday_offset(days.astype("datetime64[D]"), 0, roll=roll)
    return np.asarray(shifted).astype(np.int64)


def dates(days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """Day numbers (int64 minimum = missing) to ``datetime64[ns]``."""
    return np.asarray(days).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def day_numbers(values: pd.Series) -> Days:
    """A column of dates (``datetime64``) to day numbers."""
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
