"""What every command line of the project does around its own work.

fate-pkg, fate-configure and fate-ctl parse their arguments, show help when no command is
given, and turn the project's errors into one line per problem and an exit code (2 bad
input, 1 a check or a step failed, 130 Ctrl-C). An error class says its exit code in
``exit_code``; one that lists several problems keeps them in ``messages``, and a message
that starts with its own ``file:line`` position is printed as it is.

On-host code (Python 3.6); the build side's ``fate-pkg`` uses it too.
"""

import argparse
import re
import signal
import sys
from typing import Callable, List, Optional, Sequence

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
    args = parser.parse_args(argv)
    if getattr(args, "command", None) is None:
        parser.print_help()
        return 2
    try:
        return int(run(args) or 0)
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
