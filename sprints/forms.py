"""Page forms: shape only; the services hold the rules."""

from __future__ import annotations

from django import forms

from sprints.models import WorkItem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuickCreateForm(forms.Form):
    title = forms.CharField(max_length=255)
    type = forms.ChoiceField(choices=WorkItem.Type.choices, initial=WorkItem.Type.STORY)
    story_points = forms.DecimalField(required=False, min_value=0, max_digits=5, decimal_places=1)
    sprint = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ItemEditForm(forms.Form):
    title = forms.CharField(max_length=255)
    type = forms.ChoiceField(choices=WorkItem.Type.choices)
    status = forms.CharField(max_length=50)
    priority = forms.ChoiceField(choices=WorkItem.Priority.choices)
    story_points = forms.DecimalField(required=False, min_value=0, max_digits=5, decimal_places=1)
    original_estimate_hours = forms.DecimalField(
        required=False, min_value=0, max_digits=7, decimal_places=2
    )
    remaining_hours = forms.DecimalField(
        required=False, min_value=0, max_digits=7, decimal_places=2
    )
    assignee = forms.IntegerField(required=False)
    sprint = forms.IntegerField(required=False)
    labels = forms.CharField(required=False, max_length=500, help_text="Comma-separated.")
    due_date = forms.DateField(required=False, widget=DATE)
    blocked = forms.BooleanField(required=False)
    blocked_reason = forms.CharField(required=False, max_length=500)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
    acceptance_criteria = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_labels(self) -> list[str]:
        raw = self.cleaned_data.get("labels") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]


class SprintForm(forms.Form):
    name = forms.CharField(max_length=100)
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    start_date = forms.DateField(widget=DATE)
    end_date = forms.DateField(widget=DATE)


class CommentForm(forms.Form):
    body = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class WorkLogForm(forms.Form):
    hours = forms.DecimalField(max_digits=5, decimal_places=2)
    date = forms.DateField(required=False, widget=DATE)
    note = forms.CharField(required=False, max_length=500)
