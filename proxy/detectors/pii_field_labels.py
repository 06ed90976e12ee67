"""The labels of form fields and JSON keys that name a person or an address, in the languages of
the forms people paste. Plain data, no Presidio: the PII stage reads them for JSON documents
(``proxy/stages/pii_fields.py``) and the labelled-field recognizer for text
(``proxy/detectors/pii_fields_text.py``).
"""

from __future__ import annotations

import regex as re

__all__ = ["ADDRESS_LABELS", "NAME_VALUE_RE", "PERSON_LABELS", "WEAK_LABELS", "label_of", "written_like_a_name"]

#: Labels whose value is a person's name (lower case; ``_``, ``-`` and ``.`` read as spaces).
PERSON_LABELS = frozenset(
    (
        "name", "full name", "first name", "last name", "surname", "surnames", "given name", "given names",
        "family name", "forename", "forenames", "middle name", "maiden name", "nickname", "preferred name",
        "legal name", "display name", "customer", "customer name", "patient", "patient name", "passenger",
        "passenger name", "guest", "guest name", "contact", "contact name", "contact person", "author",
        "assignee", "approver", "reviewer", "chair", "host", "speaker", "attendee", "recipient", "sender",
        "next of kin", "emergency contact", "account holder", "cardholder", "nom", "prénom", "prenom",
        "nom de famille", "nombre", "apellido", "apellidos", "nome", "cognome", "vorname", "nachname",
        "familienname", "naam", "voornaam", "achternaam", "imię", "imie", "nazwisko", "jméno", "jmeno",
        "příjmení", "prijmeni", "förnamn", "fornamn", "efternamn", "fornavn", "efternavn", "etunimi",
        "sukunimi", "ad", "soyad", "soyadı", "όνομα", "επώνυμο",
        # 2026-12-07: roles that name a person, and the labels of forms in other languages and scripts
        "tenant", "landlord", "employee", "student", "beneficiary", "payee", "applicant", "titular", "destinatario", "destinatário", "remitente",
        "paciente", "cliente", "destinataire", "expéditeur", "titulaire", "empfänger", "absender", "inhaber",
        "kontoinhaber", "kunde", "intestatario", "titolare", "paziente", "ontvanger", "afzender", "klant",
        "odbiorca", "pacjent", "vardas", "pavarde", "pavardė", "ad soyad", "adı soyadı", "alıcı",
        "姓名", "名字", "收件人", "收货人", "联系人", "聯絡人", "收款人", "付款人", "订购人", "訂購人", "申请人",
        "申請人", "客户", "客戶", "患者", "病人", "乘客", "学生", "负责人", "負責人", "经办人", "持卡人", "户名", "戶名",
        "用户", "氏名", "お名前", "名前", "ご注文者", "注文者", "受取人", "担当者", "申込者", "契約者", "名義人",
        "이름", "성명", "성함", "수령인", "받는 분", "받는분", "보내는 분", "신청인", "담당자", "예금주", "환자명",
        "고객명", "학생", "الاسم", "اسم", "الاسم الكامل", "المستفيد", "اسم المستفيد", "الموظف", "المدير",
        "المدير المباشر", "المالك", "العميل", "المريض", "المستلم", "المرسل", "نام", "نام خانوادگی",
        "نام و نام خانوادگی", "שם", "שם מלא", "שם פרטי", "שם משפחה", "נמען", "לקוח", "מטופל", "имя", "фамилия",
        "отчество", "фио", "ф и о", "получатель", "отправитель", "клиент", "пациент", "автор", "рецензент",
        "ім'я", "прізвище", "по батькові", "піб", "отримувач", "відправник", "ονοματεπώνυμο", "ιδιοκτήτης",
        "παραλήπτης", "ασθενής", "ชื่อ", "ชื่อ นามสกุล", "นามสกุล", "ผู้รับ", "ผู้ส่ง", "ลูกค้า", "नाम", "पूरा नाम", "নাম",
    )
)  # fmt: skip
#: Labels whose value is an address or a postcode.
ADDRESS_LABELS = frozenset(
    (
        "address", "addr", "home address", "postal address", "street address", "delivery address",
        "shipping address", "billing address", "mailing address", "correspondence address", "street",
        "postcode", "post code", "postal code", "zip", "zip code", "zipcode", "eircode", "pin code", "pincode",
        "cap", "plz", "cp", "code postal", "código postal", "codigo postal", "adresse", "anschrift",
        "indirizzo", "dirección", "direccion", "domicilio", "morada", "endereço", "endereco", "adres",
        "adresa", "adress",
        # 2026-12-07: the address labels of forms in other languages and scripts
        "地址", "住址", "收货地址", "收貨地址", "联系地址", "聯絡地址", "通讯地址", "通訊地址", "邮寄地址", "郵寄地址",
        "送货地址", "住所", "ご住所", "お届け先", "届け先", "所在地", "주소", "배송지", "배송 주소", "우편번호",
        "邮编", "郵遞區號", "郵便番号", "العنوان", "عنوان", "الرمز البريدي", "نشانی", "آدرس", "کد پستی", "כתובת",
        "כתובת למשלוח", "מיקוד", "адрес", "адрес доставки", "почтовый индекс", "индекс", "адреса", "адреса доставки",
        "поштовий індекс", "адрес за доставка", "ঠিকানা", "ที่อยู่", "ที่อยู่จัดส่ง", "รหัสไปรษณีย์", "მისამართი",
        "διεύθυνση", "ταχυδρομικός κώδικας", "τκ", "adresi", "teslimat adresi", "posta kodu", "पता",
        "direção", "dirección de entrega", "endereço de entrega", "lieferadresse", "adresse de livraison",
        "indirizzo di consegna", "bezorgadres", "adres dostawy", "kod pocztowy",
    )
)  # fmt: skip
#: Labels that may also name a thing (``Name: Lemon drizzle``): their value counts when written
#: like a name, with a capital first.
WEAK_LABELS = frozenset(
    (
        "name", "nom", "nombre", "nome", "naam", "ad", "όνομα", "customer", "patient", "passenger", "guest",
        "contact", "author", "assignee", "approver", "reviewer", "chair", "host", "speaker", "attendee",
        "recipient", "sender", "display name", "employee", "student", "cliente", "kunde", "klant", "客户", "客戶", "用户", "患者", "学生", "학생",
        "الموظف", "المدير", "العميل", "автор", "клиент", "לקוח",
    )
)  # fmt: skip
#: A value shaped like a name: one to five words of letters (``'``, ``.``, ``-``, ``/`` inside), no digits.
NAME_VALUE_RE = re.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’.\-/]*(?:[ \t]+[\p{L}\p{M}][\p{L}\p{M}'’.\-/]*){0,4}")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")


def label_of(raw: str) -> str:
    """A label or key as these sets hold it: lower case, ``_``, ``-``, ``.`` and camel case read as spaces."""
    return " ".join(_CAMEL_RE.sub(" ", raw).replace("_", " ").replace("-", " ").replace(".", " ").lower().split())


def written_like_a_name(value: str) -> bool:
    """A letter first and not in lower case: a capital, or a script without case (``王晓梅``,
    ``محمد``). What a label that may also name a thing asks of its value."""
    return bool(value) and value[0].isalpha() and not value[0].islower()
