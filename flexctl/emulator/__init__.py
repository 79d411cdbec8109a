"""A local OfficeRnD Flex v2 API: WSGI app, SQLite store, faults and rate limits.

    from flexctl.emulator import create_app
    app = create_app()                      # in memory, profile "full", org "demo"
    httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator")

    create_app(profile="officernd", dialect="fee_update=patch")   # play one uncertain variant
    for label, dialect in Dialect.for_profile("officernd").every_variant(): ...
"""

from __future__ import annotations

import logging

from flexctl.emulator.app import PROFILE_HEADER, Emulator, create_app
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import EmulatorDroppedConnection

__all__ = ["PROFILE_HEADER", "Dialect", "Emulator", "EmulatorDroppedConnection", "create_app"]

# In-process (the embedded sandbox) an emulator bug reaches the user as the API's 500; without
# this, Python's last-resort handler would also print its traceback. `flexctl --debug` and
# `flexctl emulator serve` attach real handlers.
logging.getLogger("flexctl.emulator").addHandler(logging.NullHandler())
