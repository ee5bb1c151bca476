"""Chat per hall."""

from conference.live.db import db
from conference.live.frames import optional_key, require_text
from conference.live.registry import action
from conference.services import live


@action("chat.send", bucket="write")
async def send(consumer, data: dict) -> dict:
    text = require_text(data, "text", max_length=live.CHAT_MAX_LENGTH)
    item, created = await db(live.send_chat)(
        consumer.access, text=text, client_key=optional_key(data)
    )
    if created:
        await consumer.broadcast_item(item)
    return {"seq": item.seq, "message": item.data, "duplicate": not created}
