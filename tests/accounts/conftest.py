import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters live in the cache, which outlives a test (in process and on Redis)."""
    cache.clear()
    yield
    cache.clear()
