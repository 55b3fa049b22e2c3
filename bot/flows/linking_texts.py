"""The linking flow's texts, channel-neutral: each takes the update's context and answers in
its language (msgids as they were in `handlers/policies.py`, so the catalogs still match)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from babel.dates import format_time

from backend_client.errors import AccessDenied
from backend_client.models import Challenge, Relation
from backend_client.protocol import CODE_LENGTH, MAX_RECIPIENTS, SENDS_PER_DAY, SENDS_PER_HOUR
from bot.flows.access_texts import esc
from bot.flows.context import FlowContext
from bot.services import linking as service
from bot.services.appointments.clock import MOSCOW


def wait_text(ctx: FlowContext, seconds: int) -> str:
    if seconds < 120:
        return ctx.ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)
    minutes = (seconds + 59) // 60
    return ctx.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


def try_again_text(ctx: FlowContext, seconds: int, now: datetime) -> str:
    """When a refused attempt may be repeated: "in 23 minutes", or a Moscow clock time for the
    hourly and daily caps (a count of hundreds of minutes helps nobody)."""
    _ = ctx.gettext
    if seconds < 3600:
        return _("You can try again in {wait}.").format(wait=wait_text(ctx, seconds))
    moment = (now + timedelta(seconds=seconds + 59)).astimezone(MOSCOW)
    time = format_time(moment.time(), format="short", locale=ctx.locale)
    if moment.date() == now.astimezone(MOSCOW).date():
        return _("You can try again today after {time} (Moscow time).").format(time=time)
    return _("You can try again tomorrow after {time} (Moscow time).").format(time=time)


def lookup_locked_text(ctx: FlowContext, seconds: int, now: datetime) -> str:
    """The look-up lock-out: the same words whether the policy or the account is capped, and
    whether or not a card has that policy (saying more would help only the person guessing)."""
    return (
        ctx.gettext(
            "Too many wrong birth dates were entered for this policy number or from your "
            "account, so looking cards up is paused to protect their owners."
        )
        + " "
        + try_again_text(ctx, seconds, now)
    )


def sensitive_deleted_text(ctx: FlowContext, kind: service.Sensitive) -> str:
    return deleted_text(ctx.gettext, kind)


def deleted_text(_: Callable[[str], str], kind: service.Sensitive) -> str:
    """Said after deleting a policy number or a code that the bot did not ask for."""
    if kind is service.Sensitive.POLICY:
        return _(
            "Message deleted: it looks like a policy number, and the bot was not asking for one "
            "here."
        )
    return _(
        "Message deleted: it looks like a one-time code, and the bot was not asking for one here."
    )


def policy_error_text(ctx: FlowContext, error: service.PolicyInputError) -> str:
    _ = ctx.gettext
    if error.reason == service.PolicyInputError.NOT_DIGITS:
        return _("The policy number may contain only digits (spaces and dashes are fine).")
    if error.reason == service.PolicyInputError.LENGTH:
        return _("The policy number has 16 digits. Please check it and enter it again.")
    return _(
        "This policy number has a typo: its last (check) digit does not match. "
        "Please check it against the policy and enter it again."
    )


def birth_date_error_text(ctx: FlowContext, error: service.BirthDateInputError) -> str:
    _ = ctx.gettext
    if error.reason == service.BirthDateInputError.FUTURE:
        return _("The birth date cannot be in the future. Please check it.")
    if error.reason == service.BirthDateInputError.IMPOSSIBLE:
        return _("There is no such date. Please check the day and the month.")
    if error.reason == service.BirthDateInputError.TOO_OLD:
        return _("Please check the year of birth.")
    return _("Please enter the birth date like 01.02.1980.")


def label_error_text(ctx: FlowContext, error: service.LabelInputError) -> str:
    if error.reason == service.LabelInputError.TOO_LONG:
        return ctx.gettext("That is too long. Please use at most {n} characters.").format(
            n=service.LABEL_MAX_LENGTH
        )
    return ctx.gettext("Please type a name, for example: Mum.")


def code_sent_text(ctx: FlowContext, challenge: Challenge, label: str | None, now: datetime) -> str:
    """Where the code went, and nothing else about the card's owner.

    Before the code is confirmed, whoever typed a policy number and a birth date has proved
    nothing, so the owner's name (the backend's "Галина К.") is not shown: a relative is named
    by the user's own label ("Mum"). The masked phone "+7 *** ***-01-24" stays: it is what
    EMIAS and Gosuslugi show at this step, so a person knows which phone to look at (an old
    number, a relative's), and four digits of a phone do not identify its owner."""
    _ = ctx.gettext
    phone = esc(challenge.phone_masked)
    minutes = max(1, (int((challenge.expires_at - now).total_seconds()) + 59) // 60)
    if challenge.relation is Relation.SELF:
        lead = _("We sent a code by SMS to the phone linked to your card: {phone}.").format(
            phone=phone
        )
    elif label:
        lead = _(
            "We sent a code by SMS to the owner's phone: {phone}. The SMS says who asks for "
            "access and to what. Ask the owner ({label}) to tell you the code; only they can "
            "give it."
        ).format(phone=phone, label=esc(label))
    else:
        lead = _(
            "We sent a code by SMS to the owner's phone: {phone}. The SMS says who asks for "
            "access and to what. Ask the owner to tell you the code; only they can give it."
        ).format(phone=phone)
    return (
        lead
        + "\n"
        + ctx.ngettext(
            "Enter the {digits}-digit code here. It works for {n} minute.",
            "Enter the {digits}-digit code here. It works for {n} minutes.",
            minutes,
        ).format(digits=CODE_LENGTH, n=minutes)
    )


def send_in_text(ctx: FlowContext, seconds: int) -> str:
    return ctx.gettext("The code can be sent in {wait}.").format(wait=wait_text(ctx, seconds))


def paused_text(ctx: FlowContext, seconds: int) -> str:
    """The backend's pause holds two ways (`_check_send_limits`: by the card and by the
    person asking), so either one alone can be why: say both, not "one card and one user"."""
    return ctx.gettext(
        "The code can be sent in {wait}: an SMS code goes out at most once a minute for "
        "each card (whoever asks for it) and at most once a minute for each person asking "
        "(whichever card it is for). Your answers are kept; tap “📨 Send the code” when the "
        "pause is over."
    ).format(wait=wait_text(ctx, seconds))


def caps_text(ctx: FlowContext) -> str:
    return ctx.gettext(
        "Too many codes were requested for this card or by you: at most {per_hour} an hour "
        "and {per_day} a day."
    ).format(per_hour=SENDS_PER_HOUR, per_day=SENDS_PER_DAY)


def attempt_over_text(ctx: FlowContext) -> str:
    return ctx.gettext("This attempt is over and your answers were deleted.")


def grant_limit_text(ctx: FlowContext, limit: int) -> str:
    return ctx.ngettext(
        "The owner of this card has already given access to {n} person, the most allowed. "
        "They can revoke someone's access in their EMK (or in this bot) and then you can try "
        "again.",
        "The owner of this card has already given access to {n} people, the most allowed. "
        "They can revoke someone's access in their EMK (or in this bot) and then you can try "
        "again.",
        limit or MAX_RECIPIENTS,
    ).format(n=limit or MAX_RECIPIENTS)


def exhausted_text(ctx: FlowContext) -> str:
    return ctx.gettext(
        "Too many wrong codes: this request is closed for safety. Tap “Start over” to "
        "request a new code."
    )


def child_refusal_text(ctx: FlowContext, reason: str) -> str:
    if reason == AccessDenied.REASON_NOT_PARENT:
        return ctx.gettext(
            "The register does not list you as this child's parent. Please contact your clinic "
            "to check the family records."
        )
    return ctx.gettext("Your own card link is no longer active. Please link your own policy again.")


def too_old_text(ctx: FlowContext) -> str:
    return ctx.gettext(
        "This person is already 15 or older — add them as a relative, with the code from "
        "the SMS: it goes to the phone linked to their card, and they tell it to you. "
        "Your answers are kept."
    )
