"""The loaded-configuration cache: a valid configuration's models, kept for the next run.

Reading, validating and checking the 1x configuration (4 MB of YAML, 54,000 objects) costs
about 3 s of CPU; reading its stored models back costs a fifth of that or less. One file per
configuration path in the user's cache directory (`flexctl.cachedir`), under `config/`: the
file is named by the path's hash and replaced at each write, so the cache does not grow as the
files are edited (and at most `MAX_ENTRIES` paths are kept, the least recently written dropped
first).

An entry is used only when its key is exactly the one this run computes (`entry_key`): this
flexctl's version and the hash of the source files that load a configuration, the versions of
Python, pydantic, pydantic-core and PyYAML (and whether it parses with libyaml), the kinds
registered, the current directory (messages show paths relative to it), the path as given, and
the path and sha256 of every file the loader reads (found again at each run: a file added or
removed changes the key). Anything else (no entry, another key, a file that is not the user's
own or is writable by others, a damaged or foreign file, any error while reading it) is a miss,
logged at debug level: the configuration is then loaded as if there were no cache. Only valid
configurations are stored: errors are always found again.

What is stored is what the configuration holds: names, amounts, dates, references to secrets
(`{env: NAME}`, `{file: PATH}`), never a secret's value (flexctl reads those later, from the
environment or the files named). Entries are pickles of the pydantic models written by
reducers of our own (the class, its `__dict__` and fields set; pydantic's own `__getstate__`
costs three times as much), read back by an unpickler that accepts only those reducers, the
models' classes, `Decimal` and `date`: any other global in a file is refused (a miss).
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import io
import json
import operator
import os
import pickle
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from pydantic import BaseModel

from flexctl import __version__
from flexctl.cachedir import cache_dir


def debug(message: str, *args: object) -> None:
    """A line for `--debug` (which imports logging: a run without it logs nothing)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(__name__).debug("config cache: " + message, *args)

# Bumped whenever what is stored changes meaning: an older entry is a miss.
FORMAT = "2"  # 2: warnings stored by path, not located
SUBDIRECTORY = "config"
MAX_ENTRIES = 8
_SUFFIX = ".pickle"
_MAGIC = b"flexctl loaded configuration\n"
_PROTOCOL = 5
_STALE_TEMPORARY = 3600.0  # a temporary file this old was left by a crashed run


# --- the key ------------------------------------------------------------------------------------


