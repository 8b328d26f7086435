"""Asana's OpenAPI spec, loaded once per process, and checks of recorded exchanges against it.

The corrections applied on loading are `sandbox.openapi_errata`. Used by the contract tests (and
usable by a strict sandbox); imports nothing from the bot.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from sandbox.asana_model import INJECTED_HEADER, Exchange
from sandbox.openapi_errata import SPEC_ERRATA

# From the project root the spec is ../shared/specs/asana/asana_oas.yaml.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/specs/asana/asana_oas.yaml"
# The spec's only server; exchanges are validated as if they had gone to it.
ASANA_HOST = "https://app.asana.com"
_ALWAYS_RETURNED = frozenset({"gid", "resource_type"})


class _BearerProvider(BaseProvider):
    # OAuth 2 access tokens travel in the same `Authorization: Bearer` header as personal
    # access tokens; openapi-core has no oauth2 provider (it warns and accepts anything).
    def __call__(self, parameters: RequestParameters) -> Any:
        scheme, _, token = str(parameters.header.get("Authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise SecurityProviderError("Missing bearer token.")
        return token


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": _BearerProvider}


@dataclass
class _Request:
    """An Exchange's request in openapi-core's Request protocol (which mutates `parameters`)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass(frozen=True)
class _Response:
    """An Exchange's response in openapi-core's Response protocol."""

    status_code: int
    headers: Headers
    content_type: str
    data: bytes | None


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as the checks need it."""

    operation_id: str
    method: str
    pattern: re.Pattern[str]  # matches the request path, /api/1.0 included
    opt_fields: frozenset[str]  # every property path the operation can return
    query_params: frozenset[str]  # every query parameter it declares


def _describe(error: Exception) -> str:
    """An openapi-core error with the schema errors that caused it, one line each."""
    cause = error.__cause__ or error
    details = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in getattr(cause, "schema_errors", ()) or ()
    ]
    head = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    return "; ".join([head, *details])


class AsanaSpec:
    """Asana's OpenAPI document (with `SPEC_ERRATA` applied) and the exchange checks."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # Building the app also checks the document is valid OpenAPI 3.0 (about a second).
        config = Config(security_provider_factory=_SecurityProviders())
        self._openapi = OpenAPI(SchemaPath.from_dict(document), config=config)
        self._lock = threading.Lock()  # openapi-core caches are not documented thread-safe
        self._operations = self._index_operations()
        error_schema = {"$ref": "#/components/schemas/ErrorResponse", **document}
        self._error_validator = OAS30Validator(error_schema)

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC_PATH) -> AsanaSpec:
        """Parse the YAML, apply the errata and check the result is a valid OpenAPI 3.0 doc."""
        with path.open("rb") as handle:
            raw = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        # YAML reads unquoted response codes (`200:`) as integers; OpenAPI keys are strings.
        document: dict[str, Any] = json.loads(json.dumps(raw, default=str))
        for erratum in SPEC_ERRATA:
            if erratum.apply(document) == 0:
                raise ValueError(f"spec erratum {erratum.name!r} no longer applies; remove it")
        return cls(document)

    def _index_operations(self) -> list[Operation]:
        found = []
        for template, item in self.document["paths"].items():
            pattern = re.compile("/api/1.0" + re.sub(r"\{\w+\}", "[^/]+", template))
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                params = [self._parameter(p) for p in shared + operation.get("parameters", [])]
                enum: list[str] = next(
                    (p["schema"]["items"]["enum"] for p in params if p["name"] == "opt_fields"),
                    [],
                )
                queries = frozenset(p["name"] for p in params if p["in"] == "query")
                found.append(
                    Operation(
                        operation["operationId"], method.upper(), pattern, frozenset(enum), queries
                    )
                )
        # Literal segments beat templates (/users/me before /users/{user_gid}).
        found.sort(key=lambda op: op.pattern.pattern.count("[^/]+"))
        return found

    def _parameter(self, parameter: dict[str, Any]) -> dict[str, Any]:
        if "$ref" not in parameter:
            return parameter
        resolved: dict[str, Any] = self.document["components"]["parameters"][
            parameter["$ref"].rsplit("/", 1)[-1]
        ]
        return resolved

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving `method path` (path from /api/1.0 on), if the spec has one."""
        for operation in self._operations:
            if operation.method == method.upper() and operation.pattern.fullmatch(path):
                return operation
        return None

    def _request(self, exchange: Exchange, query: dict[str, str]) -> _Request:
        headers = Headers(list(exchange.request_headers.items()))
        return _Request(
            host_url=ASANA_HOST,
            path=exchange.path,
            method=exchange.method.lower(),
            body=exchange.request_body or None,
            content_type=headers.get("Content-Type", "application/json").lower(),
            parameters=RequestParameters(query=ImmutableMultiDict(query), header=headers),
        )

    def request_problems(self, exchange: Exchange) -> list[str]:
        """Where the request breaks the spec (empty when it conforms).

        Beyond openapi-core's checks, query parameters the operation does not declare count:
        Asana ignores them silently, so a misspelt filter would quietly return other data.
        """
        found = self.operation(exchange.method, exchange.path)
        query = dict(exchange.query)
        problems = []
        if found is not None:
            allowed = set(found.query_params)
            if "offset" in allowed:
                # The SDK's page iterator sends `limit` to every list call, including the
                # offset-only ones (/workspaces/{gid}/users, /teams/{gid}/users); Asana
                # accepts it there.
                allowed.add("limit")
            problems += [
                f"request: query parameter {name!r} is not declared by {found.operation_id}"
                for name in sorted(set(query) - allowed)
            ]
            if found.operation_id == "getTasks" and query.get("completed_since") == "now":
                # GET /tasks types completed_since as date-time, but Asana accepts the keyword
                # "now" there as on /projects/{gid}/tasks, whose shared parameter documents it.
                query["completed_since"] = "2000-01-01T00:00:00.000Z"
        try:
            with self._lock:
                self._openapi.validate_request(self._request(exchange, query))
        except Exception as error:  # openapi-core raises a tree of exception types
            problems.append(f"request: {_describe(error)}")
        return problems

    def response_problems(self, exchange: Exchange) -> list[str]:
        """Where the response breaks the spec's declared response for the operation."""
        headers = Headers(list(exchange.response_headers.items()))
        response = _Response(
            exchange.status,
            headers,
            headers.get("Content-Type", "").lower(),
            exchange.response_body,
        )
        if self.operation(exchange.method, exchange.path) is None:
            # No such route: Asana answers 404 with its usual error body.
            return self._error_body_problems(exchange, 404)
        try:
            with self._lock:
                self._openapi.validate_response(
                    self._request(exchange, dict(exchange.query)), response
                )
        except ResponseNotFound:
            if headers.get(INJECTED_HEADER) == "injected":
                # A fault a test forced (say a 503 from a proxy) can have a status no operation
                # declares; its body must still be Asana's error shape.
                return self._error_body_problems(exchange, exchange.status)
            return [f"response: status {exchange.status} is not declared for this operation"]
        except Exception as error:
            return [f"response: {_describe(error)}"]
        return []

    def _error_body_problems(self, exchange: Exchange, expected_status: int) -> list[str]:
        if exchange.status != expected_status:
            return [f"response: answered {exchange.status}, expected {expected_status}"]
        try:
            body = json.loads(exchange.response_body)
        except ValueError:
            return ["response: error body is not JSON"]
        with self._lock:
            errors = [e.message for e in self._error_validator.iter_errors(body)]
        return [f"response: error body: {message}" for message in errors]

    def field_problems(self, exchange: Exchange) -> list[str]:
        """Properties in a 2xx `data` that the operation's opt_fields enum does not declare.

        Response schemas cannot catch an invented property (they allow additional ones), but
        every operation enumerates the property paths it can return in `opt_fields`.
        """
        found = self.operation(exchange.method, exchange.path)
        if found is None or not found.opt_fields or not 200 <= exchange.status < 300:
            return []
        declared = found.opt_fields
        data = json.loads(exchange.response_body).get("data")
        return [
            f"fields: {path!r} is not a property this operation declares"
            for path in sorted(set(_property_paths(data, "")))
            if path not in declared
        ]

    def problems(self, exchange: Exchange) -> list[str]:
        """The contract for one exchange.

        A successful (2xx) exchange needs a conforming request, a conforming response and only
        declared properties. A refused one needs a conforming error response; its request may
        break the spec (that is often why it was refused).
        """
        found = []
        if exchange.status < 400:
            found += self.request_problems(exchange)
            found += self.field_problems(exchange)
        found += self.response_problems(exchange)
        return found

    def check(self, exchanges: Iterable[Exchange]) -> list[str]:
        """Every problem across the exchanges, each prefixed with the request it concerns."""
        return [
            f"{e.method} {e.path} -> {e.status}: {problem}"
            for e in exchanges
            for problem in self.problems(e)
        ]


def _property_paths(node: Any, prefix: str) -> Iterable[str]:
    if isinstance(node, list):
        for item in node:
            yield from _property_paths(item, prefix)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in _ALWAYS_RETURNED:
                continue
            path = f"{prefix}{key}"
            yield path
            yield from _property_paths(value, path + ".")


@functools.cache
def load_spec(path: Path = DEFAULT_SPEC_PATH) -> AsanaSpec:
    """The spec at `path`, parsed and checked once per process (it is 66k lines of YAML)."""
    return AsanaSpec.load(path)
