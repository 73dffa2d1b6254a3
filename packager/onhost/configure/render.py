"""Render one jinja2 template (``packager/onhost/templates/<file>.j2``) per config file.

Strict undefined: a template asking for a value the plan did not provide is a bug and
must fail loudly rather than write an empty ``jdbc.url=``. Formats that have their own
quoting rules get a filter each (Java properties, systemd EnvironmentFile).
"""

import json
import os
import re
from typing import Any, Dict

import jinja2

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
_BARE = re.compile(r"^[A-Za-z0-9_/:.,@%+=-]*$")


def prop(value: Any) -> str:
    """A Java .properties value: backslash is the only escape that matters after `=`."""
    text = str(value)
    text = text.replace("\\", "\\\\")
    if text[:1].isspace():
        text = "\\" + text
    return text


def envquote(value: Any) -> str:
    """A systemd EnvironmentFile value: bare when safe, else double-quoted and escaped."""
    text = str(value)
    if _BARE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tojson(value: Any) -> str:
    return json.dumps(value)


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)
_env.filters["prop"] = prop
_env.filters["envquote"] = envquote
_env.filters["tojson"] = tojson


def render(template: str, context: Dict[str, Any]) -> str:
    return _env.get_template(template).render(**context)
