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


def spans(text: str) -> list[str]:
    """The address spans as the engine would merge them (longest first, overlaps dropped)."""
    got = sorted(((r.start, r.end) for r in StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"])), key=lambda s: (s[0], -s[1]))
    merged: list[tuple[int, int]] = []
    for s, e in got:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return [text[s:e] for s, e in merged]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # units before the street, unit and floor after it, postcodes of each country (invented addresses)
        ("Send it to Flat 3, 27 Orwell Gardens, Kettering NN16 8QA please", "Flat 3, 27 Orwell Gardens, Kettering NN16 8QA"),
        ("Deliver to Unit 5, 14 Quarry Pde, Toowong QLD 4066.", "Unit 5, 14 Quarry Pde, Toowong QLD 4066"),
        ("We are at 8/21 Lister Cct, Belconnen ACT 2617 now", "8/21 Lister Cct, Belconnen ACT 2617"),
        ("Apartment 12, 4 Ashgrove Lawn, Co. Meath, A82 W2C4 is my address", "Apartment 12, 4 Ashgrove Lawn, Co. Meath, A82 W2C4"),
        ("It goes to Kastanienweg 7b, 3. OG, 80331 München.", "Kastanienweg 7b, 3. OG, 80331 München"),
        ("Post it to Am Brunnen 14, 50667 Köln", "Am Brunnen 14, 50667 Köln"),
        ("Mon adresse : 12 bis, rue des Tanneurs, 67000 Strasbourg", "12 bis, rue des Tanneurs, 67000 Strasbourg"),
        ("Envíelo a C/ Alcalá, 45, 3º B, 28014 Madrid, gracias", "C/ Alcalá, 45, 3º B, 28014 Madrid"),
        ("Indirizzo: P.zza Cavour 3/A, int. 7, 10123 Torino (TO)", "P.zza Cavour 3/A, int. 7, 10123 Torino (TO)"),
        ("Stuur het naar Prinsengracht 263-III, 1016 GV Amsterdam", "Prinsengracht 263-III, 1016 GV Amsterdam"),
        ("Adres: ul. Długa 14/3, 80-827 Gdańsk", "ul. Długa 14/3, 80-827 Gdańsk"),
        ("Morada: Rua do Carmo, nº 24, 2º Esq., 1200-093 Lisboa", "Rua do Carmo, nº 24, 2º Esq., 1200-093 Lisboa"),
        ("Box 1142, 111 81 Stockholm", "Box 1142, 111 81 Stockholm"),
        ("Flat No. 302, Lakeview Residency, 12th Main, Indiranagar, Bengaluru - 560038", "Flat No. 302, Lakeview Residency, 12th Main, Indiranagar, Bengaluru - 560038"),
        ("#45, 2nd Cross, Jayanagar, Bengaluru 560011", "#45, 2nd Cross, Jayanagar, Bengaluru 560011"),
        ("Adresse: Postfach 10 12 34, 10115 Berlin", "Postfach 10 12 34, 10115 Berlin"),
        ("Correspondence: Apartado de Correos 112, 46080 Valencia", "Apartado de Correos 112, 46080 Valencia"),
        ("pls send to 14 mill rd, leeds ls1 4ap.", "14 mill rd, leeds ls1 4ap"),
    ],
)
def test_addresses_of_many_countries_with_units_and_postcodes(text: str, address: str) -> None:
    assert address in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "Rue de Rivoli gets packed on Saturdays.",
        "We walked from Piazza Navona to the Pantheon.",
        "The 3 best views in the city are from the cathedral roof.",
        "We finished Level 3 in 40 minutes and Studio 54 was the next stage.",
        "The answer is in Gate 22 of the guide, not in Unit 4 of the course.",
        "CS 101, Intro to Programming, starts in May.",
        "a flat 5 pound fee is charged",
        "issue #12, see the changelog",
    ],
)
def test_no_address_in_look_alikes(text: str) -> None:
    assert spans(text) == []


def test_a_street_word_without_number_counts_after_an_address_cue() -> None:
    assert spans("She lives on Rue de Rivoli, 75001 Paris.") == ["Rue de Rivoli, 75001 Paris"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("The cabin is at Fjellveien 12, 5019 Bergen if you want to post it", "Fjellveien 12, 5019 Bergen"),
        ("send the forms to Kerkstraatje 8, 4331 AB Middelburg, thanks", "Kerkstraatje 8, 4331 AB Middelburg"),
        ("her place is 7 impasse des Lilas, 13090 Aix-en-Provence now", "7 impasse des Lilas, 13090 Aix-en-Provence"),
        ("new flat: dorfgasse 3, 8001 zürich", "dorfgasse 3, 8001 zürich"),
        ("post it to Avda. del Puerto 22, 2º izq., 46023 Valencia", "Avda. del Puerto 22, 2º izq., 46023 Valencia"),  # a postcode past words no segment knows
    ],
)
def test_a_street_no_vocabulary_knows_is_held_by_its_postcode_and_town(text: str, address: str) -> None:
    found = [text[r.start : r.end] for r in StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"])]
    assert any(address in f for f in found), found


@pytest.mark.parametrize(
    "text",
    ["Windows 10, 2004 Update broke my printer driver", "Chapter 3, 1984 Edition is the one to read", "We sold Lot 12, 4500 Units in total"],
)
def test_numbers_and_years_are_not_held_addresses(text: str) -> None:
    assert StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"]) == []
