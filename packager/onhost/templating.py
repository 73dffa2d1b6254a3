"""The one jinja2 setup of the on-host side: config files and units are rendered alike.

Strict undefined: a template asking for a value its caller did not provide is a bug and
must fail loudly rather than write an empty ``jdbc.url=``. Whitespace control keeps the
rendered files byte-stable, and nothing is HTML-escaped (none of these files is HTML).
"""

import os
from typing import Any, Callable, Dict

import jinja2

#: One template per config file that fate-configure writes.
CONFIG_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def environment(directory: str, filters: Dict[str, Callable[[Any], str]]) -> jinja2.Environment:
    """Templates from ``directory``, with the format-specific quoting ``filters``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(filters)
    return env
