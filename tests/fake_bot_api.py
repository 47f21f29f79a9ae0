"""A small local HTTP server that speaks enough of the Telegram Bot API for end-to-end tests.

It serves getMe, deleteWebhook, setMyCommands, getUpdates (long polling), sendMessage,
editMessageText, answerCallbackQuery, getFile and file downloads, and sendDocument, for
one token. Every text the bot sends is checked like Telegram would: valid HTML in
HTML parse mode, at most 4096 characters, callback data at most 64 bytes; a message
that fails is refused with Telegram's 400 error and recorded in ``violations``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.conftest import PROJECT_DIR
from tests.telegram_html import assert_telegram_html

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "住建助手", "username": "bureau_bot"}
LONG_POLL_CAP_SECONDS = 1.0


def text_update(user_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
    """A private-chat text message from ``user_id`` (a command gets its entity), for
    :meth:`FakeBotApi.push`."""
    message = {
        "message_id": message_id if message_id is not None else int(time.time() * 1000) % 1_000_000,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "王"},
        "from": {"id": user_id, "is_bot": False, "first_name": "王"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (the bot stopping mid-poll) is not an error worth a traceback."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeBotApi:
    """The server; start it, point the bot's ``base_url``/``base_file_url`` at it.

    Args:
        token: the only token accepted.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.files: dict[str, bytes] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Condition()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/file/bot"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update (its update_id is assigned here) for the next getUpdates."""
        with self._lock:
            self._updates.append({"update_id": next(self._update_ids), **update})
            self._lock.notify_all()

    def wait_for(self, method: str, predicate=lambda p: True, timeout: float = 60, after: int = 0):
        """Return the first call to ``method`` at index ``after`` or later matching
        ``predicate``, waiting up to ``timeout`` seconds.

        Raises:
            AssertionError: no such call arrived in time.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for name, parameters in self.calls[after:]:
                    if name == method and predicate(parameters):
                        return parameters
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        (name, str(p.get("text", ""))[:200]) for name, p in self.calls[after:] if name != "getUpdates"
                    ]
                    raise AssertionError(f"no {method} call matched within {timeout}s; calls: {seen}")
                self._lock.wait(remaining)

    def _record(self, method: str, parameters: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append((method, parameters))
            self._lock.notify_all()

    def _answer(self, method: str, parameters: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in ("sendMessage", "editMessageText"):
            problem = _check_message(parameters)
            if problem:
                self.violations.append(f"{method}: {problem}")
                return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._poll(parameters)}
        if method == "getFile":
            file_id = parameters["file_id"]
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            result = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(self.files[file_id])}
            return 200, {"ok": True, "result": result | {"file_path": f"documents/{file_id}"}}
        if method in ("sendMessage", "editMessageText", "sendDocument"):
            chat_id = int(parameters.get("chat_id", 0))
            message = {
                "message_id": int(parameters.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": parameters.get("text", ""),
            }
            return 200, {"ok": True, "result": message}
        return 200, {"ok": True, "result": True}

    def _poll(self, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(parameters.get("offset") or 0)
        wait = min(float(parameters.get("timeout") or 0), LONG_POLL_CAP_SECONDS)
        deadline = time.monotonic() + wait
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return list(self._updates)

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                prefix = f"/file/bot{api.token}/documents/"
                path = unquote(self.path)  # python-telegram-bot sends the token's ":" as %3A
                if not path.startswith(prefix) or path[len(prefix) :] not in api.files:
                    self.send_error(404)
                    return
                content = api.files[path[len(prefix) :]]
                api._record("download", {"file_id": path[len(prefix) :]})
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_POST(self) -> None:
                prefix = f"/bot{api.token}/"
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = unquote(self.path)
                if not path.startswith(prefix):
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                method = path[len(prefix) :]
                parameters = _parameters(self.headers.get("Content-Type", ""), body)
                api._record(method, parameters)
                self._reply(*api._answer(method, parameters))

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _parameters(content_type: str, body: bytes) -> dict[str, Any]:
    """Decode a Bot API request body (form fields hold JSON for non-string values)."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=default_policy).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename():
                fields[name] = {"filename": part.get_filename(), "content": payload}
            else:
                fields[name] = _decode(payload.decode())
        return fields
    return {key: _decode(values[-1]) for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def _decode(value: str) -> Any:
    if value[:1] in "[{" or value in ("true", "false") or value.lstrip("-").isdigit():
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _check_message(parameters: dict[str, Any]) -> str | None:
    """Return why Telegram would refuse this message, or None."""
    if parameters.get("parse_mode") != "HTML":
        return "text sent without HTML parse mode"
    try:
        assert_telegram_html(str(parameters.get("text", "")))
    except AssertionError as error:
        return f"can't parse entities: {error}"
    markup = parameters.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                return "BUTTON_DATA_INVALID"
    return None


def bot_run_command(config: Path) -> list[str]:
    """The command line that runs the bot (``bureau-bot run``) from this checkout."""
    return [sys.executable, "-m", "bot", "run", "--config", str(config)]


def bot_environment(token: str) -> dict[str, str]:
    """This process's environment with the bot token and this checkout importable."""
    return os.environ | {"TELEGRAM_BOT_TOKEN": token, "PYTHONPATH": str(PROJECT_DIR)}


def start_bot(config: Path, token: str, cwd: Path, stdout=subprocess.PIPE) -> subprocess.Popen:
    """Start the real bot in a new process against the Bot API ``config`` names; its
    standard error is a pipe, for the one-line errors tests read."""
    return subprocess.Popen(
        bot_run_command(config), cwd=cwd, env=bot_environment(token), stdout=stdout, stderr=subprocess.PIPE, text=True
    )


def stop_bot(process: subprocess.Popen, timeout: float) -> None:
    """Stop a bot started by :func:`start_bot` as systemd would (SIGINT), killing it if
    it has not exited within ``timeout`` seconds; nothing if it has exited already."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
