"""No Docker engine runs here, so the compose file is checked by reading it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import build_parser
from bot.webhook import SHUTDOWN_GRACE_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_every_app_service_runs_a_command_the_cli_accepts() -> None:
    services = _compose()["services"]
    app_services = {name: s for name, s in services.items() if s.get("image") == "emk-bot:latest"}
    assert set(app_services) >= {"migrate", "bot", "worker", "records"}
    parser = build_parser()
    for name, service in app_services.items():
        argv = _command(service)
        assert argv[:3] == ["python", "-m", "bot"], name
        try:
            parser.parse_args(argv[3:])
        except SystemExit as exc:  # argparse exits on an unknown command or option
            pytest.fail(f"service {name!r}: `{shlex.join(argv)}` is rejected by the CLI ({exc})")


def test_databases_are_healthchecked_and_not_published() -> None:
    services = _compose()["services"]
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name], name
        assert "ports" not in services[name], f"{name} must not publish its port"


def test_app_services_wait_for_healthy_dependencies() -> None:
    services = _compose()["services"]
    for name in ("bot", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_env_example_documents_the_public_contract() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0]
        for line in text.splitlines()
        if "=" in line and not line.startswith("#")
    }
    required = {
        "BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "BACKEND",
        "BACKEND_URL",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "LOG_LEVEL",
    }
    assert required <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in required if name not in readme]
    assert not missing, f"README.md does not document {missing}"


def test_records_probe_carries_the_service_credential() -> None:
    # The Records API answers 401 to any request without it, /v1/health included.
    probe = " ".join(_compose()["services"]["records"]["healthcheck"]["test"])
    assert "Authorization" in probe
    assert "BACKEND_TOKEN" in probe


def _seconds(duration: str) -> float:
    """A compose duration ("30s", "1m30s", "90") in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)?", str(duration).strip())
    assert parts and "".join(n + u for n, u in parts) == str(duration).strip(), duration
    return sum(float(number) * units[unit or "s"] for number, unit in parts)


@pytest.mark.parametrize("name", ["bot", "worker"])
def test_docker_waits_for_the_drain_before_killing(name: str) -> None:
    # Docker sends SIGTERM, then SIGKILL after the grace period (10 s unless set): a kill
    # inside the drain loses the updates in flight.
    grace = _compose()["services"][name].get("stop_grace_period")
    assert grace is not None, f"{name} has no stop_grace_period (Docker's 10 s cuts the drain)"
    assert _seconds(grace) >= SHUTDOWN_GRACE_SECONDS + 5, (name, grace)


def test_compose_durations_are_read_as_docker_reads_them() -> None:
    assert _seconds("30s") == 30 and _seconds("1m30s") == 90 and _seconds("45") == 45
    with pytest.raises(AssertionError):
        _seconds("soon")
