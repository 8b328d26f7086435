"""The JSON shape of every sandbox resource and Asana's `opt_fields` projection.

Owns which fields are compact, default or opt-in per resource type; imports nothing from `sandbox`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# A parsed `opt_fields` tree: {"assignee": {"name": {}}, "notes": {}}; {} means "compact".
Selection = dict[str, "Selection"]

# Asana lists these in every list endpoint's opt_fields enum (they name `next_page` members).
PAGINATION_FIELDS = frozenset({"offset", "path", "uri"})


class Ref(NamedTuple):
    """A reference from one record to another stored record, resolved at render time."""

    kind: str
    gid: str


class Embedded(NamedTuple):
    """A sub-record without its own endpoint (a membership, a task's custom field value)."""

    fields: dict[str, Any]


class UnknownFieldError(ValueError):
    """An `opt_fields` path names a property the resource does not have."""


@dataclass(frozen=True)
class Shape:
    """Fields of one resource shape.

    `compact` is always returned; `full` is what a single-resource GET returns without
    `opt_fields`; `opt_in` only appears when asked for; `nested` maps a field to the shape of
    the object(s) it holds. `embedded` shapes are part of their parent record (a task's
    memberships and custom field values) rather than references to another resource.
    """

    compact: tuple[str, ...]
    full: tuple[str, ...] = ()
    opt_in: tuple[str, ...] = ()
    nested: Mapping[str, str] = field(default_factory=dict)
    embedded: bool = False

    def known(self) -> tuple[str, ...]:
        """Every field this shape can return, compact first."""
        return self.compact + self.full + self.opt_in


_NAMED = ("gid", "resource_type", "name")
_BARE = ("gid", "resource_type")
# Custom fields: the spec's CustomFieldCompact carries `type`, whose documented replacement is
# `resource_subtype`; product code keys on the latter, so both are part of the compact form.
_FIELD_COMPACT = (*_NAMED, "resource_subtype", "type")
_FIELD_FULL = (
    "description",
    "enabled",
    "precision",
    "format",
    "asana_created_field",
    "enum_options",
    "is_global_to_workspace",
    "has_notifications_enabled",
    "representation_type",
    "is_formula_field",
    "is_value_read_only",
    "created_by",
    "privacy_setting",
    "default_access_level",
    "currency_code",
    "custom_label",
    "custom_label_position",
)
_VALUE_FIELDS = (
    "display_value",
    "number_value",
    "text_value",
    "enum_value",
    "multi_enum_values",
    "people_value",
    "date_value",  # the sandbox has no date fields, so this never appears; asking is fine
)

SHAPES: dict[str, Shape] = {
    "workspace": Shape(_NAMED, ("email_domains", "is_organization")),
    "user": Shape(
        _NAMED,
        ("email", "photo", "workspaces"),
        nested={"workspaces": "workspace", "photo": "photo"},
    ),
    "photo": Shape((), tuple(f"image_{n}x{n}" for n in (21, 27, 36, 60, 128, 1024)), embedded=True),
    "date_value": Shape((), ("date", "date_time"), embedded=True),
    "like": Shape(("gid", "user"), nested={"user": "user"}, embedded=True),
    "team": Shape(
        _NAMED,
        ("description", "html_description", "organization", "permalink_url", "visibility"),
        nested={"organization": "workspace"},
    ),
    "project": Shape(
        _NAMED,
        (
            "archived",
            "color",
            "completed",
            "completed_at",
            "created_at",
            "modified_at",
            "notes",
            "due_on",
            "start_on",
            "owner",
            "team",
            "workspace",
            "permalink_url",
            "members",
            "followers",
            "custom_field_settings",
            "privacy_setting",
            "public",
            "default_view",
        ),
        nested={
            "owner": "user",
            "team": "team",
            "workspace": "workspace",
            "members": "user",
            "followers": "user",
            "custom_field_settings": "custom_field_setting",
        },
    ),
    "portfolio": Shape(
        _NAMED,
        (
            "archived",
            "color",
            "created_at",
            "created_by",
            "owner",
            "workspace",
            "members",
            "permalink_url",
            "public",
        ),
        nested={"created_by": "user", "owner": "user", "workspace": "workspace", "members": "user"},
    ),
    "section": Shape(_NAMED, ("created_at", "project"), nested={"project": "project"}),
    "tag": Shape(_NAMED),
    "enum_option": Shape((*_NAMED, "enabled", "color")),
    "custom_field": Shape(
        _FIELD_COMPACT,
        _FIELD_FULL,
        nested={"enum_options": "enum_option", "created_by": "user"},
    ),
    # A task's `custom_fields[]` entry: the field definition plus this task's value.
    "custom_field_value": Shape(
        _FIELD_COMPACT,
        _FIELD_FULL + _VALUE_FIELDS,
        nested={
            "enum_options": "enum_option",
            "created_by": "user",
            "enum_value": "enum_option",
            "multi_enum_values": "enum_option",
            "people_value": "user",
            "date_value": "date_value",
        },
        embedded=True,
    ),
    "custom_field_setting": Shape(
        _BARE,
        ("custom_field", "is_important", "project", "parent"),
        nested={"custom_field": "custom_field", "project": "project", "parent": "project"},
    ),
    "membership": Shape(
        ("project", "section"),
        nested={"project": "project", "section": "section"},
        embedded=True,
    ),
    # GET /memberships: a project's member is a user or a team; the project itself is opt-in.
    "project_membership": Shape(
        (*_BARE, "resource_subtype", "member", "access_level"),
        opt_in=("parent",),
        nested={"member": "member", "parent": "project"},
    ),
    "member": Shape(_NAMED),
    # A bare reference ({gid, resource_type}), as the spec gives a task's dependencies,
    # dependents and created_by.
    "reference": Shape(_BARE),
    "task": Shape(
        (*_NAMED, "resource_subtype"),
        (
            "assignee",
            "assignee_status",
            "completed",
            "completed_at",
            "created_at",
            "due_at",
            "due_on",
            "start_at",
            "start_on",
            "modified_at",
            "notes",
            "html_notes",
            "num_subtasks",
            "actual_time_minutes",
            "custom_fields",
            "followers",
            "memberships",
            "parent",
            "projects",
            "tags",
            "workspace",
            "permalink_url",
            "liked",
            "likes",
            "num_likes",
            "hearted",
            "hearts",
            "num_hearts",
            "is_rendered_as_separator",
            "assignee_section",
        ),
        # "[Opt In]" in the spec: only returned when requested.
        ("created_by", "completed_by", "dependencies", "dependents"),
        nested={
            "assignee": "user",
            "custom_fields": "custom_field_value",
            "followers": "user",
            "memberships": "membership",
            "parent": "task",
            "projects": "project",
            "tags": "tag",
            "workspace": "workspace",
            "created_by": "reference",
            "completed_by": "user",
            "dependencies": "reference",
            "dependents": "reference",
            "likes": "like",
            "hearts": "like",
            "assignee_section": "section",
        },
    ),
    "story": Shape(
        (*_BARE, "resource_subtype"),
        (
            "created_at",
            "created_by",
            "text",
            "html_text",
            "type",
            "is_pinned",
            "is_editable",
            "is_edited",
            "source",
            "target",
        ),
        nested={"created_by": "user", "target": "task"},
    ),
    "ooo_entry": Shape(
        _BARE,
        ("start_date", "end_date", "user", "created_by"),
        nested={"user": "user", "created_by": "user"},
    ),
    "time_tracking_entry": Shape(
        _BARE,
        (
            "duration_minutes",
            "entered_on",
            "attributable_to",
            "created_by",
            "task",
            "created_at",
            "approval_status",
            "billable_status",
            "description",
            "categories",
        ),
        nested={"attributable_to": "project", "created_by": "user", "task": "task"},
    ),
}

RecordLookup = Callable[[Ref], dict[str, Any]]


def parse_opt_fields(raw: str | None, shape: str, *, listing: bool) -> Selection | None:
    """Parse and check an `opt_fields` query value against a shape.

    Args:
        raw: the comma-separated query value, or None when absent.
        shape: the shape of the records the endpoint returns.
        listing: whether the endpoint is a list (which also accepts `offset,path,uri`).

    Returns:
        The selection tree, or None when `opt_fields` was not sent.

    Raises:
        UnknownFieldError: a path names a field the shape (or a nested shape) does not have.
    """
    if raw is None:
        return None
    selection: Selection = {}
    for path in (part.strip() for part in raw.split(",")):
        if not path or (listing and path in PAGINATION_FIELDS):
            continue
        _add_path(selection, shape, path.split("."), path)
    return selection


def _add_path(selection: Selection, shape: str, segments: list[str], path: str) -> None:
    head, rest = segments[0], segments[1:]
    spec = SHAPES[shape]
    if head not in spec.known():
        raise UnknownFieldError(path)
    child = selection.setdefault(head, {})
    if rest:
        if head not in spec.nested:
            raise UnknownFieldError(path)
        _add_path(child, spec.nested[head], rest, path)


def default_selection(shape: str, *, include_opt_in: bool = False) -> Selection:
    """The selection a single-resource response uses when `opt_fields` is absent.

    Referenced resources stay compact; embedded sub-records (memberships, custom field values)
    are part of the record and are rendered in full.
    """
    spec = SHAPES[shape]
    names = spec.full + spec.opt_in if include_opt_in else spec.full
    selection: Selection = {}
    for name in names:
        child = spec.nested.get(name)
        selection[name] = default_selection(child) if child and SHAPES[child].embedded else {}
    return selection


def render(value: Any, shape: str, selection: Selection, lookup: RecordLookup) -> Any:
    """Render a stored value (record, Ref, Embedded, list or scalar) as Asana JSON.

    Args:
        value: what the parent record holds for this field.
        shape: the shape name for the value (ignored for scalars).
        selection: the fields requested beyond the compact ones.
        lookup: resolves a Ref to its stored record.
    """
    if isinstance(value, list):
        return [render(item, shape, selection, lookup) for item in value]
    if isinstance(value, Ref):
        return project(lookup(value), shape, selection, lookup)
    if isinstance(value, Embedded):
        return project(value.fields, shape, selection, lookup)
    return value


def project(
    record: dict[str, Any], shape: str, selection: Selection, lookup: RecordLookup
) -> dict[str, Any]:
    """Keep the compact fields of a record plus exactly the selected ones.

    Fields a record does not carry (a number field has no `enum_value`) are left out, as Asana
    leaves out value properties that do not apply to a custom field's type.
    """
    spec = SHAPES[shape]
    out: dict[str, Any] = {}
    for name in spec.known():
        if name not in record or (name not in spec.compact and name not in selection):
            continue
        child_shape = spec.nested.get(name, "")
        out[name] = render(record[name], child_shape, selection.get(name, {}), lookup)
    return out
