from django.urls import path  # noqa: F401 - the watching pages add their routes here

app_name = "recordings"

urlpatterns: list = []
