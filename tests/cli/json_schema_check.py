#!/usr/bin/env python3
"""Checks one --json document against the schema formats/json-mapping.md names (formats/*.proto)
and the mapping's rules: every field without presence is present (defaults included), fields with
presence (messages, `optional`, oneof members) may be absent, every value has the JSON type of
its proto type (64-bit integers are numbers), and no field the schema does not define appears.

usage: json_schema_check.py FORMATS_DIR MESSAGE FILE   (exit 1 with one line per violation)
"""
import json
import re
import sys

INTS = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"}


def parse_protos(paths):
    messages, enums = {}, set()
    for p in paths:
        text = re.sub(r"//[^\n]*", "", open(p).read())
        toks = re.findall(r"[A-Za-z_][\w.]*|<|>|,|=|;|\{|\}|\d+|\"[^\"]*\"", text)
        stack = []  # (kind, name)
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in ("message", "enum", "oneof") and i + 2 < len(toks) and toks[i + 2] == "{":
                stack.append((t, toks[i + 1]))
                if t == "message":
                    messages.setdefault(toks[i + 1], {})
                elif t == "enum":
                    enums.add(toks[i + 1])
                i += 3
                continue
            if t == "}":
                stack.pop()
                i += 1
                continue
            msgs = [n for k, n in stack if k == "message"]
            if stack and stack[-1][0] in ("message", "oneof") and t not in ("reserved", "option"):
                # [optional|repeated] TYPE NAME = N ;   or   map < K , V > NAME = N ;
                label = None
                if t in ("optional", "repeated"):
                    label, i = t, i + 1
                if toks[i] == "map":
                    ftype, name = "map", toks[i + 6]
                    i += 7
                else:
                    ftype, name = toks[i], toks[i + 1]
                    i += 2
                while toks[i] != ";":
                    i += 1
                i += 1
                messages[msgs[-1]][name] = {
                    "type": ftype.split(".")[-1],
                    "repeated": label == "repeated" or ftype == "map",
                    "map": ftype == "map",
                    "presence": label == "optional" or stack[-1][0] == "oneof",
                }
                continue
            i += 1
    return messages, enums


def camel(name):
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def check(messages, enums, msg, value, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: {msg} should be an object")
        return
    fields = messages[msg]
    known = {camel(n): (n, f) for n, f in fields.items()}
    for key in value:
        if key not in known:
            errors.append(f"{path}.{key}: not a field of {msg}")
    for jname, (name, f) in known.items():
        t = f["type"]
        presence = f["presence"] or (not f["repeated"] and t in messages)
        if jname not in value:
            if not presence:
                errors.append(f"{path}.{jname}: missing ({msg}.{name} has no presence: always printed)")
            continue
        v = value[jname]
        if f["map"]:
            if not isinstance(v, dict):
                errors.append(f"{path}.{jname}: a map should be an object")
            continue
        items = v if f["repeated"] else [v]
        if f["repeated"] and not isinstance(v, list):
            errors.append(f"{path}.{jname}: should be an array")
            continue
        for k, x in enumerate(items):
            where = f"{path}.{jname}[{k}]" if f["repeated"] else f"{path}.{jname}"
            if t in INTS:
                ok = isinstance(x, int) and not isinstance(x, bool)
            elif t in ("double", "float"):
                ok = (isinstance(x, (int, float)) and not isinstance(x, bool)) or x in ("NaN", "Infinity", "-Infinity")
            elif t == "bool":
                ok = isinstance(x, bool)
            elif t in ("string", "bytes"):
                ok = isinstance(x, str)
            elif t in enums:
                ok = isinstance(x, str) or (isinstance(x, int) and not isinstance(x, bool))
            elif t in messages:
                check(messages, enums, t, x, where, errors)
                continue
            else:
                ok = True  # a well-known type
            if not ok:
                errors.append(f"{where}: {json.dumps(x)[:40]} is not a JSON {t}")


def main():
    import glob

    formats, msg, file = sys.argv[1:4]
    messages, enums = parse_protos(sorted(glob.glob(formats + "/*.proto")))
    text = open(file).read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print(f"{file}: not one JSON document: {e}")
        return 1
    errors = []
    check(messages, enums, msg, doc, msg, errors)
    for e in errors[:20]:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
