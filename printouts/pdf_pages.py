"""Pages of the PDFs we render: how many, and a digest of each one's content.

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


def count_pages(pdf: bytes) -> int:
    return len(page_digests(pdf))
