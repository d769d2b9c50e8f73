"""Portal forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DelegationForm(forms.Form):
    entity = forms.TypedChoiceField(label=_("Business"), coerce=int)
    delegate_username = forms.CharField(label=_("Delegate's username"), max_length=150)
    valid_until = forms.DateField(label=_("Valid until"), help_text=_("At most one year from today."),
                                  widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, entities: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["entity"].choices = entities  # type: ignore[attr-defined]
