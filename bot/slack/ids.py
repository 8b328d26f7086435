"""Every Slack identifier the app registers or sends, typed once."""

from __future__ import annotations

COMMAND = "/capacity"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# Buttons of a proposal message (and of the App Home). Values carry "proposal_id:move_id", or
# the proposal id alone for the whole-proposal buttons.
APPROVE = "proposal_approve"
REJECT = "proposal_reject"
APPROVE_ALL = "proposal_approve_all"
REJECT_ALL = "proposal_reject_all"
RETRY = "proposal_retry"
UNDO = "proposal_undo"
FRESH_PROPOSAL = "proposal_fresh"
PROPOSAL_ACTIONS = (APPROVE, REJECT, APPROVE_ALL, REJECT_ALL, RETRY, UNDO, FRESH_PROPOSAL)

APP_HOME_OPENED = "app_home_opened"
