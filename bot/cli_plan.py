"""The planning commands of ``capacity-copilot``: rebalance, whatif, suggest, sprint.

Read-only: each reads Asana (or the sandbox) once, plans, and prints a table or ``--json``.
Errors reach :func:`bot.cli.main`, which turns them into one friendly line and an exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from bot.config import Settings, load_settings
from bot.scenario_terms import FORMS, ScenarioTerms

if TYPE_CHECKING:
    from bot.bootstrap import Deps

T = TypeVar("T")


def register(sub: Any, *, weeks: Callable[[str], int]) -> None:
    """Add the planning subcommands to ``sub`` (an argparse subparsers action)."""
    rebalance = sub.add_parser(
        "rebalance", help="propose moves that relieve a team's overloaded weeks (read-only)"
    )
    rebalance.add_argument("--team", required=True, help="team name")
    rebalance.add_argument("--weeks", type=weeks, help="weeks ahead, 1-12 (default 4)")
    rebalance.add_argument("--max-moves", type=_count, help="most moves (default MAX_MOVES)")
    rebalance.add_argument(
        "--shift-weeks",
        type=_count,
        default=0,
        help="also allow moving due dates up to this many working weeks later (default 0)",
    )
    rebalance.add_argument("--json", action="store_true", help="print one JSON object")
    rebalance.set_defaults(run=_rebalance)

    whatif = sub.add_parser(
        "whatif", help="forecast a team with and without a scenario, and the moves after"
    )
    whatif.add_argument("--team", required=True, help="team name")
    whatif.add_argument("--weeks", type=weeks, help="weeks ahead, 1-12 (default 4)")
    for flag, text in (
        ("out", "someone out (full days)"),
        ("new-project", "a new project's hours of one skill, split over the team's skilled"),
        ("shift", "move a project's or a task's dates by N working days (negative: earlier)"),
        ("capacity", "someone's weekly hours change from a date (part time, more time)"),
        ("hire", "a new hire in the team, e.g. Zoe:backend/4+data:40:2027-01-04"),
        ("remove", "a task removed"),
        ("defer", "a task starts no earlier than DATE"),
    ):
        whatif.add_argument(
            f"--{flag}", action="append", default=[], metavar=FORMS[flag], help=text
        )
    whatif.add_argument(
        "--no-rebalance", action="store_true", help="skip the rebalancer's proposal after"
    )
    whatif.add_argument("--json", action="store_true", help="print one JSON object")
    whatif.set_defaults(run=_whatif)

    suggest = sub.add_parser("suggest", help="rank who should take a task (read-only)")
    suggest.add_argument("--task", required=True, help="task gid or exact name")
    suggest.add_argument("--hours", type=_hours, help="effort, when the task has no estimate")
    suggest.add_argument("--team", help="candidates from this team (default: the task's)")
    suggest.add_argument("--weeks", type=weeks, help="weeks ahead, 1-12 (default 4)")
    suggest.add_argument("--json", action="store_true", help="print one JSON object")
    suggest.set_defaults(run=_suggest)

    sprint = sub.add_parser("sprint", help="choose the backlog items that fit a sprint")
    sprint.add_argument("--team", required=True, help="team name")
    sprint.add_argument("--backlog", required=True, help="project gid or name")
    sprint.add_argument("--section", help="only this section of the project")
    sprint.add_argument("--from", dest="start", required=True, type=_day, help="YYYY-MM-DD")
    sprint.add_argument("--to", dest="end", required=True, type=_day, help="YYYY-MM-DD")
    sprint.add_argument(
        "--focus", type=_share, default=1.0, help="share of free capacity to plan (default 1)"
    )
    sprint.add_argument("--json", action="store_true", help="print one JSON object")
    sprint.set_defaults(run=_sprint)


def _settings(*require: str) -> Settings:
    return load_settings(os.environ, require=require)


def _planned(work: Callable[[Deps], T]) -> T:
    """Run ``work`` on deps built from the settings (Asana required), solver output to stderr."""
    from bot.bootstrap import bootstrap  # the forecasting stack loads only when a command runs

    with solver_output_to_stderr():
        deps = bootstrap(_settings("asana"))
        try:
            return work(deps)
        finally:
            deps.close()


@contextmanager
def solver_output_to_stderr() -> Iterator[None]:
    """Send what native solvers print to stdout (HiGHS can, and scipy cannot silence it) to
    stderr while planning, so that stdout carries only the table or the JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _hours(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of hours, got {raw!r}")
    return value


def _share(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {raw!r}")
    return value


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {raw!r}") from None


def _rebalance(args: argparse.Namespace) -> int:
    from bot import planning
    from bot.plan_tables import rebalance_json, rebalance_table

    result = _planned(
        lambda deps: planning.propose_rebalance(
            deps,
            team=args.team,
            weeks=args.weeks,
            max_moves=args.max_moves,
            shift_weeks=args.shift_weeks,
        )
    )
    if args.json:
        print(
            json.dumps(
                rebalance_json(result.plan, team=result.team, snapshot_hash=result.snapshot_hash)
            )
        )
        return 0
    print(
        rebalance_table(
            result.plan, team=result.team, names=result.world.names, weeks=result.world.weeks
        )
    )
    return 0


def _whatif(args: argparse.Namespace) -> int:
    from bot import planning
    from bot.plan_tables import whatif_json, whatif_table

    terms = ScenarioTerms(
        out=args.out,
        new_project=args.new_project,
        shift=args.shift,
        capacity=args.capacity,
        hire=args.hire,
        remove=args.remove,
        defer=args.defer,
    )
    result = _planned(
        lambda deps: planning.run_what_if(
            deps,
            team=args.team,
            terms=terms,
            weeks=args.weeks,
            rebalance_after=not args.no_rebalance,
        )
    )
    if args.json:
        body = whatif_json(result.answer, team=result.team, snapshot_hash=result.snapshot_hash)
        print(json.dumps(body))
        return 0
    print(
        whatif_table(
            result.answer, team=result.team, names=result.world.names, weeks=result.world.weeks
        )
    )
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from bot import planning
    from bot.plan_tables import jsonable, suggestion_table

    suggestion, _ = _planned(
        lambda deps: planning.suggest_assignee(
            deps, task=args.task, hours=args.hours, team=args.team, weeks=args.weeks
        )
    )
    print(json.dumps(jsonable(suggestion)) if args.json else suggestion_table(suggestion))
    return 0


def _sprint(args: argparse.Namespace) -> int:
    from bot import planning
    from bot.plan_tables import jsonable, sprint_table

    plan, _ = _planned(
        lambda deps: planning.plan_team_sprint(
            deps,
            team=args.team,
            backlog=args.backlog,
            section=args.section,
            start=args.start,
            end=args.end,
            focus=args.focus,
        )
    )
    print(json.dumps(jsonable(plan)) if args.json else sprint_table(plan, team=args.team))
    return 0
