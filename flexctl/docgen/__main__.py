from __future__ import annotations

from flexctl.docgen import main

raise SystemExit(main())
