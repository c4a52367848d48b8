"""Chart and data-table context for the sprint pages, from stored metric rows."""

from __future__ import annotations

from typing import Any

from sprints.models import BurndownDay, Sprint
from tpm.charts import bar_chart, line_chart, stacked_area_chart


def burndown_chart(sprint: Sprint, days: list[BurndownDay]) -> dict[str, Any] | None:
    if not days:
        return None
    labels = [d.date.strftime("%d %b") for d in days]
    last = days[-1]
    return {
        "chart_id": f"burndown-{sprint.pk}",
        "title": f"Burndown of {sprint.name}",
        "desc": (
            f"Remaining points per day against the ideal line; on {last.date:%d %b} "
            f"{last.remaining_points} of {last.scope_points} points remain."
        ),
        "chart": line_chart(
            labels,
            [
                ("Ideal", "series--ideal", [d.ideal_points for d in days]),
                ("Scope", "series--scope", [d.scope_points for d in days]),
                ("Completed", "series--completed", [d.completed_points for d in days]),
                ("Remaining", "series--remaining", [d.remaining_points for d in days]),
            ],
        ),
        "legend": [
            ("Remaining", "series--remaining"),
            ("Ideal", "series--ideal"),
            ("Scope (burnup)", "series--scope"),
            ("Completed (burnup)", "series--completed"),
        ],
        "table": {
            "headers": ["Day", "Scope", "Remaining", "Completed", "Remaining hours", "Ideal"],
            "rows": [
                [
                    d.date.isoformat(),
                    d.scope_points,
                    d.remaining_points,
                    d.completed_points,
                    d.remaining_hours,
                    d.ideal_points,
                ]
                for d in days
            ],
        },
    }


def velocity_chart(velocity: dict[str, Any]) -> dict[str, Any] | None:
    sprints = velocity["sprints"][-10:]
    if not sprints:
        return None
    mean = velocity["mean"]
    return {
        "chart_id": "velocity",
        "title": "Velocity",
        "desc": (
            f"Committed and completed points of the last {len(sprints)} closed sprints"
            + (
                f"; mean of the last {velocity['window']}: {mean} points."
                if mean is not None
                else "."
            )
        ),
        "chart": bar_chart(
            [s["name"] for s in sprints],
            [
                ("Committed", "bar--committed", [s["committed_points"] or 0 for s in sprints]),
                ("Completed", "bar--completed", [s["completed_points"] or 0 for s in sprints]),
            ],
            reference=("Mean", "series--mean", mean) if mean is not None else None,
        ),
        "legend": [("Committed", "bar--committed"), ("Completed", "bar--completed")]
        + ([("Mean", "series--mean")] if mean is not None else []),
        "table": {
            "headers": ["Sprint", "Committed", "Completed"],
            "rows": [[s["name"], s["committed_points"], s["completed_points"]] for s in sprints],
        },
    }


def flow_chart(flow: dict[str, Any]) -> dict[str, Any] | None:
    days = flow["days"]
    if not days:
        return None
    return {
        "chart_id": "flow",
        "title": "Cumulative flow",
        "desc": (
            f"Items per category each day from {days[0]['date']:%d %b %Y} "
            f"to {days[-1]['date']:%d %b %Y}."
        ),
        "chart": stacked_area_chart(
            [d["date"].strftime("%d %b") for d in days],
            [
                ("Done", "area--done", [d["done"] for d in days]),
                ("In progress", "area--progress", [d["in_progress"] for d in days]),
                ("To do", "area--todo", [d["todo"] for d in days]),
            ],
        ),
        "legend": [
            ("To do", "area--todo"),
            ("In progress", "area--progress"),
            ("Done", "area--done"),
        ],
        "table": {
            "headers": ["Day", "To do", "In progress", "Done"],
            "rows": [
                [d["date"].isoformat(), d["todo"], d["in_progress"], d["done"]] for d in days[-30:]
            ],
        },
    }
