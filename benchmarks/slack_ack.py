"""Slack ack latency under load, with a slow Asana behind the bot.

Starts the sandbox Asana (demo organisation, ``--latency-ms`` added to every request) and the
local Slack Web API in this process, then ``capacity-copilot serve`` as a real process
(gunicorn) against them. After a warm-up that posts one rebalance proposal per team, it sends
``--requests`` signed requests, ``--concurrency`` at a time, over HTTP: slash commands (help,
mode, team workloads, rebalances) and proposal button clicks (approve, reject, undo, approve
all, reject all), and measures the time to each HTTP answer, i.e. the ack Slack waits for.
Prints p50/p99/max ack time and the errors; exits 1 if p99 >= ``--budget-ms`` or any request
failed (non-200 or no answer).

    python -m benchmarks.slack_ack [--requests 500] [--concurrency 50] [--latency-ms 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

from bot.slack import ids
from forecasting.synthetic import generate_org
from sandbox.asana_server import AsanaSandbox, SandboxState
from sandbox.demo_org import load_org, write_roster
from sandbox.slack_api import LocalSlack
from sandbox.slack_sender import SlackSender

BOT_TOKEN = "xoxb-bench"
CHANNEL = "C0BENCH0001"
CLICKS = (
    (ids.APPROVE, 0.35),
    (ids.REJECT, 0.25),
    (ids.UNDO, 0.1),
    (ids.APPROVE_ALL, 0.15),
    (ids.REJECT_ALL, 0.15),
)


@dataclass(frozen=True)
class Result:
    """One request: what it was, how long its answer took, and what went wrong if anything."""

    kind: str
    seconds: float
    error: str | None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=200.0, help="added to Asana calls")
    parser.add_argument("--budget-ms", type=float, default=300.0, help="p99 ack budget")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        del os.environ[name]  # urllib would send even 127.0.0.1 requests through a proxy

    rng = random.Random(args.seed)
    org = generate_org(args.seed, today=date.today())
    state = SandboxState()
    load_org(org, state)
    users = {f"U{100000 + i:06d}": p for i, p in enumerate(org.people.itertuples())}
    admin = next(iter(users))
    with (
        tempfile.TemporaryDirectory(prefix="slack-ack-bench-") as tmp,
        AsanaSandbox(state, latency_s=args.latency_ms / 1000).start() as asana,
        LocalSlack(bot_token=BOT_TOKEN).start() as slack,
    ):
        for user_id, person in users.items():
            slack.add_user(user_id, str(person.email), str(person.name))
        secret = secrets.token_hex(16)
        port = _free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": slack.base_url,
            "ASANA_ACCESS_TOKEN": asana.token,
            "ASANA_WORKSPACE_GID": state.workspace_gid,
            "ASANA_BASE_URL": asana.base_url,
            "ROSTER_PATH": str(write_roster(org, Path(tmp) / "roster.csv")),
            "STATE_URL": f"sqlite:///{Path(tmp) / 'state.sqlite3'}",
            "ADMINS": admin,
            "MODE": "suggest",
            "SOLVER_TIME_LIMIT_S": "2",
            "LOG_LEVEL": "warning",
        }
        log_path = Path(tmp) / "serve.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [_cli(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, server, timeout=60)
            sender = SlackSender(base + ids.EVENTS_PATH, secret, team_id=slack.team_id)
            teams = [str(t) for t in org.teams["name"]]
            print(
                f"serve pid {server.pid} on {base}; Asana latency {args.latency_ms:.0f} ms; "
                f"{len(users)} people in {len(teams)} teams"
            )
            moves = _warm_up(sender, slack, admin, teams)
            print(f"warm-up: {len(moves)} proposal buttons to click")
            signer = SignatureVerifier(secret)
            plan = [
                _plan(rng, signer, slack, users, admin, teams, moves) for _ in range(args.requests)
            ]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                results = list(pool.map(lambda planned: _send(port, planned), plan))
            elapsed = time.perf_counter() - started
            return _report(results, elapsed, args, slack)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            tail = log_path.read_text().strip().splitlines()[-15:]
            if tail:
                print("serve log (last lines):\n  " + "\n  ".join(tail))


def _warm_up(
    sender: SlackSender, slack: LocalSlack, admin: str, teams: list[str]
) -> list[tuple[str, str | None]]:
    """Post one proposal per team (syncs Asana and fits the model); returns button values."""
    for team in teams:
        reply = sender.command(
            f"rebalance {team}",
            user_id=admin,
            channel_id=CHANNEL,
            response_url=slack.response_url(),
        )
        if reply.status != 200:
            raise SystemExit(f"warm-up command failed: HTTP {reply.status} {reply.body}")
    deadline = time.monotonic() + 600
    while len(slack.calls("response_url")) < len(teams):
        if time.monotonic() > deadline:
            raise SystemExit("warm-up: no answer to the rebalance commands within 10 minutes")
        time.sleep(0.2)
    found: list[tuple[str, str | None]] = []
    for call in slack.calls("chat.postMessage"):
        for block in call.params.get("blocks", []):
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    proposal_id, _, move_id = str(element["value"]).partition(":")
                    found.append((proposal_id, move_id or None))
    if not found:
        answers = [c.params.get("text") for c in slack.calls("response_url")]
        raise SystemExit(f"warm-up: no proposal with buttons was posted: {answers}")
    return found


@dataclass(frozen=True)
class Planned:
    """One request, built and signed before the clock starts, so only the server is timed."""

    kind: str
    body: bytes
    headers: dict[str, str]


def _plan(
    rng: random.Random,
    signer: SignatureVerifier,
    slack: LocalSlack,
    users: dict[str, Any],
    admin: str,
    teams: list[str],
    moves: list[tuple[str, str | None]],
) -> Planned:
    """A slash command (half of them) or a proposal button click, signed as Slack signs."""
    user = admin if rng.random() < 0.7 else rng.choice(list(users))
    if rng.random() < 0.5:
        kind = "command"
        text = rng.choices(
            ["help", "mode", f"team {rng.choice(teams)} 2", "", f"rebalance {rng.choice(teams)}"],
            weights=[2, 2, 4, 2, 1],
        )[0]
        body = urlencode(
            {
                "team_id": slack.team_id,
                "channel_id": CHANNEL,
                "user_id": user,
                "command": ids.COMMAND,
                "text": text,
                "api_app_id": "A0LOCAL0001",
                "response_url": slack.response_url(),
                "trigger_id": f"{int(time.time())}.1.bench",
            }
        )
    else:
        kind = rng.choices([a for a, _ in CLICKS], weights=[w for _, w in CLICKS])[0]
        proposal_id, move_id = rng.choice(moves)
        whole = kind in (ids.APPROVE_ALL, ids.REJECT_ALL)
        value = proposal_id if whole else f"{proposal_id}:{move_id or 'm1'}"
        body = "payload=" + quote(json.dumps(_click_payload(slack, kind, value, user)))
    timestamp = str(int(time.time()))
    return Planned(
        kind,
        body.encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(signer.generate_signature(timestamp=timestamp, body=body)),
        },
    )


def _click_payload(slack: LocalSlack, action_id: str, value: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": slack.team_id},
        "team": {"id": slack.team_id},
        "api_app_id": "A0LOCAL0001",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1700000000.000100"},
        "channel": {"id": CHANNEL},
        "trigger_id": f"{int(time.time())}.1.bench",
        "response_url": slack.response_url(),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "bench",
                "value": value,
                "action_ts": f"{time.time():.6f}{secrets.token_hex(2)}",
            }
        ],
    }


def _send(port: int, planned: Planned) -> Result:
    """POST on a new connection, as Slack does, and time it until the answer is read."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", ids.EVENTS_PATH, planned.body, planned.headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError as exc:
        return Result(planned.kind, time.perf_counter() - started, f"no answer: {exc}")
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    return Result(planned.kind, seconds, None if status == 200 else f"HTTP {status}")


