"""Approve, write back, audit: the approval use cases against the sandbox Asana and a real store."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import approvals
from bot.approvals import Actor
from bot.approvals.recovery import append_intent
from bot.proposals import Proposal
from sandbox.asana_writes import update_task
from tests.asana_orgs import PlanningOrg, planning_org
from tests.scenarios.conftest import Bot

LEAD = Actor("U0LEAD0001", "lead@example.com")
ADMIN = Actor("U0ADMIN001", "admin@example.com")
STRANGER = Actor("U0STRANGER", "zed@elsewhere.com")


@pytest.fixture
def org() -> PlanningOrg:
    return planning_org()


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"approvers": (LEAD.slack_id,), "admins": (ADMIN.email,)}


@pytest.fixture
def proposal(bot: Bot) -> Proposal:
    made = approvals.propose(bot.deps, team="Platform", requested_by=LEAD.slack_id, weeks=2)
    assert [(m.task_name, m.to_name) for m in made.moves] == [("Tax report", "Ben Brook")]
    return made


def assignee(bot: Bot, gid: str) -> str:
    return str(bot.asana.state.task(gid)["assignee"]["gid"])


def writes(bot: Bot) -> list[str]:
    return [f"{e.method} {e.path}" for e in bot.asana.state.log() if e.method != "GET"]


def actions(bot: Bot) -> list[str]:
    return [r.action for r in bot.deps.audit.records()]


def test_approve_applies_the_move_comments_and_audits(bot: Bot, proposal: Proposal):
    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    assert (outcome.ok, outcome.state) == (True, "applied")
    assert assignee(bot, bot.org.tax_report) == bot.org.ben
    (story,) = [s for s in bot.asana.state.stories(bot.org.tax_report) if s["type"] == "comment"]
    assert story["text"].startswith(
        "Reassigned from Ana Alves to Ben Brook by Capacity Copilot after approval by "
        "lead@example.com in Slack — reason: Ana Alves is at 125 %"
    )
    assert actions(bot) == ["proposed", "approved", "applied"]
    applied = bot.deps.audit.records()[-1]
    assert applied.before == {
        "assignee_gid": bot.org.ana,
        "start_on": "2026-11-30",
        "due_on": "2026-12-04",
    }
    assert applied.after["assignee_gid"] == bot.org.ben
    assert (applied.proposal_id, applied.move_id) == (proposal.proposal_id, "m1")
    assert applied.snapshot_hash == proposal.snapshot_hash


def test_approve_all_applies_every_pending_move(bot: Bot, proposal: Proposal):
    outcomes = approvals.decide_all(bot.deps, LEAD, proposal.proposal_id, "approve")

    assert [o.state for o in outcomes] == ["applied"]
    assert assignee(bot, bot.org.tax_report) == bot.org.ben


def test_reject_records_the_decision_and_writes_nothing(bot: Bot, proposal: Proposal):
    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "reject")

    assert outcome.state == "rejected"
    assert writes(bot) == []
    assert actions(bot) == ["proposed", "rejected"]


def test_a_double_click_applies_the_move_once(bot: Bot, proposal: Proposal):
    results: list[approvals.Outcome] = []

    def click() -> None:
        results.append(approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve"))

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    assert sorted(o.ok for o in results) == [False, True]
    assert [w for w in writes(bot) if w.startswith("PUT")] == [
        f"PUT /api/1.0/tasks/{bot.org.tax_report}"
    ]
    assert actions(bot).count("applied") == 1


def test_a_click_by_someone_else_is_refused_and_audited(bot: Bot, proposal: Proposal):
    outcome = approvals.decide(bot.deps, STRANGER, proposal.proposal_id, "m1", "approve")

    assert not outcome.ok
    assert outcome.text == "Only approvers of Platform can decide these moves; nothing was changed."
    assert writes(bot) == []
    assert bot.deps.audit.records()[-1].action == "refused:approve"


def test_a_task_changed_since_the_proposal_is_refused_as_stale(bot: Bot, proposal: Proposal):
    update_task(bot.asana.state, bot.org.tax_report, {"assignee": bot.org.cy})

    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    assert (outcome.state, outcome.stale, outcome.retry) == ("failed", True, False)
    assert assignee(bot, bot.org.tax_report) == bot.org.cy
    assert writes(bot) == []


def test_an_asana_failure_marks_the_move_failed_and_retry_applies_it(bot: Bot, proposal: Proposal):
    bot.asana.fail_next("PUT", "/tasks/", status=500, times=4)  # the first try and 3 retries

    failed = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")
    unchanged = assignee(bot, bot.org.tax_report)
    retried = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "retry")

    assert (failed.state, failed.retry) == ("failed", True)
    assert unchanged == bot.org.ana
    assert retried.state == "applied"
    assert assignee(bot, bot.org.tax_report) == bot.org.ben
    assert actions(bot) == ["proposed", "approved", "failed", "applied"]


def test_undo_restores_the_previous_assignee(bot: Bot, proposal: Proposal):
    approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "undo")

    assert outcome.state == "undone"
    assert assignee(bot, bot.org.tax_report) == bot.org.ana
    assert actions(bot)[-1] == "undone"


def test_an_expired_proposal_cannot_be_approved(bot: Bot, proposal: Proposal):
    bot.deps.clock.at += timedelta(hours=25)  # type: ignore[attr-defined]

    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    assert outcome.state == "expired"
    assert writes(bot) == []


def test_shadow_mode_writes_nothing(bot: Bot, proposal: Proposal):
    assert approvals.set_mode(bot.deps, ADMIN, "shadow") == "Mode is now *shadow* (was suggest)."

    outcome = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    assert not outcome.ok
    assert outcome.text.startswith("Shadow mode")
    assert writes(bot) == []


def test_paused_writes_refuse_every_approval_until_resumed(bot: Bot, proposal: Proposal):
    approvals.set_paused(bot.deps, ADMIN, True)
    refused = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")
    approvals.set_paused(bot.deps, ADMIN, False)
    applied = approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")

    assert refused.text == "Writes to Asana are paused by an admin; nothing was changed."
    assert applied.state == "applied"


def test_only_admins_change_the_mode_or_pause_writes(bot: Bot):
    assert approvals.set_paused(bot.deps, LEAD, True) == "Only admins can pause or resume writes."
    assert not approvals.writes_paused(bot.deps)


def test_a_crash_between_the_write_and_its_record_is_recovered_on_restart(
    bot: Bot, proposal: Proposal
):
    bot.deps.book.advance(
        proposal.proposal_id, "m1", "approved", actor=LEAD.slack_id, at=bot.deps.clock.now()
    )
    bot.deps.book.advance(
        proposal.proposal_id, "m1", "applying", actor=LEAD.slack_id, at=bot.deps.clock.now()
    )
    append_intent(bot.deps, f"{proposal.proposal_id}:m1", "open", actor=LEAD.slack_id)
    bot.deps.writer.reassign(bot.org.tax_report, bot.org.ben)  # the process dies here

    assert approvals.recover_intents(bot.deps) == 1

    record = bot.deps.book.record(proposal.proposal_id, "m1")
    assert record is not None and record.state == "applied"
    assert bot.deps.audit.records()[-1].result == "ok (recovered after a restart)"
    assert approvals.open_intents(bot.deps) == {}


def test_audit_verify_passes_after_every_decision_and_fails_after_one_byte_changes(
    bot: Bot, proposal: Proposal, tmp_path: Path
):
    approvals.decide(bot.deps, STRANGER, proposal.proposal_id, "m1", "approve")
    approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")
    approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "undo")
    assert bot.deps.audit.verify().ok

    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        seq, entry = db.execute(
            "SELECT seq, entry FROM logs WHERE name = 'audit' AND entry LIKE '%\"approved\"%'"
        ).fetchone()
        db.execute(
            "UPDATE logs SET entry = ? WHERE name = 'audit' AND seq = ?",
            (entry.replace("U0LEAD0001", "U0LEAD0002"), seq),
        )

    assert not bot.deps.audit.verify().ok


def test_recovery_records_a_write_that_was_audited_but_not_marked_without_a_second_event(
    bot: Bot, proposal: Proposal
):
    approvals.decide(bot.deps, LEAD, proposal.proposal_id, "m1", "approve")
    key = f"move:{proposal.proposal_id}:m1"
    record = bot.deps.store.get(key)
    bot.deps.store.set(key, {**record, "state": "applying"})  # died before marking it applied
    append_intent(bot.deps, f"{proposal.proposal_id}:m1", "open", actor=LEAD.slack_id)

    assert approvals.recover_intents(bot.deps) == 1

    assert actions(bot).count("applied") == 1
    after = bot.deps.book.record(proposal.proposal_id, "m1")
    assert after is not None and after.state == "applied"
