"""``PERSON`` by the forms of address people use around a name, in scripts without capitals.

Beside titles (:mod:`proxy.detectors.pii_names_scripts`), people mark a name by how they speak to
or of someone: an honorific or a kinship word after it, a vocative, a greeting before it. Each form
here takes the one or few words it marks, never a word that is itself a role or a kin term:

* **Hindi, Marathi, Nepali** (Devanagari): a word before ``जी``, ``भैया``, ``भाई``, ``दीदी``, ``बहन``,
  ``साहब``, ``दादा``, ``ताई``, ``काका``, ``मैडम``, ``सर`` (``अमित भैया``), and one to three words after
  ``श्री``, ``श्रीमती``, ``सुश्री``, ``श्रीमान``, ``कुमारी``, ``डॉ.`` up to ``जी`` or a function word;
* **Urdu** (in a text with a letter only Urdu writes: ``ٹ``, ``ڈ``, ``ں``, ``ے`` ...): a word before
  ``بھائی``, ``باجی``, ``صاحب``, ``صاحبہ``, ``بیگم``, ``آپا``, and one to three after ``جناب``, ``محترم``,
  ``محترمہ``;
* **Persian**: a word before ``جان`` (``مریم جان``), not a kin word (``مامان جان``);
* **Arabic**: the word after the vocative ``يا`` (``يا سمير``), not a word people call out with
  (``يا جماعة``, ``يا رب``, ``يا حبيبي``);
* **Hebrew**: the word after ``היי``/``שלום``/``אהלן`` when a comma or ``!`` follows it (``היי שירה,``),
  not ``כולם``;
* **Tamil**: a word before ``சார்``, ``அண்ணா``, ``அக்கா``, ``மேடம்``;
* **Bengali**: a word before ``দা``, ``দি``, ``ভাই``, ``আপা``, ``বাবু``, ``সাহেব``;
* **Korean**: a given name in the vocative at the start of a line (``지훈아``, ``수진아,``): two
  syllables and ``아``/``야``, not a word that ends so (``아니야``, ``진짜야``, ``자기야``);
* **Georgian**: a given name and a surname with a Georgian surname's ending (``-ძე``, ``-შვილი``,
  ``-ავა``, ``-უა``; a case ending after it is left out: ``ნინო ბერიძეს``), and
  the word after ``ბატონო``/``ქალბატონო`` and their other forms;
* **Armenian**: a capitalised pair whose second word has an Armenian surname's ending (``-յան``,
  ``-յանց``, ``-ունի``), and the capitalised word after ``պարոն``/``տիկին``;
* **Japanese**: a surname and given name with a space before ``様``/``さん`` (``鈴木 恵美 様``) is
  :mod:`proxy.detectors.pii_names_scripts`' rule with the space allowed.

The word lists are written for Bedside from general knowledge of each language (Apache-2.0). A
text with none of these scripts costs one search.
"""

from __future__ import annotations

import regex as re

__all__ = ["address_form_spans", "words_until_stop"]

_SCRIPTS = re.compile(r"[\p{Devanagari}\p{Arabic}\p{Hebrew}\p{Tamil}\p{Bengali}\p{Hangul}\p{Georgian}\p{Armenian}]")
_END = r"(?=[\s,.!?،؟।:;)\"'”]|$)"

