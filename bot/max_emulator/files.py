"""The two-step upload and the files behind attachments.

Step 1, `POST /uploads?type=...`, hands out a single-use upload URL (plus the token itself
for video and audio). Step 2 posts the bytes there (multipart field `data`); MAX answers
`{"token": ...}` for a file, `{"photos": {id: {"token": ...}}}` for an image and
`<retval>1</retval>` for video/audio. The token then goes into a message's attachment.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass

from bot.emulator.clock import Clock
from bot.max_emulator.errors import ApiError, attachment_not_ready, bad_request
from bot.max_emulator.models import MEDIA_KINDS, Json, MediaKind, StoredFile

_DEFAULT_MIME = {"image": "image/png", "video": "video/mp4", "audio": "audio/mpeg"}


@dataclass
class UploadSlot:
    slot_id: str
    kind: MediaKind
    token: str
    used: bool = False


class FileStore:
    def __init__(self, clock: Clock, *, processing_seconds: float = 0.0) -> None:
        self.clock = clock
        # How long MAX "processes" an upload; meanwhile sends answer attachment.not.ready.
        self.processing_seconds = processing_seconds
        self.base_url = ""  # set by the server once its port is known
        self.slots: dict[str, UploadSlot] = {}
        self.by_token: dict[str, StoredFile] = {}
        self.by_id: dict[int, StoredFile] = {}
        self._numbers = itertools.count(1)

    def _token(self, kind: str, number: int) -> str:
        digest = hashlib.sha256(f"{kind}:{number}".encode()).hexdigest()
        return f"{kind[0]}{digest[:42]}"

    def new_slot(self, kind: str) -> Json:
        if kind not in MEDIA_KINDS:
            # MAX dropped type=photo; image, video, audio and file remain.
            raise bad_request(f"Invalid upload type: {kind!r}")
        number = next(self._numbers)
        slot = UploadSlot(f"u{number}", kind, self._token(kind, number))
        self.slots[slot.slot_id] = slot
        answer: Json = {"url": f"{self.base_url}/upload.do?slot={slot.slot_id}"}
        if kind in ("video", "audio"):
            answer["token"] = slot.token
        return answer

    def receive(self, slot_id: str, data: bytes, filename: str, mime_type: str) -> str:
        """Step 2; returns the upload host's answer body."""
        slot = self.slots.get(slot_id)
        if slot is None:
            raise ApiError(404, "not.found", "Upload slot not found")
        if slot.used:
            raise bad_request("Only one file can be uploaded to an upload URL")
        slot.used = True
        stored = self._store(slot.kind, slot.token, data, filename, mime_type)
        if slot.kind == "file":
            return json.dumps({"token": stored.token})
        if slot.kind == "image":
            return json.dumps({"photos": {str(stored.file_id): {"token": stored.token}}})
        return '<?xml version="1.0" encoding="UTF-8" standalone="no"?><retval>1</retval>'

    def store_from_user(self, kind: MediaKind, data: bytes, filename: str, mime: str) -> StoredFile:
        """A file a user sends to the bot: already processed, addressed by URL."""
        number = next(self._numbers)
        return self._store(kind, self._token(kind, number), data, filename, mime, ready=True)

    def _store(
        self,
        kind: MediaKind,
        token: str,
        data: bytes,
        filename: str,
        mime_type: str,
        *,
        ready: bool = False,
    ) -> StoredFile:
        delay = 0.0 if ready else self.processing_seconds
        stored = StoredFile(
            file_id=next(self._numbers),
            kind=kind,
            token=token,
            data=data,
            filename=filename or f"{kind}.bin",
            mime_type=mime_type or _DEFAULT_MIME.get(kind, "application/octet-stream"),
            ready_at=self.clock.monotonic() + delay,
        )
        self.by_token[token] = stored
        self.by_id[stored.file_id] = stored
        return stored

    def resolve(self, kind: str, token: str) -> StoredFile:
        """The file a send refers to by token, or MAX's error for why it can't be sent."""
        stored = self.by_token.get(token)
        if stored is None and any(s.token == token for s in self.slots.values()):
            raise attachment_not_ready()  # video/audio token handed out, bytes not posted yet
        if stored is None or stored.kind != kind:
            raise bad_request(f"Invalid {kind} token")
        if self.clock.monotonic() < stored.ready_at:
            raise attachment_not_ready()
        return stored

    def url(self, stored: StoredFile) -> str:
        return f"{self.base_url}/files/{stored.file_id}/{stored.filename}"

    def attachment(self, stored: StoredFile) -> Json:
        """The attachment as MAX shows it in a message."""
        url = self.url(stored)
        if stored.kind == "image":
            payload: Json = {"photo_id": stored.file_id, "token": stored.token, "url": url}
            return {"type": "image", "payload": payload}
        attachment: Json = {"type": stored.kind, "payload": {"url": url, "token": stored.token}}
        if stored.kind == "file":
            attachment["payload"]["fileId"] = stored.file_id
            attachment["filename"] = stored.filename
            attachment["size"] = stored.size
        return attachment

    def for_attachment(self, attachment: Json) -> StoredFile | None:
        token = (attachment.get("payload") or {}).get("token")
        return self.by_token.get(token) if isinstance(token, str) else None
