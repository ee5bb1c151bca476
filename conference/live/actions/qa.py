"""Q&A for the session on in the hall."""

from channels.db import database_sync_to_async

from conference.live.frames import optional_key, require_text
from conference.live.registry import action
from conference.services import live


@action("qa.ask", bucket="write")
async def ask(consumer, data: dict) -> dict:
    text = require_text(data, "text", max_length=live.QUESTION_MAX_LENGTH)
    item, created = await database_sync_to_async(live.ask_question)(
        consumer.access, text=text, client_key=optional_key(data)
    )
    if created:
        await consumer.broadcast_item(item)
    return {"seq": item.seq, "question": item.data, "duplicate": not created}
