"""Page forms: shape only. Business rules live in services; their errors are copied back."""

from __future__ import annotations

from django import forms

from projects.models import WEEKDAYS, Membership, Project

# type="date" inputs only accept ISO dates as their value.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.Form):
    key = forms.CharField(
        max_length=10, help_text="2–10 letters, e.g. MIG. Used in item keys (MIG-42)."
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    methodology = forms.ChoiceField(
        choices=Project.Methodology.choices, initial=Project.Methodology.SCRUM
    )
    phase = forms.ChoiceField(choices=Project.Phase.choices, initial=Project.Phase.INITIATING)
    start_date = forms.DateField(required=False, widget=DATE_WIDGET)
    target_date = forms.DateField(required=False, widget=DATE_WIDGET)
    timezone = forms.CharField(
        max_length=64, initial="UTC", help_text="IANA name, e.g. Europe/Berlin."
    )
    working_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, initial=[0, 1, 2, 3, 4], widget=forms.CheckboxSelectMultiple
    )
    business_case = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    objectives = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    in_scope = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    out_of_scope = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    success_criteria = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    allow_parallel_sprints = forms.BooleanField(
        required=False,
        label="Allow parallel sprints",
        help_text="More than one active sprint at a time (several teams on one project).",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_key(self) -> str:
        # Typing "mig" in the browser means MIG; the service still enforces the format.
        return self.cleaned_data["key"].strip().upper()


class MemberAddForm(forms.Form):
    user = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    hourly_rate = forms.DecimalField(
        min_value=0, max_digits=10, decimal_places=2, initial=0, required=False
    )
    capacity_hours_per_week = forms.DecimalField(
        min_value=0,
        max_value=168,
        max_digits=5,
        decimal_places=1,
        initial=40,
        required=False,
        label="Capacity (h/week)",
    )


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
    hourly_rate = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2)
    capacity_hours_per_week = forms.DecimalField(
        min_value=0, max_value=168, max_digits=5, decimal_places=1
    )
