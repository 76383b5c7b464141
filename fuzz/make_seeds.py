#!/usr/bin/env python3
"""Writes the small seed inputs in fuzz/corpus/{idx,image,safetensors} (standard library only).
The config seeds are copies of configs/*.json. Run from anywhere: python3 fuzz/make_seeds.py"""
import gzip
import json
import os
import struct
import zlib

here = os.path.dirname(os.path.abspath(__file__))


def write(folder, name, data):
    os.makedirs(os.path.join(here, "corpus", folder), exist_ok=True)
    with open(os.path.join(here, "corpus", folder, name), "wb") as f:
        f.write(data)


# IDX: the first byte picks the role in fuzz_idx.cpp (0 images, 1 labels).
images = struct.pack(">IIII", 0x803, 3, 4, 5) + bytes(range(60))
labels = struct.pack(">II", 0x801, 3) + bytes([0, 2, 1])
write("idx", "images_raw", b"\x00" + images)
write("idx", "images_gz", b"\x00" + gzip.compress(images))
write("idx", "labels_raw", b"\x01" + labels)
write("idx", "labels_gz", b"\x01" + gzip.compress(labels))


# Images: PNG (gray and RGB), PGM, PPM, BMP.
def png(width, height, channels, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    color = {1: 0, 3: 2}[channels]
    rows = b"".join(b"\x00" + pixels[y * width * channels:(y + 1) * width * channels] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


write("image", "gray.png", png(4, 3, 1, bytes(range(0, 240, 20))))
write("image", "rgb.png", png(3, 2, 3, bytes(range(0, 180, 10))))
write("image", "gray.pgm", b"P5\n4 2\n255\n" + bytes(range(8)))
write("image", "rgb.ppm", b"P6\n2 2\n255\n" + bytes(range(12)))
bmp_pixels = b"".join(bytes([10 * x, 20 * y, 30, 0]) for y in range(2) for x in range(2))
write("image", "rgb.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_pixels), 0, 0, 54)
      + struct.pack("<IiiHHIIiiII", 40, 2, 2, 1, 32, 0, len(bmp_pixels), 2835, 2835, 0, 0) + bmp_pixels)


# safetensors: two tensors and metadata.
def safetensors(tensors, metadata):
    header, data = {"__metadata__": metadata}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("safetensors", "small.safetensors", safetensors(
    {"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), "i": ("I64", [3], struct.pack("<3q", 1, -2, 3)),
     "m": ("BOOL", [2], b"\x01\x00"), "d": ("F64", [], struct.pack("<d", 2.5))}, {"note": "seed"}))
