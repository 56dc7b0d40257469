"""Petitions' admin, one module per idea. Django's autodiscover imports this package only, so
it imports every module that registers a model admin."""

from __future__ import annotations

from petitions.admin import campaigns, deliveries, paper, signatures, supporters
from petitions.admin import thresholds as thresholds

__all__ = ["campaigns", "deliveries", "paper", "signatures", "supporters"]
