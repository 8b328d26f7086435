"""The capacity-copilot command line, run as a real process against local servers."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from forecasting.synthetic import generate_org
from sandbox.asana_server import AsanaSandbox
from sandbox.slack_api import LocalSlack
from sandbox.slack_sender import SlackSender
from tests.asana_orgs import SmallOrg, planning_org, small_org
from tests.fakes.socket_mode import FakeSocketMode
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def org() -> SmallOrg:
    return small_org()


@pytest.fixture
def asana_env(
    org: SmallOrg, make_asana_sandbox: Callable[..., AsanaSandbox], tmp_path: Path
) -> dict[str, str]:
    sandbox = make_asana_sandbox(org.state)
    return {
        "ASANA_BASE_URL": sandbox.base_url,
        "ASANA_ACCESS_TOKEN": sandbox.token,
        "ASANA_WORKSPACE_GID": org.state.workspace_gid,
        "STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}",
        "ASANA_TIMEOUT_S": "5",
    }


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_forecast_prints_the_team_table_when_asana_is_configured(asana_env: dict[str, str]) -> None:
    result = run("forecast", "--team", "platform", "--weeks", "2", env=asana_env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Capacity · Platform · next 2 weeks"
    assert sorted(line.split("  ")[0] for line in lines if line.startswith(("Ana", "Ben"))) == [
        "Ana Alves",
        "Ben Brook",
    ]
    assert "1 unestimated" in result.stdout


def test_forecast_lists_every_missing_setting_when_none_are_set() -> None:
    result = run("forecast", "--team", "Platform")

    assert result.returncode == 2
    assert "ASANA_ACCESS_TOKEN is required (to read Asana)" in result.stderr
    assert "ASANA_WORKSPACE_GID is required (to read Asana)" in result.stderr
    assert "Traceback" not in result.stderr


def test_forecast_names_the_known_teams_when_the_team_is_unknown(
    asana_env: dict[str, str],
) -> None:
    result = run("forecast", "--team", "Marketing", env=asana_env)

    assert result.returncode == 1
    assert result.stderr.strip().endswith("(known: Data, Platform)")


def test_forecast_explains_a_rejected_token_without_a_stack_trace_when_it_is_wrong(
    asana_env: dict[str, str],
) -> None:
    env = {**asana_env, "ASANA_ACCESS_TOKEN": "wrong-token-7f3a"}

    result = run("forecast", "--team", "Platform", env=env)

    assert result.returncode == 1
    assert "access token is invalid or lacks access" in result.stderr
    assert "Traceback" not in result.stderr
    assert "wrong-token-7f3a" not in result.stderr


def test_sync_summarises_what_it_read_when_run(asana_env: dict[str, str]) -> None:
    result = run("sync", env=asana_env)

    assert result.returncode == 0, result.stderr
    assert ": 3 people in 2 teams, 2 projects, 5 open and 1 completed tasks, 1 time-off" in (
        result.stdout
    )
    assert "effort field: Estimated time;" in result.stdout


def test_demo_runs_its_tour_and_exits_when_input_is_not_a_terminal() -> None:
    result = run("demo", timeout=120)

    assert result.returncode == 0, result.stderr
    assert "types: /capacity team" in result.stdout
    assert "Capacity · Data · next 6 weeks" in result.stdout
    assert re.search(
        r"Forecast model `[0-9a-f]{12}` · learned from [\d,]+ completed tasks", result.stdout
    )
    assert re.search(r"`\s*\d+%` \d+–\d+ P\d+", result.stdout)  # expected load, range, P(over)
    assert "What to try next:" in result.stdout
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(bot_token="xoxb-cli").start() as local:
        local.add_user("U0ANA00001", "ana@example.com", "Ana")
        yield local


def test_serve_answers_a_signed_command_over_http_when_run_under_gunicorn(
    asana_env: dict[str, str], slack: LocalSlack
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **asana_env,
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_SIGNING_SECRET": "cli-secret",
        "SLACK_API_URL": slack.base_url,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), timeout=30)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", "cli-secret")

        reply = sender.command(
            "team Data", user_id="U0ANA00001", response_url=slack.response_url("cli")
        )

        assert reply.status == 200
        answer = slack.wait_for("response_url", timeout=30)[0]
        assert answer.params["blocks"][0]["text"]["text"] == "Capacity · Data · next 4 weeks"
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert "Traceback" not in err, err


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def test_sandbox_prints_how_to_connect_and_serves_when_started() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--token", "tok-1"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(7)]
        settings = dict(
            line.strip().removeprefix("export ").split("=", 1) for line in lines if "=" in line
        )
        request = urllib.request.Request(
            settings["ASANA_BASE_URL"] + "/workspaces",
            headers={"Authorization": "Bearer tok-1"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            workspaces = json.loads(response.read())["data"]
    finally:
        server.terminate()
        server.communicate(timeout=30)

    assert settings["ASANA_ACCESS_TOKEN"] == "tok-1"
    assert [w["gid"] for w in workspaces] == [settings["ASANA_WORKSPACE_GID"]]
    assert Path(settings["ROSTER_PATH"]).name == "roster.csv"


def test_serve_answers_a_command_over_socket_mode_when_started_with_socket(
    asana_env: dict[str, str],
) -> None:
    with (
        FakeSocketMode() as socket_mode,
        LocalSlack(
            bot_token="xoxb-cli", app_token="xapp-1-cli", socket_mode_url=socket_mode.url
        ).start() as slack,
    ):
        slack.add_user("U0ANA00001", "ana@example.com", "Ana")
        env = {
            **os.environ,
            **asana_env,
            "SLACK_BOT_TOKEN": "xoxb-cli",
            "SLACK_APP_TOKEN": "xapp-1-cli",
            "SLACK_API_URL": slack.base_url,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--socket"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            socket_mode.wait_connected()
            socket_mode.send(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": {
                        "command": "/capacity",
                        "text": "team Platform",
                        "user_id": "U0ANA00001",
                        "team_id": "T0LOCAL0001",
                        "channel_id": "C0LOCAL0001",
                        "response_url": slack.response_url("socket"),
                    },
                }
            )

            ack = socket_mode.wait_for_ack("env-1")
            answer = slack.wait_for("response_url", timeout=30)[0]
        finally:
            server.terminate()
            _, err = server.communicate(timeout=30)

    assert ack["payload"]["text"] == "Crunching the numbers…"
    assert answer.params["blocks"][0]["text"]["text"] == "Capacity · Platform · next 4 weeks"
    assert "Traceback" not in err, err


def test_backtest_prints_the_agreed_json_and_reports_skipped_rows_when_given_a_csv(
    tmp_path: Path,
) -> None:
    org = generate_org(5, today=date(2026, 11, 25), people=6, open_tasks=40, history_months=8)
    tasks = tmp_path / "tasks.csv"
    rows = [
        "task_id,assignee,project,estimate_hours,actual_hours,created_on,start_on,due_on,"
        "completed_on"
    ]
    for t in org.tasks[org.tasks["assignee_gid"].notna()].itertuples():
        cells = [
            t.gid,
            t.assignee_gid,
            t.project_gid,
            t.estimate_h,
            t.actual_h,
            t.created_at,
            t.start_on,
            t.due_on,
            t.completed_at if t.completed else None,
        ]
        rows.append(",".join("" if pd.isna(c) else _cell(c) for c in cells))
    rows.append("BAD,someone,P,lots,,,,,")
    tasks.write_text("\n".join(rows) + "\n")

    result = run("backtest", "--tasks", str(tasks), "--json", timeout=180)

    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert set(scores) == {"weeks_evaluated", "people", "model", "baselines", "slip_auc"}
    assert set(scores["baselines"]) == {"committed", "last_week", "ma4"}
    assert set(scores["model"]) == {"mae_1w", "mae_4w", "brier_over"}
    assert scores["people"] == 6 and scores["weeks_evaluated"] > 0
    assert f"skipped: tasks.csv:{len(rows)}: estimate_hours 'lots' is not a number" in (
        result.stderr
    )


def _cell(value: object) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


@pytest.fixture
def planning_env(make_asana_sandbox: Callable[..., AsanaSandbox], tmp_path: Path) -> dict[str, str]:
    org = planning_org()
    sandbox = make_asana_sandbox(org.state)
    return {
        "ASANA_BASE_URL": sandbox.base_url,
        "ASANA_ACCESS_TOKEN": sandbox.token,
        "ASANA_WORKSPACE_GID": org.state.workspace_gid,
        "STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}",
        "ASANA_TIMEOUT_S": "5",
    }


def test_rebalance_prints_numbered_moves_and_says_nothing_was_changed(
    planning_env: dict[str, str],
) -> None:
    result = run("rebalance", "--team", "platform", "--weeks", "2", env=planning_env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Rebalance · Platform · next 2 weeks"
    assert lines[1].startswith("Overload ")
    assert lines[-1] == "Nothing has been changed in Asana: approve moves in Slack to apply them."


def test_rebalance_json_holds_the_plan_and_its_evidence(planning_env: dict[str, str]) -> None:
    result = run("rebalance", "--team", "Platform", "--max-moves", "1", "--json", env=planning_env)

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["team"] == "Platform"
    assert len(body["moves"]) <= 1
    assert set(body) >= {"moves", "overload_before_h", "overload_after_h", "removed_h", "optimal"}
    assert re.fullmatch(r"[0-9a-f]{16}", body["snapshot_hash"])


def test_whatif_prints_the_scenario_and_the_plan_after(planning_env: dict[str, str]) -> None:
    result = run(
        "whatif",
        "--team",
        "Platform",
        "--out",
        "ben@example.com:2026-11-30..2026-12-04",
        "--new-project",
        "24:backend:2026-11-30..2026-12-11",
        env=planning_env,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "What if · Platform · next 4 weeks"
    assert lines[1].startswith("  - ")
    assert "In that world, the rebalancer would propose:" in lines


def test_whatif_explains_a_malformed_term_without_a_stack_trace(
    planning_env: dict[str, str],
) -> None:
    result = run("whatif", "--team", "Platform", "--out", "ben", env=planning_env)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "capacity-copilot: I could not read 'ben': write it as PERSON:FROM..TO."
    )
    assert "Traceback" not in result.stderr


def test_suggest_json_ranks_candidates(planning_env: dict[str, str]) -> None:
    result = run("suggest", "--task", "Audit log", "--json", env=planning_env)

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["task_name"] == "Audit log"
    assert body["ranked"] and body["why"]


def test_sprint_lists_what_does_not_fit(planning_env: dict[str, str]) -> None:
    today = date.today()
    start, end = today.isoformat(), (today + pd.Timedelta(days=13)).isoformat()
    result = run(
        "sprint",
        "--team",
        "Platform",
        "--backlog",
        "Roadmap",
        "--from",
        start,
        "--to",
        end,
        env=planning_env,
    )

    assert result.returncode == 0, result.stderr
    assert "Not planned:" in result.stdout
    assert "Rust rewrite" in result.stdout


def test_audit_verify_passes_then_names_the_edited_event_after_a_byte_changes(
    tmp_path: Path,
) -> None:
    from bot.audit import AuditLog
    from bot.clock import FixedClock
    from bot.store.sqlite import SqliteStore

    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    log = AuditLog(store, clock=FixedClock(datetime(2026, 11, 25, 10, tzinfo=UTC)))
    for n in range(3):
        log.append({"actor_slack": "U1", "action": "approved", "target": f"t{n}", "result": "ok"})
    store.close()
    env = {"STATE_URL": f"sqlite:///{path}"}

    intact = run("audit", "verify", env=env)
    exported = run("audit", "export", "--format", "jsonl", env=env)
    with sqlite3.connect(path) as db:
        seq, entry = db.execute(
            "SELECT seq, entry FROM logs WHERE entry LIKE '%\"t1\"%'"
        ).fetchone()
        db.execute("UPDATE logs SET entry = ? WHERE seq = ?", (entry.replace('"t1"', '"t9"'), seq))
    tampered = run("audit", "verify", env=env)

    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit log intact: 3 events")
    assert [json.loads(line)["target"] for line in exported.stdout.splitlines()] == [
        "t0",
        "t1",
        "t2",
    ]
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stderr and "2" in tampered.stderr
