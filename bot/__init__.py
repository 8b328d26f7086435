"""The imperative shell of Capacity Copilot: Slack, Asana, state, the agent and the CLI."""

__version__ = "0.1.0"
