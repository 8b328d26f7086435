"""Unit tests for ``sandbox.console.render_blocks``, the terminal rendering of Block Kit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.console import render_blocks


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def button(label: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": label.lower(), **extra}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def test_render_blocks_underlines_header_when_block_is_header() -> None:
    out = render_blocks([{"type": "header", "text": plain("Platform: next 4 weeks")}])

    assert out == "Platform: next 4 weeks\n" + "═" * len("Platform: next 4 weeks")


def test_render_blocks_shows_link_text_then_url_when_mrkdwn_has_labelled_link() -> None:
    out = render_blocks([section("See <https://app.asana.com/0/1/2|the task> now")])

    assert out == "See the task (https://app.asana.com/0/1/2) now"


def test_render_blocks_shows_bare_url_when_link_has_no_label() -> None:
    assert render_blocks([section("<https://example.com>")]) == "https://example.com"


def test_render_blocks_keeps_user_mention_when_text_mentions_user() -> None:
    assert render_blocks([section("Ask <@U0ANA00001> first")]) == "Ask <@U0ANA00001> first"


def test_render_blocks_shows_channel_and_broadcast_names_when_text_has_special_mentions() -> None:
    out = render_blocks(
        [section("<!here> see <#C0123456789|capacity> and <!subteam^S0LEADS|@leads>")]
    )

    assert out == "@here see #capacity and @leads"


def test_render_blocks_unescapes_slack_entities_when_text_is_escaped() -> None:
    assert render_blocks([section("R&amp;D &lt;busy&gt;")]) == "R&D <busy>"


@pytest.mark.parametrize(
    ("shortcode", "marker"),
    [
        (":red_circle:", "●!"),
        (":large_orange_circle:", "●~"),
        (":large_yellow_circle:", "●~"),
        (":large_green_circle:", "●"),
        (":white_circle:", "○"),
        (":warning:", "!"),
    ],
)
def test_render_blocks_shows_short_marker_when_emoji_is_known(shortcode: str, marker: str) -> None:
    assert render_blocks([section(f"{shortcode} Ben")]) == f"{marker} Ben"


def test_render_blocks_keeps_shortcode_when_emoji_is_unknown() -> None:
    assert render_blocks([section(":tada: done")]) == ":tada: done"


def test_render_blocks_keeps_clock_times_when_text_has_colons() -> None:
    assert render_blocks([section("due 10:30:00 :warning:")]) == "due 10:30:00 !"


def test_render_blocks_converts_emoji_when_text_is_plain_text() -> None:
    out = render_blocks([{"type": "header", "text": plain(":warning: Over")}])

    assert out.splitlines()[0] == "! Over"


def test_render_blocks_wraps_prose_at_width_when_text_is_long() -> None:
    words = " ".join(["capacity"] * 30)

    lines = render_blocks([section(words)], width=40).splitlines()

    assert len(lines) > 1
    assert all(len(line) <= 40 for line in lines)
    assert " ".join(lines) == words


def test_render_blocks_keeps_code_block_verbatim_when_wider_than_width() -> None:
    table = (
        "name | w1   | w2   | w3   | w4   | w5   | w6   | w7   | w8   | w9\n"
        "ben  | 130% :red_circle: | <https://x.y|x>"
    )

    out = render_blocks([section(f"Load:\n```{table}```\nafter")], width=30)

    assert out == f"Load:\n```\n{table}\n```\nafter"


def test_render_blocks_lays_fields_in_two_columns_when_section_has_fields() -> None:
    fields = [mrkdwn("*Owner*"), mrkdwn("*Load*"), mrkdwn("Ben"), mrkdwn(":red_circle: 130%")]

    out = render_blocks([{"type": "section", "fields": fields}], width=40)

    assert out.splitlines() == [f"{'*Owner*':<19}  *Load*", f"{'Ben':<19}  ●! 130%"]


def test_render_blocks_shows_accessory_button_when_section_has_one() -> None:
    out = render_blocks([section("Ben is over", accessory=button("Details"))])

    assert out == "Ben is over\n  [ Details ]"


def test_render_blocks_shows_buttons_in_brackets_when_block_is_actions() -> None:
    block = {
        "type": "actions",
        "elements": [
            button("Approve", style="primary", value="p-1"),
            button("Reject", style="danger"),
        ],
    }

    assert render_blocks([block]) == "[ Approve ]  [ Reject ]"


def test_render_blocks_shows_url_when_button_links_out() -> None:
    block = {
        "type": "actions",
        "elements": [button("Open in Asana", url="https://app.asana.com/0/1")],
    }

    assert render_blocks([block]) == "[ Open in Asana ] (https://app.asana.com/0/1)"


def test_render_blocks_breaks_between_buttons_when_actions_exceed_width() -> None:
    block = {"type": "actions", "elements": [button(f"Option {n}") for n in range(1, 6)]}

    lines = render_blocks([block], width=30).splitlines()

    assert lines == ["[ Option 1 ]  [ Option 2 ]", "[ Option 3 ]  [ Option 4 ]", "[ Option 5 ]"]


def test_render_blocks_shows_select_placeholder_when_actions_has_select() -> None:
    select = {"type": "static_select", "placeholder": plain("Pick a team"), "action_id": "team"}

    assert render_blocks([{"type": "actions", "elements": [select]}]) == "[ Pick a team ▾ ]"


def test_render_blocks_indents_context_when_block_is_context() -> None:
    block = {
        "type": "context",
        "elements": [
            mrkdwn("Proposal p-1 by <@U0ANA00001>"),
            {"type": "image", "image_url": "https://x.y/a.png", "alt_text": "asana"},
        ],
    }

    assert render_blocks([block]) == "  Proposal p-1 by <@U0ANA00001>  [image: asana]"


def test_render_blocks_draws_full_width_rule_when_block_is_divider() -> None:
    assert render_blocks([{"type": "divider"}], width=24) == "─" * 24


def test_render_blocks_renders_sections_lists_and_code_when_block_is_rich_text() -> None:
    block = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Hi "},
                    {"type": "user", "user_id": "U0ANA00001"},
                    {"type": "emoji", "name": "warning"},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "text", "text": "move t2"}],
                    },
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "link", "url": "https://x.y", "text": "details"}],
                    },
                ],
            },
            {
                "type": "rich_text_preformatted",
                "elements": [{"type": "text", "text": "a | b\nc | d"}],
            },
        ],
    }

    out = render_blocks([block])

    assert out == "Hi <@U0ANA00001>!\n1. move t2\n2. details (https://x.y)\n```\na | b\nc | d\n```"


def test_render_blocks_names_block_when_type_is_unknown() -> None:
    assert render_blocks([{"type": "sektion"}]) == "[sektion block]"


def test_render_blocks_returns_empty_string_when_no_blocks() -> None:
    assert render_blocks([]) == ""


def test_render_blocks_joins_blocks_in_order_when_message_has_several() -> None:
    blocks = [
        {"type": "header", "text": plain("Rebalance")},
        section("Move *t2* to <@U0BEN00001>"),
        {"type": "actions", "elements": [button("Approve"), button("Reject")]},
    ]

    out = render_blocks(blocks)

    assert out == "Rebalance\n═════════\nMove *t2* to <@U0BEN00001>\n[ Approve ]  [ Reject ]"


def test_render_blocks_raises_value_error_when_width_is_too_small() -> None:
    with pytest.raises(ValueError, match=re.escape("width must be at least 20 columns, got 5")):
        render_blocks([], width=5)
