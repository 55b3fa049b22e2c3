"""Bot API methods about the bot itself: identity, getUpdates and the webhook, commands and
the bot's profile (descriptions, name, menu button).
"""

from __future__ import annotations

import json
from typing import Any

from bot.emulator.errors import bad_request
from bot.emulator.methods_common import Method, registrar
from bot.emulator.models import Json
from bot.emulator.params import Params
from bot.emulator.world import EmulatorWorld

BOT_METHODS: dict[str, Method] = {}
method = registrar(BOT_METHODS)


# ----- identity, updates, webhook ---------------------------------------------------------


@method("getMe")
async def get_me(world: EmulatorWorld, params: Params) -> Any:
    return world.get_me()


@method("logOut")
@method("close")
async def log_out(world: EmulatorWorld, params: Params) -> Any:
    return True


@method("getUpdates")
async def get_updates(world: EmulatorWorld, params: Params) -> Any:
    limit = params.integer("limit") or 100
    timeout = params.integer("timeout") or 0
    allowed = params.json_value("allowed_updates")
    return await world.get_updates(
        offset=params.integer("offset"),
        limit=min(max(limit, 1), 100),
        timeout=min(max(timeout, 0), 50),
        allowed_updates=list(allowed) if isinstance(allowed, list) else None,
        is_connected=params.is_connected,
    )


@method("setWebhook")
async def set_webhook(world: EmulatorWorld, params: Params) -> Any:
    url = params.text("url") or ""
    schemes = ("https://", "http://") if world.allow_http_webhooks else ("https://",)
    if url and not url.startswith(schemes):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    allowed = params.json_value("allowed_updates")
    world.webhook.url = url
    world.webhook.secret_token = params.text("secret_token")
    world.webhook.max_connections = params.integer("max_connections") or 40
    world.webhook.allowed_updates = list(allowed) if isinstance(allowed, list) else None
    return True


@method("deleteWebhook")
async def delete_webhook(world: EmulatorWorld, params: Params) -> Any:
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    world.webhook.url = ""
    return True


@method("getWebhookInfo")
async def get_webhook_info(world: EmulatorWorld, params: Params) -> Any:
    info: Json = {
        "url": world.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if world.webhook.url:
        info["max_connections"] = world.webhook.max_connections
        if world.webhook.last_error_date is not None:
            info["last_error_date"] = world.webhook.last_error_date
            info["last_error_message"] = world.webhook.last_error_message
        if world.webhook.allowed_updates is not None:
            info["allowed_updates"] = world.webhook.allowed_updates
    return info


# ----- commands and bot profile -----------------------------------------------------------


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.json_value("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.text("language_code") or ""


@method("setMyCommands")
async def set_my_commands(world: EmulatorWorld, params: Params) -> Any:
    commands = params.json_value("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request('field "commands" must be of type Array')
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        valid_name = name.lstrip("/")
        if not (1 <= len(valid_name) <= 32) or not all(
            c.isascii() and (c.isalnum() or c == "_") and not c.isupper() for c in valid_name
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_commands_key(params)] = [
        {"command": c["command"].lstrip("/"), "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(world: EmulatorWorld, params: Params) -> Any:
    return world.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(world: EmulatorWorld, params: Params) -> Any:
    world.commands.pop(_commands_key(params), None)
    return True


def _profile_setting(name: str, field: str) -> tuple[Method, Method]:
    async def setter(world: EmulatorWorld, params: Params) -> Any:
        world.bot_settings[(name, params.text("language_code") or "")] = params.text(field) or ""
        return True

    async def getter(world: EmulatorWorld, params: Params) -> Any:
        return {field: world.bot_settings.get((name, params.text("language_code") or ""), "")}

    return setter, getter


for _name, _field in (
    ("Description", "description"),
    ("ShortDescription", "short_description"),
    ("Name", "name"),
):
    _setter, _getter = _profile_setting(_name, _field)
    BOT_METHODS[f"setmy{_name.lower()}"] = _setter
    BOT_METHODS[f"getmy{_name.lower()}"] = _getter


@method("setChatMenuButton")
async def set_chat_menu_button(world: EmulatorWorld, params: Params) -> Any:
    world.bot_settings[("menu_button", params.text("chat_id") or "")] = params.json_value(
        "menu_button"
    ) or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(world: EmulatorWorld, params: Params) -> Any:
    return world.bot_settings.get(
        ("menu_button", params.text("chat_id") or ""), {"type": "commands"}
    )
