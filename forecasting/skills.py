"""Skills and proficiency: how people's levels and tasks' required skills are read and compared.

A ``people.skills`` cell holds ``(skill, level)`` pairs with levels 1..``TOP_LEVEL``; a
``tasks.required_skills`` cell holds skill names. Names compare lower-cased everywhere (the sync
and the roster already store them so). Shared by the rebalancer, suggestions and sprint
planning; pure, must not import ``bot``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

TOP_LEVEL = 5  # proficiency runs 1..5


def skill_levels(skills: object) -> dict[str, int]:
    """A ``people.skills`` cell as ``{skill: level}``; names lower-cased, the highest level kept."""
    levels: dict[str, int] = {}
    for entry in _cell(skills):
        if isinstance(entry, tuple | list) and len(entry) == 2:
            name, level = str(entry[0]).strip().lower(), int(entry[1])
            levels[name] = max(level, levels.get(name, level))
    return levels


def required_skills(value: object) -> tuple[str, ...]:
    """A ``tasks.required_skills`` cell as lower-cased names, duplicates dropped, order kept."""
    names = (str(s).strip().lower() for s in _cell(value))
    return tuple(dict.fromkeys(n for n in names if n))


def _cell(value: object) -> tuple[object, ...]:
    """A list cell as a tuple (validated frames hold tuples; raw ones may hold lists or NaN)."""
    return tuple(value) if isinstance(value, tuple | list | set | frozenset) else ()


def skill_gaps(levels: Mapping[str, int], required: Sequence[str], min_level: int) -> list[str]:
    """Why a person with ``levels`` cannot take work needing ``required``; empty when they can."""
    gaps = []
    for skill in required:
        level = levels.get(skill)
        if level is None:
            gaps.append(f"lacks skill '{skill}'")
        elif level < min_level:
            gaps.append(f"has '{skill}' at level {level}, below {min_level}")
    return gaps


def skills_phrase(required: Sequence[str], min_level: int) -> str:
    """``skill 'rust' at level ≥ 3`` / ``skills 'rust' and 'go'`` (no level when it is 1)."""
    quoted = [f"'{s}'" for s in required]
    names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    level = f" at level ≥ {min_level}" if min_level > 1 else ""
    return f"skill{'s' if len(quoted) > 1 else ''} {names}{level}"


def level_gap(levels: Mapping[str, int], required: Sequence[str]) -> int:
    """Levels missing to reach ``TOP_LEVEL`` in every required skill (0: an expert in all)."""
    return sum(TOP_LEVEL - min(levels.get(skill, 0), TOP_LEVEL) for skill in required)
