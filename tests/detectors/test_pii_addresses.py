"""The street address recognizer on its own (no analyzer)."""

from __future__ import annotations

from proxy.detectors.pii_addresses import StreetAddressRecognizer


def test_addresses_by_shape_with_their_tail() -> None:
    rec = StreetAddressRecognizer()
    text = "Send it to 12 Baker Street, Springfield, IL 62704 please."
    got = sorted({text[r.start : r.end] for r in rec.analyze(text, ["STREET_ADDRESS"])}, key=len)
    assert got[-1] == "12 Baker Street, Springfield, IL 62704"
    assert rec.analyze("I walked 3 dogs on the street", ["STREET_ADDRESS"]) == []
    assert rec.analyze(text, ["PERSON"]) == []
