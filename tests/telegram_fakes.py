"""Offline Telegram: a recording request object and real Update payloads."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "住建助手", "username": "bureau_bot"}
_ids = itertools.count(1)


class RecordingRequest(BaseRequest):
    """A ``BaseRequest`` that answers Bot API calls locally and records them.

    ``calls`` holds ``(method, parameters)`` in order. Sent messages are echoed back as
    the Message objects Telegram would return; ``files`` maps a file id to the bytes
    served by getFile and the download that follows.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, bytes] = {}

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any):
        if "/file/bot" in url:  # a file download
            file_id = url.rsplit("/", 1)[-1]
            self.calls.append(("download", {"file_id": file_id}))
            return 200, self.files[file_id]
        endpoint = url.rsplit("/", 1)[-1]
        parameters = dict(request_data.parameters) if request_data else {}
        self.calls.append((endpoint, parameters))
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, parameters)}).encode()

    def sent(self, *methods: str) -> list[dict[str, Any]]:
        """Return the parameters of every call to ``methods`` (default: sendMessage)."""
        wanted = methods or ("sendMessage",)
        return [parameters for name, parameters in self.calls if name in wanted]

    def _result(self, endpoint: str, parameters: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT_USER | {"can_join_groups": True, "can_read_all_group_messages": False}
        if endpoint == "getFile":
            file_id = parameters["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        if endpoint in ("sendMessage", "editMessageText", "sendDocument"):
            return {
                "message_id": parameters.get("message_id", next(_ids)),
                "date": int(time.time()),
                "chat": {"id": parameters.get("chat_id", 1), "type": "private"},
                "from": BOT_USER,
                "text": parameters.get("text", ""),
            }
        return True


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "王", "language_code": "zh-hans"}


def _chat(chat_id: int, user_id: int) -> dict[str, Any]:
    if chat_id == user_id:
        return {"id": chat_id, "type": "private", "first_name": "王"}
    return {"id": chat_id, "type": "supergroup", "title": "住建局工作群"}


def message_update(
    bot: Bot,
    text: str,
    user_id: int = 1001,
    chat_id: int | None = None,
    reply_to_bot: bool = False,
) -> Update:
    """Return an Update carrying a text message; commands and @mentions get entities."""
    chat_id = chat_id or user_id
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id, user_id),
        "from": _user(user_id),
        "text": text,
    }
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
    mention = f"@{BOT_USER['username']}"
    if mention in text and not text.startswith("/"):
        entities.append({"type": "mention", "offset": text.index(mention), "length": len(mention)})
    if entities:
        message["entities"] = entities
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, user_id),
            "from": BOT_USER,
            "text": "之前的回答",
        }
    return Update.de_json({"update_id": next(_ids), "message": message}, bot)


def document_update(bot: Bot, file_id: str, file_name: str, size: int, user_id: int = 1001) -> Update:
    """Return an Update carrying a document sent in a private chat."""
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(user_id, user_id),
        "from": _user(user_id),
        "document": {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name, "file_size": size},
    }
    return Update.de_json({"update_id": next(_ids), "message": message}, bot)


def callback_update(
    bot: Bot, data: str, message_text: str = "", user_id: int = 1001, chat_id: int | None = None
) -> Update:
    """Return an Update for a button press under a message the bot sent (in the user's
    private chat unless ``chat_id`` names a group)."""
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id or user_id, user_id),
        "from": BOT_USER,
        "text": message_text or "回答",
    }
    query = {"id": str(next(_ids)), "from": _user(user_id), "chat_instance": "1", "data": data, "message": message}
    return Update.de_json({"update_id": next(_ids), "callback_query": query}, bot)
