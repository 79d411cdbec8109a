"""The environment variables that choose a target (SPEC §1), in a module that imports nothing.

`flexctl.platform.target` reads them; commands that only need their names (validate's
`--profile` default, the options' help) import them from here without loading the HTTP stack.
"""

from __future__ import annotations

API_URL_ENV = "FLEXCTL_API_URL"
ORG_ENV = "FLEXCTL_ORG"
TOKEN_URL_ENV = "FLEXCTL_TOKEN_URL"
CLIENT_ID_ENV = "FLEXCTL_CLIENT_ID"
CLIENT_SECRET_ENV = "FLEXCTL_CLIENT_SECRET"
SCOPES_ENV = "FLEXCTL_SCOPES"
TIMEOUT_ENV = "FLEXCTL_TIMEOUT"
HTTP_ENV = "FLEXCTL_HTTP"
