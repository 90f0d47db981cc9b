"""Certificates come off the card in the fewest READ BINARY commands short APDUs allow,
and whatever a corrupt card holds in the EF ends in a typed error, never a crash."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.card.cardfile import CardFile
from devices.card.errors import CardError
from devices.card.jpki_client import JpkiClient
from devices.card.virtual_card import VirtualCard
from municipal.cli import card_path
from tests.card_helpers import ScriptedTransport
from tests.fixtures.cards import new_card_file

READ_BINARY = "00B0"


def test_each_certificate_takes_ceil_length_over_256_reads(card_slot, stub_data):
    path = card_path(stub_data, "R0001")
    file = CardFile.load(path)
    slot = card_slot(VirtualCard(path))
    client = JpkiClient(slot.transport)
    client.open()
    for read, expected in ((client.read_auth_certificate, file.auth_certificate_der),
                           (client.read_auth_ca_certificate, file.auth_ca_certificate_der)):
        slot.transport.trace.clear()
        assert read() == expected
        reads = [cmd for cmd, _ in slot.transport.trace if cmd.replace(" ", "").upper().startswith(READ_BINARY)]
        assert len(reads) == math.ceil(len(expected) / 256)


class _FileCard(ScriptedTransport):
    """Answers SELECT and READ BINARY from one blob, as a card with a corrupt EF would."""

    def __init__(self, blob: bytes):
        super().__init__()
        self.blob = blob

    def _exchange(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return b"\x90\x00"
        offset, le = (apdu[2] << 8) | apdu[3], apdu[4] or 256
        if offset >= len(self.blob):
            return b"\x6b\x00"
        return self.blob[offset:offset + le] + b"\x90\x00"


def _mutations():
    real = CardFile.load(_template_card()).auth_certificate_der
    flips = st.lists(st.tuples(st.integers(0, len(real) - 1), st.integers(0, 255)), min_size=1, max_size=8)
    return st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=1500).map(lambda b: b"\x30\x82" + len(b).to_bytes(2, "big") + b),
        flips.map(lambda changes: _apply(real, changes)),
        st.integers(0, len(real)).map(lambda n: real[:n]),
    )


def _apply(data: bytes, changes) -> bytes:
    out = bytearray(data)
    for index, value in changes:
        out[index] = value
    return bytes(out)


_TEMPLATE: list[Path] = []


def _template_card() -> Path:
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="cert-fuzz-"))
        new_card_file(folder / "card.card")
        _TEMPLATE.append(folder / "card.card")
    return _TEMPLATE[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blob=_mutations())
def test_a_corrupt_certificate_is_a_typed_error_or_a_parseable_certificate(blob):
    client = JpkiClient(_FileCard(blob))
    try:
        der = client.read_auth_certificate()
    except CardError:
        return
    x509.load_der_x509_certificate(der)  # whatever is returned must parse
