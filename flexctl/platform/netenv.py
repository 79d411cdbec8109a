"""What the environment says about reaching a host: the proxy, and the TLS trust store.

Proxies are read as httpx reads them (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`,
lowercase first, as Python's `urllib` finds them): `proxy_for` tells which one a URL goes
through, so a session picks its stack (no proxy: the standard library's, `direct.py`) and a
failure names the proxy instead of blaming the platform. `NO_PROXY` entries follow httpx: `*`
bypasses every proxy; `example.com` matches it and its subdomains, `.example.com` only the
subdomains; an IP address or `localhost` only itself (no CIDR ranges); a `host:port` entry only
that port; an entry with a scheme (`http://example.com`) only that scheme. Only HTTP and HTTPS
proxies are supported: a SOCKS one is a `UsageError`, named.

TLS trusts certifi's store, or `SSL_CERT_FILE` (a PEM file) / `SSL_CERT_DIR` (a directory of
hashed certificates) when set, as httpx does; `trust_context` builds that context for both
stacks, and names the variable and its path when the file cannot be used.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from urllib.request import getproxies

from flexctl import redaction
from flexctl.errors import UsageError

PROXY_SCHEMES = ("http", "https")  # what httpx (without extras) and flexctl support
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Proxy:
    """One proxy from the environment: the variable that named it and its URL (userinfo cut)."""

    variable: str  # as set: "HTTPS_PROXY" or "https_proxy"
    url: str  # "http://proxy.example:3128", without any user or password
    scheme: str

    def __str__(self) -> str:
        return f"the proxy {self.url} ({self.variable})"


def proxies() -> dict[str, Proxy]:
    """The environment's proxies by the scheme they serve ("http", "https", "all"). A user and
    password in a proxy's URL are never shown (and the password is registered with the
    redactor); the URL is taken apart by hand: any text httpx accepts must not fail here."""
    found = getproxies()
    out: dict[str, Proxy] = {}
    for scheme in ("http", "https", "all"):
        value = found.get(scheme)
        if value:
            proxy_scheme, _, rest = (value if "://" in value else f"http://{value}").partition(
                "://")  # as httpx reads it
            userinfo, at, host = rest.rpartition("@")
            if at:
                redaction.register(userinfo.partition(":")[2])
                redaction.register(userinfo)
            host = re.split(r"[/?#]", host, maxsplit=1)[0]
            out[scheme] = Proxy(_variable(scheme, value), f"{proxy_scheme}://{host}",
                                proxy_scheme.lower())
    return out


def proxy_for(scheme: str, host: str, port: int | None) -> Proxy | None:
    """The proxy a request to `scheme://host[:port]` goes through, or None (`port`: only when
    the URL names one, as httpx compares it)."""
    found = proxies()
    if not found:
        return None
    host = host.lower()
    for entry in getproxies().get("no", "").split(","):
        entry = entry.strip().lower()
        if entry == "*":
            return None
        if entry.endswith("://"):  # a scheme alone: it replaces that scheme's proxy (httpx)
            if entry[:-3] == scheme or (entry == "all://" and scheme not in found):
                return None
            continue
        if entry and _bypasses(entry, scheme, host, port):
            return None
    return found.get(scheme) or found.get("all")


def unusable_proxies() -> list[Proxy]:
    """The environment's proxies flexctl cannot use (a SOCKS one)."""
    return [p for p in proxies().values() if p.scheme not in PROXY_SCHEMES]


def check_proxies() -> None:
    """Raise a `UsageError` naming any proxy of the environment flexctl cannot use."""
    for proxy in unusable_proxies():
        kind = "a SOCKS proxy" if proxy.scheme.startswith("socks") else "a proxy URL"
        raise UsageError(
            f"{proxy.variable} names {kind} ({proxy.url}) that flexctl cannot use: it supports "
            "HTTP and HTTPS proxies only (http://host:port); set an HTTP proxy, or add the "
            "platform's hosts to NO_PROXY")


def _variable(scheme: str, value: str) -> str:
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
        if os.environ.get(name) == value:
            return name
    return f"{scheme.upper()}_PROXY"  # from the system's settings (macOS, Windows)


def _bypasses(entry: str, scheme: str, host: str, port: int | None) -> bool:
    """Whether one NO_PROXY entry naming a host keeps `host` off the proxy (httpx's reading
    of it: a user in it makes the name exact, as its `*` then belongs to the user)."""
    if "://" in entry:
        entry_scheme, _, rest = entry.partition("://")
        if entry_scheme not in ("all", scheme):
            return False
        pattern, wanted = _host_and_port(rest.split("/", 1)[0].rpartition("@")[2])
        if not pattern:
            return False
        if wanted == DEFAULT_PORTS.get(entry_scheme):
            wanted = None  # httpx drops a default port
    else:
        named = entry.split("/", 1)[0]  # example.com/path: the host; 10.0.0.0/8: 10.0.0.0 alone
        if "@" in named:
            pattern, wanted = _host_and_port(named.rpartition("@")[2])
        elif _is_address(named) or named == "localhost":
            return host == named.strip("[]")
        else:
            name, wanted = _host_and_port(named)
            pattern = "*" + name
    if wanted is not None and wanted != port:
        return False
    if pattern in ("", "*"):
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if pattern.startswith("*"):
        return host == pattern[1:] or host.endswith("." + pattern[1:])
    return host == pattern



def _host_and_port(text: str) -> tuple[str, int | None]:
    """"host:port" as a host and a port (None: no port, or not a number)."""
    if text.startswith("[") and "]" in text:  # [::1]:8443
        address, _, after = text[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
        return address, int(port) if port.isdigit() else None
    name, colon, port = text.rpartition(":")
    if colon and ":" not in name and (port.isdigit() or not port):  # "example.com:": no port
        return name, int(port) if port else None
    return text, None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


# --- TLS ---------------------------------------------------------------------------------------


def trust_context() -> ssl.SSLContext:
    """A verifying client context on httpx's trust store: certifi's, or SSL_CERT_FILE /
    SSL_CERT_DIR. A file that cannot be used is a `UsageError` naming the variable."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile:
        variable, path = "SSL_CERT_FILE", cafile
    elif capath:
        variable, path = "SSL_CERT_DIR", capath
        if not os.path.isdir(capath):
            raise UsageError(f"{variable}={path}: not a directory (it names the certificates "
                             "flexctl trusts for TLS; fix it or unset it)")
    else:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    try:
        if cafile:
            return ssl.create_default_context(cafile=cafile)
        return ssl.create_default_context(capath=capath)
    except ssl.SSLError as exc:
        why = ("holds no PEM certificate" if exc.reason == "NO_CERTIFICATE_OR_CRL_FOUND"
               else f"cannot be read as certificates ({exc.reason or exc})")
    except OSError as exc:
        why = {FileNotFoundError: "no such file", IsADirectoryError: "a directory, not a file",
               PermissionError: "not readable"}.get(type(exc), exc.strerror or str(exc))
    raise UsageError(f"{variable}={path}: {why} (it names the certificates flexctl trusts for "
                     "TLS; fix it or unset it)")
