"""What an editor types into the draft forms (petitions.drafting), for the drafting tests."""

from __future__ import annotations

from typing import Any


def petition_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title_en": "End the Ring partnership",
        "title_it": "",
        "summary_en": "Oakland police should stop asking for doorbell footage.",
        "summary_it": "",
        "demand_en": "End the partnership.",
        "demand_it": "",
        "addressed_to_en": "Oakland City Council",
        "addressed_to_it": "",
        "body_en": "## Why\n\nBecause **cameras** watch everyone.",
        "body_it": "",
        "topic": "",
        "language": "en",
        "goal": "",
        "opens_at": "",
        "closes_at": "",
        "countries": [],
        "delivery_schedule": "none",
    }
    data.update(changes)
    return data


def letter_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title_en": "Investigate police partnerships",
        "summary_en": "We ask for an investigation.",
        "ask_en": "Investigate.",
        "addressed_to_en": "The Attorney General",
        "body_en": "Dear Attorney General,",
    }
    data.update(changes)
    return data
