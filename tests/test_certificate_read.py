"""Certificates come off the card in the fewest READ BINARY commands short APDUs allow."""
from __future__ import annotations

import math

from devices.card.cardfile import CardFile
from devices.card.jpki_client import JpkiClient
from devices.card.virtual_card import VirtualCard
from municipal.cli import card_path

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
