"""Reads for projects: visibility, lists for pages and API, audit history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pghistory.models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from projects.models import Membership, Project
from tpm.models import User
from tpm.permissions import Role, remember_role


def membership_role_resolve(user: Any, project: Any) -> Role | None:
    """The role a membership gives ``user`` on ``project`` (registered as tpm's role resolver)."""
    role = (
        Membership.objects.filter(project_id=project.pk, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def _with_role(queryset: QuerySet[Project], user: Any) -> QuerySet[Project]:
    return queryset.annotate(
        user_role=Subquery(
            Membership.objects.filter(project=OuterRef("pk"), user_id=user.pk)
            .order_by()  # the default ordering would join project and user for nothing
            .values("role")[:1]
        )
    )


def _seed_roles(projects: Any, user: Any) -> Any:
    for project in projects:
        remember_role(user, project, project.user_role)
    return projects


def project_list_for_user(*, user: Any, q: str = "") -> QuerySet[Project]:
    """Projects visible to ``user`` with their summary row and the caller's role annotated."""
    queryset = _with_role(Project.objects.visible_to(user), user).select_related("summary")
    q = q.strip()
    if q:
        queryset = queryset.filter(
            Q(key__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    return queryset.order_by("key")


def project_get_for_user(*, user: Any, key: str) -> Project:
    """One visible project by key; 404 for missing and invisible alike."""
    project = _with_role(Project.objects.visible_to(user), user).filter(key=key).first()
    if project is None:
        raise Http404("No such project.")
    remember_role(user, project, project.user_role)  # type: ignore[attr-defined]
    return project


def membership_list_for_project(*, project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )


def membership_get(*, project: Project, user_id: Any) -> Membership:
    try:
        return Membership.objects.select_related("user", "project").get(
            project=project, user_id=int(user_id)
        )
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such member.") from exc


def membership_list_for_user(*, user: Any) -> QuerySet[Membership]:
    """The user's memberships with their projects, for "My work"."""
    return (
        Membership.objects.filter(user_id=user.pk)
        .select_related("project", "project__summary")
        .order_by("project__key")
    )


def user_find(*, ref: Any) -> User | None:
    """A user by id (int or digits) or username; None when unknown."""
    if ref in (None, ""):
        return None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return User.objects.filter(pk=int(ref)).first()
    if isinstance(ref, str):
        return User.objects.filter(username__iexact=ref.strip()).first()
    return None


def user_list_for_member_picker(*, project: Project) -> QuerySet[User]:
    """Active users not yet in the project (bounded), for the add-member form."""
    return (
        User.objects.filter(is_active=True)
        .exclude(memberships__project=project)
        .order_by("username")[:500]
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    label: str
    what: str
    changes: list[tuple[str, Any, Any]]


_HIDDEN_DIFF_FIELDS = {
    "updated_at",
    "version",
    "created_at",
    "id",
    "project_id",
    "created_by_id",
    "user_id",
}


def project_history_page(
    *, project: Project, limit: int = 50, offset: int = 0
) -> list[HistoryEntry]:
    """Audit events of the project and its memberships, newest first, with actor names.

    Three queries: events (pghistory's aggregate view), users named in them, member names.
    """
    events = list(
        pghistory.models.Events.objects.references(project)
        .filter(pgh_model__in=["projects.ProjectEvent", "projects.MembershipEvent"])
        .order_by("-pgh_created_at", "pgh_model", "-pgh_id")[offset : offset + limit]
    )
    user_ids: set[int] = set()
    for event in events:
        actor = (event.pgh_context or {}).get("user")
        if actor:
            user_ids.add(int(actor))
        if event.pgh_model == "projects.MembershipEvent":
            user_ids.add(int(event.pgh_data["user_id"]))
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids)}
    entries = []
    for event in events:
        actor_id = (event.pgh_context or {}).get("user")
        actor = names.get(int(actor_id), "deleted user") if actor_id else "system"
        data = event.pgh_data
        if event.pgh_model == "projects.MembershipEvent":
            subject = names.get(int(data["user_id"]), "a user")
            what = {
                "insert": "added member",
                "update": "changed member",
                "delete": "removed member",
            }.get(event.pgh_label, event.pgh_label)
            label = f"{what} {subject}"
        else:
            label = {
                "insert": "created the project",
                "update": "changed the project",
                "delete": "deleted the project",
            }.get(event.pgh_label, event.pgh_label)
            what = "project"
        diff = event.pgh_diff or {}
        changes = [
            (field, old_new[0], old_new[1])
            for field, old_new in sorted(diff.items())
            if field not in _HIDDEN_DIFF_FIELDS
        ]
        if event.pgh_label == "update" and not changes:
            continue
        entries.append(
            HistoryEntry(
                at=event.pgh_created_at, actor=actor, label=label, what=what, changes=changes
            )
        )
    return entries
