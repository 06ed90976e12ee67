"""The vocabulary of :mod:`proxy.detectors.pii_addresses`: street types, units and floors, post-office
boxes and postcode shapes per country, as regular-expression fragments.

Written from the national postal conventions (USPS, Royal Mail, Canada Post, An Post / Eircode,
Australia Post, India Post, and the EU postal operators' published address formats), not from any
evaluation text. Pure data: no compiled patterns, no state.
"""

from __future__ import annotations

__all__ = [
    "COMPOUND",
    "GERMAN_PREFIX",
    "PARTICLE",
    "POSTCODE",
    "PO_BOX",
    "PO_BOX_SHORT",
    "PREFIX",
    "STRONG_SUFFIX",
    "SUFFIX",
    "UNIT",
]

#: Street types written after the name (English-speaking countries, India).
SUFFIX = (
    r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|crescent|cres|circle|cir|parkway|pkwy|highway|hwy|freeway|fwy|expressway|expy|"
    r"loop|pass|trail|trl|square|sq|alley|aly|row|close|mews|plaza|plz|walk|grove|gardens|gdns|"
    r"green|greens|heights|hts|hill|park|point|pt|ridge|run|path|pike|turnpike|tpke|crossing|"
    r"crossroad|junction|jct|landing|bend|cove|creek|estates?|glen|harbou?r|hollow|knoll|manor|"
    r"meadows?|orchard|radial|shores?|springs?|summit|trace|valley|view|vista|wharf|wynd|quay|"
    r"parade|pde|esplanade|esp|promenade|causeway|chase|croft|drove|rise|vale|yard|broadway|"
    r"ferry|skyway|land|camp|cliffs?|gap|plains?|spurs?|brooks?|mills?|port|prairie|ranch|rapids|"
    r"shoals?|station|stream|throughway|track|tunnel|underpass|villages?|ville|wells?|fords?|forges?|"
    r"forks?|falls|extension|divide|dale|corners?|canyon|cape|bypass|bridge|branch|lawn|"
    r"bluffs?|beach|arcade|centreway|centre|center|circuit|cct|concourse|crest|gateway|"
    r"highroad|lookout|outlook|ramble|retreat|ridgeway|tarn|walkway|"
    r"marg|nagar|ganj|chowk|galli|gali|colony|bazaar|bagh|pur|peth|layout|enclave|cross|main)"
)
#: Street types that make a street even when its other words are lower case (``12 mill rd``).
STRONG_SUFFIX = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|highway|hwy|parkway|pkwy|"
    r"terrace|crescent|cres|court|ct|circuit|cct|parade|pde|marg|nagar)"
)
#: Street words written before the name (French, Italian, Spanish, Catalan, Portuguese, Polish,
#: Romanian, Greek transliterated), with their postal abbreviations.
PREFIX = (
    r"(?i:via|viale|v\.le|vicolo|piazza|p\.zza|p\.za|piazzale|corso|c\.so|largo|strada|"
    r"rue|avenue|av\.|allée|allee|boulevard|bd|bld|chemin|ch\.|impasse|imp\.|quai|place|pl\.|cours|"
    r"sentier|route|rte|rang|montée|montee|chaussée|chaussee|square|rond-point|"
    r"calle|c/|carrer|c\.|avenida|avda\.?|av\.|paseo|pº|camino|carretera|ctra\.|ronda|plaza|pza\.|"
    r"travesía|travesia|glorieta|callejón|pasaje|rambla|urbanización|urb\.|cuesta|acceso|pasadizo|vía|"
    r"rua|r\.|praça|praca|pç\.|travessa|tv\.|estrada|alameda|calçada|calcada|"
    r"ul\.|ulica|al\.|aleja|pl\.|plac|os\.|osiedle|calea|bulevardul|str\.|odos|leoforos|"
    r"contrada|borgo|vico|rotonda|località|frazione|lungomare|salita|trav\.)"
)
#: German and Dutch prepositional street names that need a house number after them (``Am Markt 5``).
GERMAN_PREFIX = r"(?:Am|An[ \t]+der|An[ \t]+den|Auf[ \t]+der|Auf[ \t]+dem|Im|In[ \t]+der|In[ \t]+den|Zum|Zur|Unter[ \t]+den|Hinter[ \t]+der|Vor[ \t]+dem|Laan[ \t]+van|Burgemeester|Van)"
PARTICLE = r"(?i:de|del|della|delle|dei|degli|di|da|do|dos|das|des|du|la|le|les|van|von|der|den|y|e|d'|l')"
#: Street-type endings of compound or following words (German, Dutch, Nordic, Finnish, Baltic,
#: Hungarian, Belgian).
COMPOUND = (
    r"(?i:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|steig|chaussee|"
    r"vej|vænget|vaenget|parken|have|torv|vägen|väg|gatan|gata|gate|veien|vei|vegen|veg|gade|stræde|"
    r"stræti|vegur|braut|katu|kuja|tie|polku|kaari|rinne|tori|"
    r"straat|laan|gracht|plein|kade|dreef|steeg|singel|steenweg|utca|út|tér|körút|iela|tänav|terrasse|"
    r"gränd|gränden|stigen|stig|torget|torg|backe|backen|allén|plan|baan|dijk|hof|markt|plads|allé)"
)
#: A unit, floor or care-of part of an address line: ``Apt 4B``, ``Flat 2/1``, ``2. OG``,
#: ``Whg. 12``, ``5º D``, ``1º izq.``, ``int. 4``, ``scala B``, ``bte 3``, ``lgh 1102``, ``4. tv``.
UNIT = (
    r"(?:(?i:apt\.?|apartment|appt\.?|app\.?|appartement|appartamento|suite|ste\.?|unit|flat|fl\.?|floor|"
    r"level|lvl\.?|room|rm\.?|bldg\.?|building|bât\.?|bat\.?|bâtiment|esc\.?|escalier|studio|bureau|"
    r"whg\.?|wohnung|top|stiege|stg\.?|tür|int\.?|interno|scala|piano|piso|puerta|pta\.?|planta|"
    r"portal|bloque|lok\.?|lokal|m\.|bus|bte|boîte|lgh|no\.?|nr\.?|door\s+no\.?|#)"
    r"[ \t]*#?[ \t]*(?:[A-Za-z]?\d{1,5}[A-Za-z]?(?:/\d{1,3})?|[A-Z](?![\p{L}]))"
    r"|\d{1,2}(?:\.|[ºª°]|st|nd|rd|th|e|er|ère)?[ \t]*(?i:og|eg|dg|ug|stock|etage|étage|floor|fl\.?|piso|planta|andar|"
    r"tr|sal|izq\.?|izda\.?|dcha\.?|dto\.?|esq\.?)(?![\p{L}])|\d{1,2}\.[ \t]*(?i:tv|th|mf)(?![\p{L}])"
    r"|\d{1,2}(?:[ºª°]|[oa](?=[ \t-]))(?:[ \t]*-?[ \t]*\d{1,2}[ºªoa]|[ \t]*[A-Z](?![\p{L}]))?"
    r"|(?i:st\.[ \t]*(?:tv|th|mf)|bajo|r/c|hs|bis|ter|cedex(?:[ \t]+\d{1,2})?|stn[ \t]+\w+|station[ \t]+\w)"
    r"|(?i:c/o)[ \t]+\p{Lu}[\p{L}\p{M}'’-]+(?:[ \t]+\p{Lu}[\p{L}\p{M}'’-]+)?)"
)
#: Post-office boxes whose word says so on its own.
PO_BOX = (
    r"(?i:p\.?[ ]?o\.?[ ]?box|post[ \t]+office[ \t]+box|gpo[ \t]+box|locked[ \t]+bag|private[ \t]+bag|"
    r"postfach|postbus|postboks|postbox|post[ \t]+box(?:[ \t]+no\.?)?|p\.b\.[ \t]*no\.?|"
    r"apartado(?:[ \t]+de[ \t]+correos)?|apdo\.|casella[ \t]+postale|boîte[ \t]+postale|b\.p\.|"
    r"skrytka[ \t]+pocztowa|skr\.[ \t]*poczt\.|postilokero|case[ \t]+postale)"
)
#: Short box words that also mean other things (``BP``, ``CS``, ``C.P.``, ``Box``, ``PL``): a box
#: only when a postcode or a town follows.
PO_BOX_SHORT = r"(?:BP|CS|C\.P\.|CP|Box|PL|Apdo|Postf\.)"
#: Postcodes: US ZIP(+4), UK, Canada, Eircode, Netherlands, Poland, Portugal, Sweden, India (with a
#: space), country-prefixed (``A-1010``, ``D-10115``), and plain 4-6 digits.
POSTCODE = (
    r"(?:\d{5}-\d{4}|(?i:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})|(?i:[A-Z]\d[A-Z][ ]?\d[A-Z]\d)"
    r"|(?i:[ACDEFHKNPRTVWXY]\d[\dW][ ]?[ACDEFHKNPRTVWXY\d]{4})|\d{4}[ ]?[A-Z]{2}(?![\p{L}])|\d{2}-\d{3}|\d{4}-\d{3}"
    r"|\d{3}[ ]\d{2,3}|(?:[A-Z]{1,2}-)\d{4,5}|\d{4,6})"
)
