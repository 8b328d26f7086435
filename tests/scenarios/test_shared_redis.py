"""Two app instances sharing one real Redis race on the same click: the move is applied once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from bot import approvals
from bot.approvals import Actor, Outcome
from bot.bootstrap import Deps, bootstrap
from bot.clock import FixedClock
from bot.config import Secret, Settings
from sandbox.asana_server import AsanaSandbox
from tests.asana_orgs import NOW, planning_org
from tests.redis_server import running_redis

LEAD = Actor("U0LEAD0001", "lead@example.com")

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with running_redis() as url:  # never skipped: no Redis fails loudly
        yield url


def test_two_instances_on_one_redis_apply_a_raced_click_exactly_once(
    redis_url: str, make_asana_sandbox: Callable[..., AsanaSandbox]
) -> None:
    org = planning_org()
    asana = make_asana_sandbox(org.state)
    settings = Settings(
        asana_access_token=Secret(asana.token),
        asana_workspace_gid=org.state.workspace_gid,
        asana_base_url=asana.base_url,
        asana_timeout_s=5,
        state_url=redis_url,
        approvers=(LEAD.slack_id,),
    )
    with ExitStack() as stack:
        instances: list[Deps] = []
        for _ in range(2):
            deps = bootstrap(settings, clock=FixedClock(NOW))
            stack.callback(deps.close)
            instances.append(deps)
        proposal = approvals.propose(
            instances[0], team="Platform", requested_by=LEAD.slack_id, weeks=2
        )
        outcomes: list[Outcome] = []
        start = threading.Barrier(len(instances) * 3)

        def click(deps: Deps) -> None:
            start.wait()
            outcomes.append(approvals.decide(deps, LEAD, proposal.proposal_id, "m1", "approve"))

        threads = [
            threading.Thread(target=click, args=(deps,)) for deps in instances for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(o.ok for o in outcomes) == [False] * 5 + [True]
        assert sum(1 for e in asana.state.log() if e.method == "PUT") == 1
        assert asana.state.task(org.tax_report)["assignee"]["gid"] == org.ben
        audit = instances[1].audit
        assert [r.action for r in audit.records()].count("applied") == 1
        assert audit.verify().ok
