"""A local OfficeRnD Flex v2 API: WSGI app, SQLite store, faults and rate limits.

    from flexctl.emulator import create_app
    app = create_app()                      # in memory, profile "full", org "demo"
    httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator")
"""

from __future__ import annotations

from flexctl.emulator.app import PROFILE_HEADER, Emulator, create_app
from flexctl.emulator.errors import EmulatorDroppedConnection

__all__ = ["PROFILE_HEADER", "Emulator", "EmulatorDroppedConnection", "create_app"]
