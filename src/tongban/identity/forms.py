"""Forms for sign-up, sign-in and account settings. They only parse; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignUpForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and . _ - @ only."),
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               help_text=_("At least 10 characters; not a common password."),
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label=_("Password again"), strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    name = forms.CharField(label=_("Name as on your ID card"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(label=_("ID number"), max_length=18, min_length=18,
                                help_text=_("18 characters; the last may be X."),
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords are different."))
        return data


class RealNameForm(forms.Form):
    name = forms.CharField(label=_("Name as on your ID card"), max_length=100)
    id_number = forms.CharField(label=_("ID number"), max_length=18, min_length=18)


class SignInForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class SecondFactorForm(forms.Form):
    code = forms.CharField(label=_("Six-digit code from your authenticator app"), max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
