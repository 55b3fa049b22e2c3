"""In-process sandbox of the city's records / appointment backend (its own SQLite file)."""

from backend_client.sandbox.backend import SandboxBackend
from backend_client.sandbox.clock import MSK, Clock, ManualClock
from backend_client.sandbox.simulation import Persona
from backend_client.sandbox.sms import OutboxSmsGateway, SmsGateway, SmsMessage

__all__ = [
    "MSK",
    "Clock",
    "ManualClock",
    "OutboxSmsGateway",
    "Persona",
    "SandboxBackend",
    "SmsGateway",
    "SmsMessage",
]
