"""A JPEG's own compressed pixels without anything else: metadata stripped losslessly.

A JPEG is a series of marked segments. The frame header, the quantisation and Huffman tables,
the restart interval and the scans are the picture; every application segment (EXIF with its
GPS position, XMP, ICC, IPTC, maker notes, embedded thumbnails), every comment and whatever
follows the end marker is not. Keeping only the first kind gives a file that decodes to the
very same pixels and carries nothing else, without decoding or encoding a pixel.

Only what is plainly one ordinary image passes: baseline, extended or progressive Huffman
coding, one frame, no Adobe segment (its colour transform would change meaning once dropped).
Anything else returns None, and the caller re-encodes from decoded pixels instead.
"""

from __future__ import annotations

import re

_MARKER = 0xFF
_START_OF_IMAGE = b"\xff\xd8"
_END_OF_IMAGE = 0xD9
_START_OF_SCAN = 0xDA
_FRAMES = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended sequential, progressive
_TABLES = frozenset({0xC4, 0xDB, 0xDD})  # Huffman tables, quantisation tables, restart interval
_JFIF_SEGMENT = 0xE0
_ADOBE_SEGMENT = 0xEE
_METADATA = frozenset(range(0xE0, 0xF0)) | {0xFE}  # application segments and comments
# Decoders take three components for YCbCr when a JFIF header is present; a fresh one (1.01,
# no density, no thumbnail) keeps that reading without the original's embedded thumbnail.
_BARE_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# Inside a scan, 0xFF is followed by a stuffed 0x00 or a restart marker; anything else ends it.
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def stripped_jpeg(data: bytes) -> bytes | None:
    """`data`'s frame, tables and scans alone, or None when it is not one ordinary JPEG."""
    if not data.startswith(_START_OF_IMAGE):
        return None
    kept: list[bytes] = []
    had_jfif = False
    frames = scans = 0
    position = len(_START_OF_IMAGE)
    end = len(data)
    while True:
        if position >= end or data[position] != _MARKER:
            return None
        while position < end and data[position] == _MARKER:  # fill bytes before a marker
            position += 1
        if position >= end:
            return None
        marker = data[position]
        position += 1
        if marker == _END_OF_IMAGE:
            break
        if position + 2 > end:
            return None
        length = int.from_bytes(data[position : position + 2], "big")
        segment_end = position + length
        if length < 2 or segment_end > end:
            return None
        payload = data[position + 2 : segment_end]
        if marker in _FRAMES:
            frames += 1
        elif marker == _START_OF_SCAN:
            if frames != 1:
                return None
            scan_end = _END_OF_SCAN.search(data, segment_end)
            if scan_end is None:
                return None
            scans += 1
            kept.append(bytes((_MARKER, marker)) + data[position : scan_end.start()])
            position = scan_end.start()
            continue
        elif marker == _JFIF_SEGMENT and payload.startswith(b"JFIF\x00"):
            had_jfif = True
        elif marker == _ADOBE_SEGMENT and payload.startswith(b"Adobe"):
            return None
        elif marker not in _TABLES and marker not in _METADATA:
            return None  # lossless, arithmetic, hierarchical, or not a JPEG marker at all
        if marker in _FRAMES or marker in _TABLES:
            kept.append(bytes((_MARKER, marker)) + data[position:segment_end])
        position = segment_end
    if frames != 1 or scans == 0:
        return None
    header = _START_OF_IMAGE + (_BARE_JFIF if had_jfif else b"")
    return b"".join((header, *kept, b"\xff\xd9"))
