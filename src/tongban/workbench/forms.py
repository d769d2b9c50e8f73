"""Workbench forms. They only parse; catalog services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class AccessRequestForm(forms.Form):
    fields_wanted = forms.MultipleChoiceField(label=_("Fields"), widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(label=_("Purpose"), max_length=200,
                              help_text=_("What the data is used for, e.g. tax registration review."))
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=500)
    valid_until = forms.DateField(label=_("Needed until"), widget=forms.DateInput(attrs={"type": "date"}))
    system = forms.TypedChoiceField(label=_("Calling system"), coerce=int)

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]],
                 system_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fields_wanted"].choices = field_choices  # type: ignore[attr-defined]
        self.fields["system"].choices = system_choices  # type: ignore[attr-defined]


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for refusal"), max_length=500)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revocation"), max_length=500)


class RegistryImportForm(forms.Form):
    """Upload a file to import into a registry; ``registries.services.start_import`` decides."""

    registry = forms.CharField(label=_("Registry"), widget=forms.Select)
    file = forms.FileField(
        label=_("File"), max_length=200,
        help_text=_("A .csv (UTF-8) or .xlsx file whose first row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("Why these records are registered; kept in each record's history."))
    skip_registered = forms.BooleanField(
        label=_("Leave out rows already registered"), required=False,
        help_text=_("Then uploading the same file again adds nothing."),
    )

    def __init__(self, *args: Any, registry_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registry"].widget.choices = registry_choices
