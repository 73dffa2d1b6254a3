# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""Reads the block-style YAML subset of FATE 1.4's ``base_conf.yaml``.

fate_flow reads base_conf.yaml with a YAML library from its venv; the sample venv holds
only our own small wheels, so this loader covers what the stock and configured files use:
nested mappings by indentation, ``- item`` lists (of scalars or mappings), ``[a, b]``
flow lists, quoted and plain scalars, ints, floats, booleans, null, ``#`` comments.
Anything else raises ValueError with the line number, like a real parser would refuse.
"""


def _scalar(text):
    text = text.strip()
    if not text or text in ("~", "null", "Null", "NULL"):
        return None
    if text[0] in "'\"":
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"unterminated quoted scalar {text!r}")
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part) for part in inner.split(",")] if inner else []
    if text.startswith("{") or text.startswith("&") or text.startswith("*"):
        raise ValueError(f"unsupported YAML construct {text!r}")
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _strip_comment(line):
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def loads(text):
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        body = _strip_comment(raw).rstrip()
        if body.strip() and body.strip() != "---":
            lines.append((number, len(body) - len(body.lstrip()), body.strip()))
    value, pos = _block(lines, 0, 0)
    if pos != len(lines):
        raise ValueError(f"line {lines[pos][0]}: unexpected indentation")
    return value


def _block(lines, pos, indent):
    if pos >= len(lines):
        return None, pos
    if lines[pos][2].startswith("- ") or lines[pos][2] == "-":
        return _sequence(lines, pos, lines[pos][1])
    return _mapping(lines, pos, lines[pos][1])


def _mapping(lines, pos, indent):
    result = {}
    while pos < len(lines) and lines[pos][1] == indent:
        number, _, text = lines[pos]
        if text.startswith("- "):
            break
        key, sep, rest = text.partition(":")
        if not sep or (rest and not rest.startswith(" ")):
            raise ValueError(f"line {number}: expected 'key: value'")
        key = key.strip().strip("'\"")
        pos += 1
        if rest.strip():
            result[key] = _scalar(rest)
        elif pos < len(lines) and lines[pos][1] > indent:
            result[key], pos = _block(lines, pos, lines[pos][1])
        elif pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("- "):
            result[key], pos = _sequence(lines, pos, indent)
        else:
            result[key] = None
    if pos < len(lines) and lines[pos][1] > indent:
        raise ValueError(f"line {lines[pos][0]}: unexpected indentation")
    return result, pos


def _sequence(lines, pos, indent):
    items = []
    while pos < len(lines) and lines[pos][1] == indent and (
            lines[pos][2].startswith("- ") or lines[pos][2] == "-"):
        number, _, text = lines[pos]
        rest = text[1:].strip()
        if ":" in rest and not rest.startswith(("'", '"', "[")) and (
                rest.split(":", 1)[1][:1] in ("", " ")):
            # "- key: value" opens a mapping whose further keys are indented past the dash
            inner = [(number, indent + 2, rest)]
            end = pos + 1
            while end < len(lines) and lines[end][1] > indent:
                inner.append(lines[end])
                end += 1
            item, used = _mapping(inner, 0, indent + 2)
            if used != len(inner):
                raise ValueError(f"line {number}: bad list item")
            items.append(item)
            pos = end
        else:
            items.append(_scalar(rest))
            pos += 1
    return items, pos


def load_file(path):
    with open(path, encoding="utf-8") as handle:
        return loads(handle.read())
