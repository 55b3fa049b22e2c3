"""SMS delivery for the sandbox: a gateway protocol and an outbox a developer can read.

Messages (they contain one-time codes) go to the ``sms_outbox`` table only — never to a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.models import Scope
from backend_client.sandbox import schema as s


@dataclass(frozen=True)
class SmsMessage:
    id: int
    phone: str
    text: str
    sent_at: datetime


class SmsGateway(Protocol):
    async def send(self, conn: AsyncConnection, phone: str, text: str, now: datetime) -> None:
        """Deliver ``text`` to ``phone``; ``conn`` is the caller's transaction (the send is
        recorded only if the whole operation commits)."""
        ...


class OutboxSmsGateway:
    """Writes messages to the sandbox's ``sms_outbox`` table."""

    async def send(self, conn: AsyncConnection, phone: str, text: str, now: datetime) -> None:
        await conn.execute(insert(s.sms_outbox).values(phone=phone, text=text, sent_at=now))


async def read_outbox(
    conn: AsyncConnection, phone: str | None = None, limit: int = 50
) -> list[SmsMessage]:
    """Newest first."""
    q = select(s.sms_outbox).order_by(s.sms_outbox.c.id.desc()).limit(limit)
    if phone is not None:
        q = q.where(s.sms_outbox.c.phone == phone)
    rows = (await conn.execute(q)).all()
    return [SmsMessage(r.id, r.phone, r.text, r.sent_at) for r in rows]


def mask_phone(phone: str) -> str:
    """ "+79161234512" -> "+7 *** ***-45-12"."""
    digits = phone[-4:]
    return f"+7 *** ***-{digits[:2]}-{digits[2:]}"


def _until(expires: date | None) -> str:
    return f"до {expires:%d.%m.%Y}" if expires else "бессрочно, пока вы его не отзовёте"


def _what(scope: Scope) -> str:
    if scope is Scope.RECORDS:
        return "к записи вас к врачу и просмотру вашей медкарты"
    return "к записи вас к врачу (без просмотра медкарты)"


def code_text_self(code: str) -> str:
    return (
        f"Код {code} для привязки вашей медкарты к Telegram-боту ЕМИАС. Действует 10 минут. "
        "Никому не сообщайте код. Если вы ничего не запрашивали — просто не вводите его."
    )


def code_text_relative(
    code: str, requester_name: str, scope: Scope, access_until: date | None
) -> str:
    return (
        f"Код {code}. {requester_name} запрашивает доступ {_what(scope)} {_until(access_until)} "
        "через Telegram-бот. Если вы согласны, сообщите код только этому человеку; сотрудники "
        "поликлиник и ЕМИАС код не спрашивают. Действует 10 минут."
    )


def granted_text(requester_name: str, scope: Scope, access_until: date | None) -> str:
    return (
        f"{requester_name} получил(а) доступ {_what(scope)} {_until(access_until)}. Посмотреть, "
        "у кого есть доступ, и отозвать его можно в Telegram-боте или в поликлинике."
    )
