from django.urls import path

from conference.views import cme, credentials

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
    path(
        "certificates/<int:certificate_id>/credential.jwt",
        credentials.download_credential,
        name="credential-download",
    ),
    path("enduring/<int:activity_id>/", cme.enduring, name="enduring"),
    path("enduring/<int:activity_id>/claim/", cme.enduring_claim, name="enduring-claim"),
    path("post-tests/<int:test_id>/", cme.post_test, name="post-test"),
    path("post-tests/<int:test_id>/take/", cme.take_post_test, name="post-test-take"),
    path(
        "post-tests/<int:test_id>/attempts/<int:number>/",
        cme.post_test_result,
        name="post-test-result",
    ),
    path("transcript/", cme.transcript, name="transcript"),
    path("transcript.csv", cme.transcript_csv, name="transcript-csv"),
    path("transcript.pdf", cme.transcript_pdf, name="transcript-pdf"),
]
