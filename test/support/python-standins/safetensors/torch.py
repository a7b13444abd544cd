"""Stand-in safetensors.torch: parses the real file format (u64 header length, JSON header, data)."""
import json
import struct

import torch

from . import SafetensorError


def load_file(filename, device="cpu"):
    with open(filename, "rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise SafetensorError("Error while deserializing header: HeaderTooSmall")
        (length,) = struct.unpack("<Q", raw)
        if length > 100_000_000:  # the real loader's limit
            raise SafetensorError("Error while deserializing header: HeaderTooLarge")
        header_bytes = handle.read(length)
        if len(header_bytes) != length:
            raise SafetensorError("Error while deserializing header: InvalidHeaderLength")
        rest = handle.read()
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except ValueError as error:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization ({error})") from error
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = torch._DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise SafetensorError(f"unsupported dtype {info.get('dtype')!r} for {name}")
        start, end = info["data_offsets"]
        count = 1
        for dim in info["shape"]:
            count *= dim
        if end > len(rest) or end - start != count * dtype.itemsize:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset({name})")
        tensors[name] = torch.Tensor(info["shape"], dtype)
    return tensors
