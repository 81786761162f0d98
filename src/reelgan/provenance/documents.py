"""Provenance records in SVG and PDF files: where reelgan's writers put them, and reading them back.

An SVG carries the record as JSON in `<metadata><reelgan:record>` (and as XMP beside it). A PDF carries it in
its Info dictionary's Keywords as JSON (contact sheets) or as the fields of an XMP packet (screenplays,
`xmp_packet`). Reading scans the file's bytes for those two places, without a PDF library, and takes the
last one found (a later incremental update, such as a C2PA manifest's, comes after the original).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from ..errors import ReelganError

SVG_NS = "http://www.w3.org/2000/svg"
XMP_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta>", re.S)
KEYWORDS = re.compile(rb"/Keywords\s*([(<])")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def svg_record(svg: str, namespace: str) -> dict | None:
    """The record in an SVG document's `<metadata><reelgan:record>` (`namespace`: reelgan's); None without one."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise ReelganError(f"the SVG is not valid XML ({exc}); regenerate the file") from None
    element = root.find(f"{{{SVG_NS}}}metadata/{{{namespace}}}record")
    if element is None:
        return None
    try:
        record = json.loads(element.text or "")
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ReelganError("the SVG's reelgan provenance record is corrupt; regenerate the file")
    return record


def pdf_record(data: bytes, namespace: str) -> dict | None:
    """The record in a PDF's Keywords (JSON) or XMP packet (`namespace`: reelgan's fields); None without one."""
    for match in reversed(list(KEYWORDS.finditer(data))):
        text = _pdf_string(data, match.end(1) - 1)
        if text.lstrip().startswith("{"):
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict):
                return record
    for packet in reversed(XMP_PACKET.findall(data)):
        record = _xmp_fields(packet, namespace)
        if "ai_generated" in record:  # not a person's script, whose packet names only its authorship
            return record
    return None


def _pdf_string(data: bytes, start: int) -> str:
    """The PDF string object at `start`: a literal `( ... )` with its escapes, or a hex `< ... >`."""
    if data[start:start + 1] == b"<":
        end = data.find(b">", start)
        raw = bytes.fromhex(re.sub(rb"\s", b"", data[start + 1:end]).decode("ascii", "replace")) if end > 0 else b""
        return raw[2:].decode("utf-16-be", "replace") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    out, depth, i = bytearray(), 1, start + 1
    while i < len(data) and depth:
        char = data[i:i + 1]
        if char == b"\\":
            following = data[i + 1:i + 2]
            octal = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(following, following)
            i += 2
            continue
        depth += {b"(": 1, b")": -1}.get(char, 0)
        if depth:
            out += char
        i += 1
    return out.decode("latin-1")


def _xmp_fields(packet: bytes, namespace: str) -> dict:
    """reelgan's fields of an XMP packet, values decoded from JSON where they are JSON."""
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return {}
    prefix = f"{{{namespace}}}"
    record = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(prefix):
            text = element.text or ""
            try:
                record[element.tag[len(prefix):]] = json.loads(text)
            except ValueError:
                record[element.tag[len(prefix):]] = text
    return record
