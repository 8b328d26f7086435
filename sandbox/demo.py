"""The offline demo and the stand-alone sandbox: the whole product with no credentials at all.

``run_demo`` starts the sandbox Asana with the demo organisation and a local Slack Web API,
builds the real bot against them, sends signed ``/capacity`` requests over HTTP, and prints
the Block Kit replies as text.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import services
from bot.bootstrap import Deps, bootstrap
from bot.clock import SystemClock, today_in
from bot.config import Secret, Settings
from bot.slack import ids
from bot.slack.app import build_app
from bot.slack.web import create_wsgi_app
from forecasting.synthetic import SyntheticOrg, generate_org
from sandbox.asana_server import AsanaSandbox, SandboxState
from sandbox.console import render_blocks
from sandbox.demo_org import load_org, write_roster
from sandbox.slack_api import LocalSlack
from sandbox.slack_sender import SlackSender
from sandbox.wsgi_host import WsgiHost

log = logging.getLogger(__name__)
BOT_TOKEN = "xoxb-local-demo"


@dataclass
class DemoWorld:
    """Everything the demo runs: the organisation, the servers and the bot."""

    org: SyntheticOrg
    asana: AsanaSandbox
    slack: LocalSlack
    deps: Deps
    sender: SlackSender
    users: dict[str, str]  # Slack user id -> person name


@contextmanager
def demo_world(
    *, seed: int, workdir: Path, clock: SystemClock | None = None
) -> Iterator[DemoWorld]:
    """Start the sandbox, the local Slack and the bot; stop them all on exit."""
    clock = clock or SystemClock()
    org = generate_org(seed, today=today_in(clock, "UTC"))
    state = SandboxState()
    load_org(org, state)
    roster = write_roster(org, workdir / "roster.csv")
    with ExitStack() as stack:
        asana = stack.enter_context(AsanaSandbox(state).start())
        users = {f"U{100000 + i:06d}": str(p.name) for i, p in enumerate(org.people.itertuples())}
        slack = stack.enter_context(LocalSlack(bot_token=BOT_TOKEN).start())
        for (user_id, _), p in zip(users.items(), org.people.itertuples(), strict=True):
            slack.add_user(user_id, str(p.email), str(p.name), tz=str(p.timezone or "UTC"))
        signing_secret = secrets.token_hex(16)
        settings = Settings(
            slack_bot_token=Secret(BOT_TOKEN),
            slack_signing_secret=Secret(signing_secret),
            slack_api_url=slack.base_url,
            asana_access_token=Secret(asana.token),
            asana_workspace_gid=state.workspace_gid,
            asana_base_url=asana.base_url,
            roster_path=roster,
            state_url=f"sqlite:///{workdir / 'state.sqlite3'}",
        )
        deps = bootstrap(settings, clock=clock)
        stack.callback(deps.close)
        app = build_app(settings, deps)
        host = stack.enter_context(WsgiHost(create_wsgi_app(app, deps.store)))
        sender = SlackSender(host.url + ids.EVENTS_PATH, signing_secret)
        yield DemoWorld(org, asana, slack, deps, sender, users)


def ask(world: DemoWorld, text: str, *, user_id: str, timeout: float = 30.0) -> str:
    """Send ``/capacity text`` as ``user_id`` and return the final reply rendered as text.

    Quick answers (help, errors) come back in the ack itself; workload answers arrive later
    on the command's ``response_url``, which is unique per question.
    """
    key = secrets.token_hex(6)
    reply = world.sender.command(text, user_id=user_id, response_url=world.slack.response_url(key))
    if reply.status != 200:
        return f"(the app answered HTTP {reply.status}: {reply.body})"
    acked = reply.json() if reply.body.strip() else {}
    if acked.get("blocks"):
        return render_blocks(acked["blocks"])
    deadline = time.monotonic() + timeout
    while True:
        answers = [c for c in world.slack.calls("response_url") if c.path.endswith(key)]
        if answers:
            final = answers[-1].params
            return render_blocks(final.get("blocks") or []) or str(final.get("text", ""))
        if time.monotonic() > deadline:
            return f"(no answer within {timeout:.0f}s)"
        time.sleep(0.05)  # the answer is computed on the bot's listener thread


def run_demo(*, seed: int, interactive: bool, out: TextIO) -> int:
    """The tour: a team lead's questions, then (in a terminal) your own."""
    with (
        tempfile.TemporaryDirectory(prefix="capacity-demo-") as tmp,
        demo_world(seed=seed, workdir=Path(tmp)) as world,
    ):
        people = world.org.people
        lead_id, lead = next(iter(world.users.items()))
        colleague_id = list(world.users)[len(world.users) // 2]
        other_team = str(world.org.teams.iloc[-1]["name"])
        out.write(
            f"Capacity Copilot demo: a generated organisation of {len(people)} people in "
            f"{len(world.org.teams)} teams with {int((~world.org.tasks['completed']).sum())} "
            f"open tasks,\nserved by a local Asana ({world.asana.base_url}); the real bot "
            f"answers signed Slack requests and replies through a local Slack Web API.\n\n"
        )
        out.write("Reading Asana and learning from its history…\n")
        out.flush()
        fitted = services.prepare_model(world.deps, wait=True)
        out.write(f"Forecast model: {fitted.note}.\n\n")
        questions = ("", f"team {other_team} 6", f"<@{colleague_id}> 2", "help", "team Nowhere")
        for text in questions:
            out.write(f"─── {lead} ({people.iloc[0]['team']}) types: /capacity {text}\n")
            out.write(ask(world, text, user_id=lead_id) + "\n\n")
        out.write(NEXT_STEPS)
        if interactive:
            _repl(world, lead_id, out)
    return 0


NEXT_STEPS = """What to try next:
  • Run `make demo` (or `capacity-copilot demo`) in a terminal and type your own questions,
    e.g. `team Product 8` or `6`.
  • Serve this organisation and use the CLI against it:
      capacity-copilot sandbox --port 8765      # then export the four lines it prints
      capacity-copilot forecast --team Platform --weeks 6
  • Connect a real Slack workspace and Asana: README.md, "Connecting a real Slack workspace".
"""


def _repl(world: DemoWorld, user_id: str, out: TextIO) -> None:
    out.write("Type what follows /capacity (empty line or Ctrl-D to quit).\n")
    while True:
        try:
            text = input("/capacity ")
        except EOFError:
            return
        if not text.strip():
            return
        out.write(ask(world, text, user_id=user_id) + "\n")


def serve_sandbox(
    *,
    port: int,
    seed: int,
    token: str,
    out: TextIO,
    latency_s: float = 0.0,
    requests_per_minute: int | None = None,
) -> int:
    """Serve the demo organisation on ``port`` until interrupted, printing how to connect."""
    clock = SystemClock()
    org = generate_org(seed, today=today_in(clock, "UTC"))
    state = SandboxState()
    load_org(org, state)
    sandbox = AsanaSandbox(
        state, token=token, latency_s=latency_s, requests_per_minute=requests_per_minute
    )
    with tempfile.TemporaryDirectory(prefix="capacity-sandbox-") as tmp, sandbox.start(port=port):
        roster = write_roster(org, Path(tmp) / "roster.csv")
        out.write(
            f"Sandbox Asana: {len(org.people)} people in {len(org.teams)} teams, "
            f"{int((~org.tasks['completed']).sum())} open tasks (seed {seed}).\n"
            "Point the bot at it with:\n"
            f"  export ASANA_BASE_URL={sandbox.base_url}\n"
            f"  export ASANA_ACCESS_TOKEN={token}\n"
            f"  export ASANA_WORKSPACE_GID={state.workspace_gid}\n"
            f"  export ROSTER_PATH={roster}\n"
            "Press Ctrl-C to stop.\n"
        )
        out.flush()
        try:
            sandbox.wait()
        except KeyboardInterrupt:
            out.write("stopped\n")
    return 0
