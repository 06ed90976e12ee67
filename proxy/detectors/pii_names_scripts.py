"""``PERSON`` in scripts the English NER cannot read: names by the honorific or title beside them.

spaCy's small English model finds no name written in Chinese, Japanese, Korean, Arabic, Persian,
Hebrew, Greek or Cyrillic. A name there is recognised the way people mark it:

* **Japanese**: a run of kanji (and kana) before ``さん``, ``様``, ``ちゃん``, ``くん``, ``氏``, ``先生``
  (``田中様``, ``高橋ゆいちゃん``), unless the run is a role (``お客様``, ``担当者様``, ``皆様``);
* **Chinese**: a common surname and one or two characters before ``先生``, ``小姐``, ``女士``,
  ``老师`` ... (``林小姐``), or after ``叫`` / ``名叫`` (``我外婆叫李秀英``);
* **Korean**: two to four syllables starting with a common surname before ``님``, ``씨``, a job title
  or the sign-off ``드림`` (``이정훈 팀장님께``, ``한서연 드림``), unless they are a role (``고객님``);
* **Arabic, Persian, Hebrew**: one to three words after a title (``الأستاذة``, ``السيد``, ``يا أستاذ``,
  ``خانم``, ``آقای``, ``מר``, ``גב'``), up to a function word;
* **Greek and Cyrillic**: capitalised words after a title (``κύριε``, ``пан``, ``господин``), and a
  capitalised pair whose second word has a surname's ending (``Ελένη Μαυρίδου``, ``Ганна Коваленко``,
  ``Мария Лебедева``).

Form labels in these languages (``姓名：``, ``الاسم:``, ``שם:``) are read by
:mod:`proxy.detectors.pii_fields_text`. A text with no character of these scripts costs one search.
The word lists are written for Bedside from general knowledge of each language (Apache-2.0).
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_names_address_forms import address_form_spans, words_until_stop
from proxy.detectors.pii_recognizer_base import BEYOND_LATIN, KANA, BedsideRecognizer

__all__ = ["ScriptNameRecognizer", "script_name_spans"]

_SCORE = 0.7
_SCRIPTS = re.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Arabic}\p{Hebrew}\p{Greek}\p{Cyrillic}\p{Devanagari}\p{Tamil}\p{Bengali}\p{Georgian}\p{Armenian}]")

_JA_ROLES = frozenset(
    """客 お客 皆 皆々 奥 神 王 仏 患者 担当者 担当 社長 部長 課長 係長 店長 医者 先輩 後輩 相手 利用者 会員 家族 子供 子 娘 息子 兄 姉
    弟 妹 母 父 祖母 祖父 彼 彼女 貴方 管理人 大家 業者 運転手 学生 生徒 友達 上司 同僚 隣 近所 殿 王子 姫 女王 皆さん 方 人 様 主人
    旦那 奥様 先方 御社 貴社 弊社 当社 各位 関係者 保護者 生徒さん 利用者様 応募者 購入者 注文者 申込者 契約者 受取人 担当者様 医師 看護師""".split()
)
#: the last character of a role or trade (運転士, 運転手, 看護師, 会社員, 社長, 警察官, 八百屋)
_JA_ROLE_ENDINGS = ("者", "員", "長", "士", "手", "師", "官", "屋", "方", "主", "様")
_JA = re.compile(
    r"(?<![\p{Han}\p{Katakana}])(?P<n>\p{Han}{1,4}(?:[ 　]?[\p{Han}\p{Hiragana}\p{Katakana}]{1,4}?)?)"
    r"[ 　]?(?:さん|様|さま|ちゃん|くん|君|氏|殿|先生)"
)
_ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "張劉陳楊黃趙吳許韓馮鄧蕭葉蘇呂盧鍾譚陸範賈韋鄒閆龔萬錢嚴湯莊賴簡詹翁顏柯"
)
_ZH_COMPOUND = "欧阳|司马|诸葛|上官|东方|欧陽|司馬|諸葛|東方"
_ZH_TITLES = "先生|小姐|女士|老师|老師|同学|同學|医生|醫生|经理|經理|阿姨|叔叔|太太|师傅|師傅"
_ZH = re.compile(
    rf"(?:(?<!\p{{Han}})(?P<a>(?:{_ZH_COMPOUND}|[{_ZH_SURNAMES}])\p{{Han}}{{0,2}}?)(?:{_ZH_TITLES})"
    rf"|(?:叫|名叫|名字是|名字叫)(?P<b>(?:{_ZH_COMPOUND}|[{_ZH_SURNAMES}])\p{{Han}}{{1,2}}?)(?=[的，。、,.!！?？\s]|$|说|說|是|在|和|跟))"
)
_KO_SURNAMES = "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민나진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
_KO_ROLES = frozenset("고객 선생 사장 부장 과장 팀장 대리 여러분 손님 환자 담당자 기사 교수 원장 회원 학생 부모 어머 아버 형님 누님 언니 오빠 선배 후배 이사 차장 주임 사원 고객센터".split())
_KO = re.compile(
    rf"(?<!\p{{Hangul}})(?P<n>[{_KO_SURNAMES}]\p{{Hangul}}{{1,3}}?)[ ]?"
    r"(?:님|씨|팀장|과장|부장|차장|대리|사원|주임|이사|선생님|교수님|원장님|기사님|드림|올림)"
)
_AR_TITLES = "الأستاذ|الأستاذة|أستاذ|أستاذة|الاستاذ|الاستاذة|استاذ|السيد|السيدة|الدكتور|الدكتورة|المهندس|المهندسة|الشيخ|الحاج|الحاجة|خانم|آقای|آقا|دکتر|مهندس"
_AR_STOP = frozenset("من في على إلى الى عن مع و أو ثم هو هي كان كانت است را از به در که با این آن و یا".split())
_AR = re.compile(rf"(?<!\p{{Arabic}})(?:يا\s+)?(?:{_AR_TITLES})\s+(?P<n>\p{{Arabic}}+(?:\s+\p{{Arabic}}+){{0,2}})")
_HE = re.compile(r"(?<!\p{Hebrew})(?:מר|גב'|גברת|ד\"ר|עו\"ד|הגב')\s+(?P<n>\p{Hebrew}+(?:\s+\p{Hebrew}+)?)")
_HE_STOP = frozenset("של את עם על אל מן כי גם אבל או ו".split())
_TITLED = re.compile(
    r"(?<![\p{L}])(?:κύριε|κυρία|κύριος|κύριο|κα|κ\.|пан|пані|пане|господин|госпожа|господину|г-н|г-жа|товарищ)\s+"
    r"(?P<n>[\p{Lu}][\p{Ll}]+(?:\s+[\p{Lu}][\p{Ll}]+)?)",
    re.IGNORECASE,
)
#: endings of surnames and patronymics (not the adjective endings -ский/-ская, which name places
#: and institutions as often: Русский музей, Кировская область)
_SURNAME_ENDINGS = (
    "ов|ова|ев|ева|ёв|ёва|ин|ина|ын|ына|енко|чук|юк|ук|вич|вна|ян|дзе|швили|"
    "ου|ίδης|ιδης|ίδου|ιδου|άκης|ακης|άκη|όπουλος|οπούλου|ίου|άτος|ιάδης"
)
_PAIR = re.compile(
    rf"(?<![\p{{L}}])(?P<n>[\p{{Lu}}][\p{{Ll}}]+\s+[\p{{Lu}}][\p{{Ll}}]*(?:{_SURNAME_ENDINGS})"
    rf"|[\p{{Lu}}][\p{{Ll}}]*(?:{_SURNAME_ENDINGS})\s+[\p{{Lu}}][\p{{Ll}}]+)(?![\p{{L}}])"
)
_GREEK_OR_CYRILLIC = re.compile(r"[\p{Greek}\p{Cyrillic}]")
#: words of places and institutions named after people (Улица Пушкина, Οδός Αντωνίου): no name pair
_PLACE_WORDS = frozenset(
    """улица ул проспект пр площадь переулок бульвар шоссе набережная станция метро университет институт школа музей театр
    больница библиотека парк вулиця вул проспект площа провулок бульвар станція університет школа музей театр лікарня
    οδός οδος λεωφόρος λεωφορος πλατεία πλατεια σταθμός σταθμος πανεπιστήμιο σχολείο μουσείο νοσοκομείο""".split()
)


def script_name_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the names in ``text`` that the module's docstring describes."""
    if not BEYOND_LATIN.search(text) or not _SCRIPTS.search(text):  # the range test first: much cheaper
        return []
    out = address_form_spans(text)
    if KANA.search(text):  # Japanese (Chinese uses 先生 too, after words that are no names: 这位先生)
        for m in _JA.finditer(text):
            if m.group("n") not in _JA_ROLES and not m.group("n").endswith(_JA_ROLE_ENDINGS):
                out.append(m.span("n"))
    for m in _ZH.finditer(text):
        out.append(m.span("a") if m.group("a") else m.span("b"))
    for m in _KO.finditer(text):
        if m.group("n") not in _KO_ROLES:
            out.append(m.span("n"))
    for pattern, stop in ((_AR, _AR_STOP), (_HE, _HE_STOP)):
        for m in pattern.finditer(text):
            name = words_until_stop(m.group("n"), stop)
            if name:
                out.append((m.start("n"), m.start("n") + len(name)))
    for pattern in (_TITLED, _PAIR):
        for m in pattern.finditer(text):
            words = m.group("n").lower().split()
            if _GREEK_OR_CYRILLIC.search(m.group("n")) and not _PLACE_WORDS.intersection(words):
                before = text[max(0, m.start() - 12) : m.start()].lower().split()
                if not (before and before[-1].rstrip(".") in _PLACE_WORDS):
                    out.append(m.span("n"))
    return out


class ScriptNameRecognizer(BedsideRecognizer):
    """``PERSON`` in Chinese, Japanese, Korean, Arabic, Persian, Hebrew, Greek and Cyrillic text."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="BedsideScriptName")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return name spans found by their honorifics, titles and surname endings."""
        if "PERSON" not in entities:
            return []
        return [self._result("PERSON", s, e, _SCORE) for s, e in script_name_spans(text)]
