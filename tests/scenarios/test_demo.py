"""The offline demo's world in process: its Asana traffic is held to the OpenAPI spec too."""

from __future__ import annotations

from pathlib import Path

from sandbox.demo import ask, demo_world
from sandbox.openapi import AsanaSpec


def test_demo_world_answers_and_speaks_asanas_spec_when_asked_for_a_team(
    tmp_path: Path, asana_spec: AsanaSpec
) -> None:
    with demo_world(seed=11, workdir=tmp_path) as world:
        lead = next(iter(world.users))

        answer = ask(world, "team Data 2", user_id=lead, timeout=120)
        exchanges = world.asana.state.log()

    assert answer.startswith("Capacity · Data · next 2 weeks")
    assert len(exchanges) > 10
    assert asana_spec.check(exchanges) == []
