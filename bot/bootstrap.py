"""The composition root: build every outside-service object from ``Settings``, once.

Tests and the demo pass overrides (a sandbox gateway, a fixed clock, a temp store); nothing here
runs at import time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.asana.client import AsanaGateway
from bot.asana.sync import SyncScope, full_sync
from bot.asana.writeback import AsanaWriter
from bot.audit import AuditLog
from bot.clock import Clock, SystemClock, today_in
from bot.config import Settings
from bot.domain import Snapshot
from bot.forecasts import ModelCache
from bot.proposals import ProposalBook
from bot.roster import RosterEntry, load_roster
from bot.snapshots import SnapshotCache
from bot.store.factory import open_store
from bot.store.ports import Store


@dataclass
class Deps:
    """Everything a service function may need, built once per process."""

    settings: Settings
    clock: Clock
    store: Store
    asana: AsanaGateway
    roster: dict[str, RosterEntry]
    snapshots: SnapshotCache
    models: ModelCache
    workers: ThreadPoolExecutor  # Slack listener work, off the request thread
    book: ProposalBook
    audit: AuditLog

    @property
    def writer(self) -> AsanaWriter:
        """The one way to write to Asana (only ``bot.approvals`` calls it), reading effort in the
        unit of the effort field the current snapshot found."""
        effort = self.snapshots.get().effort_field
        return AsanaWriter(
            self.asana, workspace_gid=self.settings.asana_workspace_gid, effort_field=effort
        )

    def close(self) -> None:
        """Finish running work, drop queued work, then release connections and files."""
        self.workers.shutdown(wait=True, cancel_futures=True)
        self.models.close()
        self.asana.close()
        self.store.close()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    asana: AsanaGateway | None = None,
) -> Deps:
    """Build the object graph; each argument overrides the one built from settings."""
    clock = clock or SystemClock()
    store = store or open_store(settings.state_url)
    asana = asana or AsanaGateway(
        base_url=settings.asana_base_url,
        token=settings.asana_access_token,
        timeout_s=settings.asana_timeout_s,
        max_requests_per_minute=settings.asana_max_requests_per_minute,
    )
    roster = load_roster(settings.roster_path) if settings.roster_path else {}
    scope = sync_scope(settings)

    def sync() -> Snapshot:
        now = clock.now()
        return full_sync(
            asana, scope, today=today_in(clock, settings.timezone), now=now, roster=roster
        )

    snapshots = SnapshotCache(sync, clock, ttl_s=settings.snapshot_ttl_s)
    workers = ThreadPoolExecutor(
        max_workers=settings.slack_listener_threads, thread_name_prefix="copilot-worker"
    )
    # Fits (and their warm-up forecasts) run on a thread of their own.
    models = ModelCache(horizon_weeks=settings.forecast_weeks, lead_days=settings.lead_days)
    book = ProposalBook(store)
    audit = AuditLog(store, clock=clock)
    return Deps(settings, clock, store, asana, roster, snapshots, models, workers, book, audit)


def sync_scope(settings: Settings) -> SyncScope:
    """What the settings say to read from Asana."""
    return SyncScope(
        workspace_gid=settings.asana_workspace_gid,
        teams=settings.asana_teams,
        projects=settings.asana_projects,
        portfolio_gid=settings.asana_portfolio_gid,
        effort_field=settings.asana_effort_field,
        effort_unit=settings.asana_effort_unit,
        skills_field=settings.asana_skills_field,
        history_days=settings.asana_history_days,
        default_capacity_h=settings.default_weekly_capacity_h,
        default_country=settings.holiday_country,
        default_timezone=settings.timezone,
    )
