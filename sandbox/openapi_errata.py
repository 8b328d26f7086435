"""Errata: narrow, documented corrections of Asana's OpenAPI spec where it disagrees with real
Asana, applied to the parsed document before `sandbox.openapi` builds its checks.

Pure functions over the document (a dict); imports nothing from `sandbox` or the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Erratum:
    """A narrow, documented correction of the spec where it disagrees with real Asana.

    `apply` patches the in-memory document and returns how many places it changed; loading
    fails if that is 0, so an erratum the spec no longer needs is noticed and removed.
    """

    name: str
    reason: str
    apply: Callable[[dict[str, Any]], int]


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _nullable_references(document: dict[str, Any]) -> int:
    # Asana marks a nullable reference as allOf: [{$ref: X}, {nullable: true, ...}]. Under OAS
    # 3.0.3 `nullable` only applies next to a `type` in the same schema, so the $ref branch
    # still rejects null; real Asana returns null there (e.g. an unassigned task's assignee).
    changed = 0
    for node in list(_walk(document)):
        members = node.get("allOf")
        if not isinstance(members, list):
            continue
        if not (node.get("nullable") or any(m.get("nullable") for m in members)):
            continue
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        node.clear()
        node.update(rest)
        node["anyOf"] = [{"allOf": members}, {"enum": [None]}]
        changed += 1
    return changed


def _custom_field_values(document: dict[str, Any]) -> int:
    # Task create/update bodies declare custom_fields values as strings only, but the same
    # property's description (and Asana's custom-fields guide) says a value is "an enum GID,
    # string, number, object, or array", and `null` clears a value.
    changed = 0
    for node in _walk(document["components"]["schemas"]):
        prop = node.get("properties", {}).get("custom_fields")
        if not isinstance(prop, dict) or prop.get("type") != "object":
            continue
        values = prop.get("additionalProperties")
        if isinstance(values, dict) and values.get("type") == "string":
            prop["additionalProperties"] = {
                "description": values.get("description", ""),
                "anyOf": [
                    {"type": "string"},
                    {"type": "number"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "object"},
                    {"enum": [None]},
                ],
            }
            changed += 1
    return changed


def _rate_limit_responses(document: dict[str, Any]) -> int:
    # Asana answers any request over its rate limits with 429, a Retry-After header and the
    # usual error body (developers.asana.com/docs/rate-limits), but no operation declares 429.
    changed = 0
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch") and "429" not in operation.get(
                "responses", {}
            ):
                operation["responses"]["429"] = {
                    "description": "Rate limited.",
                    "headers": {
                        "Retry-After": {
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorResponse"}
                        }
                    },
                }
                changed += 1
    return changed


def _pretty_allow_empty(document: dict[str, Any]) -> int:
    # `allowEmptyValue` (deprecated in OAS 3.0.3) on opt_pretty makes openapi-core warn on every
    # request; it only matters for a bare `?opt_pretty=`, which neither side sends.
    parameter = document["components"]["parameters"]["pretty"]
    return 1 if parameter.pop("allowEmptyValue", None) is not None else 0


def _membership_fields(document: dict[str, Any]) -> int:
    # GET /memberships answers with MembershipCompact records (for a project, the documented
    # ProjectMembershipCompactResponse: resource_subtype, member, access_level, opt-in parent),
    # but its opt_fields enum lists only the pagination fields, so every returned property
    # would count as undeclared. Declare the project membership's properties.
    parameters = document["paths"]["/memberships"]["get"]["parameters"]
    for parameter in parameters:
        if parameter.get("name") == "opt_fields":
            enum = parameter["schema"]["items"]["enum"]
            added = [
                p
                for p in (
                    "resource_subtype",
                    "member",
                    "member.name",
                    "access_level",
                    "parent",
                    "parent.name",
                )
                if p not in enum
            ]
            enum.extend(added)
            return len(added)
    return 0


SPEC_ERRATA: tuple[Erratum, ...] = (
    Erratum("nullable-references", "allOf+nullable references reject null", _nullable_references),
    Erratum(
        "custom-field-values",
        "task custom_fields values are not only strings",
        _custom_field_values,
    ),
    Erratum("rate-limit-responses", "429 is documented but never declared", _rate_limit_responses),
    Erratum(
        "membership-fields",
        "GET /memberships declares none of the properties it returns",
        _membership_fields,
    ),
    Erratum(
        "pretty-allow-empty",
        "deprecated allowEmptyValue warns on every request",
        _pretty_allow_empty,
    ),
)
