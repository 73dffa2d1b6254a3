"""Render one jinja2 template (``packager/onhost/templates/<file>.j2``) per config file.

Formats that have their own quoting rules get a filter each (Java properties, systemd
EnvironmentFile, JSON); the environment itself is :mod:`packager.onhost.templating`'s.
"""

import json
import re
from typing import Any, Dict

from packager.onhost import templating

_BARE = re.compile(r"^[A-Za-z0-9_/:.,@%+=-]*$")


_PROP_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}


def prop(value: Any) -> str:
    """A Java .properties value, read back by ``java.util.Properties.load`` as given.

    ``Properties.load(InputStream)`` reads a file as ISO-8859-1, and so does Spring Boot's
    loader of application.properties: a UTF-8 password written raw (the party schema allows
    one) would reach Java as other characters and fail the MySQL login. ``\\uXXXX`` is read
    alike by every loader, whatever encoding it assumes. Every character outside printable
    ASCII is
    written as ``\\uXXXX`` (UTF-16 units, as ``Properties.store`` writes them); a
    backslash and the control characters get their escapes, a leading blank is escaped.
    """
    out = []
    for ch in str(value):
        if ch in _PROP_ESCAPES:
            out.append(_PROP_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            units = ch.encode("utf-16-be", "surrogatepass")
            out += ["\\u" + units[i:i + 2].hex() for i in range(0, len(units), 2)]
    text = "".join(out)
    if text[:1] == " ":
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
