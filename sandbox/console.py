"""Plain-text rendering of Block Kit for terminals: the offline demo prints bot replies with it.

Standard library only; must not import ``bot``. Unknown block types are named, never rejected.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from itertools import zip_longest
from typing import Any, Final

#: Short terminal markers for the emoji shortcodes our messages use; others stay ``:name:``.
EMOJI_MARKERS: Final[Mapping[str, str]] = {
    "red_circle": "●!",
    "large_orange_circle": "●~",
    "large_yellow_circle": "●~",
    "large_green_circle": "●",
    "white_circle": "○",
    "warning": "!",
    "heavy_minus_sign": "–",
    "white_check_mark": "✓",
    "x": "✗",
}

# Only known names are matched, so "10:30:00" or ":x-ray:" are never half-consumed.
_EMOJI = re.compile(
    ":(" + "|".join(re.escape(name) for name in sorted(EMOJI_MARKERS, key=len, reverse=True)) + "):"
)
_ANGLE = re.compile(r"<([^<>\n]+)>")
_BULLET = re.compile(r"^(\s*(?:[•\-*]|\d+[.)])\s+)")
_FENCE = "```"
_COLUMN_GAP = "  "


def render_blocks(blocks: list[dict[str, Any]], *, width: int = 100) -> str:
    """Render Block Kit blocks as readable plain text.

    Links ``<url|text>`` become ``text (url)``, user mentions ``<@U…>`` are kept, known emoji
    shortcodes become short markers (``EMOJI_MARKERS``), code blocks are kept verbatim (never
    wrapped, so monospace tables stay aligned) and everything else wraps at ``width``.

    Args:
        blocks: Block Kit blocks as sent in ``chat.postMessage(blocks=...)``.
        width: Column to wrap prose at.

    Returns:
        One line or more per block, no trailing newline.
    """
    if width < 20:
        raise ValueError(f"width must be at least 20 columns, got {width}")
    lines: list[str] = []
    for block in blocks:
        renderer = _RENDERERS.get(str(block.get("type")), _render_unknown)
        lines.extend(renderer(block, width))
    return "\n".join(lines)


# -- text ------------------------------------------------------------------------------------


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI_MARKERS[m.group(1)], text)


def _angle_token(match: re.Match[str]) -> str:
    token = match.group(1)
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return match.group(0)  # user mentions stay as Slack writes them
    if target.startswith("#"):
        return f"#{label}" if label else match.group(0)
    if target.startswith("!"):
        # <!here>, <!subteam^S1|@leads>, <!date^…|fallback>: show what Slack would show.
        if label:
            return label
        return "@" + target[1:].split("^", 1)[0]
    if not label or label == target:
        return target
    return f"{label} ({target})"


def _inline_mrkdwn(text: str) -> str:
    # Links first, then entities: an escaped "&lt;x&gt;" must not turn into a link.
    text = _ANGLE.sub(_angle_token, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _emoji(text)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        bullet = _BULLET.match(line)
        hang = " " * len(bullet.group(1)) if bullet else ""
        out.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + hang,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [indent]
        )
    return out


def _mrkdwn_lines(text: str, width: int, indent: str = "") -> list[str]:
    """Wrap prose; keep ```code``` segments verbatim between fence lines."""
    lines: list[str] = []
    for i, segment in enumerate(text.split(_FENCE)):
        if i % 2:  # inside a fence
            body = segment.removeprefix("\n").removesuffix("\n")
            lines += [indent + _FENCE, *(indent + ln for ln in body.split("\n")), indent + _FENCE]
        else:
            prose = segment.strip("\n")
            if prose:
                lines += _wrap(_inline_mrkdwn(prose), width, indent)
    return lines


def _text_lines(obj: Any, width: int, indent: str = "") -> list[str]:
    if not isinstance(obj, Mapping):
        return []
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return _mrkdwn_lines(text, width, indent)
    return _wrap(_emoji(text), width, indent)


def _plain(obj: Any) -> str:
    """One-line text of a text object (button labels, placeholders, context items)."""
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return _inline_mrkdwn(text) if obj.get("type") == "mrkdwn" else _emoji(text)


# -- elements --------------------------------------------------------------------------------


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        label = f"[ {_plain(element.get('text'))} ]"
        return f"{label} ({element['url']})" if element.get("url") else label
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ ⋯ ]"
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        shown = element.get("initial_date") or element.get("initial_time")
        return f"[ {shown or _plain(element.get('placeholder')) or kind} ]"
    if isinstance(kind, str) and kind.endswith("_select"):
        initial = element.get("initial_option")
        shown = _plain(initial.get("text")) if isinstance(initial, Mapping) else ""
        return f"[ {shown or _plain(element.get('placeholder')) or 'select'} ▾ ]"
    if kind in ("mrkdwn", "plain_text"):
        return _plain(element)
    return f"[ {kind} ]"


def _join_wrapped(items: Iterable[str], width: int, indent: str = "") -> list[str]:
    """Lay items out left to right, breaking lines between items, never inside one."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}{_COLUMN_GAP}{item}" if current else item
        if current and len(indent + candidate) > width:
            lines.append(indent + current)
            candidate = item
        current = candidate
    if current:
        lines.append(indent + current)
    return lines


