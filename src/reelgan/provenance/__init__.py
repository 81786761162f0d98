"""Provenance records: every file reelgan writes says it is AI-generated.

A record is plain JSON data. The media writers embed it in each file (a PNG text chunk plus an
XMP packet, a GIF comment, MP4 container tags) and `read_record` gets it back. The source type
uses the IPTC "digital source type" vocabulary, which is what C2PA, XMP readers and the big
platforms look for when labelling synthetic media.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from xml.sax.saxutils import escape

from .. import __version__
from ..errors import ReelganError

# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/), the one home of their URLs.
IPTC_SOURCE_TYPE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPE_PREFIX + "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPE_PREFIX + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPE_PREFIX + "algorithmicMedia"  # made by an algorithm without training data
COMPOSITE_SYNTHETIC = IPTC_SOURCE_TYPE_PREFIX + "compositeSynthetic"  # synthetic parts, none made by a model
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
XMP_NS = "http://ns.adobe.com/xap/1.0/"
REELGAN_NS = "urn:reelgan:provenance:1.0/"

# Keys make_record always sets; extra fields may not replace them, or a caller could
# (by accident) write a file that claims not to be AI-generated.
CORE_KEYS = ("ai_generated", "digital_source_type", "software", "reelgan_version", "generator_hash", "seed")

# Characters XML 1.0 does not allow at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.-]")


def make_record(
    *,
    generator_hash: str,
    seed: int | None,
    source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    **extra: Any,
) -> dict:
    """Build the provenance record for one generated file.

    `extra` holds more JSON-able fields (run name, step, prompt-free settings...). It cannot
    override the core keys.
    """
    if not isinstance(source_type, str) or not source_type.startswith(IPTC_SOURCE_TYPE_PREFIX):
        raise ReelganError(
            f"source_type {source_type!r} is not an IPTC digital source type URI; "
            f"use reelgan.provenance.TRAINED_ALGORITHMIC_MEDIA or COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA"
        )
    clashes = sorted(set(extra) & set(CORE_KEYS))
    if clashes:
        raise ReelganError(f"extra record fields {clashes} clash with reserved keys; rename them")
    record = {
        "ai_generated": True,
        "digital_source_type": source_type,
        "software": f"reelgan {__version__}",
        "reelgan_version": __version__,
        "generator_hash": generator_hash,
        "seed": seed,
        **extra,
    }
    record_json(record)  # fail now, not when a file is half written
    return record


def check_record(record: dict) -> dict:
    """Return `record` if it declares AI generation; raise ReelganError otherwise.

    The writers call this so no file can leave reelgan without the declaration.
    """
    if (
        not isinstance(record, dict)
        or record.get("ai_generated") is not True
        or not str(record.get("digital_source_type", "")).startswith(IPTC_SOURCE_TYPE_PREFIX)
    ):
        raise ReelganError(
            "the provenance record does not declare the file AI-generated; "
            "build it with reelgan.provenance.make_record"
        )
    return record


def record_json(record: dict) -> str:
    """The record as compact ASCII JSON (ASCII so it fits a PNG tEXt chunk and a GIF comment)."""
    try:
        return json.dumps(record, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ReelganError(
            f"the provenance record is not plain JSON data ({exc}); "
            "pass str/int/float/bool/None/list/dict values"
        ) from None


def _xml_text(value: Any) -> str:
    """A record value as escaped XML text: strings verbatim, everything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return escape(_XML_INVALID.sub("\ufffd", text))


def _xml_name(key: str) -> str:
    """A record key made into a valid XML local name (e.g. "2x scale" -> "_2x_scale")."""
    name = _NOT_NAME_CHAR.sub("_", str(key)) or "_"
    return name if (name[0].isalpha() or name[0] == "_") else "_" + name


def xmp_packet(record: dict) -> str:
    """An XMP packet carrying the IPTC digital source type, the creator tool and the whole record."""
    fields = "\n".join(
        f"   <reelgan:{_xml_name(k)}>{_xml_text(v)}</reelgan:{_xml_name(k)}>" for k, v in record.items()
    )
    source_type = _xml_text(record.get("digital_source_type", TRAINED_ALGORITHMIC_MEDIA))
    tool = _xml_text(record.get("software", f"reelgan {__version__}"))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:Iptc4xmpExt="{IPTC_EXT_NS}"\n'
        f'    xmlns:xmp="{XMP_NS}"\n'
        f'    xmlns:reelgan="{REELGAN_NS}">\n'
        f"   <Iptc4xmpExt:DigitalSourceType>{source_type}</Iptc4xmpExt:DigitalSourceType>\n"
        f"   <xmp:CreatorTool>{tool}</xmp:CreatorTool>\n"
        f"{fields}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _parse_record(text: str | bytes | None, path: str) -> dict | None:
    """Decode the stored JSON; a present but unreadable record is an error, not 'no record'."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ReelganError(f"{path}: the reelgan provenance record is corrupt; regenerate the file")
    return record


def _read_png_or_gif(path: str, kind: str) -> str | bytes | None:
    """The raw stored record: PNG "reelgan" text chunk, or the GIF comment (bytes)."""
    from PIL import Image  # imported here so `import reelgan.provenance` stays light

    with Image.open(path) as im:
        if kind == "png":
            return getattr(im, "text", {}).get("reelgan")
        return im.info.get("comment")


def _read_mp4(path: str) -> str | None:
    """The raw stored record from the MP4 container's "reelgan" tag."""
    import av

    with av.open(path) as container:
        return container.metadata.get("reelgan")


def _read_document(path: str, head: bytes) -> dict | None:
    """The record of an SVG or PDF (see `documents.py`); None for other files and for those without one."""
    from .documents import pdf_record, svg_record

    if head.startswith(b"%PDF"):
        with open(path, "rb") as fh:
            return pdf_record(fh.read(), REELGAN_NS)
    if path.lower().endswith(".svg") or head.lstrip().startswith((b"<svg", b"<?xml")):
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
        return svg_record(text, REELGAN_NS) if "<svg" in text else None
    return None


def read_record(path: str | os.PathLike) -> dict | None:
    """The provenance record stored in a PNG, GIF, MP4, SVG or PDF reelgan wrote; None when it carries none."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise ReelganError(f"cannot read {path}: {exc.strerror}; check the path") from None
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return _parse_record(_read_png_or_gif(path, "png"), path)
        if head.startswith(b"GIF8"):
            comment = _read_png_or_gif(path, "gif")
            # Someone else's GIF may carry a non-JSON comment: that is "no record", not corruption.
            if not comment or not comment.lstrip().startswith(b"{"):
                return None
            return _parse_record(comment, path)
        if head[4:8] == b"ftyp":
            return _parse_record(_read_mp4(path), path)
        return _read_document(path, head)
    except ReelganError:
        raise
    except Exception as exc:  # PIL / PyAV raise many kinds for a damaged file
        raise ReelganError(f"{path} is damaged or unreadable ({exc}); regenerate it") from None


__all__ = [
    "TRAINED_ALGORITHMIC_MEDIA",
    "COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA",
    "make_record",
    "check_record",
    "record_json",
    "xmp_packet",
    "read_record",
]
