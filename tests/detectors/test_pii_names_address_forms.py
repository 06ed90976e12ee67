"""Names by the forms of address people use around them in scripts without capitals (honorifics,
kinship words, vocatives, greetings), and the same forms with no name."""

from __future__ import annotations

import pytest

from proxy.detectors.pii_names_address_forms import address_form_spans
from proxy.detectors.pii_names_scripts import script_name_spans


def names(text: str) -> list[str]:
    return sorted(text[s:e] for s, e in address_form_spans(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("अमित भैया, कल शाम को घर आ जाना", ["अमित"]),
        ("श्री रमेश चंद्र गुप्ता जी को सूचित किया जाता है", ["गुप्ता", "रमेश चंद्र गुप्ता"]),
        ("احمد بھائی، کل آ رہے ہیں؟", ["احمد"]),
        ("سلام سارا جان، فردا میای؟", ["سارا"]),
        ("يا سمير، وين صرت؟", ["سمير"]),
        ("היי שירה, מה נשמע?", ["שירה"]),
        ("ரமேஷ் அண்ணா நாளைக்கு வருவாரா?", ["ரமேஷ்"]),
        ("রাহুল দা আজ আসবে?", ["রাহুল"]),
        ("지훈아 내일 뭐해?", ["지훈"]),
        ("ნინო ბერიძეს გადაეცი, რომ ხვალ შევხვდებით", ["ნინო ბერიძე"]),
        ("ბატონო დავით, გმადლობთ", ["დავით"]),
        ("Արամ Պետրոսյան այսօր չի գա", ["Արամ Պետրոսյան"]),
        ("Պարոն Սարգսյան, շնորհակալություն", ["Սարգսյան"]),
    ],
)
def test_a_name_marked_by_a_form_of_address_is_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "नमस्ते सर, मेरा ऑर्डर कब आएगा?",
        "हाँ जी, ठीक है",
        "डॉक्टर साहब कल नहीं आएंगे",
        "مامان جان سلام",
        "يا جماعة الخير، الاجتماع بكرة",
        "هو صاحب المحل",
        "היי כולם, תזכורת לפגישה",
        "שלום רב, מצורף הסיכום",
        "வணக்கம் சார், என் ஆர்டர் எங்கே?",
        "괜찮아 걱정 마",
        "얘들아 밥 먹자",
        "საქართველოს ისტორია საინტერესოა",
        "Երևանի պետական համալսարան",
    ],
)
def test_the_same_forms_without_a_name_find_none(text: str) -> None:
    assert names(text) == []


def test_a_japanese_name_with_a_space_before_its_honorific() -> None:
    text = "総務部　鈴木 恵美 様\n\nいつもお世話になっております。"
    assert [text[s:e] for s, e in script_name_spans(text)] == ["鈴木 恵美"]
