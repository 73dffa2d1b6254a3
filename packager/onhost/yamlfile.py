"""Reading YAML files with errors that name the file and line: the one place for it.

PyYAML's exceptions carry the position in ``problem_mark`` (or ``context_mark``) and the
message in ``problem``; every loader of the project turns them into the same one-line
message. On-host code (Python 3.6); the build side uses it too.
"""

from typing import Any, Optional, Tuple

import yaml


class YamlFileError(ValueError):
    """A YAML file that cannot be read or parsed; ``str()`` is ``file:line: problem``."""

    def __init__(self, source: str, line: Optional[int], problem: str) -> None:
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


def problem(exc: yaml.YAMLError) -> Tuple[Optional[int], str]:
    """(1-based line or None, what is wrong) of a PyYAML error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or getattr(exc, "context", None) or \
        (str(exc).splitlines() or ["not valid YAML"])[0]
    return (mark.line + 1 if mark is not None else None), str(what)


def parse(text: str, source: str) -> Any:
    """``yaml.safe_load`` of ``text``; ``source`` names it in the error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line, what = problem(exc)
        raise YamlFileError(source, line, f"not valid YAML: {what}") from None


def read(path: str) -> Any:
    """``yaml.safe_load`` of a file (UTF-8)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise YamlFileError(str(path), None, f"cannot read: {reason}") from None
    return parse(text, str(path))
