"""``STREET_ADDRESS`` written in the conventions of other scripts, each shape with its house number.

:mod:`proxy.detectors.pii_addresses` reads addresses in Latin script (street types, units and
postcodes of the countries that write them). These are the shapes of countries writing in other
scripts, from their postal conventions (Apache-2.0, written for Bedside, not from an evaluation set):

* **Chinese** (mainland, Taiwan, Hong Kong): province, city and district segments, a road (``路``,
  ``街``, ``大道``, ``巷``, ``弄``), a section (``一段``) and numbers with their units (``88弄6号1203室``,
  ``219巷8號3樓``); it starts after the word or mark before it (``至``, ``是``, ``：``);
* **Japanese**: a prefecture, city or ward, town and block numbers (``渋谷区道玄坂2丁目18-7``), the
  postcode mark ``〒123-4567``, a building's room (``305号室``);
* **Korean** road-name addresses (``테헤란로 152``, ``세종대로 110길 12``), a district before them and
  a unit after (``101동 1203호``);
* **Arabic and Persian**: a number and ``شارع``/``خیابان`` with its name (``٢٤ شارع شهاب``), or the
  name and its number (``شارع الملك فهد ١٢``); Persian segments up to ``پلاک`` (plate) and ``واحد`` (unit);
* **Hebrew**: ``רחוב`` and a name with its number and flat (``רחוב ביאליק 23 דירה 6``), then a town
  and seven-digit postcode;
* **Cyrillic**: ``ул.``, ``вул.``, ``пр.``, ``бул.`` ... with a name, a number and a flat (``кв. 9``),
  then a town and postcode;
* **Greek**: ``Οδός``/``Λεωφόρος`` and a name with its number;
* **Georgian**: a name, ``ქუჩა``/``გამზირი`` and a number (``ბინა`` flat);
* **Thai**: a house number (``99/14``), ``ซอย``/``ถนน`` ... up to the five-digit postcode;
* **Bengali**: ``বাড়ি`` (house) and ``রোড`` (road) numbers;
* **Colombian** ``Carrera 43A # 18 Sur - 135`` (Latin script, but no street type of the Latin
  vocabulary reads it).

A text with none of these scripts and no ``#`` costs one search.
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_recognizer_base import BEYOND_LATIN, KANA, BedsideRecognizer

__all__ = ["ScriptAddressRecognizer", "script_address_spans"]

_SCORE = 0.7
_D = r"[\d٠-٩۰-۹০-৯]"  # ASCII, Arabic-Indic, Persian and Bengali digits
_TRIGGER = re.compile(r"[\p{Han}\p{Hangul}\p{Arabic}\p{Hebrew}\p{Cyrillic}\p{Greek}\p{Georgian}\p{Thai}\p{Bengali}#〒]")

#: a Chinese road and its numbers (the road's name is taken backwards by ``_zh_start``)
_ZH = (
    r"(?P<zh>(?:路|街|大道|大街|巷|弄|胡同)(?:[一二三四五六七八九十]+段)?"
    r"(?:\d+\s?(?:巷|弄|号|號|栋|棟|幢|座|单元|單元|楼|樓|层|層|室|F))*\d+\s?(?:号|號)"
    r"(?:\d+\s?(?:栋|棟|幢|座|单元|單元|楼|樓|层|層|室|F|号室|號室))*)"
)
_ZH_UNITS = "省市区區县縣镇鎮乡鄉"
#: characters a Chinese address never starts with: marks, and words of sending, living or being
_ZH_STOPS = "至到往寄送住在是于於址的给給：:，,。、「」（）() \n"


def _zh_start(text: str, road: int) -> int:
    """Where the address whose road type stands at ``road`` starts: up to four characters of the
    road's name, then segments of two characters and an administrative unit (北京市, 朝阳区)."""
    i = road
    while i > 0 and road - i < 4 and "\u4e00" <= text[i - 1] <= "\u9fff" and text[i - 1] not in _ZH_STOPS and text[i - 1] not in _ZH_UNITS:
        i -= 1
    while i >= 3 and text[i - 1] in _ZH_UNITS and all("\u4e00" <= c <= "\u9fff" and c not in _ZH_STOPS for c in text[i - 3 : i - 1]):
        i -= 3
    return i


