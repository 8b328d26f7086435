"""The offline demo and the stand-alone sandbox: the whole product with no credentials at all.

``run_demo`` starts the sandbox Asana with the demo organisation and a local Slack Web API,
builds the real bot against them, sends signed ``/capacity`` requests over HTTP, and prints
the Block Kit replies as text.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.bootstrap import Deps, bootstrap
from bot.clock import SystemClock, today_in
from bot.config import Settings
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
            slack_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
            slack_signing_secret=signing_secret,  # type: ignore[arg-type]
            slack_api_url=slack.base_url,
            asana_access_token=asana.token,  # type: ignore[arg-type]
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
    path = f"/response/{secrets.token_hex(6)}"
    reply = world.sender.command(
        text, user_id=user_id, response_url=world.slack.response_url(path.rsplit("/", 1)[1])
    )
    if reply.status != 200:
        return f"(the app answered HTTP {reply.status}: {reply.body})"
    acked = reply.json() if reply.body.strip() else {}
    if acked.get("blocks"):
        return render_blocks(acked["blocks"])
    deadline = time.monotonic() + timeout
    while True:
        answers = [c for c in world.slack.calls("response_url") if c.path == path]
        if answers:
            final = answers[-1].params
            return render_blocks(final.get("blocks") or []) or str(final.get("text", ""))
        if time.monotonic() > deadline:
            return f"(no answer within {timeout:.0f}s)"
        time.sleep(0.05)  # the answer is computed on the bot's listener thread


def run_demo(*, seed: int, interactive: bool, out: TextIO) -> int:
    """The tour: three questions as a team lead, then (in a terminal) your own."""
    with (
        tempfile.TemporaryDirectory(prefix="capacity-demo-") as tmp,
        demo_world(seed=seed, workdir=Path(tmp)) as world,
    ):
        lead_id, lead = next(iter(world.users.items()))
        team = str(world.org.people.iloc[0]["team"])
        other = str(world.org.teams.iloc[-1]["name"])
        out.write(
            f"Capacity Copilot demo — sandbox Asana at {world.asana.base_url} "
            f"({len(world.org.people)} people, {int((~world.org.tasks['completed']).sum())} "
            f"open tasks), local Slack at {world.slack.base_url}\n\n"
        )
        for text in ("", f"team {other} 6", "help", "team Nowhere"):
            out.write(f"─── {lead} ({team}) types: /capacity {text}\n")
            out.write(ask(world, text, user_id=lead_id) + "\n\n")
        out.write(
            "Try next: `capacity-copilot forecast --team Platform` against a running "
            "`capacity-copilot sandbox`, or connect your own Slack and Asana (README).\n"
        )
        if interactive:
            _repl(world, lead_id, out)
    return 0


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


def serve_sandbox(*, port: int, seed: int, token: str, out: TextIO) -> int:
    """Serve the demo organisation on ``port`` until interrupted, printing how to connect."""
    clock = SystemClock()
    org = generate_org(seed, today=today_in(clock, "UTC"))
    state = SandboxState()
    load_org(org, state)
    roster = write_roster(org, Path(tempfile.mkdtemp(prefix="capacity-sandbox-")) / "roster.csv")
    with AsanaSandbox(state, token=token).start(port=port) as sandbox:
        out.write(
            f"Sandbox Asana serving {len(org.people)} people and {len(org.tasks)} tasks "
            f"(seed {seed}, {datetime.now(UTC):%Y-%m-%d}).\n"
            f"ASANA_BASE_URL={sandbox.base_url}\nASANA_ACCESS_TOKEN={token}\n"
            f"ASANA_WORKSPACE_GID={state.workspace_gid}\nROSTER_PATH={roster}\n"
            "Press Ctrl-C to stop.\n"
        )
        out.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.write("stopped\n")
    return 0
