from django.urls import path

from conference.views import cme

app_name = "cme"

urlpatterns = [
    path("events/<slug:event_slug>/", cme.my_cme, name="event"),
    path("events/<slug:event_slug>/evaluation/", cme.submit_evaluation, name="evaluation"),
    path("events/<slug:event_slug>/claim/", cme.claim, name="claim"),
    path("events/<slug:event_slug>/reissue/", cme.reissue, name="reissue"),
    path(
        "certificates/<int:certificate_id>/download/",
        cme.download_certificate,
        name="certificate-download",
    ),
    path("enduring/<int:activity_id>/", cme.enduring, name="enduring"),
    path("transcript/", cme.transcript, name="transcript"),
    path("transcript.csv", cme.transcript_csv, name="transcript-csv"),
    path("transcript.pdf", cme.transcript_pdf, name="transcript-pdf"),
]
