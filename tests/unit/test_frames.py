from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from forecasting import frames
from tests.builders import a_task, tasks_frame


def _raw(*rows: dict) -> pd.DataFrame:
    """Task rows as a caller would build them: strings, dates and lists, not yet validated."""
    return pd.DataFrame(list(rows), columns=[c.name for c in frames.TASKS])


def test_validate_returns_an_equal_frame_when_a_validated_frame_is_validated_again():
    validated = tasks_frame(
        a_task(gid="a", due_on=date(2025, 3, 14), required_skills=("go",)),
        a_task(gid="b", assignee_gid=None, section=None, estimate_h=None),
    )

    again = frames.validate("tasks", validated)

    pd.testing.assert_frame_equal(again, validated)
    assert again is not validated


def test_validate_rejects_an_empty_name_when_the_column_already_holds_objects():
    tasks = tasks_frame(a_task(gid="a"), a_task(gid="b"))
    tasks["name"] = pd.Series(["first", None], dtype=object)

    with pytest.raises(
        frames.FrameError, match=re.escape("tasks.name must not be empty (rows [1])")
    ):
        frames.validate("tasks", tasks)


def test_validate_writes_none_for_nan_when_an_optional_text_column_holds_it():
    tasks = tasks_frame(a_task(gid="a"), a_task(gid="b"))
    tasks["section"] = pd.Series(["Doing", np.nan], dtype=object)

    validated = frames.validate("tasks", tasks)

    assert validated["section"].tolist() == ["Doing", None]


def test_validate_drops_the_time_of_day_when_a_date_column_carries_one():
    tasks = tasks_frame(a_task(gid="a"))
    tasks["due_on"] = pd.Series([datetime(2025, 3, 14, 17, 30)], dtype="datetime64[ns]")

    validated = frames.validate("tasks", tasks)

    assert validated["due_on"].tolist() == [pd.Timestamp(2025, 3, 14)]


def test_validate_numbers_rows_from_zero_when_given_a_selection_of_rows():
    tasks = tasks_frame(a_task(gid="a"), a_task(gid="b"), a_task(gid="c"))

    validated = frames.validate("tasks", tasks.iloc[[2, 0]])

    assert validated.index.tolist() == [0, 1]
    assert validated["gid"].tolist() == ["c", "a"]


def test_validate_leaves_the_callers_frame_alone_when_the_result_is_changed():
    tasks = tasks_frame(a_task(gid="a", remaining_h=5.0))

    validated = frames.validate("tasks", tasks)
    validated.loc[0, "remaining_h"] = 1.0
    validated["gid"] = "changed"

    assert tasks.loc[0, "remaining_h"] == 5.0
    assert tasks["gid"].tolist() == ["a"]


def test_validate_passes_a_trusted_frame_unchecked_only_inside_the_block():
    bad = _raw(a_task(gid="a", name=None))
    twin = bad.copy()
    message = re.escape("tasks.name must not be empty (rows [0])")

    with frames.trusted("tasks", bad):
        passed = frames.validate("tasks", bad)
        with pytest.raises(frames.FrameError, match=message):
            frames.validate("tasks", twin)  # equal content, another object
        with pytest.raises(frames.FrameError, match=re.escape("people: missing column(s)")):
            frames.validate("people", bad)  # trusted for its own contract only
    with pytest.raises(frames.FrameError, match=message):
        frames.validate("tasks", bad)

    assert passed["gid"].tolist() == ["a"] and passed is not bad
