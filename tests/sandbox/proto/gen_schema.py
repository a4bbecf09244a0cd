#!/usr/bin/env python3
"""Writes src/protobuf_schema.txt: the wire layout of the built-in kinds the sandbox serves,
from the Kubernetes sources in the Go module cache (generated.proto for field numbers and
types, types.go for JSON names, omitempty and pointer fields).

Run: python3 proto/gen_schema.py [GOMODCACHE] > src/protobuf_schema.txt
"""
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "/root/go/pkg/mod/k8s.io"
PACKAGES = [
    "api@v0.37.2/core/v1",
    "api@v0.37.2/apps/v1",
    "api@v0.37.2/rbac/v1",
    "api@v0.37.2/authentication/v1",
    "api@v0.37.2/authorization/v1",
    "apimachinery@v0.37.2/pkg/apis/meta/v1",
    "apimachinery@v0.37.2/pkg/runtime",
    "apimachinery@v0.37.2/pkg/util/intstr",
    "apimachinery@v0.37.2/pkg/api/resource",
]

FIELD = re.compile(r"^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+)")
MAP = re.compile(r"^\s*map<\s*(\S+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)")
GO_FIELD = re.compile(r'^\s*(\w+)?\s*(\S+)\s+`([^`]*)`')
SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float", "uint32", "uint64"}


def qualify(t, package):
    if t in SCALARS:
        return t
    if t.startswith("."):
        return t[1:]
    return f"{package}.{t}"


def go_tags(directory):
    """(struct, protobuf name) -> (json name, omitempty, pointer), and the struct names."""
    out = {}
    structs = set()
    for path in glob.glob(os.path.join(directory, "*.go")):
        if path.endswith("_test.go") or path.endswith(".pb.go") or "zz_generated" in path:
            continue
        struct = None
        for line in open(path, encoding="utf-8"):
            m = re.match(r"^type (\w+) struct \{", line)
            if m:
                struct = m.group(1)
                structs.add(struct)
                continue
            if struct and line.startswith("}"):
                struct = None
                continue
            if not struct:
                continue
            m = GO_FIELD.match(line)
            if not m:
                continue
            tags = m.group(3)
            pb = re.search(r'protobuf:"([^"]*)"', tags)
            js = re.search(r'json:"([^"]*)"', tags)
            if not pb:
                continue
            named = re.search(r"name=(\w+)", pb.group(1))
            if not named:
                continue
            name = named.group(1)
            # No json tag: encoding/json uses the Go field name.
            json_parts = (js.group(1) if js else (m.group(1) or "")).split(",")
            out[(struct, name)] = (json_parts[0], "omitempty" in json_parts[1:], m.group(2).startswith("*"))
    return out, structs


for rel in PACKAGES:
    directory = os.path.join(root, rel)
    tags, structs = go_tags(directory)
    text = open(os.path.join(directory, "generated.proto"), encoding="utf-8").read()
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    message = None
    for line in text.splitlines():
        m = re.match(r"^message (\w+) \{", line)
        if m:
            message = m.group(1)
            # A Go slice type (`type ExtraValue []string`) is a message of `items` on the
            # wire and a bare JSON array.
            shape = "struct" if message in structs else "slice"
            print(f"M {package}.{message} {shape}")
            continue
        if line.startswith("}"):
            message = None
            continue
        if message is None:
            continue
        m = MAP.match(line)
        if m:
            label, vtype, name, number = "map", qualify(m.group(2), package), m.group(3), m.group(4)
        else:
            m = FIELD.match(line)
            if not m:
                continue
            label, vtype, name, number = m.group(1), qualify(m.group(2), package), m.group(3), m.group(4)
        json_name, omitempty, pointer = tags.get((message, name), (name, True, False))
        flags = ("o" if omitempty else "") + ("p" if pointer else "") or "-"
        print(f"F {number} {json_name or '.'} {label} {vtype} {flags}")