# -- blocks ----------------------------------------------------------------------------------


def _render_header(block: Mapping[str, Any], width: int) -> list[str]:
    lines = _text_lines(block.get("text"), width)
    underline = "═" * min(width, max((len(line) for line in lines), default=0))
    return [*lines, underline]


def _render_section(block: Mapping[str, Any], width: int) -> list[str]:
    lines = _text_lines(block.get("text"), width)
    fields = [f for f in block.get("fields") or [] if isinstance(f, Mapping)]
    column = (width - len(_COLUMN_GAP)) // 2
    # Slack shows fields in two columns; pair them up and pad the left one.
    for left, right in zip_longest(fields[::2], fields[1::2]):
        left_lines = _text_lines(left, column)
        right_lines = _text_lines(right, column) if right is not None else []
        for a, b in zip_longest(left_lines, right_lines, fillvalue=""):
            lines.append(f"{a:<{column}}{_COLUMN_GAP}{b}".rstrip() if b else a)
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        lines.append("  " + _element(accessory))
    return lines


def _render_context(block: Mapping[str, Any], width: int) -> list[str]:
    items = [_element(e) for e in block.get("elements") or [] if isinstance(e, Mapping)]
    return _wrap(_COLUMN_GAP.join(i for i in items if i), width, indent="  ")


def _render_divider(block: Mapping[str, Any], width: int) -> list[str]:
    return ["─" * width]


def _render_actions(block: Mapping[str, Any], width: int) -> list[str]:
    items = [_element(e) for e in block.get("elements") or [] if isinstance(e, Mapping)]
    return _join_wrapped(items, width)


def _render_image(block: Mapping[str, Any], width: int) -> list[str]:
    title = _plain(block.get("title"))
    return [f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")]


def _render_markdown(block: Mapping[str, Any], width: int) -> list[str]:
    return _mrkdwn_lines(str(block.get("text", "")), width)


def _render_input(block: Mapping[str, Any], width: int) -> list[str]:
    element = block.get("element")
    shown = _element(element) if isinstance(element, Mapping) else ""
    return _wrap(f"{_plain(block.get('label'))}: {shown}", width)


def _rich_inline(elements: Iterable[Any]) -> str:
    parts: list[str] = []
    for el in elements:
        if not isinstance(el, Mapping):
            continue
        kind = el.get("type")
        if kind == "text":
            parts.append(str(el.get("text", "")))
        elif kind == "link":
            url, text = str(el.get("url", "")), el.get("text")
            parts.append(f"{text} ({url})" if text and text != url else url)
        elif kind == "user":
            parts.append(f"<@{el.get('user_id', '')}>")
        elif kind == "channel":
            parts.append(f"<#{el.get('channel_id', '')}>")
        elif kind == "emoji":
            name = str(el.get("name", ""))
            parts.append(EMOJI_MARKERS.get(name, f":{name}:"))
        elif kind == "broadcast":
            parts.append(f"@{el.get('range', 'here')}")
        elif kind == "date":
            parts.append(str(el.get("fallback", el.get("timestamp", ""))))
    return "".join(parts)


def _render_rich_text(block: Mapping[str, Any], width: int) -> list[str]:
    lines: list[str] = []
    for part in block.get("elements") or []:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        children = part.get("elements") or []
        if kind == "rich_text_preformatted":
            body = _rich_inline(children)
            lines += [_FENCE, *body.split("\n"), _FENCE]
        elif kind == "rich_text_quote":
            lines += _wrap(_rich_inline(children), width, indent="> ")
        elif kind == "rich_text_list":
            indent = "  " * int(part.get("indent", 0))
            for n, item in enumerate(children, start=int(part.get("offset", 0)) + 1):
                marker = f"{n}. " if part.get("style") == "ordered" else "• "
                text = _rich_inline(item.get("elements") or []) if isinstance(item, Mapping) else ""
                lines += _wrap(indent + marker + text, width)
        else:
            lines += _wrap(_rich_inline(children), width)
    return lines


def _render_unknown(block: Mapping[str, Any], width: int) -> list[str]:
    return [f"[{block.get('type', 'block')} block]"]


_RENDERERS: Final[dict[str, Callable[[Mapping[str, Any], int], list[str]]]] = {
    "header": _render_header,
    "section": _render_section,
    "context": _render_context,
    "divider": _render_divider,
    "actions": _render_actions,
    "image": _render_image,
    "markdown": _render_markdown,
    "input": _render_input,
    "rich_text": _render_rich_text,
}
