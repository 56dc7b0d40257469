"""A lead organization's workspace pages for its open letters: the list, and a dashboard per
letter. Members of a lead organization (any role) and staff see them; anyone else gets a 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.models import Capability, Organization
from accounts.selectors import organization_for_member
from letters import dashboard


def _organization_for_dashboards(request: HttpRequest, slug: str) -> Organization:
    return organization_for_member(
        user=request.user,
        slug=slug,
        capability=Capability.VIEW_DASHBOARDS,
        staff_perm="letters.view_openletter",
    )


@require_safe
@never_cache
@login_required
def organization_letters(request: HttpRequest, organization: str) -> HttpResponse:
    found = _organization_for_dashboards(request, organization)
    context = {
        "organization": found,
        "letters": dashboard.letters_of_organization(organization=found),
    }
    return render(request, "letters/workspace/letters.html", context)


@require_safe
@never_cache
@login_required
def letter_dashboard(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found = _organization_for_dashboards(request, organization)
    letter = dashboard.letter_of_organization(organization=found, slug=slug)
    context = {
        "board": dashboard.letter_dashboard_get(organization=found, letter=letter),
        "organization": found,
        "letter": letter,
    }
    return render(request, "letters/workspace/dashboard.html", context)
