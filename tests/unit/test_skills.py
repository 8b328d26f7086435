from __future__ import annotations

from forecasting.skills import (
    TOP_LEVEL,
    level_gap,
    required_skills,
    skill_gaps,
    skill_levels,
    skills_phrase,
)


def test_levels_are_lower_cased_and_the_highest_level_is_kept() -> None:
    cell = (("Backend", 2), ("backend", 4), ("Data", 1), "malformed")
    assert skill_levels(cell) == {"backend": 4, "data": 1}


def test_a_missing_or_nan_cell_has_no_skills() -> None:
    assert skill_levels(float("nan")) == {}
    assert required_skills(None) == ()


def test_required_skills_drop_blanks_and_duplicates_in_order() -> None:
    assert required_skills(["Rust", " go ", "rust", ""]) == ("rust", "go")


def test_gaps_name_each_missing_skill_and_each_level_too_low() -> None:
    levels = {"rust": 2, "go": 4}
    assert skill_gaps(levels, ("rust", "go", "sql"), 3) == [
        "has 'rust' at level 2, below 3",
        "lacks skill 'sql'",
    ]
    assert skill_gaps(levels, ("go",), 3) == []


def test_phrase_mentions_the_level_only_above_one() -> None:
    assert skills_phrase(("rust",), 1) == "skill 'rust'"
    assert skills_phrase(("rust", "go", "sql"), 3) == "skills 'rust', 'go' and 'sql' at level ≥ 3"


def test_level_gap_counts_levels_missing_to_the_top() -> None:
    assert level_gap({"rust": TOP_LEVEL, "go": 2}, ("rust", "go", "sql")) == 0 + 3 + TOP_LEVEL
    assert level_gap({}, ()) == 0
