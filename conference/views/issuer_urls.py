from django.urls import path

from conference.views import credentials

urlpatterns = [
    path("did.json", credentials.did_document, name="credential-did"),
    path("jwks.json", credentials.jwks, name="credential-jwks"),
    path("keys/<str:thumbprint>", credentials.key, name="credential-key"),
    path(
        "status/<str:purpose>/<int:number>",
        credentials.status_list,
        name="credential-status",
    ),
]
