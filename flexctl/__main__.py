from __future__ import annotations

from flexctl.cli import main

raise SystemExit(main())
