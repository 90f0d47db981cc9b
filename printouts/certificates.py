"""Any certificate the issuance center issues, rendered by its record's type."""
from __future__ import annotations

from printouts.certificate_page import RenderedPdf
from printouts.family_register import render_family_register
from printouts.records import (
    Certificate,
    FamilyRegister,
    RegisterAnnex,
    ResidenceRecord,
    SealCertificate,
    TaxCertificate,
)
from printouts.register_annex import render_register_annex
from printouts.residence_record import render_residence_record
from printouts.seal_certificate import render_seal_certificate
from printouts.tax_certificate import render_tax_certificate

_RENDERERS = {
    ResidenceRecord: render_residence_record,
    SealCertificate: render_seal_certificate,
    TaxCertificate: render_tax_certificate,
    FamilyRegister: render_family_register,
    RegisterAnnex: render_register_annex,
}


def render_certificate(record: Certificate, verification_code: str) -> bytes:
    """The certificate as A4 PDF bytes; the same record and code give the same bytes."""
    return render_certificate_pages(record, verification_code).pdf


def render_certificate_pages(record: Certificate, verification_code: str) -> RenderedPdf:
    """The PDF and the digest of each of its pages."""
    try:
        render = _RENDERERS[type(record)]
    except KeyError:
        raise TypeError(f"no renderer for {type(record).__name__}") from None
    return render(record, verification_code)
