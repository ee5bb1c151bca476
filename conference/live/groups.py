"""Names of channel-layer groups and Redis channels: the one place they are spelled."""

from django.conf import settings

PREFIX = "medvenue"


def user_group(user_id: int) -> str:
    """Every socket of one user: used to close them on logout or deactivation."""
    return f"{PREFIX}.user.{user_id}"


def hub_channel() -> str:
    """The Redis pub/sub channel on which every process receives hall events."""
    db = settings.REDIS_URL.rsplit("/", 1)[-1] if settings.REDIS_URL else "0"
    return f"{PREFIX}:hub:{db}"
