"""Config loading. Uses PyYAML when installed (the real ai-toolkit always has it, with a loader
patched so 1e-4 parses as a float); otherwise a small parser for the block YAML subset that
headshot and the upstream examples use: nested mappings, block lists ('- '), flow lists
('[a, b]'), quoted and plain scalars, comments. FAKE_AITK_MINI_YAML=1 forces the small parser.
"""
import json
import os
import re

_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_INT = re.compile(r"^[-+]?\d+$")


def _scalar(text):
    text = text.strip()
    if text == "" or text in ("~", "null", "Null", "NULL"):
        return None
    if text[0] in "\"'":
        quote = text[0]
        end = text.rfind(quote)
        body = text[1:end]
        if quote == '"':
            return json.loads('"' + body + '"')
        return body.replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [] if inner == "" else [_scalar(part) for part in _split_flow(inner)]
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        out = {}
        for part in ([] if inner == "" else _split_flow(inner)):
            key, _, value = part.partition(":")
            out[_scalar(key)] = _scalar(value)
        return out
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _split_flow(text):
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            current += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _mini_load(text):
    lines = []
    for raw in text.splitlines():
        if raw.strip() in ("---", "..."):
            continue
        line = _strip_comment(raw)
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    value, index = _parse_block(lines, 0, lines[0][0] if lines else 0)
    return value


def _parse_block(lines, index, indent):
    if index >= len(lines):
        return None, index
    if lines[index][1].startswith("- ") or lines[index][1] == "-":
        out = []
        while index < len(lines) and lines[index][0] == indent and (lines[index][1].startswith("- ") or lines[index][1] == "-"):
            rest = lines[index][1][2:].strip()
            if rest == "":
                value, index = _parse_block(lines, index + 1, lines[index + 1][0])
                out.append(value)
            elif re.match(r"^[^\"'\[{][^:]*:(\s|$)", rest):
                # "- key: value" starts a mapping whose other keys sit at indent + 2
                lines[index] = (indent + 2, rest)
                value, index = _parse_block(lines, index, indent + 2)
                out.append(value)
            else:
                out.append(_scalar(rest))
                index += 1
        return out, index
    out = {}
    while index < len(lines) and lines[index][0] == indent:
        key, _, rest = lines[index][1].partition(":")
        key = _scalar(key)
        rest = rest.strip()
        index += 1
        if rest == "":
            if index < len(lines) and lines[index][0] > indent:
                value, index = _parse_block(lines, index, lines[index][0])
            elif index < len(lines) and lines[index][0] == indent and lines[index][1].startswith("- "):
                value, index = _parse_block(lines, index, indent)
            else:
                value = None
            out[key] = value
        else:
            out[key] = _scalar(rest)
    return out, index


def load_yaml(text):
    if os.environ.get("FAKE_AITK_MINI_YAML") != "1":
        try:
            import yaml  # noqa: F401
        except ImportError:
            yaml = None
        if yaml is not None:
            loader = yaml.SafeLoader
            # the real loader is patched so that 1e-4 is a float, not a string
            loader.add_implicit_resolver(
                "tag:yaml.org,2002:float",
                re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
                list("-+0123456789."),
            )
            return yaml.load(text, Loader=loader)
    return _mini_load(text)


def dump_yaml(value):
    try:
        import yaml

        return yaml.dump(value, sort_keys=False, allow_unicode=True)
    except ImportError:
        return json.dumps(value, indent=2)
