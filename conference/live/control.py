"""Control messages to a user's open sockets, on every server process."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from conference.live.groups import user_group


async def aclose_user_sockets(user_id: int) -> None:
    await get_channel_layer().group_send(user_group(user_id), {"type": "session.revoked"})


def close_user_sockets(user_id: int) -> None:
    async_to_sync(aclose_user_sockets)(user_id)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        close_user_sockets(user.pk)
        from conference.services.media.stage import cut_user_media

        cut_user_media(user.pk)
