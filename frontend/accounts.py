"""Account pages: sign up, sign in/out, settings, data download, deletion."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from charter_social import ratelimit
from feed import selectors, services
from feed.api import ACCOUNT_ON_RECORD

from . import feeds
from .forms import (
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    SignupForm,
    add_service_errors,
)
from .http import account_of


class LoginView(auth_views.LoginView):
    """Sign in, with the API's attempt limit and the shared lockout.

    A locked-out attempt never reaches the password check, and an unknown
    username counts as a failure exactly like a wrong password, so neither the
    message nor the lockout tells whether an account exists.
    """

    template_name = "frontend/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150]
        address = ratelimit.client_address(request)
        attempt = ratelimit.hit("sign_in", f"{address}:{username.lower()}")
        locked_for = (
            attempt.retry_after
            if not attempt.allowed
            else ratelimit.login_lockout_check(username=username, address=address)
        )
        if locked_for is not None:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, ratelimit.lockout_message(locked_for))
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(locked_for)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        if form.data.get("username") and form.data.get("password"):
            ratelimit.login_failed(
                username=str(form.data["username"])[:150],
                address=ratelimit.client_address(self.request),
            )
        return super().form_invalid(form)


logout_view = auth_views.LogoutView.as_view()


@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited("signup", ident=ratelimit.client_address)
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("frontend:home"))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_signup(
                username=data["username"],
                password=data["password"],
                email=data["email"],
                display_name=data["display_name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, f"Welcome, @{user.username}! Find people to follow below."
            )
            return HttpResponseRedirect(reverse("frontend:public"))
    status = 400 if request.method == "POST" else 200
    return render(request, "frontend/signup.html", {"form": form}, status=status)


def _settings_page(
    request: HttpRequest, *, status: int = 200, **forms: object
) -> HttpResponse:
    user = account_of(request)
    context = {
        "profile_form": ProfileForm(
            initial={"display_name": user.display_name, "bio": user.bio}
        ),
        "password_form": PasswordChangeForm(),
        "delete_form": AccountDeleteForm(),
        "blocked": feeds.accounts_blocked_by(user=user),
        "muted": feeds.accounts_muted_by(user=user),
        **forms,
    }
    return render(request, "frontend/settings.html", context, status=status)


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    """Profile, password, data download, blocks and mutes, account deletion."""
    return _settings_page(request)


@login_required
@require_POST
def settings_profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.profile_update(user=account_of(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return HttpResponseRedirect(reverse("frontend:settings"))
    return _settings_page(request, status=400, profile_form=form)


@login_required
@require_POST
def settings_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            user = services.password_change(
                user=account_of(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Keep this session signed in; other sessions are signed out.
            update_session_auth_hash(request, user)
            messages.success(request, "Your password is changed.")
            return HttpResponseRedirect(reverse("frontend:settings"))
    return _settings_page(request, status=400, password_form=form)


@login_required
@require_GET
def settings_export(request: HttpRequest) -> HttpResponse:
    """Everything the account wrote or chose, as a JSON download."""
    user = account_of(request)
    data = selectors.account_export(user=user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="charter-social-{user.username}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def settings_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(
                user=account_of(request), password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ProtectedError:
            form.add_error(None, ACCOUNT_ON_RECORD)
        else:
            logout(request)
            messages.success(
                request, "Your account and everything it wrote are deleted."
            )
            return HttpResponseRedirect(reverse("frontend:home"))
    return _settings_page(request, status=400, delete_form=form)
