"""National identity numbers recognised by their format alone, each with its scheme's check.

A number in one of these formats is personal data wherever it stands, so no label is needed: the
check digit (or, where a scheme has none, a format no other kind of number shares) keeps order
numbers, amounts and phone numbers out. Formats that many other numbers share (nine or eleven bare
digits: a Dutch BSN, a Canadian SIN, a Polish PESEL) are found only after their name, by
:mod:`proxy.detectors.pii_national_ids`.

Each entry of :data:`FORMATS` is ``(country, pattern, check)``; ``check`` receives the match's
characters without separators, upper-cased. The schemes' rules are public (each country's issuing
authority); the code was written for Bedside.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import regex as re

from proxy.detectors.structured_pii import luhn_valid

__all__ = ["FORMATS", "find_formatted"]


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _yymmdd(s: str) -> bool:
    """Six digits a date in either century (``2000-02-29`` and ``1900-02-29`` differ)."""
    y, m, d = int(s[:2]), int(s[2:4]), int(s[4:6])
    return _date_ok(2000 + y, m, d) or _date_ok(1900 + y, m, d)


def _ddmmyy(s: str) -> bool:
    return _yymmdd(s[4:6] + s[2:4] + s[:2])


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _es_dni(s: str) -> bool:
    """Spain's DNI (8 digits) and NIE (X, Y or Z and 7 digits): the letter is the number mod 23."""
    body = s[:-1]
    if body[0] in "XYZ":
        body = str("XYZ".index(body[0])) + body[1:]
    return body.isdigit() and _DNI_LETTERS[int(body) % 23] == s[-1]


def _br_cpf(s: str) -> bool:
    """Brazil's CPF: two mod-11 check digits, and not one digit repeated."""
    if len(set(s)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(d) * w for d, w in zip(s[:n], range(n + 1, 1, -1), strict=True))
        if (total * 10 % 11) % 10 != int(s[n]):
            return False
    return True


def _cn_resident(s: str) -> bool:
    """China's resident identity number: a birth date (digits 7-14) and an ISO 7064 mod 11-2 check."""
    if not _date_ok(int(s[6:10]), int(s[10:12]), int(s[12:14])) or not 1900 <= int(s[6:10]) <= 2100:
        return False
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def _za_id(s: str) -> bool:
    """South Africa's identity number: a birth date, a citizenship digit (0-2) and Luhn."""
    return _yymmdd(s[:6]) and s[10] in "012" and luhn_valid(s)


def _tr_kimlik(s: str) -> bool:
    """Turkey's T.C. Kimlik number: two check digits over the odd and even positions."""
    d = [int(c) for c in s]
    if d[0] == 0:
        return False
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return tenth == d[9] and sum(d[:10]) % 10 == d[10]


def _fr_nir(s: str) -> bool:
    """France's NIR (social security number): the key is 97 minus the number mod 97 (Corsica's 2A/2B counted as 19/18)."""
    body = s[:13].replace("2A", "19").replace("2B", "18")
    return body.isdigit() and 97 - int(body) % 97 == int(s[13:])


def _ean13(s: str) -> bool:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(s[:12]))
    return (10 - total % 10) % 10 == int(s[12])


def _be_register(s: str) -> bool:
    """Belgium's national register number: a birth date and 97 minus mod 97 (born 2000 and later: prefixed 2)."""
    body, key = int(s[:9]), int(s[9:])
    return 97 - body % 97 == key or 97 - int("2" + s[:9]) % 97 == key


def _cl_rut(s: str) -> bool:
    """Chile's RUT: a mod-11 check character (K for 10)."""
    body, check = s[:-1], s[-1]
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    value = 11 - total % 11
    return {11: "0", 10: "K"}.get(value, str(value)) == check


def _se_personnummer(s: str) -> bool:
    """Sweden's personnummer (10 or 12 digits): a birth date (day + 60 for a coordination number) and Luhn."""
    s = s[-10:]
    day = int(s[4:6])
    return _yymmdd(s[:4] + f"{day - 60 if day > 60 else day:02d}") and luhn_valid(s)


