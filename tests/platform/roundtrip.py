"""A minimal apply against an in-process emulator, for the snapshot's round-trip tests."""

from __future__ import annotations

from typing import TypedDict

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator
from flexctl.kinds import registry
from flexctl.kinds.base import Obj, Profile
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.state.snapshot import Snapshot, read_snapshot

ORG = "harbor-works"


class Rates(TypedDict):
    """The pacing options of `open_client`."""

    read_rate: str
    write_rate: str


FAST: Rates = {"read_rate": "100000/s", "write_rate": "100000/s"}


def connect(app: Emulator, scopes: tuple[str, ...] = profile_scopes(Profile.FULL)) -> FlexClient:
    target = Target(
        api_url="http://emulator.test/api/v2", org=ORG,
        token_url="http://emulator.test/oauth/token",
        client_id="emulator", client_secret="emulator",
    )
    return open_client(target, app=app, scopes=scopes, **FAST)


def converge(
    client: FlexClient, desired: dict[str, list[Obj]], secrets: SecretResolver
) -> Snapshot:
    """A minimal apply: create what is missing and update what differs, in rank order."""
    snap = read_snapshot(client, desired, "EUR")
    refs = snap.refs
    for kind in registry():
        live = {o.address: o for o in snap.objects.get(kind.name, ())}
        for obj in desired.get(kind.name, ()):
            path = kind.api_path or kind.name
            twin = live.get(obj.address)
            if kind.singleton:
                client.put_singleton(path, kind.create_body(obj, refs, secrets))
            elif twin is None:
                doc = client.create(path, kind.create_body(obj, refs, secrets))
                if not kind.owned:
                    refs.add(kind.name, obj.meta["key"], doc["_id"])
            else:
                changed = {f for f, v in obj.fields.items() if twin.fields.get(f) != v}
                if changed:
                    assert twin.id is not None
                    client.update(path, twin.id, kind.update_body(obj, changed, refs, secrets))
    return read_snapshot(client, desired, "EUR")


def differences(desired: dict[str, list[Obj]], snap: Snapshot) -> list[str]:
    out = []
    for name, objs in desired.items():
        live = {o.address: o for o in snap.objects.get(name, ())}
        for obj in objs:
            twin = live.get(obj.address)
            if twin is None:
                out.append(f"{obj.address}: missing")
                continue
            out.extend(
                f"{obj.address}.{f}: {twin.fields.get(f)!r} != {v!r}"
                for f, v in obj.fields.items()
                if twin.fields.get(f) != v
            )
    return out
