"""Prove that a piece of work opens no network connection (``build --offline``).

The promise of an offline build is that it uses only the cache. Tests that merely happen to
pass without a network cannot show that; this guard makes every attempt fail loudly instead.

It uses a CPython audit hook (PEP 578) rather than patching ``socket.socket``: the hook sees
the C-level socket module's own events (``socket.connect``, ``socket.bind``,
``socket.sendto``, ``socket.sendmsg``, ``socket.getaddrinfo``, ``socket.gethostbyname`` ...)
whoever calls them, including libraries that kept a reference to the original functions.
Audit hooks cannot be removed, so one hook is installed for the life of the process and
does nothing unless a guard is active. The guard is process-wide on purpose: a worker
thread of the build must not be able to go around it.

Allowed: AF_UNIX sockets (local IPC, e.g. a GPG agent) and ``socket.gethostname``.
Not covered: child processes (a subprocess could still use the network; the build runs
only local tools) and extension modules that call libc directly.
"""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from packager.errors import UserError

#: Events that use an address; args[0] is the socket object.
_SOCKET_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})
#: Name-service events: a DNS lookup is network traffic even before any connect.
_RESOLVER_EVENTS = frozenset({
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.getnameinfo",
})


class NetworkBlocked(UserError):
    """A network operation was attempted while the offline guard was active.

    Deliberately not an ``OSError``: HTTP libraries catch OSError and retry or wrap it,
    which would hide the attempt; this exception goes straight up to the command line.
    """


@dataclass
class _State:
    depth: int = 0
    attempts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    installed: bool = False


_state = _State()


def _describe(event: str, args: tuple[Any, ...]) -> str | None:
    """A description of the attempt when ``event`` is network access, else None."""
    if event in _SOCKET_EVENTS:
        sock, address = args[0], args[1] if len(args) > 1 else None
        family = getattr(sock, "family", None)
        if family == socket.AF_UNIX:
            return None
        verb = event.split(".", 1)[1]
        return {"connect": "connect to", "bind": "bind on"}.get(verb, verb) + f" {address!r}"
    if event in _RESOLVER_EVENTS:
        target = args[0] if args else "?"
        return f"name lookup of {target!r} ({event.split('.', 1)[1]})"
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state.depth or not event.startswith("socket."):
        return
    what = _describe(event, args)
    if what is None:
        return
    with _state.lock:
        _state.attempts.append(what)
    raise NetworkBlocked(f"network access attempted while offline: {what}")


def _install() -> None:
    with _state.lock:
        if not _state.installed:
            sys.addaudithook(_hook)
            _state.installed = True


class offline:  # noqa: N801 - used like a function: ``with offline():``
    """Context manager: any network operation inside raises ``NetworkBlocked``.

    ``attempts`` lists what was tried (also attempts that some library caught and
    swallowed), so a caller can fail an offline build even if the code under it
    recovered from the error.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._mark = 0

    def __enter__(self) -> offline:
        _install()
        with _state.lock:
            _state.depth += 1
            self._mark = len(_state.attempts)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with _state.lock:
            self.attempts = _state.attempts[self._mark:]
            _state.depth -= 1
            if not _state.depth:
                _state.attempts.clear()


def active() -> bool:
    """True while any ``offline()`` block is running."""
    return _state.depth > 0
