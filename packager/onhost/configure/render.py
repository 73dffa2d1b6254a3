"""Render one jinja2 template (``packager/onhost/templates/<file>.j2``) per config file.

Formats that have their own quoting rules get a filter each (Java properties, systemd
EnvironmentFile, JSON); the environment itself is :mod:`packager.onhost.templating`'s.
"""

import json
import re
from typing import Any, Dict

from packager.onhost import templating

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


_env = templating.environment(templating.CONFIG_TEMPLATES,
                              {"prop": prop, "envquote": envquote, "tojson": tojson})


def render(template: str, context: Dict[str, Any]) -> str:
    return _env.get_template(template).render(**context)