_FI_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def _fi_hetu(s: str) -> bool:
    """Finland's henkilötunnus: a birth date and a mod-31 check character."""
    return _ddmmyy(s[:6]) and _FI_CHECK[int(s[:6] + s[7:10]) % 31] == s[10]


def _sg_nric(s: str) -> bool:
    """Singapore's NRIC and FIN: weighted digits, offset by the prefix, mapped to a check letter."""
    total = sum(int(d) * w for d, w in zip(s[1:8], (2, 7, 6, 5, 4, 3, 2), strict=True)) + (4 if s[0] in "TG" else 0)
    table = "JZIHGFEDCBA" if s[0] in "ST" else "XWUTRQPNMLK"
    return table[total % 11] == s[8]


def _kr_rrn(s: str) -> bool:
    """Korea's resident registration number: a birth date whose century the seventh digit gives."""
    century = {"1": 1900, "2": 1900, "3": 2000, "4": 2000, "9": 1800, "0": 1800}.get(s[6])
    return century is not None and _date_ok(century + int(s[:2]), int(s[2:4]), int(s[4:6]))


def _ro_cnp(s: str) -> bool:
    """Romania's CNP: sex and century (1-8), a birth date, and a weighted mod-11 check (10 counts as 1)."""
    if s[0] not in "12345678" or not _yymmdd(s[1:7]):
        return False
    total = sum(int(d) * w for d, w in zip(s[:12], (2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9), strict=True)) % 11
    return (1 if total == 10 else total) == int(s[12])


def _mod11_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """11 minus the weighted sum mod 11 (11 -> 0); ``None`` where the scheme has no digit (10)."""
    value = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if value == 11 else None if value == 10 else value


