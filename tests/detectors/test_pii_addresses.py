"""The street address recognizer on its own (no analyzer)."""

from __future__ import annotations

import pytest

from proxy.detectors.pii_addresses import StreetAddressRecognizer


def test_addresses_by_shape_with_their_tail() -> None:
    rec = StreetAddressRecognizer()
    text = "Send it to 12 Baker Street, Springfield, IL 62704 please."
    got = sorted({text[r.start : r.end] for r in rec.analyze(text, ["STREET_ADDRESS"])}, key=len)
    assert got[-1] == "12 Baker Street, Springfield, IL 62704"
    assert rec.analyze("I walked 3 dogs on the street", ["STREET_ADDRESS"]) == []
    assert rec.analyze(text, ["PERSON"]) == []


@pytest.mark.parametrize(
    "text",
    [
        "Please send it to 4749 Thompson Ferry, Katherineview, NL E5A9G4.",
        "My address is 557 Alvarado Skyway, Danielmouth, QC V1X 5P3",
        "Deliver to 12 Smith Brooks, Manningville, CO4 0QJ",
        "Send the replacement to 84/699, Loke, Aizawl 476329.",
        "Our office: Rua Faria, S/N, 7325-915 Aveiro",
        "Ship it to Fabriksgränd 94, 40988 Örnsköldsvik",
        "The invoice goes to Acceso de Rafaela Laguna 26, Ourense.",
        "Can you update it to USNV Richardson, FPO AA 46413",
        "I live at 65, Mukherjee Marg, Dehri 709301.",
    ],
)
def test_more_address_formats(text: str) -> None:
    spans = StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"])
    assert spans, text
