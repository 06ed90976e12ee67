"""Addresses in the conventions of other scripts, each with its house number, and what they are not."""

from __future__ import annotations

import pytest

from proxy.detectors.pii import DEFAULT_ENTITIES
from proxy.detectors.pii_addresses_scripts import script_address_spans
from proxy.detectors.pii_engine import AnalyzerHandle


def addresses(text: str) -> list[str]:
    return [text[s:e] for s, e in script_address_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请把包裹寄到北京市朝阳区建国路88号2栋1501室，谢谢", "北京市朝阳区建国路88号2栋1501室"),
        ("我住在广州市天河区体育西路123号。", "广州市天河区体育西路123号"),
        ("新地址：台中市西屯區台灣大道三段99號5樓", "台中市西屯區台灣大道三段99號5樓"),
        ("お届け先：横浜市中区山下町12-5です", "横浜市中区山下町12-5"),
        ("서울특별시 강남구 테헤란로 152, 101동 1203호로 보내주세요", "서울특별시 강남구 테헤란로 152, 101동 1203호"),
        ("أسكن في ١٥ شارع النيل", "١٥ شارع النيل"),
        ("نشانی: اصفهان، خیابان چهارباغ، کوچه گلستان، پلاک ۷، واحد ۲", "خیابان چهارباغ، کوچه گلستان، پلاک ۷، واحد ۲"),
        ("כתובת: רחוב הרצל 15 דירה 3, חיפה 3303125", "רחוב הרצל 15 דירה 3, חיפה 3303125"),
        ("Доставка: ул. Тверская 12, кв. 45, Москва, 125009", "ул. Тверская 12, кв. 45, Москва, 125009"),
        ("Μένω στην Οδός Ερμού 25 στην Αθήνα", "Οδός Ερμού 25"),
        ("მისამართი: თბილისი, რუსთაველის გამზირი 12, ბინა 3", "რუსთაველის გამზირი 12, ბინა 3"),
        ("ที่อยู่: 45/7 ซอยลาดพร้าว 15 แขวงจอมพล เขตจตุจักร กรุงเทพฯ 10900", "45/7 ซอยลาดพร้าว 15 แขวงจอมพล เขตจตุจักร กรุงเทพฯ 10900"),
        ("ঠিকানা: বাড়ি ১৮, রোড ৫, গুলশান, ঢাকা ১২১২", "বাড়ি ১৮, রোড ৫, গুলশান, ঢাকা ১২১২"),
        ("Envíelo a la Calle 72 # 10 - 34, apto 501", "Calle 72 # 10 - 34"),
    ],
)
def test_an_address_in_its_own_conventions_is_found(text: str, expected: str) -> None:
    assert addresses(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "第3号选手上场了",  # a number without a road
        "3번 출구로 10분 걸어요",  # an exit and ten minutes, not a road-name address
        "Москва — столица России",
        "Hello, my order #12345 has not arrived",
        "京都の大学で3年間勉強しました",  # kana, but no block numbers after a ward or town
    ],
)
def test_numbers_and_places_without_an_address_shape_are_not_addresses(text: str) -> None:
    assert addresses(text) == []


def test_through_the_engine_with_an_address_label_in_another_script(ner_handle: AnalyzerHandle) -> None:
    text = "收件人：周婷\n地址：上海市徐汇区漕溪北路88号5栋1203室\n备注：放门口即可"
    found = [(r.entity_type, text[r.start : r.end]) for r in ner_handle.analyze(text, DEFAULT_ENTITIES)]
    assert found == [("PERSON", "周婷"), ("STREET_ADDRESS", "上海市徐汇区漕溪北路88号5栋1203室")]
