"""Forms of the charter pages: parsing only; the services decide what is allowed."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import VoteChoice
from .text import CharterText, charter_text_parse

# Service error keys that belong to a form field with another name.
FIELD_FOR_ERROR = {"articles": "text", "text_title": "text", "preamble": "text"}


class AmendmentProposeForm(forms.Form):
    title = forms.CharField(
        max_length=200, help_text="What the amendment does, in a line."
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why the charter should change. Shown to everyone.",
    )
    text = forms.CharField(
        label="Charter text (Markdown)",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        help_text="The full text of the next version. Headings read "
        "'## Article <number>. <title>'.",
    )
    policy = forms.CharField(
        label="Policy (JSON)",
        widget=forms.Textarea(
            attrs={"rows": 18, "spellcheck": "false", "class": "mono"}
        ),
        help_text="The full policy of the next version; see the published JSON Schema.",
    )
    effective_at = forms.DateTimeField(
        label="Effective from (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text="Leave empty to take effect as soon as it is adopted.",
    )

    def clean_text(self) -> CharterText:
        try:
            return charter_text_parse(self.cleaned_data["text"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def clean_policy(self) -> Any:
        raw = self.cleaned_data["policy"]
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"The policy is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}."
            ) from None

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's field-level errors beside the matching form fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.message_dict.items():
            field = FIELD_FOR_ERROR.get(key, key)
            self.add_error(field if field in self.fields else None, messages)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(choices=VoteChoice.choices)


class OpenVotingForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=60, initial=7, label="Voting days")
