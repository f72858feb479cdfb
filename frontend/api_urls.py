from django.urls import path  # noqa: F401

app_name = "frontend_api"
urlpatterns: list = []
