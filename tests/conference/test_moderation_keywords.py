"""The event's keyword filter (docs/moderation.md): matching rules and the admin field."""

import pytest

from conference.admin.events import EventForm
from conference.services.moderation import keyword_problems, matched_keyword, parse_keywords


def test_keywords_split_on_lines_and_commas_once_each():
    assert parse_keywords(" casino\nBuy  now, crypto,\n\nCASINO ") == [
        "casino",
        "Buy now",
        "crypto",
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Visit the CASINO tonight", "casino"),
        ("buy\n  now!", "Buy now"),
        ("cryptography is fine", ""),
        ("casinos are fine too", ""),
        ("(crypto)", "crypto"),
        ("nothing here", ""),
    ],
)
def test_whole_words_any_case(text, found):
    assert matched_keyword("casino\nBuy now, crypto", text) == found


def test_empty_list_matches_nothing_and_special_characters_are_literal():
    assert matched_keyword("", "anything") == ""
    assert matched_keyword(" , \n", "anything") == ""
    assert matched_keyword("a.b", "axb") == ""
    assert matched_keyword("a.b", "see a.b now") == "a.b"
    assert matched_keyword("c++", "I love c++") == "c++"


def test_too_many_or_too_long_keywords_are_refused():
    assert keyword_problems("\n".join(f"w{i}" for i in range(201)))
    assert keyword_problems("x" * 101)
    assert keyword_problems("fine\nalso fine") == []


@pytest.mark.django_db
def test_admin_form_reports_problems_next_to_the_field():
    form = EventForm(data={"moderation_keywords": "x" * 101})
    form.is_valid()
    assert "moderation_keywords" in form.errors
    assert "at most 100 characters" in form.errors["moderation_keywords"][0]
