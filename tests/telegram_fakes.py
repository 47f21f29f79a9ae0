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

    ``calls`` holds ``(method, parameters)`` in order. Sent messages are echoed back
    as the Message objects Telegram would return.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any):
        endpoint = url.rsplit("/", 1)[-1]
        parameters = dict(request_data.parameters) if request_data else {}
        self.calls.append((endpoint, parameters))
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, parameters)}).encode()

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Return the parameters of every call to ``method``."""
        return [parameters for name, parameters in self.calls if name == method]

    @staticmethod
    def _result(endpoint: str, parameters: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT_USER | {"can_join_groups": True, "can_read_all_group_messages": False}
        if endpoint in ("sendMessage", "editMessageText", "sendDocument"):
            return {
                "message_id": parameters.get("message_id", next(_ids)),
                "date": int(time.time()),
                "chat": {"id": parameters.get("chat_id", 1), "type": "private"},
                "from": BOT_USER,
                "text": parameters.get("text", ""),
            }
        return True


def message_update(bot: Bot, text: str, user_id: int = 1001, chat_id: int | None = None) -> Update:
    """Return an Update carrying a private text message (commands get their entity)."""
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id or user_id, "type": "private", "first_name": "王"},
        "from": {"id": user_id, "is_bot": False, "first_name": "王", "language_code": "zh-hans"},
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return Update.de_json({"update_id": next(_ids), "message": message}, bot)
