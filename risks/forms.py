"""Page forms of the risk register: shape only; ``risks.services`` holds the rules.

Probability, impact, category, cost, tags and the owner's membership are checked by the
services, so the page shows the same messages as the API.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

KEY_SEPARATORS = re.compile(r"[\s,;]+")


class StringListField(forms.Field):
    """Every value posted under the name (checkboxes), as strings; the service checks them."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]


class RiskCreateForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title")
    category = forms.CharField(max_length=20, label="Category")
    probability = forms.IntegerField(label="Probability")
    impact = forms.IntegerField(label="Impact")
    owner = forms.IntegerField(required=False, label="Owner")
    review_date = forms.DateField(required=False, label="Review date")
    cost_impact = forms.CharField(required=False, max_length=30, label="Cost impact")


class RiskRowForm(forms.Form):
    """The register's inline row edit: the fields a PM adjusts while reviewing the list."""

    title = forms.CharField(max_length=200, label="Title")
    probability = forms.IntegerField(label="Probability")
    impact = forms.IntegerField(label="Impact")
    owner = forms.IntegerField(required=False, label="Owner")
    review_date = forms.DateField(required=False, label="Review date")
    version = forms.IntegerField(label="Version")


class RiskEditForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title")
    description = forms.CharField(required=False, max_length=20000, label="Description")
    category = forms.CharField(max_length=20, label="Category")
    probability = forms.IntegerField(label="Probability")
    impact = forms.IntegerField(label="Impact")
    residual_probability = forms.IntegerField(required=False, label="Residual probability")
    residual_impact = forms.IntegerField(required=False, label="Residual impact")
    cost_impact = forms.CharField(required=False, max_length=30, label="Cost impact")
    owner = forms.IntegerField(required=False, label="Owner")
    response = forms.CharField(required=False, max_length=20, label="Response")
    mitigation_plan = forms.CharField(required=False, max_length=20000, label="Mitigation plan")
    contingency_plan = forms.CharField(required=False, max_length=20000, label="Contingency plan")
    trigger = forms.CharField(required=False, max_length=5000, label="Trigger")
    review_date = forms.DateField(required=False, label="Review date")
    linked_items = forms.CharField(required=False, max_length=2000, label="Linked items")
    compliance_tags = StringListField(required=False, label="Compliance tags")
    version = forms.IntegerField(label="Version")

    def clean_linked_items(self) -> list[str]:
        raw = self.cleaned_data.get("linked_items") or ""
        return [part.upper() for part in KEY_SEPARATORS.split(raw) if part]
