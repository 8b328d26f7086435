"""One exception tree for the shell; every error a user can cause has a friendly message.

CopilotError                      base; ``user_message`` is safe to show in Slack
├── ConfigError                   settings missing or malformed (lists every problem)
├── AsanaError                    Asana could not answer
│   ├── AsanaAuthError            token rejected (401/403)
│   ├── AsanaNotFound             a gid that does not exist (404)
│   ├── AsanaRateLimited          429 after our retries
│   └── AsanaUnavailable          network failure, timeout or 5xx after retries
├── StoreError                    the state store failed (SQLite or Redis)
├── LockNotAcquired               somebody else holds the lock
├── LookupFailed                  a team, person or task the user named is unknown
└── BadRequest                    a request the user wrote cannot be read (a scenario term, a date)
"""

from __future__ import annotations


class CopilotError(Exception):
    """Base of every error the shell raises on purpose.

    ``str(error)`` is the precise message for logs; ``user_message`` is the friendly one for
    Slack and the CLI, never containing a stack trace or a secret.
    """

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message or message


class ConfigError(CopilotError):
    """Settings are missing or malformed; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid settings ({len(self.problems)} problem(s)):\n{lines}")


class AsanaError(CopilotError):
    """Asana could not answer the request."""

    def __init__(
        self, message: str, *, status: int | None = None, user_message: str | None = None
    ) -> None:
        super().__init__(message, user_message=user_message)
        self.status = status


class AsanaAuthError(AsanaError):
    """The Asana token was rejected (401) or lacks access (403)."""


class AsanaNotFound(AsanaError):
    """The named Asana object does not exist or is not visible to the token (404)."""


class AsanaRateLimited(AsanaError):
    """Asana kept answering 429 after our retries."""


class AsanaUnavailable(AsanaError):
    """Asana could not be reached, timed out, or kept failing with 5xx."""


class StoreError(CopilotError):
    """The state store (SQLite or Redis) failed."""


class LockNotAcquired(CopilotError):
    """A lock is held by someone else."""


class LookupFailed(CopilotError):
    """A team, person or task the user named is unknown; ``choices`` lists valid names."""

    def __init__(self, message: str, *, choices: list[str] | None = None) -> None:
        super().__init__(message)
        self.choices = list(choices or [])


class BadRequest(CopilotError):
    """A request cannot be read; the message says which part and what form is expected."""
