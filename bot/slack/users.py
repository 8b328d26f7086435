"""Who a Slack user is to us: their email (``users.info``, cached) and the approvals ``Actor``."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals import Actor
from bot.bootstrap import Deps

log = logging.getLogger(__name__)
EMAIL_TTL_S = 24 * 3600


def slack_email(deps: Deps, client: WebClient, user_id: str, team_id: str) -> str | None:
    """The email of a Slack user (``users.info``, scope users:read.email), cached for a day."""
    if not user_id:
        return None
    key = f"slack:email:{team_id}:{user_id}"
    cached = deps.store.get(key)
    if isinstance(cached, str):
        return cached or None
    try:
        profile = client.users_info(user=user_id)["user"].get("profile", {})
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("users.info %s failed: %s", user_id, error)
        if error in ("user_not_found", "user_not_visible"):
            deps.store.set(key, "", ttl_s=EMAIL_TTL_S)  # asking again would not help
        return None
    email = str(profile.get("email") or "").lower()
    deps.store.set(key, email, ttl_s=EMAIL_TTL_S)
    return email or None


def actor_of(deps: Deps, client: WebClient, user_id: str, team_id: str) -> Actor:
    """The clicker as approvals sees them; the Asana user comes from the cached snapshot only
    (a decision never waits for a sync just to label the audit event)."""
    email = slack_email(deps, client, user_id, team_id)
    return Actor(slack_id=user_id, email=email, asana_gid=_asana_gid(deps, email))


def _asana_gid(deps: Deps, email: str | None) -> str | None:
    snapshot = deps.snapshots.peek()
    if not email or snapshot is None:
        return None
    people = snapshot.people
    match = people.loc[people["email"].fillna("").str.lower() == email, "gid"]
    return str(match.iloc[0]) if len(match) else None
