"""Each document type of the contract (contract.issuance.DOCUMENT_TYPES) and its title
as the law names it: printed on the certificate (printouts/) and on the receipt
(kiosk.paid_issuance). Plain data, so the kiosk imports it without reportlab and
printouts without pydantic. The screens name each document in the resident's language
(kiosk/screens.py); the Japanese catalogue gives exactly these titles."""
from __future__ import annotations

DOCUMENT_TITLES = {
    "residence_record": "住民票の写し",
    "residence_record_items": "住民票記載事項証明書",
    "seal_certificate": "印鑑登録証明書",
    "tax_certificate": "課税・所得証明書",
    "family_register_full": "戸籍全部事項証明書",
    "family_register_individual": "戸籍個人事項証明書",
    "family_register_annex": "戸籍の附票の写し",
}
