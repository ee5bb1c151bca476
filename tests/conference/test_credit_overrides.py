"""An activity's own credit rule: the event credit's fields replace the preset's."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Degree
from conference.credit.rules import PRESETS, customised_rule, parse_codes
from conference.models import EventCredit
from conference.services.cme.claims import claim_credit
from conference.services.cme.offers import credit_offers
from tests.support.cme import attend, evaluate, learner, make_event


def test_customised_rule_without_values_is_the_preset():
    assert customised_rule("AMA_PRA_1") is PRESETS["AMA_PRA_1"]


def test_customised_rule_replaces_given_fields_and_marks_the_version():
    rule = customised_rule(
        "AMA_PRA_1", increment=Decimal("0.5"), rounding="down", eligible_degrees=("MD",)
    )

    assert (rule.increment, rule.rounding, rule.eligible_degrees) == (
        Decimal("0.5"),
        "down",
        ("MD",),
    )
    assert rule.minimum == PRESETS["AMA_PRA_1"].minimum
    assert rule.version.startswith(PRESETS["AMA_PRA_1"].version + "+")
    assert rule.version != customised_rule("AMA_PRA_1", increment=Decimal("0.5")).version


def test_parse_codes_normalises_case_and_refuses_unknown():
    assert parse_codes(" md, DO ,md", ("MD", "DO"), "degrees") == ("MD", "DO")
    with pytest.raises(ValueError, match="Unknown degrees: DVM"):
        parse_codes("MD, DVM", ("MD", "DO"), "degrees")


@pytest.mark.django_db
def test_event_credit_override_changes_computed_credit_and_claim_rule_version():
    event, session = make_event()
    user = learner(degree=Degree.MD)
    attend(user, session, minutes=52)  # 52 min: 0.75 by the AMA preset (nearest quarter)
    evaluate(user, event)
    EventCredit.objects.filter(event=event, credit_type="AMA_PRA_1").update(
        increment=Decimal("0.5"), rounding="down"
    )

    (offer,) = [o for o in credit_offers(user, event) if o.code == "AMA_PRA_1"]
    claim = claim_credit(user, event, "AMA_PRA_1", amount="0.50", attested=True)

    assert offer.result.credit == Decimal("0.50")
    assert claim.computed_credit == Decimal("0.50")
    assert claim.rule_version.startswith(PRESETS["AMA_PRA_1"].version + "+")


@pytest.mark.django_db
def test_event_credit_override_degrees_decide_eligibility():
    event, session = make_event()
    nurse = learner(degree=Degree.RN)
    attend(nurse, session, minutes=60)
    evaluate(nurse, event)
    EventCredit.objects.filter(event=event, credit_type="AMA_PRA_1").update(
        eligible_degrees="MD, DO, RN"
    )

    (offer,) = [o for o in credit_offers(nurse, event) if o.code == "AMA_PRA_1"]

    assert offer.can_claim


@pytest.mark.django_db
def test_event_credit_refuses_unknown_degrees_and_ids():
    event, _session = make_event()
    credit = EventCredit.objects.get(event=event, credit_type="AMA_PRA_1")
    credit.eligible_degrees = "MD, wizard"
    credit.required_ids = "npi, passport"

    with pytest.raises(ValidationError) as raised:
        credit.full_clean()

    assert set(raised.value.message_dict) == {"eligible_degrees", "required_ids"}
