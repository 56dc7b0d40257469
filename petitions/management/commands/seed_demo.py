from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from petitions.demo_content import (
    DEFAULT_ADMIN_EMAIL,
    FORM_SETTINGS,
    ITALIAN,
    ORGANIZATIONS,
    PETITION_DEFAULTS,
    PETITION_TARGETS,
    PETITIONS,
    TARGETS,
    TOPICS,
    UPDATES,
)
from petitions.demo_signatures import DEMO_PETITION, HELD, demo_signers_seed
from petitions.demo_tools import demo_tools_seed
from petitions.demo_workspace import (
    WORKSPACE_ORGANIZATION,
    demo_draft_seed,
    demo_workspace_seed,
)
from petitions.models import Petition, PetitionUpdate, Target, Topic


class Command(BaseCommand):
    help = "Create demo topics, organizations, petitions and a staff login; safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            topics, new_topics = self._seed_topics()
            self.stdout.write(f"Topics: {len(topics)} ({new_topics} new).")
            organizations, new_organizations = self._seed_organizations()
            self.stdout.write(f"Organizations: {len(organizations)} ({new_organizations} new).")
            new_petitions = self._seed_petitions(topics, organizations)
            self.stdout.write(
                f"Petitions: {len(PETITIONS)} ({new_petitions} new, "
                f"{len(ITALIAN)} also in Italian)."
            )
            new_targets = self._seed_targets()
            self.stdout.write(f"Targets: {len(TARGETS)} ({new_targets} new).")
            new_updates = self._seed_updates()
            self.stdout.write(f"Updates: {len(UPDATES)} ({new_updates} new).")
            signers = demo_signers_seed()
            self.stdout.write(
                f"Demo signers on {DEMO_PETITION}: {signers.created} new; its count is "
                f"{signers.count}, with a counted spam wave and {len(HELD)} held for review."
            )
            workspace = demo_workspace_seed()
            self.stdout.write(
                f"Workspace of {WORKSPACE_ORGANIZATION}: {workspace.created} new signatures over "
                f"two weeks through three links, {workspace.opted_in} of them opted in to it."
            )
            drafted = demo_draft_seed(
                organization=Organization.objects.get(slug=WORKSPACE_ORGANIZATION)
            )
            self.stdout.write(
                f"Draft petition of {WORKSPACE_ORGANIZATION}: {'new' if drafted else 'existing'}, "
                "with a co-sponsor invited."
            )
            tools = demo_tools_seed()
            self.stdout.write(
                f"Campaign tools on {DEMO_PETITION}: {tools.questions} sign-form questions, "
                f"{tools.thresholds} response thresholds, {tools.paper_lines} paper lines "
                f"typed in by {WORKSPACE_ORGANIZATION} (one also signed online)."
            )
            email, staff_state, staff_message = self._seed_staff()
        # Printed after the commit, so a password is never shown for an account that rolled back.
        self.stdout.write(staff_message)
        self.stdout.write(signers.moderator_message)
        self.stdout.write(workspace.login_message)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(topics)} topics ({new_topics} new), "
                f"{len(organizations)} organizations ({new_organizations} new), "
                f"{len(PETITIONS)} petitions ({new_petitions} new), "
                f"staff account {email} ({staff_state})."
            )
        )

    # get_or_create rather than update_or_create throughout: a second run must not undo what
    # someone changed through the admin during a demo.

    def _seed_topics(self) -> tuple[dict[str, Topic], int]:
        topics: dict[str, Topic] = {}
        new = 0
        for item in TOPICS:
            fields = {key: value for key, value in item.items() if key != "slug"}
            topics[item["slug"]], created = Topic.objects.get_or_create(
                slug=item["slug"], defaults=fields
            )
            new += created
        return topics, new

    def _seed_organizations(self) -> tuple[dict[str, Organization], int]:
        organizations: dict[str, Organization] = {}
        new = 0
        for item in ORGANIZATIONS:
            fields = {key: value for key, value in item.items() if key != "slug"}
            organizations[item["slug"]], created = Organization.objects.get_or_create(
                slug=item["slug"],
                defaults={
                    **fields,
                    "verification": Organization.Verification.VERIFIED,
                    "verified_at": timezone.now(),
                },
            )
            new += created
        return organizations, new

    def _seed_petitions(
        self, topics: dict[str, Topic], organizations: dict[str, Organization]
    ) -> int:
        new = 0
        for item in PETITIONS:
            italian = ITALIAN.get(item["slug"], {})
            fields = {
                **PETITION_DEFAULTS,
                **{key: value for key, value in item.items() if key not in {"slug", "sponsors"}},
                **FORM_SETTINGS.get(item["slug"], {}),
                **{f"{key}_it": value for key, value in italian.items() if key != "body"},
                "topic": topics[item["topic"]],
                "body": "\n\n".join(item["body"]),
            }
            if "body" in italian:
                fields["body_it"] = "\n\n".join(italian["body"])
            ended = fields["status"] in (Petition.Status.CLOSED, Petition.Status.ARCHIVED)
            fields["closed_at"] = timezone.now() if ended else None
            petition, created = Petition.objects.get_or_create(slug=item["slug"], defaults=fields)
            if created:
                petition.sponsors.set([organizations[slug] for slug in item["sponsors"]])
                new += 1
        return new

    def _seed_targets(self) -> int:
        new = 0
        by_title = {}
        for item in TARGETS:
            fields = {k: v for k, v in item.items() if k not in {"title", "level"}}
            target, created = Target.objects.get_or_create(
                title=item["title"], level=item["level"], defaults=fields
            )
            by_title[target.title] = target
            new += created
        for slug, (schedule, titles) in PETITION_TARGETS.items():
            petition = Petition.objects.get(slug=slug)
            if not petition.targets.exists():
                petition.targets.set([by_title[title] for title in titles])
                Petition.objects.filter(pk=petition.pk).update(delivery_schedule=schedule)
        return new

    def _seed_updates(self) -> int:
        new = 0
        for item in UPDATES:
            petition = Petition.objects.get(slug=item["petition"])
            fields = {key: value for key, value in item.items() if key != "petition"}
            update, created = PetitionUpdate.objects.get_or_create(
                petition=petition,
                title_en=item["title"],
                defaults=fields | {"email_signers": False},
            )
            if created:
                PetitionUpdate.objects.filter(pk=update.pk).update(published_at=timezone.now())
                new += 1
        return new

    def _seed_staff(self) -> tuple[str, str, str]:
        """Return the staff email, "new" or "existing", and the line to print about it."""
        email = os.environ.get("DEMO_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            generated = password is None
            password = password or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(email, password)
            if generated:
                message = f"Staff login: {user.email} / {password} (shown only now)"
            else:
                message = f"Staff login: {user.email} / the password in DEMO_ADMIN_PASSWORD"
            return user.email, "new", message

        notes = []
        changed: list[str] = []
        if not (user.is_staff and user.is_superuser):
            user.is_staff = user.is_superuser = True
            changed += ["is_staff", "is_superuser"]
            notes.append("made staff superuser")
        if password is None:
            notes.append("password left unchanged")
        elif not user.check_password(password):
            user.set_password(password)
            changed.append("password")
            notes.append("password set from DEMO_ADMIN_PASSWORD")
        else:
            notes.append("password already matches DEMO_ADMIN_PASSWORD")
        if changed:
            user.save(update_fields=changed)
        message = f"Staff account {user.email} already exists ({'; '.join(notes)})."
        return user.email, "existing", message
