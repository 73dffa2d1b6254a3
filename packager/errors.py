"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or environment: printed as one line, exit code 2, nothing changed."""

    exit_code = 2


class CheckFailed(Exception):
    """A check ran and found violations (lint, verify): exit code 1."""

    exit_code = 1
