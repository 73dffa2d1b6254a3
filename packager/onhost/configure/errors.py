"""Errors of fate-configure and how they reach the operator.

The target side cannot import ``packager.errors`` (build side), so it has its own pair
with the same exit codes as the contract: bad input -> 2, a failed check -> 1.
"""

from typing import List, Union


class ConfigError(Exception):
    """Bad input or environment: one line per problem, exit code 2, nothing changed."""

    exit_code = 2

    def __init__(self, messages: Union[List[str], str]) -> None:
        if isinstance(messages, str):
            messages = [messages]
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


class CheckFailed(Exception):
    """A pre-flight check found errors: exit code 1, nothing changed."""

    exit_code = 1


class ApplyError(Exception):
    """A step of apply failed (MySQL refused, systemctl failed): exit code 1.

    Files already written stay written (each write is atomic and backed up), so a
    re-run after fixing the cause converges.
    """

    exit_code = 1
