"""The reference a bounded invoice read is compared with: every invoice read, every invoiced
object marked, as flexctl did before it read only the customers a plan depends on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from flexctl import session
from flexctl.kinds import registry
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap
from flexctl.state.history import HistoryClient


class EveryInvoice:
    """Stands in for `InvoiceHistory`: the first settle reads every invoice and marks every
    object they bill; the plan is then made once more, with all of them."""

    def __init__(self, client: HistoryClient) -> None:
        self.client = client
        self.done = False

    def settle(self, changes: Iterable[Any], objects: dict[str, list[Obj]],
               refs: RefMap) -> bool:
        if self.done:
            return False
        self.done = True
        for kind in registry():
            if not kind.history_source or kind.name not in objects:
                continue
            invoiced = kind.history_ids(
                self.client.list(kind.history_source, select=kind.history_select))
            objects[kind.name] = [
                Obj(o.kind, o.address, o.fields, o.id, o.owner, {**o.meta, "invoiced": True})
                if o.id in invoiced else o for o in objects[kind.name]]
        return True


@contextmanager
def every_invoice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plans made inside read every invoice (the reference)."""
    with monkeypatch.context() as patch:
        patch.setattr(session, "InvoiceHistory", EveryInvoice)
        yield
