"""Chat per hall."""

from typing import Any

from conference.live.frames import optional_key, require_text
from conference.live.registry import action
from conference.services import live


@action("chat.send", bucket="write")
async def send(consumer: Any, data: dict[str, Any]) -> dict[str, Any]:
    text = require_text(data, "text", max_length=live.CHAT_MAX_LENGTH, label="Your message")
    reply: dict[str, Any] = await consumer.apply_once(
        live.send_chat, reply_as="message", text=text, client_key=optional_key(data)
    )
    return reply