#: words that are roles or kin terms themselves, before an honorific (``मास्टर जी``, ``डॉक्टर साहब``)
_DEVANAGARI_ROLES = frozenset(
    """मास्टर डॉक्टर पंडित गुरु माता पिता बाबा मम्मी पापा माँ मां दादी नानी नाना चाचा चाची मामा मामी भैया भाई दीदी बहन
    साहब सर मैडम मास्टरजी मंत्री नेता अध्यक्ष सचिव प्रधान मुखिया सेठ बाबू ठाकुर महाराज स्वामी आप तुम हम वो यह वह जो
    और या भी तो ही से को का की के में पर ने है हैं था थी जी श्री नमस्ते नमस्कार प्रणाम शुक्रिया धन्यवाद हाँ हां नहीं ठीक
    अच्छा हेलो हैलो सुनिए सुनो अरे""".split()
)
_DEVANAGARI_AFTER = r"जी|जी\.|भैया|भाई|दीदी|बहन|साहब|साहेब|दादा|ताई|काका|मैडम|सर"
_DEVANAGARI_BEFORE = r"श्री|श्रीमती|सुश्री|श्रीमान|श्रीमान्|कुमारी|डॉ\.|डॉ|डा\."
_URDU_ROLES = frozenset(
    """ڈاکٹر استاد ماسٹر امی ابو ابا اماں بھائی باجی آپا خالہ خالو چچا چچی ماموں ممانی پھوپھو نانا نانی دادا دادی
    صاحب بیگم جناب محترم محترمہ آپ تم ہم وہ یہ اور یا بھی تو ہی سے کو کا کی کے میں پر نے ہے ہیں تھا تھی شکریہ جی ہاں
    نہیں ٹھیک اچھا السلام""".split()
)
_URDU_AFTER = r"بھائی|باجی|صاحب|صاحبہ|بیگم|آپا"
_URDU_BEFORE = r"جناب|محترم|محترمہ"
#: letters Urdu writes and Arabic and Persian do not: the Urdu forms are read only in a text with one
_URDU_LETTERS = re.compile(r"[ٹڈڑںےھ]")
_PERSIAN_KIN = frozenset(
    """مامان بابا خاله عمه عمو دایی داداش آبجی خواهر برادر مادر پدر مادربزرگ پدربزرگ عزیز عزیزم دل دلم جون جان همه
    بچه بچه‌ها رفیق دوست استاد دکتر آقا خانم""".split()
)
_ARABIC_CALLS = frozenset(
    """رب الله ربي جماعة شباب بنات ولاد اولاد أولاد حبيبي حبيبتي حبيبتى أخي اخي أختي اختي أخويا اخويا صديقي صاحبي
    عمي عمو خالي خالتي عمتي ماما بابا أمي امي أبي ابي يما يبه ريت ليت سلام ويلي حسرة عيني قلبي غالي غالية حلو حلوة
    ناس إخوان اخوان اخواني إخواني رجال استاذ أستاذ أستاذة استاذة دكتور دكتورة باشا معلم حج حاج حاجة شيخ سيدي سيدتي
    بني ابني بنتي ولدي جدي جدتي ستي سيدي عم خال أخ اخ أخت اخت الله بيه هانم مدام""".split()
)
_HEBREW_NOT = frozenset("רב רבה יקר יקרה יקרים כולם חברים חבר'ה צוות לכולם אחי אחותי מותק יקירי יקירה אמא אבא סבא סבתא שוב לך לכם".split())
_TAMIL_AFTER = r"சார்|அண்ணா|அக்கா|மேடம்|அண்ணன்"
_TAMIL_ROLES = frozenset("டாக்டர் ஆசிரியர் மேனேஜர் அம்மா அப்பா தம்பி தங்கை அண்ணா அக்கா சார் மேடம் வணக்கம் நன்றி சரி ஆமா இல்லை".split())
_BENGALI_AFTER = r"দা|দি|ভাই|আপা|বাবু|সাহেব|দিদি"
_BENGALI_ROLES = frozenset(
    "ডাক্তার স্যার মাস্টার মা বাবা দাদা দিদি ভাই আপা কাকা কাকু মামা মাসি পিসি আমি তুমি আপনি সে ও এই নমস্কার ধন্যবাদ হ্যাঁ না আচ্ছা ঠিক".split()
)
#: Korean words ending in 아/야 that are no names in the vocative
_KOREAN_NOT = frozenset(
    """아니야 진짜야 그래야 뭐야 거야 좋아 싫어 많아 같아 맞아 알아 봐야 해야 가야 와야 나야 너야 어디야 누구야 언제야 얼마야
    이거야 그거야 저거야 여기야 거기야 자기야 여보야 얘들아 애들아 엄마야 아빠야 친구야 동생아 언니야 오빠야 누나야 형아 아가야
    아들아 딸아 괜찮아 귀찮아 똑같아 안돼야 정말야 최고야 어머나""".split()
)

