"""An organization's workspace pages for the petitions it sponsors: the list, with each sponsor's
share link, and a dashboard per petition. Members of the organization (any role) and staff see
them; anyone else gets a 404, so they learn nothing of what the organization runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_countries import countries

from accounts.models import Capability, Organization
from accounts.selectors import organization_for_member
from petitions import dashboard
from petitions.models import Petition
from petitions.question_tallies import question_tallies


def _organization_for_dashboards(request: HttpRequest, slug: str) -> Organization:
    return organization_for_member(
        user=request.user,
        slug=slug,
        capability=Capability.VIEW_DASHBOARDS,
        staff_perm="petitions.view_petition",
    )


def share_link(*, petition: Petition, organization: Organization) -> str:
    """The organization's own link to the petition: signatures through it count as its own."""
    path = reverse(
        "petitions:detail_from", kwargs={"slug": petition.slug, "source": organization.slug}
    )
    return f"{settings.SITE_URL}{path}"


@require_safe
@never_cache
@login_required
def organization_petitions(request: HttpRequest, organization: str) -> HttpResponse:
    found = _organization_for_dashboards(request, organization)
    petitions = [
        (petition, share_link(petition=petition, organization=found))
        for petition in dashboard.petitions_of_organization(organization=found)
    ]
    context = {"organization": found, "petitions": petitions}
    return render(request, "petitions/workspace/petitions.html", context)


@require_safe
@never_cache
@login_required
def petition_dashboard(request: HttpRequest, organization: str, slug: str) -> HttpResponse:
    found = _organization_for_dashboards(request, organization)
    petition = dashboard.petition_of_organization(organization=found, slug=slug)
    board = dashboard.dashboard_get(organization=found, petition=petition)
    context = {
        "board": board,
        "organization": found,
        "petition": petition,
        "share_link": share_link(petition=petition, organization=found),
        "areas": [
            (countries.name(code) or code, region, count) for code, region, count in board.by_area
        ],
        "question_tallies": question_tallies(petition=petition, organization=found),
    }
    return render(request, "petitions/workspace/dashboard.html", context)
