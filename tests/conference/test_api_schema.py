"""OpenAPI schema and the self-hosted API docs pages."""

import re

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EXTERNAL_URL = re.compile(r"https?://", re.IGNORECASE)


def test_schema_is_valid_openapi_with_api_paths():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/events/",
        "/api/events/{slug}/",
        "/api/events/{slug}/schedule/",
        "/api/sessions/",
        "/api/sessions/{id}/",
        "/api/speakers/",
        "/api/speakers/{id}/",
        "/api/me/registrations/",
        "/api/me/registrations/{id}/",
        "/api/me/registrations/{id}/cancel/",
    } <= set(schema["paths"])


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert set(re.findall(r'(?:src|href)="([^"]+)"', html)) == {
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/docs/?script=",  # Swagger UI's start script, a file rather than inline (CSP)
    }
    assert EXTERNAL_URL.findall(html) == []
    script = client.get("/api/docs/?script=").content.decode()
    assert EXTERNAL_URL.findall(script) == []
    assert '"/api/schema/"' in script


@pytest.mark.parametrize(
    "asset",
    [
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
    ],
)
def test_docs_assets_are_served_locally(client, asset):
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