# What `load_config` runs: the layers contract (pyproject.toml) lets the configuration and the
# kinds import only each other and the foundation modules at the package's top.
_CODE = ("*.py", "config/**/*.py", "kinds/**/*.py")


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the source files of what loads a configuration: any edit of that code is a
    miss (the version alone does not change while flexctl is developed)."""
    package = Path(__file__).resolve().parent.parent
    digest = sha256()
    for file in sorted({file for pattern in _CODE for file in package.glob(pattern)}):
        digest.update(f"{file.relative_to(package).as_posix()}\n".encode())
        digest.update(sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def entry_key(source: Path, files: Sequence[Path], contents: Mapping[Path, bytes],
              kinds: Sequence[str]) -> str:
    """sha256 of everything a load's result depends on (see the module's docstring)."""
    context = decimal.getcontext()  # the checks' arithmetic (the pricing lint's shares)
    parts = [
        FORMAT, __version__, code_fingerprint(), sys.version, sys.implementation.cache_tag,
        pydantic.VERSION, pydantic_core.__version__, yaml.__version__, yaml.__with_libyaml__,
        list(kinds), os.getcwd(), str(source),
        [context.prec, context.rounding, context.Emin, context.Emax, context.capitals,
         context.clamp, sorted(str(signal) for signal, on in context.traps.items() if on)],
        [[str(file), sha256(contents[file]).hexdigest()] for file in files],
    ]
    return sha256(json.dumps(parts).encode()).hexdigest()


def entry_path(source: Path, env: Mapping[str, str] | None = None) -> Path:
    """The one entry of the configuration at `source` (whatever the directory it is run from)."""
    name = sha256(os.path.abspath(source).encode()).hexdigest()[:32]
    return cache_dir(env) / SUBDIRECTORY / f"{name}{_SUFFIX}"


# --- reading and writing ------------------------------------------------------------------------


def read(path: Path, key: str, dynamic: Mapping[str, type[BaseModel]]) -> Any | None:
    """The value stored under `key` at `path`, or None (a miss, never an error)."""
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if not _private(status):
                debug("%s is not private to this user; not read", path)
                return None
            data = handle.read()
    except FileNotFoundError:
        debug("no entry for this configuration")
        return None
    except OSError as exc:
        debug("%s cannot be read (%s)", path, exc)
        return None
    header = _header(key)
    if not data.startswith(header):
        debug("the entry is for another version of the files or of flexctl")
        return None
    checksum, payload = data[len(header):len(header) + 65], data[len(header) + 65:]
    if checksum != sha256(payload).hexdigest().encode() + b"\n":
        debug("%s is damaged", path)
        return None
    try:
        return _Unpickler(io.BytesIO(payload), dynamic).load()
    except Exception as exc:  # any failure to read it back is a miss
        debug("%s cannot be read back (%s: %s)", path, type(exc).__name__, exc)
        return None


def write(path: Path, key: str, value: Any, dynamic: Mapping[str, type[BaseModel]]) -> None:
    """Store `value` under `key` at `path`, atomically (a temporary file renamed over it); a
    failure is logged at debug level and leaves the entry as it was."""
    try:
        payload = dumps(value, dynamic)
    except Exception as exc:  # a value these reducers cannot write: not stored
        debug("not stored (%s: %s)", type(exc).__name__, exc)
        return
    try:
        directory = path.parent
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(exist_ok=True, mode=0o700)
        import tempfile  # only to write: a run that reads the cache does not import it

        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=directory)  # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_header(key))
                handle.write(sha256(payload).hexdigest().encode() + b"\n")
                handle.write(payload)
            os.replace(temporary, path)
            debug("stored in %s", path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(directory, path)
    except OSError as exc:
        debug("%s cannot be written (%s)", path, exc)


def _header(key: str) -> bytes:
    return _MAGIC + key.encode() + b"\n"


def _private(status: os.stat_result) -> bool:
    """Written by this user and by no one else: a pickle is code, it must be our own."""
    owner = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return owner and not status.st_mode & 0o022


def _prune(directory: Path, kept: Path) -> None:
    """At most MAX_ENTRIES entries (the least recently written go first), no stale temporary."""
    entries: list[tuple[float, Path]] = []
    now = time.time()
    for child in directory.iterdir():
        with contextlib.suppress(OSError):
            modified = child.stat().st_mtime
            if child.name.endswith(_SUFFIX) and child != kept:
                entries.append((modified, child))
            elif child.name.endswith(".tmp") and now - modified > _STALE_TEMPORARY:
                child.unlink()
    entries.sort(reverse=True)
    for _, old in entries[MAX_ENTRIES - 1:]:
        with contextlib.suppress(OSError):
            old.unlink()


# --- pickling the models ------------------------------------------------------------------------

_setattr = object.__setattr__


def _model(cls: type[BaseModel], values: dict[str, Any], fields_set: tuple[str, ...]) -> Any:
    """A model as pydantic's validation left it: its values, the fields written, no extra."""
    model = cls.__new__(cls)
    _setattr(model, "__dict__", values)
    _setattr(model, "__pydantic_fields_set__", set(fields_set))
    _setattr(model, "__pydantic_extra__", None)
    _setattr(model, "__pydantic_private__", None)
    return model


def _model_with_extra(cls: type[BaseModel], values: dict[str, Any], fields_set: tuple[str, ...],
                      extra: dict[str, Any] | None, private: dict[str, Any] | None) -> Any:
    model = _model(cls, values, fields_set)
    _setattr(model, "__pydantic_extra__", extra)
    _setattr(model, "__pydantic_private__", private)
    return model


