"""What every command line of the project does around its own work.

fate-pkg, fate-configure and fate-ctl parse their arguments, show help when no command is
given, and turn the project's errors into one line per problem and an exit code (2 bad
input, 1 a check or a step failed, 130 Ctrl-C). An error class says its exit code in
``exit_code``; one that lists several problems keeps them in ``messages``, and a message
that starts with its own ``file:line`` position is printed as it is.

A reader that goes away early (``fate-configure --diff | head``) ends the command as it
ends ``yes | head``: quietly, with 141 (128 + SIGPIPE), no traceback. Python ignores
SIGPIPE, so the closed pipe shows up as ``BrokenPipeError`` on a write or on the final
flush; either way the command stops there, as after a Ctrl-C (each write is atomic).

What a command prints may hold any character (an operator's text from the party YAML, a
journal line, a file name, the seed's "§"). Python 3.6 in the C locale (LANG unset, or ssh
from a Mac sending LC_CTYPE=UTF-8, which Linux does not know; CentOS 7's python3) writes
stdout as strict ASCII, so the first such character ended the command in a
UnicodeEncodeError; 3.7 and later switch to UTF-8 there by themselves (PEP 538, 540). So
``main`` first makes stdout and stderr write UTF-8 in place of ASCII and, in any other
non-UTF-8 locale, escape (``\\xe9``) what its encoding lacks instead of failing; file names
and arguments still print as typed; an explicit ``PYTHONIOENCODING`` is left as it is.

On-host code (Python 3.6); the build side's ``fate-pkg`` uses it too.
"""

import argparse
import codecs
import io
import os
import re
import signal
import sys
from typing import Callable, List, Optional, Sequence, Tuple, Union

_POSITIONED = re.compile(r"^\S+:\d+ ")


def lines_of(exc: BaseException) -> List[str]:
    """The problem lines an error carries (``messages``, else its text)."""
    messages = getattr(exc, "messages", None)
    if messages is not None:
        return [str(m) for m in messages]
    return [line for line in str(exc).splitlines() if line.strip()]


def main(prog: str, parser: argparse.ArgumentParser, argv: Optional[Sequence[str]],
         run: Callable[[argparse.Namespace], int], interrupted: str) -> int:
    """Parse ``argv``, call ``run``, report the project's errors; returns the exit code.

    ``interrupted`` tells the operator what a Ctrl-C left behind (it is always something
    safe: each command writes atomically).
    """
    escaping_stdio()
    try:
        return _main(prog, parser, argv, run, interrupted)
    except BrokenPipeError:
        return _reader_gone()


#: The error handler of the streams ``escaping_stdio`` makes (registered with codecs).
ESCAPE = "fate-escape"


def _escape(error: UnicodeError) -> Tuple[Union[str, bytes], int]:
    """What the streams' encoding cannot write: the bytes a file name or an argument had
    where the C locale's decoding kept them as surrogates (``surrogateescape``: an argument
    ``/root/\u5907\u4efd.tar`` prints as typed), a backslash escape for anything else."""
    if isinstance(error, UnicodeEncodeError):
        chunk = error.object[error.start:error.end]
        if all(0xDC80 <= ord(c) <= 0xDCFF for c in chunk):
            return bytes(ord(c) - 0xDC00 for c in chunk), error.end
    return codecs.backslashreplace_errors(error)


codecs.register_error(ESCAPE, _escape)


def escaping_stdio() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` write what they are given whatever the locale:
    UTF-8 where the locale says ASCII (the C locale), else the locale's encoding, and
    :func:`_escape` what it cannot. Python 3.6 has no ``TextIOWrapper.reconfigure``: the byte
    stream gets a new text layer, buffered as the old one was (line by line on a terminal,
    in blocks on a pipe, unbuffered with ``-u``), stderr line by line always (as 3.9 has
    it: an error shows when it happens, also in a log). A stream that already writes UTF-8
    (3.7+, a UTF-8 locale, pytest's capture) is left alone."""
    if os.environ.get("PYTHONIOENCODING"):
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            encoding = codecs.lookup(stream.encoding).name
        except (AttributeError, LookupError, TypeError):  # not a text file of io's
            continue
        if encoding == "utf-8" or not hasattr(stream, "detach"):
            continue
        stream.flush()
        line_buffering = stream.line_buffering or name == "stderr"
        binary = stream.detach()
        setattr(sys, name, io.TextIOWrapper(
            binary, encoding="utf-8" if encoding == "ascii" else encoding, errors=ESCAPE,
            line_buffering=line_buffering,
            write_through=not isinstance(binary, io.BufferedIOBase)))


def _reader_gone() -> int:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still
    buffered finds no closed pipe to complain about on stderr; the SIGPIPE exit code."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout already closed or not a file: nothing to flush
        pass
    return 128 + signal.SIGPIPE


def _main(prog: str, parser: argparse.ArgumentParser, argv: Optional[Sequence[str]],
          run: Callable[[argparse.Namespace], int], interrupted: str) -> int:
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, --version: their text may still be in the buffer
        sys.stdout.flush()
        raise
    if getattr(args, "command", None) is None:
        parser.print_help()
        sys.stdout.flush()
        return 2
    try:
        code = int(run(args) or 0)
        sys.stdout.flush()  # output that fit in the buffer meets the closed pipe here
        return code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; {interrupted}", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as exc:  # noqa: BLE001 - only the project's errors, re-raised otherwise
        code = getattr(exc, "exit_code", None)
        if not isinstance(code, int):
            raise
        for line in lines_of(exc):
            positioned = hasattr(exc, "messages") and _POSITIONED.match(line)
            print(line if positioned else f"{prog}: error: {line}", file=sys.stderr)
        return code
