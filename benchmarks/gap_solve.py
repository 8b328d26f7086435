"""Solve one OR-Library GAP instance file with ``solve_assignment`` and print the plan as JSON.

    python -m benchmarks.gap_solve FILE [--maximize] [--time-limit S] [--seed N]

Prints ``{"objective": ..., "feasible": ..., "assignment": [agent per job], "seconds": ...}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.gap_instances import read_gap
from forecasting.assignment import solve_assignment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, help="instance file: m n, costs, weights, capacities")
    parser.add_argument("--maximize", action="store_true", help="treat costs as profits")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    problem = read_gap(args.file, maximize=args.maximize)
    result = solve_assignment(problem, time_limit_s=args.time_limit, seed=args.seed)
    objective: float | int | None = None
    if result.feasible:
        objective = int(result.objective) if result.objective.is_integer() else result.objective
    print(
        json.dumps(
            {
                "objective": objective,
                "feasible": result.feasible,
                "assignment": [int(agent) for agent in result.assignment],
                "seconds": round(result.seconds, 3),
            }
        )
    )
    return 0 if result.feasible else 1


if __name__ == "__main__":
    raise SystemExit(main())
