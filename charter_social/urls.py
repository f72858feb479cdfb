"""Root URL map. Each app owns its pages (`urls.py`) and its API (`api_urls.py`)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from . import views

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("feed.api_urls")),
    path("", include("accountability.api_urls")),
    path("", include("charter.api_urls")),
    path("", include("ranking.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("transparency/", include("accountability.urls")),
    path("charter/", include("charter.urls")),
    path("ranking/", include("ranking.urls")),
    path("", include("frontend.urls")),
]
