"""Fixtures shared by the conference tests."""

import pytest

from tests.support.admin import World


@pytest.fixture
def world(db):
    """Two organizers, Alpha and Beta, each with a venue, an event and everything in it
    (tests/support/admin.py). Some modules define a `world` of their own for their own data."""
    return World()
