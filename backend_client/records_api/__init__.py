"""The ``RecordsBackend`` protocol served over HTTP (the Records API, ``/v1/...``).

``openapi.yaml`` next to this file is the documented contract; ``spec.py`` is its source.
"""

from backend_client.records_api.app import create_records_api_app
from backend_client.records_api.serve import running_records_api, serve_sandbox

__all__ = ["create_records_api_app", "running_records_api", "serve_sandbox"]
