"""The ``capacity-copilot`` command line: serve, demo, sandbox, sync, forecast, backtest, and
the planning commands of :mod:`bot.cli_plan`.

An entry point: it configures logging, turns settings problems into one readable message and
exit code 2, and a failed request to Asana into a friendly line and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot import cli_plan
from bot.config import Settings, load_settings, log_level
from bot.errors import ConfigError, CopilotError, LookupFailed

log = logging.getLogger("bot.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=log_level(os.environ),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"capacity-copilot: {exc}\nSee .env.example for every setting.", file=sys.stderr)
        return 2
    except LookupFailed as exc:
        choices = f" (known: {', '.join(exc.choices)})" if exc.choices else ""
        print(f"capacity-copilot: {exc.user_message}{choices}", file=sys.stderr)
        return 1
    except CopilotError as exc:
        log.debug("command failed: %s", exc)
        print(f"capacity-copilot: {exc.user_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capacity-copilot",
        description="Slack-first capacity planning copilot on top of Asana.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the Slack app (HTTP, or --socket)")
    serve.add_argument("--port", type=int, help="HTTP port (default: PORT, 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="bind address (default 0.0.0.0)")
    serve.add_argument("--socket", action="store_true", help="Socket Mode instead of HTTP")
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="offline tour: sandbox Asana + local Slack, no credentials")
    demo.add_argument("--seed", type=int, default=7, help="demo organisation seed")
    demo.add_argument(
        "--once", action="store_true", help="run the tour and exit (default when not a terminal)"
    )
    demo.set_defaults(run=_demo)

    sandbox = sub.add_parser("sandbox", help="run the local Asana-compatible server")
    sandbox.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sandbox.add_argument("--seed", type=int, default=7, help="demo organisation seed")
    sandbox.add_argument("--token", default="sandbox-token", help="bearer token to accept")
    sandbox.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every request"
    )
    sandbox.add_argument(
        "--requests-per-minute", type=int, help="answer 429 past this many requests a minute"
    )
    sandbox.set_defaults(run=_sandbox)

    sync = sub.add_parser("sync", help="read Asana once and summarise what was found")
    sync.set_defaults(run=_sync)

    forecast = sub.add_parser("forecast", help="print a team's or a person's weekly load")
    who = forecast.add_mutually_exclusive_group(required=True)
    who.add_argument("--team", help="team name")
    who.add_argument("--person", help="email, name or Asana gid")
    forecast.add_argument("--weeks", type=_weeks, help="weeks ahead, 1-12 (default 4)")
    forecast.set_defaults(run=_forecast)

    backtest = sub.add_parser(
        "backtest", help="rolling-origin evaluation of the forecast on a team's history (CSV)"
    )
    backtest.add_argument("--tasks", type=Path, required=True, help="tasks.csv (see README)")
    backtest.add_argument("--time-log", type=Path, help="log.csv: person, date, hours")
    backtest.add_argument("--horizon-weeks", type=_weeks, default=4, help="weeks ahead (4)")
    backtest.add_argument("--json", action="store_true", help="print one JSON object")
    backtest.set_defaults(run=_backtest)

    cli_plan.register(sub, weeks=_weeks)

    audit = sub.add_parser("audit", help="check or export the tamper-evident audit log")
    audit_sub = audit.add_subparsers(required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="exit 0 when the hash chain is intact, else 1")
    verify.set_defaults(run=_audit_verify)
    export = audit_sub.add_parser("export", help="print the events as JSONL or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", type=_since, help="only events from this date (YYYY-MM-DD)")
    export.set_defaults(run=_audit_export)
    return parser


def _weeks(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of weeks") from None
    if not 1 <= value <= 12:
        raise argparse.ArgumentTypeError("weeks must be between 1 and 12")
    return value


def _since(raw: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {raw!r}") from None


def _settings(*require: str) -> Settings:
    return load_settings(os.environ, require=require)


def _serve(args: argparse.Namespace) -> int:
    from bot.approvals import open_intents, recover_intents
    from bot.bootstrap import bootstrap
    from bot.slack.app import build_app
    from bot.slack.server import serve_http, serve_socket
    from bot.slack.web import create_wsgi_app

    settings = _settings("asana", "slack_socket" if args.socket else "slack_http")
    deps = bootstrap(settings)
    try:
        if open_intents(deps):  # a previous process died between an Asana write and its record
            log.warning("recovered %d interrupted write(s)", recover_intents(deps))
        app = build_app(settings, deps)
        if args.socket:
            serve_socket(app, settings.slack_app_token)
        else:
            serve_http(
                create_wsgi_app(app, deps.store),
                host=args.host,
                port=args.port or settings.port,
                threads=settings.slack_listener_threads,
            )
    finally:
        deps.close()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    interactive = sys.stdin.isatty() and not args.once
    if log_level(os.environ) == "INFO":
        logging.getLogger().setLevel(logging.WARNING)  # the tour's own output tells the story
    return run_demo(seed=args.seed, interactive=interactive, out=sys.stdout)


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.demo import serve_sandbox

    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly (temp roster removed) on TERM too

    return serve_sandbox(
        port=args.port,
        seed=args.seed,
        token=args.token,
        out=sys.stdout,
        latency_s=args.latency_ms / 1000,
        requests_per_minute=args.requests_per_minute,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _sync(args: argparse.Namespace) -> int:
    from bot import services
    from bot.bootstrap import bootstrap

    deps = bootstrap(_settings("asana"))
    try:
        snap = services.sync_now(deps)
    finally:
        deps.close()
    effort = snap.effort_field.name if snap.effort_field else "none found"
    open_tasks = int((~snap.tasks["completed"]).sum())
    print(
        f"Synced workspace {snap.workspace_gid}: {len(snap.people)} people in "
        f"{len(snap.teams)} teams, {len(snap.projects)} projects, {open_tasks} open and "
        f"{len(snap.tasks) - open_tasks} completed tasks, {len(snap.time_off)} time-off "
        f"entries; effort field: {effort}; {snap.api_calls} Asana API calls."
    )
    for warning in snap.warnings:
        print(f"warning: {warning}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from bot.history_csv import read_history
    from forecasting.backtest import run_backtest

    imported = read_history(args.tasks, args.time_log)
    for problem in imported.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    result = run_backtest(
        imported.tasks, time_log=imported.time_log, horizon_weeks=args.horizon_weeks
    )
    scores = result.to_json()
    if args.json:
        print(json.dumps(scores))
        return 0
    print(f"Backtest: {scores['weeks_evaluated']} weeks, {scores['people']} people")
    print(f"{'forecast':<12}{'MAE 1w (h)':>12}{'MAE 4w (h)':>12}{'Brier over':>12}")
    for name, values in [("model", scores["model"]), *scores["baselines"].items()]:
        cells = (values.get(k) for k in ("mae_1w", "mae_4w", "brier_over"))
        print(f"{name:<12}" + "".join(f"{'—' if v is None else f'{v:.3f}':>12}" for v in cells))
    slip = scores["slip_auc"]
    print(f"slip AUC: {'— (no dated tasks to score)' if slip is None else f'{slip:.3f}'}")
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from bot import services
    from bot.bootstrap import bootstrap
    from bot.tables import workload_table

    deps = bootstrap(_settings("asana"))
    try:
        if args.team:
            report = services.get_team_workload(
                deps, team=args.team, weeks=args.weeks, wait_for_model=True
            )
        else:
            report = services.get_person_workload(
                deps, person=args.person, weeks=args.weeks, wait_for_model=True
            )
    finally:
        deps.close()
    print(workload_table(report))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from bot.audit import AuditLog
    from bot.clock import SystemClock
    from bot.store.factory import open_store

    store = open_store(_settings().state_url)
    try:
        result = AuditLog(store, clock=SystemClock()).verify()
    finally:
        store.close()
    if result.ok:
        print(f"audit log intact: {result.count} events, last hash {result.last_hash}")
        return 0
    print(f"audit log TAMPERED: {result.reason}", file=sys.stderr)
    return 1


def _audit_export(args: argparse.Namespace) -> int:
    from bot.audit import AuditLog
    from bot.clock import SystemClock
    from bot.store.factory import open_store

    store = open_store(_settings().state_url)
    try:
        sys.stdout.write(AuditLog(store, clock=SystemClock()).export(args.format, since=args.since))
    finally:
        store.close()
    return 0
