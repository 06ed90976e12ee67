"""Names in scripts the English NER cannot read, by their honorifics, titles and surname endings,
and the roles, places and institutions that look like them."""

from __future__ import annotations

import pytest

from proxy.detectors.pii import DEFAULT_ENTITIES
from proxy.detectors.pii_engine import AnalyzerHandle
from proxy.detectors.pii_names_scripts import script_name_spans


def names(text: str) -> list[str]:
    return sorted(text[s:e] for s, e in script_name_spans(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("会議の後、山本さんに資料を渡してください。", ["山本"]),
        ("ありがとうございます、中村様。", ["中村"]),
        ("客服：好的，王小姐，您的订单已经发出。", ["王"]),
        ("我的邻居叫陈建华，他是医生。", ["陈建华"]),
        ("박서준 과장님께 전달 부탁드립니다.", ["박서준"]),
        ("감사합니다.\n김하늘 드림", ["김하늘"]),
        ("شكرا جزيلا يا أستاذ سامي على المساعدة", ["سامي"]),
        ("تحدثت مع السيدة ليلى حسن من في الصباح", ["ليلى حسن"]),
        ("جلسه با آقای رضا کریمی در دفتر بود", ["رضا کریمی"]),
        ("דיברתי עם מר אבי לוי של המחלקה", ["אבי לוי"]),
        ("Αγαπητή κυρία Παπαδοπούλου, σας ευχαριστούμε", ["Παπαδοπούλου"]),
        ("Вчера звонила Ольга Смирнова из бухгалтерии", ["Ольга Смирнова"]),
        ("Передайте Тетяна Шевченко документи", ["Тетяна Шевченко"]),
    ],
)
def test_a_name_marked_as_people_mark_it_is_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "お客様各位、いつもご利用ありがとうございます。",  # customers, all
        "ご担当者様\nお世話になっております。",  # the person in charge
        "運転士さんが手を振ってくれた。",  # a trade: the driver
        "这位先生请稍等一下。",  # this gentleman
        "고객님, 주문이 접수되었습니다.",  # dear customer
        "Русский музей открыт до шести",  # an institution
        "Кировская область, улица Пушкина",  # a region and a street named after a person
        "Οδός Γιώργου Παπανδρέου 12",  # a street named after a person
        "Hello, my order has not arrived yet.",  # no such script: nothing is searched
    ],
)
def test_roles_places_and_institutions_are_not_names(text: str) -> None:
    assert names(text) == []


def test_through_the_engine_with_form_labels_in_other_scripts(ner_handle: AnalyzerHandle) -> None:
    text = "姓名：刘建国\n电话：见附件\n备注：李先生会来取件"
    found = [(r.entity_type, text[r.start : r.end]) for r in ner_handle.analyze(text, DEFAULT_ENTITIES)]
    assert ("PERSON", "刘建国") in found and ("PERSON", "李") in found