def _no_fodselsnummer(s: str) -> bool:
    """Norway's fødselsnummer: a birth date (day + 40 for a D-number) and two mod-11 check digits."""
    day = int(s[:2])
    if not _ddmmyy(f"{day - 40 if day > 40 else day:02d}" + s[2:6]):
        return False
    k1 = _mod11_digit(s[:9], (3, 7, 6, 1, 8, 9, 4, 5, 2))
    k2 = _mod11_digit(s[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    return k1 == int(s[9]) and k2 == int(s[10])


def _my_mykad(s: str) -> bool:
    """Malaysia's MyKad number: a birth date and a place-of-birth code (no check digit)."""
    return _yymmdd(s[:6]) and s[6:8] != "00"


def _th_citizen(s: str) -> bool:
    """Thailand's citizen number: 13 digits, the last a weighted mod-11 check."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(s[:12]))
    return (11 - total % 11) % 10 == int(s[12])


def _ar_cuil(s: str) -> bool:
    """Argentina's CUIL (a person's: prefix 20, 23, 24 or 27) with its mod-11 check digit."""
    check = _mod11_digit(s[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    return s[:2] in ("20", "23", "24", "27") and check == int(s[10])


_TW_LETTERS = "ABCDEFGHJKLMNPQRSTUVXYWZIO"  # A=10, B=11 ... in the order the scheme numbers them


def _tw_national(s: str) -> bool:
    """Taiwan's national identification number: the letter's two digits and the nine after it, weighted, mod 10."""
    n = 10 + _TW_LETTERS.index(s[0])
    total = n // 10 + (n % 10) * 9 + sum(int(d) * w for d, w in zip(s[1:], (8, 7, 6, 5, 4, 3, 2, 1, 1), strict=True))
    return total % 10 == 0


_EG_GOVERNORATES = frozenset({*(f"{n:02d}" for n in range(1, 36)), "88"})


def _eg_national(s: str) -> bool:
    """Egypt's national number: century (2 or 3), a birth date and a governorate code (no check digit)."""
    century = 1900 if s[0] == "2" else 2000
    return _date_ok(century + int(s[1:3]), int(s[3:5]), int(s[5:7])) and s[7:9] in _EG_GOVERNORATES


def _always(_: str) -> bool:
    return True  # a format no other kind of number shares (the docstring of each pattern says which)


_B = r"(?<![\p{L}\p{N}_])"  # not inside a word or a longer number
_E = r"(?![\p{L}\p{N}_]|[.,/-]\d)"

#: (country, pattern, check of the match's letters and digits, upper-cased)
_SCHEMES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("ES", r"(?:\d{8}|[XYZxyz]-?\d{7})-?[A-Za-z]", _es_dni),
    ("BR", r"\d{3}\.\d{3}\.\d{3}-\d{2}", _br_cpf),
    ("CN", r"\d{17}[\dXx]", _cn_resident),
    ("ZA", r"\d{13}", _za_id),
    ("TR", r"[1-9]\d{10}", _tr_kimlik),
    ("FR", r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}", _fr_nir),
    ("CH", r"756\.\d{4}\.\d{4}\.\d{2}", _ean13),
    ("AE", r"784-\d{4}-\d{7}-\d", luhn_valid),
    ("BE", r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}", _be_register),
    ("CL", r"\d{1,2}\.\d{3}\.\d{3}-[\dkK]", _cl_rut),
    ("SE", r"(?:19|20)?\d{6}[-+]\d{4}", _se_personnummer),
    ("FI", r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Ya-y]", _fi_hetu),
    ("SG", r"[STFGstfg]\d{7}[A-Za-z]", _sg_nric),
    ("KR", r"\d{6}-[0-49]\d{6}", _kr_rrn),
    ("RO", r"[1-8]\d{12}", _ro_cnp),
    ("NO", r"\d{6} ?\d{5}", _no_fodselsnummer),
    ("MY", r"\d{6}-\d{2}-\d{4}", _my_mykad),
    ("TH", r"\d-?\d{4}-?\d{5}-?\d{2}-?\d", _th_citizen),
    ("AR", r"2[0347]-?\d{8}-?\d", _ar_cuil),
    ("TW", r"[A-Z][12]\d{8}", _tw_national),
    ("EG", r"[23]\d{13}", _eg_national),
    # formats no other kind of number shares
    ("GB", r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]", _always),  # National Insurance
    ("IT", r"[A-Z]{6}\d{2}[ABCDEHLMPRST]\d{2}[A-Z]\d{3}[A-Z]", _always),  # codice fiscale
    ("MX", r"[A-Z][AEIOUX][A-Z]{2}\d{6}[HM][A-Z]{5}[A-Z0-9]\d", _always),  # CURP
    ("IN", r"[A-Z]{3}P[A-Z]\d{4}[A-Z]", _always),  # PAN of a person (the fourth letter; C is a company's ...)
    ("PK", r"\d{5}-\d{7}-\d", _always),  # CNIC
    ("HK", r"[A-Z]{1,2}\d{6}\([0-9A]\)", _always),  # HKID
)
#: each scheme's pattern, matched against a candidate whole
FORMATS: tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...] = tuple((c, re.compile(p), check) for c, p, check in _SCHEMES)
#: one pass over the text finds the candidates of every scheme (21 passes cost ~4x as much)
_ANY = re.compile(_B + "(?:" + "|".join(f"(?:{p})" for _, p, _ in _SCHEMES) + ")" + _E)
_SEPARATORS = re.compile(r"[\s.()/+-]")


def _plain(value: str) -> str:
    return _SEPARATORS.sub("", value).upper()


def find_formatted(text: str, pos: int = 0, endpos: int | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, country)`` of every national number in ``text[pos:endpos]`` whose format and
    check hold (a candidate of several schemes' shape, ``811218-9876``, counts if any scheme's
    check holds)."""
    out = []
    for m in _ANY.finditer(text, pos, len(text) if endpos is None else endpos):
        value = m.group()
        for country, pattern, check in FORMATS:
            if not pattern.fullmatch(value):
                continue
            plain = _plain(value)
            if country == "SE":  # the separator is part of the number only in its 10-digit form
                plain = plain[-10:]
            if check(plain if country != "FI" else value.upper()):
                out.append((m.start(), m.end(), country))
                break
    return out