def _report(
    results: list[Result], elapsed: float, args: argparse.Namespace, slack: LocalSlack
) -> int:
    times = sorted(r.seconds * 1000 for r in results)
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(round(0.99 * len(times))) - 1)]
    errors = Counter(r.error for r in results if r.error)
    kinds = Counter(r.kind for r in results)
    print(
        f"{len(results)} requests ({dict(kinds)}) at {args.concurrency} concurrent in "
        f"{elapsed:.1f} s"
    )
    print(f"ack p50 {p50:.1f} ms · p99 {p99:.1f} ms · max {times[-1]:.1f} ms")
    print(f"errors: {sum(errors.values())} {dict(errors) if errors else ''}".rstrip())
    done = Counter(c.method for c in slack.calls())
    print(
        "work done after the acks so far: "
        f"{done['chat.update']} chat.update, {done['chat.postEphemeral']} ephemeral, "
        f"{done['response_url']} command answers, {done['chat.postMessage']} proposals posted"
    )
    ok = p99 < args.budget_ms and not errors
    print("PASS" if ok else f"FAIL (budget p99 < {args.budget_ms:.0f} ms and no errors)")
    return 0 if ok else 1


def _cli() -> str:
    here = Path(sys.executable).parent / "capacity-copilot"
    return str(here) if here.exists() else "capacity-copilot"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(base: str, server: subprocess.Popen[bytes], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"capacity-copilot serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + ids.HEALTH_PATH, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"capacity-copilot serve was not healthy within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