_JA = (
    r"(?P<ja>(?:〒\s?\d{3}[-－]\d{4}\s*)?(?:東京都|北海道|京都府|大阪府|\p{Han}{2,3}県)?\p{Han}{1,6}?(?:市|区|町|村|郡)"
    r"[\p{Han}\p{Katakana}\p{Hiragana}ー]{0,12}?\d+(?:丁目|番地?|号)?(?:[\-ー－‐]\d+){0,3}(?:号)?"
    r"(?:\s*[\p{Katakana}\p{Han}ー\p{Latin}]{1,20}\d+号室)?|〒\s?\d{3}[-－]\d{4})"
)
_KO = (
    r"(?P<ko>(?:\p{Hangul}+(?:시|도)\s)?(?:\p{Hangul}+(?:구|군|시)\s)?\p{Hangul}{1,10}(?:로|길)\s?\d+(?:번?길\s?\d+)?"
    r"(?!\d)(?![분시개명원일월년째층초번])(?:,?\s?\d+동)?(?:\s?\d+호)?)"
)
_AR = (
    rf"(?P<ar>{_D}+\s+(?:شارع|خیابان|طريق)\s+\p{{Arabic}}+(?:\s+\p{{Arabic}}+)?"
    rf"|(?:شارع|طريق)\s+\p{{Arabic}}+(?:\s+\p{{Arabic}}+){{0,2}}\s*[،,]?\s*(?:رقم\s*)?{_D}+"
    rf"|(?:خیابان|کوچه|بلوار|میدان)\s+[\p{{Arabic}}\s\u200c]{{1,30}}?(?:[،,]\s*(?:خیابان|کوچه|بلوار)\s+[\p{{Arabic}}\s\u200c]{{1,30}}?)*[،,]?\s*پلاک\s*{_D}+"
    rf"(?:\s*[،,]?\s*واحد\s*{_D}+)?)"
)
_HE = r"(?P<he>רחוב\s+\p{Hebrew}+(?:\s+\p{Hebrew}+)?\s+\d+(?:\s*,?\s*דירה\s+\d+)?(?:\s*,\s*\p{Hebrew}+(?:\s+\p{Hebrew}+)?(?:\s+\d{7})?)?)"
_CYR = (
    r"(?P<cy>(?<![\p{L}])(?:ул|вул|пр|просп|пер|бул|пл|ш|наб)\.\s*[„\"«]?\p{Lu}[\p{L}\-]+(?:\s+[\p{L}\-]+){0,2}[“\"»]?,?\s*(?:д\.\s*)?"
    r"\d+[а-яА-Я]?(?:\s*,?\s*(?:кв|к|корп|офис)\.\s*\d+)*(?:,\s*\p{Lu}\p{Ll}+)?(?:,\s*\d{5,6})?)"
)
_EL = r"(?P<el>(?<![\p{L}])(?:Οδός|οδός|Οδ\.|Λεωφόρος|Λεωφ\.|Πλατεία)\s+\p{Greek}+(?:\s+\p{Greek}+)?\s+\d+[Α-Ωα-ω]?)"
_KA = r"(?P<ka>\p{Georgian}+\s+(?:ქუჩა|გამზირი|ქ\.)\s*\d+(?:\s*,\s*ბინა\s*\d+)?)"
_TH = r"(?P<th>\d+(?:/\d+)?\s+(?:หมู่\s*\d+\s+)?(?:ซอย|ซ\.|ถนน|ถ\.)[^\n\"]{1,80}?\d{5})(?!\d)"
_BN = rf"(?P<bn>(?:বাড়ি|বাসা)\s*(?:নং)?\s*{_D}+\s*,\s*(?:রোড|সড়ক)\s*(?:নং)?\s*{_D}+(?:\s*,\s*\p{{Bengali}}+)*(?:\s*{_D}{{4}})?)"
_CO = (
    r"(?P<co>(?<![\p{L}])(?:Calle|Carrera|Cra\.?|Kra\.?|Cl\.?|Avenida|Av\.?|Diagonal|Dg\.?|Transversal|Tv\.?)\s+\d+[A-Z]?"
    r"(?:\s+(?:Bis|Sur|Norte|Este))?\s*(?:#|No\.?|N°)\s*\d+[A-Z]?(?:\s+(?:Sur|Norte|Este))?\s*-\s*\d+)"
)

_OTHERS = (_ZH, _KO, _AR, _HE, _CYR, _EL, _KA, _TH, _BN, _CO)
_SHAPES = re.compile("|".join(_OTHERS))
#: Japanese shapes only in a text with kana: in Chinese the same characters run on (寄到北京市 ...)
_SHAPES_JAPANESE = re.compile("|".join((_JA, *_OTHERS)))
_CO_RE = re.compile(_CO)


def script_address_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the addresses in ``text`` that the module's docstring describes."""
    if not BEYOND_LATIN.search(text):  # a range test: much cheaper than the scripts' classes
        return [m.span("co") for m in _CO_RE.finditer(text)] if "#" in text or "N" in text else []
    if not _TRIGGER.search(text):
        return []
    shapes = _SHAPES_JAPANESE if KANA.search(text) else _SHAPES
    out = []
    for m in shapes.finditer(text):
        if m.lastgroup == "zh":
            start = _zh_start(text, m.start())
            if start < m.start():  # a road needs its name
                out.append((start, m.end()))
        elif m.lastgroup:
            out.append(m.span(m.lastgroup))
    return out


class ScriptAddressRecognizer(BedsideRecognizer):
    """``STREET_ADDRESS`` in Chinese, Japanese, Korean, Arabic, Persian, Hebrew, Cyrillic, Greek,
    Georgian, Thai and Bengali conventions, and Colombia's ``Carrera ... # ... - ...``."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], name="BedsideScriptAddress")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return address spans in the shapes of the module's docstring."""
        if "STREET_ADDRESS" not in entities:
            return []
        return [self._result("STREET_ADDRESS", s, e, _SCORE) for s, e in script_address_spans(text)]
