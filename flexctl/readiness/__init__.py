"""Readiness: the "ready to get paid" checklist and the smoke test with a small charge."""
