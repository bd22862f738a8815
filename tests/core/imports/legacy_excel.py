"""A minimal legacy Excel (.xls, BIFF8 in an OLE2 compound file) writer for the tests: no
library writes the old format any more, and the reader must still take it."""

from __future__ import annotations

import struct

_END, _FREE, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0x06))


def _unicode(text: str) -> bytes:
    return struct.pack("<HB", len(text), 1) + text.encode("utf-16-le")


def workbook_stream(rows: list[list[str | float]], sheet: str = "Sheet1") -> bytes:
    """The BIFF8 "Workbook" stream: globals (code page, one sheet, shared strings), then the
    sheet with a string or number cell per value."""
    strings: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                position = strings.setdefault(value, len(strings))
                cells.append(_record(0x00FD, struct.pack("<HHHI", r, c, 0, position)))
            else:
                cells.append(_record(0x0203, struct.pack("<HHHd", r, c, 0, float(value))))
    shared = _record(
        0x00FC,
        struct.pack("<II", len(strings), len(strings)) + b"".join(_unicode(s) for s in strings),
    )

    def globals_(sheet_at: int) -> bytes:
        name = struct.pack("<IBBBB", sheet_at, 0, 0, len(sheet), 1) + sheet.encode("utf-16-le")
        return (
            _bof(0x0005)
            + _record(0x0042, struct.pack("<H", 1200))
            + _record(0x0085, name)
            + shared
            + _record(0x000A)
        )

    width = max(len(row) for row in rows)
    body = (
        _bof(0x0010)
        + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + b"".join(cells)
        + _record(0x000A)
    )
    return globals_(len(globals_(0))) + body


def _entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00" if name else b""
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBBIII", len(raw), kind, 1 if name else 0, _NO_STREAM, _NO_STREAM, child)
        + b"\x00" * 20
        + b"\x00" * 16
        + struct.pack("<IQ", start, size)
    )


def xls(rows: list[list[str | float]], sheet: str = "Sheet1") -> bytes:
    """A .xls file holding ``rows`` on one sheet (version 3 compound file, 512-byte sectors:
    the allocation table, the directory, then the stream, kept out of the mini stream)."""
    stream = workbook_stream(rows, sheet).ljust(4096, b"\x00")
    sectors = (len(stream) + 511) // 512
    fat = [_FAT_SECTOR, _END] + [3 + i for i in range(sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    directory = (
        _entry("Root Entry", 5, 1, _END, 0)
        + _entry("Workbook", 2, _NO_STREAM, 2, len(stream))
        + _entry("", 0, _NO_STREAM, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + directory + stream.ljust(sectors * 512, b"\x00")
