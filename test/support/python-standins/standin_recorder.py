"""Shared by the stand-ins: append one JSON object per call to $STANDIN_RECORD."""
import json
import os


def record(call, **fields):
    path = os.environ.get("STANDIN_RECORD")
    if not path:
        return
    entry = {"call": call}
    entry.update(fields)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, default=repr) + "\n")


def env_float(name, default=0.0):
    value = os.environ.get(name)
    return float(value) if value else default


def env_ints(name):
    value = os.environ.get(name, "")
    return {int(part) for part in value.split(",") if part.strip()}