def _dynamic(classes: Mapping[str, type[BaseModel]], name: str, values: dict[str, Any],
             fields_set: tuple[str, ...], extra: dict[str, Any] | None,
             private: dict[str, Any] | None) -> Any:
    """A model of a class made at run time (the assembled `Config`), found again by name."""
    return _model_with_extra(classes[name], values, fields_set, extra, private)


def _importable(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    return module is not None and getattr(module, cls.__qualname__, None) is cls


class _Reducers(dict[type, Callable[[Any], Any]]):
    """The pickler's dispatch table, filled as each class is first met: a model's reducer, or
    the object's own `__reduce_ex__` (Decimal, date) called from C."""

    def __init__(self, dynamic: Mapping[str, type[BaseModel]]) -> None:
        super().__init__()
        self.names = {cls: name for name, cls in dynamic.items()}

    def __missing__(self, cls: type) -> Callable[[Any], Any]:
        if issubclass(cls, type):  # a class (the models' have a metaclass): pickled by name
            raise KeyError(cls)
        reducer: Callable[[Any], Any]
        if issubclass(cls, BaseModel):
            reducer = self._model_reducer(cls)
        else:
            reducer = operator.methodcaller("__reduce_ex__", _PROTOCOL)
        self[cls] = reducer
        return reducer

    def _model_reducer(self, cls: type[BaseModel]) -> Callable[[Any], Any]:
        # A model's fields set is stored as its names in the order of the model's fields (one
        # copy of each such tuple) and read back into a set built as pydantic builds it: a set's
        # order is its insertion history, and `written` values follow it.
        ordered: dict[tuple[str, ...], tuple[str, ...]] = {}
        order = list(cls.model_fields)

        def ordered_as_fields(found: tuple[str, ...]) -> tuple[str, ...]:
            known = [name for name in order if name in found]
            fields = ordered[found] = (*known, *sorted(set(found).difference(known)))
            return fields

        def fields_of(model: Any) -> tuple[str, ...]:
            found = tuple(model.__pydantic_fields_set__)
            return ordered.get(found) or ordered_as_fields(found)

        if _importable(cls):
            def reduce(model: Any) -> Any:  # the hot path: 54,000 calls at 1x
                found = tuple(model.__pydantic_fields_set__)
                fields = ordered.get(found) or ordered_as_fields(found)
                extra, private = model.__pydantic_extra__, model.__pydantic_private__
                if extra is None and private is None:
                    return _model, (cls, model.__dict__, fields)
                return _model_with_extra, (cls, model.__dict__, fields, extra, private)
            return reduce
        name = self.names.get(cls)
        if name is None:
            raise pickle.PicklingError(f"the class {cls.__qualname__} cannot be named")

        def reduce_dynamic(model: Any) -> Any:
            return _dynamic, (name, model.__dict__, fields_of(model),
                              model.__pydantic_extra__, model.__pydantic_private__)
        return reduce_dynamic


def dumps(value: Any, dynamic: Mapping[str, type[BaseModel]]) -> bytes:
    """`value` (plain values, Decimal, date and pydantic models) as a pickle; the classes of
    `dynamic` are written by their names there."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=_PROTOCOL)
    pickler.dispatch_table = _Reducers(dynamic)
    pickler.dump(value)
    return out.getvalue()


_GLOBALS = frozenset({
    ("decimal", "Decimal"), ("datetime", "date"),
    (__name__, "_model"), (__name__, "_model_with_extra"),
})


class _Unpickler(pickle.Unpickler):
    """Reads back what `dumps` writes and nothing else."""

    def __init__(self, file: io.BytesIO, dynamic: Mapping[str, type[BaseModel]]) -> None:
        super().__init__(file)
        self.dynamic = dynamic

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_dynamic"):
            return functools.partial(_dynamic, self.dynamic)
        if (module, name) in _GLOBALS:
            return super().find_class(module, name)
        if module.startswith("flexctl."):
            found = super().find_class(module, name)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not stored in a configuration")

