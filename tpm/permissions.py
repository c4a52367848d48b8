"""Roles and the one rule table that both the REST API and the pages consult.

``can(user, action, obj)`` is the only decision function. ``obj`` is a project or any object
with a ``project`` attribute. The project app registers how a user's role on a project is
looked up (``register_role_resolver``), because tpm sits below it in the layering.
Visibility (404 for projects a user cannot see) is decided by ``role_for(...) is not None``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import rules


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"


RANK = {Role.VIEWER: 1, Role.MEMBER: 2, Role.OWNER: 3}

RoleResolver = Callable[[Any, Any], Role | None]
_resolver: RoleResolver | None = None


def register_role_resolver(resolver: RoleResolver) -> None:
    """Install the membership lookup; called once from ProjectsConfig.ready()."""
    global _resolver
    _resolver = resolver


def project_of(obj: Any) -> Any:
    """The project an object belongs to (the object itself for a project)."""
    return getattr(obj, "project", None) or obj


def role_for(user: Any, project: Any) -> Role | None:
    """The user's effective role on a project, or None when the project is invisible to them.

    Memberships decide; ``is_executive`` adds viewer on every project. The answer is cached
    on the project instance per user, so a request asks the database at most once.
    """
    if user is None or not user.is_authenticated or project is None or project.pk is None:
        return None
    cache: dict[int, Role | None] = project.__dict__.setdefault("_tpm_roles", {})
    if user.pk in cache:
        return cache[user.pk]
    if _resolver is None:
        raise RuntimeError("No role resolver registered; is the projects app installed?")
    role = _resolver(user, project)
    if getattr(user, "is_executive", False) and (role is None or RANK[role] < RANK[Role.VIEWER]):
        role = Role.VIEWER
    cache[user.pk] = role
    return role


def remember_role(user: Any, project: Any, role: str | None) -> None:
    """Seed the per-instance cache from a selector that already loaded the role."""
    if user is not None and user.is_authenticated:
        resolved = Role(role) if role else None
        if resolved is None and getattr(user, "is_executive", False):
            resolved = Role.VIEWER
        project.__dict__.setdefault("_tpm_roles", {})[user.pk] = resolved


def _has_role(*roles: Role) -> Callable[[Any, Any], bool]:
    allowed = frozenset(roles)

    def check(user: Any, obj: Any) -> bool:
        return role_for(user, project_of(obj)) in allowed

    check.__name__ = "has_role_" + "_".join(sorted(r.value for r in allowed))
    return check


can_read = rules.predicate(_has_role(Role.OWNER, Role.MEMBER, Role.VIEWER), name="can_read")
is_owner = rules.predicate(_has_role(Role.OWNER), name="is_owner")
is_contributor = rules.predicate(_has_role(Role.OWNER, Role.MEMBER), name="is_contributor")


@rules.predicate
def is_object_owner(user: Any, obj: Any) -> bool:
    """The user owns this object (risk owner, item assignee, token holder, own comment...)."""
    for attr in ("owner_id", "user_id", "author_id"):
        if getattr(obj, attr, None) is not None:
            return bool(getattr(obj, attr) == user.pk)
    return False


is_authenticated = rules.is_authenticated

# The rule table. Actions are "<entity>.<verb>"; later apps add their rows here.
RULES: dict[str, rules.Predicate] = {
    "project.create": is_authenticated,
    "project.view": can_read,
    "project.edit": is_owner,
    "project.delete": is_owner,
    "project.history": can_read,
    "member.view": can_read,
    "member.manage": is_owner,
    "item.view": can_read,
    "item.create": is_contributor,
    "item.edit": is_contributor,
    "item.delete": is_owner,
    "comment.create": is_contributor,
    "worklog.create": is_contributor,
    "sprint.view": can_read,
    "sprint.manage": is_owner,
    "workflow.manage": is_owner,
    "risk.view": can_read,
    "risk.create": is_contributor,
    "risk.edit": is_owner | (is_contributor & is_object_owner),
    "risk.delete": is_owner,
    "budget.view": can_read,
    "budget.manage": is_owner,
}

ruleset = rules.RuleSet()
for _action, _predicate in RULES.items():
    ruleset.add_rule(_action, _predicate)
    rules.add_perm(f"tpm.{_action}", _predicate)


def can(user: Any, action: str, obj: Any = None) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``. Unknown actions are refused."""
    if action not in RULES:
        raise KeyError(f"Unknown permission action {action!r}; add it to tpm.permissions.RULES")
    if obj is None:
        return bool(user is not None and user.is_authenticated and action == "project.create")
    return bool(ruleset.test_rule(action, user, obj))


def can_see(user: Any, project: Any) -> bool:
    return role_for(user, project) is not None
