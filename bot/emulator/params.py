"""Reading Bot API parameters the way Telegram does: query string, form, multipart or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from bot.emulator.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Typed access to one request's parameters (form values arrive as strings)."""

    def __init__(
        self,
        values: dict[str, Any],
        uploads: dict[str, Upload] | None = None,
        *,
        is_connected: Callable[[], bool] = lambda: True,
    ) -> None:
        self.values = values
        self.uploads = uploads or {}
        self.is_connected = is_connected

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json_value(self, name: str) -> Any:
        """A JSON-valued parameter: a JSON string in forms, an object in JSON bodies."""
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f'can\'t parse "{name}" JSON object') from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (direct or `attach://`), or a file_id / URL string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.text(name)
        if value is None or value == "":
            return None
        if value.startswith("attach://"):
            upload = self.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {name} not found in the request")
            return upload
        return value


async def read_multipart(
    reader: MultipartReader, values: dict[str, Any], uploads: dict[str, Upload]
) -> None:
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            uploads[part.name] = Upload(
                bytes(await part.read()), part.filename, part.headers.get("Content-Type")
            )
        else:
            values[part.name] = await part.text()


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        elif content_type.startswith("multipart/"):
            await read_multipart(await request.multipart(), values, uploads)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    values[key] = value
                elif isinstance(value, web.FileField):
                    uploads[key] = Upload(value.file.read(), value.filename, value.content_type)

    def is_connected() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()

    return Params(values, uploads, is_connected=is_connected)
