"""The claim path through the CME package (docs/architecture.md, "CME"): following a claim
from the view, each module is entered once from outside and the learner's profile and
enduring-material claims are read once."""

import sys
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conference.models import Claim, ClaimStatus
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db

PACKAGE = "conference.services.cme"


def _entries(call) -> Counter:
    """How often control passes into each module of the package from another module."""
    entered: Counter = Counter()

    def profile(frame, event, arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if module.startswith(PACKAGE) and module != caller and frame.f_code.co_name[0] != "<":
            entered[module] += 1

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return entered


def test_claim_from_the_view_enters_each_module_once_and_reads_the_learner_once(
    client, django_capture_on_commit_callbacks
):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=53)
    evaluate(user, event)
    client.force_login(user)
    url = reverse("cme:claim", kwargs={"event_slug": event.slug})
    form = {"credit_type": "AMA_PRA_1", "amount": "0.75", "attest": "yes"}

    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as queries,
    ):
        entered = _entries(lambda: client.post(url, form))

    claim = Claim.objects.get(user=user, event=event)
    assert claim.status == ClaimStatus.APPROVED
    profiles = [q for q in queries if 'FROM "accounts_professionalprofile"' in q["sql"]]
    enduring = [q for q in queries if '"conference_claim"."enduring_id" IS NOT NULL' in q["sql"]]
    assert (len(profiles), len(enduring)) == (1, 1)
    assert {module: count for module, count in entered.items() if count > 1} == {}
    assert {"claims", "learner", "offers", "case", "records", "certificates"} <= {
        module.rpartition(".")[2] for module in entered
    }
