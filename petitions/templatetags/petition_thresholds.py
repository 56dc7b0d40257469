"""The petition page's block of response thresholds, included with one tag so the page's view
and its other blocks stay as they are."""

from __future__ import annotations

from typing import Any

from django import template

from petitions.models import Petition
from petitions.thresholds.selectors import petition_thresholds_block

register = template.Library()


@register.inclusion_tag("petitions/thresholds/block.html")
def petition_thresholds(petition: Petition) -> dict[str, Any]:
    # Rendered into the page cache's shared copy: nothing here may depend on the reader.
    return {"petition": petition, "block": petition_thresholds_block(petition=petition)}
