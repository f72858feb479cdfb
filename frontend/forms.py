"""Forms for rendering and parsing page input.

The forms only shape input; the rules (lengths, uniqueness, permissions) live in
feed.services, whose ValidationErrors are copied onto the form with
`add_service_errors` so each message lands next to the field it is about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from feed.models import POST_MAX_LENGTH, Report


def error_messages(exc: ValidationError) -> list[str]:
    """Every message of a service error, flattened, for a notice or fragment."""
    return [str(m) for m in exc.messages]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the matching fields of `form`.

    Messages about fields the form does not show become form-wide errors, so
    nothing the service said is lost.
    """
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.error_dict.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, ValidationError(error.messages))


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That username and password don't match an account. "
        "Check both and try again (passwords are case-sensitive).",
        "inactive": "This account is inactive.",
    }


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=30,
        help_text="3–30 letters, digits or underscores. Others see it as @username.",
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    display_name = forms.CharField(
        required=False,
        max_length=50,
        label="Display name (optional)",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        required=False,
        label="Email (optional)",
        help_text="Only used to help you recover your account.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False,
        help_text=(
            "At least 8 characters; not too common or too close to your username."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        strip=False,
        label="Password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password, confirm = data.get("password"), data.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error(
                "password_confirm", "The two passwords differ; type the same one twice."
            )
        return data


class ComposeForm(forms.Form):
    # Not `required`: the service's own message for an empty post is clearer.
    body = forms.CharField(
        required=False,
        strip=False,
        label="Write a post",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": POST_MAX_LENGTH}),
    )
    parent_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        required=False,
        label="Display name",
        widget=forms.TextInput(attrs={"maxlength": 50}),
    )
    bio = forms.CharField(
        required=False,
        label="Bio",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        strip=False,
        label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        strip=False,
        label="New password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        strip=False,
        label="Your password",
        help_text=(
            "Deleting your account removes your posts, follows and reactions for good."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Report.Reason.choices, label="What is wrong with this post?"
    )
    details = forms.CharField(
        required=False,
        label="Details (optional)",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search people and posts",
        widget=forms.SearchInput(attrs={"maxlength": 200}),
    )
