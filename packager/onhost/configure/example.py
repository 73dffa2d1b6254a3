"""Generate party.yaml.example from the schema, so the example cannot drift from it.

Every key the schema knows is written with its description as a comment and its
``x-example`` (else its default); optional passwords are left empty, which means
"generate one". The result is checked by the tests to validate against the schema.
"""

from typing import Any, Dict, List

import yaml

from .schema import example_value, load_schema, resolve

WIDTH = 92


def _comment(text: str, indent: str) -> List[str]:
    words = " ".join(text.split()).split(" ")
    lines: List[str] = []
    line = ""
    for word in words:
        if line and len(indent) + 2 + len(line) + 1 + len(word) > WIDTH:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word).strip()
    if line:
        lines.append(line)
    return [f"{indent}# {line}" for line in lines]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return " " + text


def _emit(node: Dict[str, Any], indent: str, out: List[str]) -> None:
    node = resolve(node)
    for key, sub in node["properties"].items():
        sub = resolve(sub)
        if sub.get("description"):
            out.extend(_comment(sub["description"], indent))
        value = example_value(sub)
        if "properties" in sub and value is None:
            out.append(f"{indent}{key}:")
            _emit(sub, indent + "  ", out)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out.append(f"{indent}{key}:")
            block = yaml.safe_dump(value, default_flow_style=None, sort_keys=False, width=1000)
            out.extend(indent + "  " + line for line in block.splitlines())
        else:
            out.append(f"{indent}{key}:{_scalar(value)}")


def render_example() -> str:
    schema = load_schema()
    role = schema["x-example-root"]
    out = [
        "# yaml-language-server: $schema=party.schema.json",
        "# party.yaml.example - generated from packager/onhost/configure/party.schema.yaml",
        "# by `fate-configure example`; do not edit by hand.",
        "#",
        "# One party of a FATE 1.4.5 cluster, in the vocabulary of ansible-nfate's var files.",
        "# Copy it, set partyid and the ips, and run `fate-configure party.yaml` on every host",
        "# of the party (each host finds its own services by its addresses). Empty passwords",
        "# are generated into /etc/fate/secrets.yaml on the MySQL host; copy that file to the",
        "# party's other hosts before running fate-configure there.",
    ]
    out.extend(_comment(schema["properties"][role]["description"], ""))
    out.append(f"{role}:")
    _emit(schema["properties"][role], "  ", out)
    return "\n".join(out) + "\n"
