"""Only registered terminals are terminals: a client certificate the stub's TLS root
signed is served only if it is a terminal's (clientAuth, a CN) and on the center's
list, which `kiosk-municipal init` and `issue-terminal` add to and `revoke-terminal`
takes off. Over real mutual TLS on loopback."""
from __future__ import annotations

import datetime as dt
import sqlite3
import ssl
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.issuance_client import ServiceRefused
from municipal.cli import main
from municipal.pki import KeyAndCert, PkiFiles
from municipal.service import ServiceConfig
from municipal.terminals import register_terminal
from tests.test_issuance_service import client_for


def challenge_with(url: str, stub_data: Path, cert: Path, key: Path) -> httpx.Response:
    """POST /v1/challenges presenting `cert` as the TLS client certificate."""
    tls = ssl.create_default_context(cafile=str(PkiFiles(stub_data / "pki").root))
    tls.load_cert_chain(str(cert), str(key))
    return httpx.post(f"{url}/v1/challenges", verify=tls, timeout=10)


def challenges_issued(stub_data: Path) -> int:
    with closing(sqlite3.connect(stub_data / "registry.sqlite")) as conn:
        return conn.execute("SELECT count(*) FROM challenges").fetchone()[0]


def assert_refused_as_no_terminal(response: httpx.Response, stub_data: Path) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"] == "terminal_unknown"
    assert challenges_issued(stub_data) == 0


def root_signed(stub_data: Path, folder: Path, subject: x509.Name, client_auth: bool = True) -> tuple[Path, Path]:
    """A certificate from the stub's TLS root for `subject` (with the clientAuth EKU,
    or with no EKU at all, which TLS takes as good for any purpose), as PEM files."""
    root = PkiFiles(stub_data / "pki").load("root")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(root.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30)))
    if client_auth:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(root.key, hashes.SHA256())
    KeyAndCert(key, cert).write(folder, "client")
    return folder / "client.pem", folder / "client.key"


def run_cli(stub_data: Path, *args: str) -> None:
    assert main([*args, "--dir", str(stub_data)]) == 0


def test_a_root_signed_certificate_without_the_client_auth_eku_is_not_a_terminal(stub, tmp_path):
    """The shape of the old municipal signer ("Midori City Certificate Issuance", no
    EKU), which TLS lets through; the center's own check refuses it. (Today's signers
    carry the documentSigning EKU, so TLS refuses them: test_center_edges.)"""
    url, stub_data = stub
    signer_like = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Midori City Certificate Issuance")])
    response = challenge_with(url, stub_data, *root_signed(stub_data, tmp_path, signer_like, client_auth=False))
    assert_refused_as_no_terminal(response, stub_data)


def test_a_root_signed_certificate_without_a_cn_is_refused_not_an_internal_error(stub, tmp_path):
    url, stub_data = stub
    nameless = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Midori City")])
    response = challenge_with(url, stub_data, *root_signed(stub_data, tmp_path, nameless))
    assert_refused_as_no_terminal(response, stub_data)


def test_a_root_signed_terminal_certificate_never_registered_is_refused(stub, tmp_path):
    url, stub_data = stub
    unlisted = PkiFiles.issue_terminal(PkiFiles(stub_data / "pki").load("root"), "KIOSK-0002")
    unlisted.write(tmp_path, "KIOSK-0002")
    response = challenge_with(url, stub_data, tmp_path / "KIOSK-0002.pem", tmp_path / "KIOSK-0002.key")
    assert_refused_as_no_terminal(response, stub_data)


def test_issue_terminal_lists_only_the_certificate_it_issued_and_revoke_terminal_unlists_it(stub, tmp_path):
    url, stub_data = stub
    run_cli(stub_data, "issue-terminal", "--terminal-id", "KIOSK-0002", "--out", str(tmp_path / "issued"))
    issued = client_for(url, stub_data, *(tmp_path / "issued" / f"KIOSK-0002.{ext}" for ext in ("pem", "key")))
    issued.challenge()
    # The same terminal id on a certificate issue-terminal did not issue: not a terminal.
    PkiFiles.issue_terminal(PkiFiles(stub_data / "pki").load("root"), "KIOSK-0002").write(tmp_path, "stray")
    with pytest.raises(ServiceRefused) as refused:
        client_for(url, stub_data, tmp_path / "stray.pem", tmp_path / "stray.key").challenge()
    assert refused.value.code == "terminal_unknown"
    run_cli(stub_data, "revoke-terminal", "--terminal-id", "KIOSK-0002")
    with pytest.raises(ServiceRefused) as refused:
        issued.challenge()
    assert refused.value.code == "terminal_revoked"
    with closing(sqlite3.connect(stub_data / "registry.sqlite")) as conn:
        assert conn.execute("SELECT terminal_id FROM terminals").fetchall() == [("KIOSK-0001",)]


def test_issue_terminal_refuses_a_terminal_id_revoked_as_a_whole(stub_data, tmp_path, capsys):
    run_cli(stub_data, "revoke-terminal", "--terminal-id", "KIOSK-0009")
    assert main(["issue-terminal", "--terminal-id", "KIOSK-0009", "--out", str(tmp_path / "out"),
                 "--dir", str(stub_data)]) == 1
    assert "KIOSK-0009 was revoked" in capsys.readouterr().err
    assert not (tmp_path / "out" / "KIOSK-0009.key").exists()


def test_only_a_terminals_certificate_can_be_put_on_the_list(stub_data, tmp_path):
    pki = PkiFiles(stub_data / "pki")
    signer = x509.load_pem_x509_certificate(sorted(pki.folder.glob("municipal-signer*.pem"))[0].read_bytes())
    nameless = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Midori City")])
    cert_path, _ = root_signed(stub_data, tmp_path, nameless)
    registry = ServiceConfig(stub_data).registry
    for cert in (signer, x509.load_pem_x509_certificate(cert_path.read_bytes())):
        with pytest.raises(ValueError):
            register_terminal(registry, cert)
    with registry.reading() as conn:
        assert [tuple(row) for row in conn.execute("SELECT terminal_id FROM terminals")] == [("KIOSK-0001",)]
