"""Page streams whose background is compressed once and spliced in decode to exactly
what was drawn, in every decoder the kiosk's PDFs meet (zlib here, pypdf in the page
digests, poppler in the rendering tests)."""
from __future__ import annotations

import zlib
from io import BytesIO

from pypdf import PdfReader

from printouts import fictional_records as fictional
from printouts.anti_copy import background
from printouts.certificate_page import FRONT_KNOCKOUTS
from printouts.certificates import render_certificate
from printouts.flate import FLATE, SplicingFlate


def test_a_stream_with_a_registered_part_decodes_to_the_same_bytes():
    flate = SplicingFlate()
    part = "0 0 m 775.5 0 l\n" * 3000
    flate.register(part)
    for before, after in (("", ""), ("1 0 0 1 0 0 cm \n", "\nBT /F1 10 Tf (x) Tj ET\n"), ("q\n", "")):
        stream = before + part + after
        encoded = flate.encode(stream)
        assert zlib.decompress(encoded) == stream.encode()
        assert len(encoded) < len(zlib.compress(part.encode(), 1))


def test_other_streams_are_plain_zlib():
    data = b"\x00\x01 font bytes " * 500
    assert zlib.decompress(FLATE.encode(data)) == data


def test_every_page_of_a_certificate_decodes_with_its_background():
    pdf = render_certificate(fictional.residence_record(), fictional.verification_code("flate"))
    pages = PdfReader(BytesIO(pdf)).pages
    assert background(FRONT_KNOCKOUTS).encode() in pages[0].get_contents().get_data()
    assert all(b" cm" in page.get_contents().get_data() for page in pages)
