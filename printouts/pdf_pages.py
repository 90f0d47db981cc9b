"""Pages of the PDFs we render: how many, a digest of each one's content, and its text.

The manifest binds every page by its digest, so the kiosk can tell that page 2 of a
certificate is page 2 of this certificate and no other (Tokushima, 2023). A
certificate's pages alternate fronts and backs (printouts.certificate_page); a back is
a page like any other here, so it is bound too, and it names its certificate and its
front ("裏面 1 / 2"), so its digest is unique as well.
"""
from __future__ import annotations

import hashlib
from io import BytesIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DecodedStreamObject, NameObject

PREAMBLE_MAX = 64  # bytes reportlab writes at the top of a page (its initial transform) before our first operator
# The backgrounds of fronts and backs (printouts.anti_copy.background of
# certificate_page.FRONT_KNOCKOUTS and back_page.KNOCKOUTS), as their pages hold them:
# (length, SHA-256). Known by digest, not rebuilt, so the kiosk verifying a page does
# not import the renderer (reportlab, Pillow, zxing-cpp: +9 MB); tests/test_seams.py
# checks these are the renderer's.
BACKGROUNDS = (
    (46891, "7e9352d0af8cc729b9e9101accfb45926e05c23222d170b16f73b64751fdce34"),
    (46896, "2f1ae1005af0cc83f34d716261decd5338e887a56f424ea54c117adf886c11ee"),
)
BACKGROUND_OPENS = b"q\n"  # each one saves the graphics state first


class UnreadablePdf(ValueError):
    pass


def page_digests(pdf: bytes) -> list[str]:
    """SHA-256 of each page's decoded content stream, in page order."""
    try:
        reader = PdfReader(BytesIO(pdf))
        digests = []
        for page in reader.pages:
            contents = page.get_contents()
            digests.append(hashlib.sha256(contents.get_data() if contents is not None else b"").hexdigest())
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadablePdf(f"the PDF cannot be read: {exc}") from exc
    if not digests:
        raise UnreadablePdf("the PDF has no pages")
    return digests


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text as pypdf extracts it, in page order.

    The copy-evident background a certificate page opens with (printouts.anti_copy)
    is left out before pypdf reads the page: it is ~80% of the page's operators and
    of pypdf's time (~40 ms a page on the dev machine, held on the kiosk's worker
    thread with the GIL), and it holds no text. Only those exact operators are left
    out (BACKGROUNDS); a page without them is read whole."""
    try:
        texts = []
        for page in PdfReader(BytesIO(pdf)).pages:
            contents = page.get_contents()
            if contents is not None:
                text_part = DecodedStreamObject()
                text_part.set_data(_without_background(contents.get_data()))
                page[NameObject("/Contents")] = text_part
            texts.append(page.extract_text())
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadablePdf(f"the PDF cannot be read: {exc}") from exc
    if not texts:
        raise UnreadablePdf("the PDF has no pages")
    return texts


def _without_background(operators: bytes) -> bytes:
    head = operators[:PREAMBLE_MAX + len(BACKGROUND_OPENS)]
    starts = [i for i in range(len(head)) if head.startswith(BACKGROUND_OPENS, i)]
    for length, digest in BACKGROUNDS:
        for start in starts:
            if hashlib.sha256(operators[start:start + length]).hexdigest() == digest:
                return operators[:start] + operators[start + length:]
    return operators


def count_pages(pdf: bytes) -> int:
    return len(page_digests(pdf))
