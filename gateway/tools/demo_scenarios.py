"""The seed scenarios of ``ketenpoort demo``, as data (``demo_scenarios.yaml`` beside this
module): the partners that take part and, per scenario, the messages they send (an example
from ``examples/``, edited where the scenario needs it). The player is
:mod:`gateway.tools.demo`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NAME_OF", "PARTNERS", "SCENARIOS", "Scenario", "Step", "load_scenarios"]

SCENARIO_FILE = Path(__file__).resolve().parent / "demo_scenarios.yaml"


@dataclass(frozen=True)
class Step:
    """One message a partner sends: an example, changed by ``edits`` (regex, replacement)."""

    titel: str
    afzender: str  # a key of PARTNERS
    example: str
    edits: tuple[tuple[str, str], ...] = ()
    ontvangers: tuple[str, ...] = ()  # names the Kop narrows the routing to
    herhaal: str | None = None  # send the exact bytes of this earlier step again
    antwoord_op: str | None = None  # kp:InAntwoordOp: the BerichtId of this earlier step
    # the recipient whose system's view of the afspraken the demo shows (what its officer sees)
    toont: str | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    titel: str
    stappen: tuple[Step, ...]


class _StepEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    titel: str
    afzender: str
    example: str
    edits: list[tuple[str, str]] = Field(default_factory=list)
    ontvangers: list[str] = Field(default_factory=list)
    herhaal: str | None = None
    antwoord_op: str | None = Field(default=None, pattern=r"^[a-z0-9-]+/\d+$")
    toont: str | None = None


class _ScenarioEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    titel: str
    stappen: list[_StepEntry] = Field(min_length=1)


class _ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partners: dict[str, str] = Field(min_length=1)
    scenarios: list[_ScenarioEntry] = Field(min_length=1)


def load_scenarios(path: Path = SCENARIO_FILE) -> tuple[dict[str, str], tuple[Scenario, ...]]:
    """The demo's partners (name -> OIN) and scenarios, read strictly."""
    data = _ScenarioFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    scenarios = tuple(
        Scenario(
            s.key,
            s.titel,
            tuple(
                Step(
                    t.titel,
                    t.afzender,
                    t.example,
                    tuple(t.edits),
                    tuple(t.ontvangers),
                    t.herhaal,
                    t.antwoord_op,
                    t.toont,
                )
                for t in s.stappen
            ),
        )
        for s in data.scenarios
    )
    earlier: set[str] = set()
    for scenario in scenarios:
        for index, step in enumerate(scenario.stappen):
            for name in (step.afzender, *step.ontvangers, *filter(None, [step.toont])):
                if name not in data.partners:
                    raise ValueError(f"{path.name}: {scenario.key}: unknown partner {name!r}")
            for ref in (step.herhaal, step.antwoord_op):
                if ref is not None and ref not in earlier:
                    raise ValueError(f"{path.name}: {scenario.key}: {ref!r} is no earlier step")
            earlier.add(f"{scenario.key}/{index}")
    return dict(data.partners), scenarios


PARTNERS, SCENARIOS = load_scenarios()
NAME_OF = {oin: name for name, oin in PARTNERS.items()}