_DEVANAGARI_AFTER_RE = re.compile(rf"(?<![\p{{Devanagari}}])(?P<n>\p{{Devanagari}}+)\s+(?:{_DEVANAGARI_AFTER}){_END}")
_DEVANAGARI_BEFORE_RE = re.compile(rf"(?<![\p{{Devanagari}}])(?:{_DEVANAGARI_BEFORE})\s+(?P<n>\p{{Devanagari}}+(?:\s+\p{{Devanagari}}+){{0,2}})")
_URDU_AFTER_RE = re.compile(rf"(?<![\p{{Arabic}}])(?P<n>\p{{Arabic}}+)\s+(?:{_URDU_AFTER}){_END}")
_URDU_BEFORE_RE = re.compile(rf"(?<![\p{{Arabic}}])(?:{_URDU_BEFORE})\s+(?P<n>\p{{Arabic}}+(?:\s+\p{{Arabic}}+){{0,2}})")
_PERSIAN_RE = re.compile(rf"(?<![\p{{Arabic}}\u200c])(?P<n>\p{{Arabic}}+)\s+جان{_END}")
_ARABIC_RE = re.compile(rf"(?<![\p{{Arabic}}])يا\s+(?P<n>\p{{Arabic}}+){_END}")
_HEBREW_RE = re.compile(r"(?<![\p{Hebrew}])(?:היי|הי|שלום|אהלן|בוקר טוב|ערב טוב)\s+(?P<n>\p{Hebrew}[\p{Hebrew}'\"]*)\s*[,!]")
_TAMIL_RE = re.compile(rf"(?<![\p{{Tamil}}])(?P<n>\p{{Tamil}}+)\s+(?:{_TAMIL_AFTER}){_END}")
_BENGALI_RE = re.compile(rf"(?<![\p{{Bengali}}])(?P<n>\p{{Bengali}}+)\s+(?:{_BENGALI_AFTER}){_END}")
_KOREAN_RE = re.compile(r"(?m)^[\s\"'“(]*(?P<v>(?P<n>\p{Hangul}{2})[아야])(?=[\s,!~.?]|$)")
_GEORGIAN_PAIR_RE = re.compile(
    r"(?<![\p{Georgian}])(?P<n>\p{Georgian}{2,}\s+\p{Georgian}{1,}(?:ძე|შვილი|ავა|უა))(?:ს|მა|ის|ით|ად|ო|თან|ზე|ში)?(?![\p{Georgian}])"
)
_GEORGIAN_TITLE_RE = re.compile(r"(?<![\p{Georgian}])(?:ბატონო|ბატონი|ბატონ|ქალბატონო|ქალბატონი|ქალბატონ)\s+(?P<n>\p{Georgian}{2,})")
_ARMENIAN_PAIR_RE = re.compile(r"(?<![\p{Armenian}])(?P<n>\p{Lu}\p{Ll}+\s+\p{Lu}\p{Ll}*(?:յան|յանց|ունի|ունց))(?![\p{Armenian}])")
_ARMENIAN_TITLE_RE = re.compile(r"(?<![\p{Armenian}])(?:պարոն|Պարոն|տիկին|Տիկին|տկն\.|Տկն\.)\s+(?P<n>\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)?)")
_ARMENIAN_TITLES = frozenset("պարոն տիկին օրիորդ".split())
#: Armenian words of places and institutions named after people (``Պուշկինի փողոց``, ``Մատենադարան``)
_ARMENIAN_PLACES = frozenset("փողոց պողոտա հրապարակ համալսարան դպրոց թանգարան կայարան".split())
#: function words that end a name taken after a title (Devanagari, Urdu)
_STOP = frozenset("जी और या भी तो ही से को का की के में पर ने है हैं था थी जो ، اور یا بھی تو ہی سے کو کا کی کے میں پر نے ہے ہیں".split())


def words_until_stop(value: str, stop: frozenset[str]) -> str:
    """The words of ``value`` before the first one in ``stop`` (a name taken after a title ends
    at a function word)."""
    kept: list[str] = []
    for word in value.split():
        if word in stop:
            break
        kept.append(word)
    return " ".join(kept)


def address_form_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the names in ``text`` that the module's docstring describes."""
    if not _SCRIPTS.search(text):
        return []
    out: list[tuple[int, int]] = []
    urdu = _URDU_LETTERS.search(text) is not None
    for pattern, roles in (
        (_DEVANAGARI_AFTER_RE, _DEVANAGARI_ROLES), (_URDU_AFTER_RE if urdu else None, _URDU_ROLES), (_PERSIAN_RE, _PERSIAN_KIN),
        (_ARABIC_RE, _ARABIC_CALLS), (_HEBREW_RE, _HEBREW_NOT), (_TAMIL_RE, _TAMIL_ROLES), (_BENGALI_RE, _BENGALI_ROLES),
    ):
        for m in pattern.finditer(text) if pattern is not None else ():
            if m.group("n") not in roles:
                out.append(m.span("n"))
    for pattern in (_DEVANAGARI_BEFORE_RE, _URDU_BEFORE_RE if urdu else None):
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            name = words_until_stop(m.group("n"), _STOP)
            if name:
                out.append((m.start("n"), m.start("n") + len(name)))
    for m in _KOREAN_RE.finditer(text):
        if m.group("v") not in _KOREAN_NOT:
            out.append(m.span("n"))
    out.extend(m.span("n") for m in _GEORGIAN_PAIR_RE.finditer(text))
    for pattern in (_GEORGIAN_TITLE_RE, _ARMENIAN_TITLE_RE):
        out.extend(m.span("n") for m in pattern.finditer(text))
    for m in _ARMENIAN_PAIR_RE.finditer(text):
        after = text[m.end() : m.end() + 12].split()
        if m.group("n").split()[0].lower() not in _ARMENIAN_TITLES and not (after and after[0].strip(",.") in _ARMENIAN_PLACES):
            out.append(m.span("n"))
    return out
