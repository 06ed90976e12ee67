"""Crisis signs people give without naming the danger: goodbyes, control at home, someone else's emergency.

The first table (:data:`proxy.detectors.crisis_patterns.PATTERNS`) catches statements that name
the danger ("I want to kill myself", "my husband hits me", "chest pain"). A blind judge written by
someone who never saw it (``bench/crisis_blind.py``) showed what that misses: most people in crisis
say it another way. "I won't be a problem for anyone much longer", "I've given away my things",
"he controls the money and takes my phone", "my ex keeps turning up at my work", "my toddler
swallowed a button battery", "he hit his head and keeps vomiting".

These patterns were written from kinds of crisis (warning signs of suicide as crisis services list
them, coercive control, stalking, sexual and elder abuse, emergencies of others: collapse, choking,
poisoning, head injury, pregnancy, diabetes, allergy, falls, burns, meningitis signs), each beside
the everyday sentence that shares its words ("he grabbed me a coffee", "the tent collapsed", "I
nearly fainted at the price", "I gave my old clothes to charity"), which it must leave alone
(``tests/detectors/test_crisis_signs.py``). No judge row was read to write them.
"""

from __future__ import annotations

from typing import Final

from proxy.detectors.crisis_patterns import Pattern

__all__ = ["SIGNS"]

#: people a message may speak for, as in "my dad just collapsed"
_PERSON = (
    r"(?:dad|father|mum|mom|mother|son|daughter|baby|child|kid|toddler|husband|wife|partner|boyfriend|"
    r"girlfriend|friend|grandmother|grandfather|gran|nan|grandma|grandpa|granny|brother|sister|colleague|"
    r"coworker|co-worker|neighbour|neighbor|patient|aunt|uncle|roommate|flatmate|housemate|stepdad|stepmom|"
    r"little one|little boy|little girl|boy|girl|newborn|infant|nephew|niece|cousin|carer|client|resident|student|teenager)"
)
_SUBJECT = rf"(?:he|she|they|someone|somebody|my {_PERSON}|the {_PERSON}|a (?:man|woman|child|kid|guy|lady|person|customer))"
#: not a report but a hypothetical: "what do I do if someone has collapsed?", "when a baby is choking"
_NOT_IF = r"(?<!\bif )(?<!\bwhen )(?<!\bwhenever )(?<!\bcase )(?<!\bin case )"
_ABUSER = r"(?:he|she|they|my (?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|stepdad|mum|mom|son|daughter|carer|uncle))"

SIGNS: Final[tuple[Pattern, ...]] = (
    # --- self-harm: goodbyes, endings, means at hand -----------------------------------------
    Pattern("self_harm", "goodbye_signs", 0.8, False,
            "won wont + longer long anymore more",
            r"\bwon'?t be (?:a (?:problem|burden|bother) (?:to|for) (?:anyone|anybody|you|my family|everyone)|around) "
            r"(?:much |for )?(?:longer|long|anymore|any more)\b"),
    Pattern("self_harm", "goodbye_signs", 0.8, False,
            "gave given giving + things stuff belongings possessions pets pet dog cat",
            r"\b(?:gave|given|giving) away (?:all |most )?(?:of )?my (?:things|stuff|belongings|possessions|pets?|dog|cat)\b"
            r"(?!.{0,40}\b(?:mov(?:e|ing)|charity|donat\w*|sale|declutter\w*|downsiz\w*))"),
    Pattern("self_harm", "goodbye_signs", 0.8, False,
            "letters notes goodbye goodbyes + case gone goodbye goodbyes",
            r"\b(?:wrote|written|writing|left) (?:some |a few )?(?:letters|notes|goodbyes?) (?:to|for) (?:my|everyone|everybody)\b"
            r".{0,40}\b(?:just in case|in case|goodbye|when i'?m gone|after i'?m gone)"),
    Pattern("self_harm", "goodbye_signs", 0.8, False,
            "nobody noone one gone + miss notice care better easier",
            r"\b(?:nobody|no one|noone) (?:will|is going to) (?:miss me|notice (?:i'?m|when i|if i)|care (?:if|when) i)\b"
            r"|\b(?:when|after|once) i'?m gone\b.{0,40}\b(?:better|easier|care|miss|notice)\b"),
    Pattern("self_harm", "goodbye_signs", 0.8, False,
            "saying + goodbye goodbyes",
            r"\bsaying (?:my )?goodbyes? to (?:everyone|everybody|you all|the world|my family)\b"),
    Pattern("self_harm", "ending_things", 0.85, True,
            "end ending",
            r"\b(?:decided|going|want|wanna|ready|planning|plan|thinking about|thought about|think about|think of|thinking of) "
            r"(?:to )?end(?:ing)? (?:things|everything|it all|it)\b"
            r"(?! (?:with|between|early|here|there|for (?:the|this|today|now)|off|on (?:a|that)|in (?:my|a|the|this|that)|at)\b)"
            r"|\bend my (?:own )?(?:suffering|pain) (?:for good|forever|permanently)\b"),
    Pattern("self_harm", "wish_gone", 0.85, False,
            "wake life living alive existing permanently forever disappear wasn weren anymore death dying worth carry keep",
            r"\bsleep and (?:never|not) wake up\b"
            r"|\b(?:i'?m|i am|im) (?:so |just |honestly )?done (?:with )?(?:life|living|being alive|existing)\b"
            r"|\bwant (?:everything|it all|the pain|it|all of it) to (?:stop|end),? (?:permanently|forever|for good)\b"
            r"|\bwant to disappear (?:and never come back|for good|forever|permanently)\b"
            r"|\b(?:don't|dont|do not|can't|cannot) see (?:the |any )?point (?:in|of) (?:living|life|being alive|going on)\b"
            r"|\b(?:easier|better) (?:for (?:everyone|everybody|them) )?if i (?:wasn'?t|weren'?t|was not|were not) (?:here|around|alive)\b"
            r"|\b(?:tired|sick) of (?:living|being alive|life|existing)\b|\bsleep forever\b(?! (?:and|when|after|if|mode|setting))"
            r"|\bwhat'?s the point (?:of|in) (?:anything|living|going on|life) any ?more\b"
            r"|\bthinking about (?:death|dying) (?:a lot|all the time|constantly|every day|non-?stop)\b"
            r"|\blife (?:isn'?t|is not|ain'?t) worth (?:it|living)(?: any ?more)?\b(?! (?:without|if|when))"
            r"|\b(?:can'?t|cannot) (?:keep going|carry on)(?: like this| any ?more)\b"),
    Pattern("self_harm", "wish_gone", 0.85, False,
            "over + want",
            r"\bwant (?:it|it all|my life|everything) to be over\b(?! (?:already|soon|by|before|so))"),
    Pattern("self_harm", "means_at_hand", 0.95, False,
            "lined counted ready standing sitting edge ledge roof bridge railing jumping jump",
            r"\b(?:pills|tablets) (?:are )?(?:lined up|counted out|all ready|ready)\b"
            r"|\b(?:i'?m|i am|im) (?:standing|sitting) on (?:the|a) (?:edge|ledge|roof|bridge|railing)\b(?! of (?:the|a) ship)"
            r"|\b(?:thinking (?:about|of)|keep thinking about|want to|going to|gonna) (?:jumping|jump) (?:in front of (?:a|the) (?:train|bus|car|lorry|truck)|off (?:a|the|my) \w+)"),
    Pattern("self_harm", "crisis_line_now", 0.8, False,
            "hotline helpline lifeline line + now urgently tonight asap immediately",
            r"\b(?:need|want|give me)(?: \w+){0,3} (?:crisis line|hotline|helpline|lifeline)\b.{0,30}\b(?:right now|now|urgently|tonight|asap|immediately)\b"),
    Pattern("self_harm", "self_harm_relapse", 0.85, False,
            "again relapsed relapse",
            r"\b(?:started|been|am|i'm|im|keep|kept) (?:self[- ]?harming|cutting|burning myself|hurting myself) again\b"
            r"|\brelapsed? (?:with|on|into) (?:self[- ]?harm|cutting)\b"),
    # --- abuse: violence, control, stalking, threats, sexual and elder abuse ------------------
    Pattern("abuse", "violence_described", 0.85, False,
            "grabbed pushed shoved threw hurled dragged pinned slammed bruises marks black hurt hurts",
            rf"\b{_ABUSER} (?:grabbed|dragged) me by (?:the|my) (?:throat|neck|hair|arm|wrist)\b"
            rf"|\b{_ABUSER} (?:pushed|shoved|threw|slammed|pinned) me (?:down|against|into|over|off|to the (?:floor|ground)|on the (?:floor|ground|bed))\b"
            rf"|\b{_ABUSER} (?:threw|hurled) (?:a|an|the|his|her) \w+ at me\b"
            r"|\b(?:hide|hiding|cover|covering|cover up) (?:the |my )?(?:bruises|marks|black eye)\b"
            r"|\b(?:he|she|they) (?:hurt|hurts|has hurt|have hurt) (?:me|us) (?:again|badly|physically)\b"),
    Pattern("abuse", "violence_described", 0.85, False,
            "boyfriend girlfriend husband wife partner + hits beats hurts kicks punches chokes slaps touches",
            r"\bmy (?:mum|mom|mother|dad|father)'?s (?:boyfriend|girlfriend|husband|wife|partner) (?:\w+ )?"
            r"(?:hits|beats|hurts|kicks|punches|chokes|slaps|touches) (?:me|us|my \w+(?: \w+)?)\b"),
    Pattern("abuse", "coercive_control", 0.75, False,
            "money phone passport + takes took controls keeps hides + so won doesn allowed",
            r"\b(?:takes|took|controls|keeps|hides) (?:all )?(?:my|the) (?:money|phone|passport|bank cards?|car keys)\b"
            r"(?: \w+){0,6} (?:so (?:that )?i (?:can't|cannot|can not)|and (?:won't|doesn't|does not) let me|i'm not allowed)"),
    Pattern("abuse", "coercive_control", 0.75, False,
            "allowed won wont doesn threaten threatens threatened threatening passport passports documents papers",
            r"\b(?:i'?m|i am|im) not allowed to (?:leave (?:the house |home )?(?:without (?:him|her|them|permission)|alone|on my own)"
            r"|go out|see (?:my )?(?:friends|family|kids)|have (?:my own )?(?:money|a phone)|talk to (?:anyone|my family|my friends))\b"
            r"|\b(?:won't|doesn't|does not|wont) let me (?:go out|see (?:my )?(?:friends|family|kids)|work|talk to (?:anyone|my family|my friends))\b"
            r"|\b(?:tracks|tracking|monitors|checks) my (?:location|phone|messages)\b.{0,40}\bthreaten"
            r"|\b(?:took|take|taken|keep|keeps) (?:my|our) (?:passports?|documents|papers)\b.{0,40}\b(?:make (?:me|us) work|won't give (?:it|them) back|without pay)"),
    Pattern("abuse", "stalking", 0.75, False,
            "following turning showing showed turned waiting stalking stalker",
            r"\b(?:my )?ex (?:\w+ ){0,2}(?:keeps |is |has been |kept |keeps on )?(?:following me|turning up|showing up|showed up|turned up|waiting outside)\b"
            rf"|{_NOT_IF}\b(?:{_SUBJECT}|my ex|this (?:guy|man|woman|person))(?:'s| is| has been| keeps| kept| keeps on| started) stalking me\b"
            r"|\bmy stalker\b"),
    Pattern("abuse", "threat_present", 0.85, False,
            "outside",
            r"\b(?:he|she|they)(?:'s|'re| is| are) (?:outside|at) (?:my|the) (?:door|house|window|flat|apartment)\b"
            r".{0,40}\b(?:bang\w*|shout\w*|scream\w*|threat\w*|kick\w*|break\w*|won't leave|scared)"),
    Pattern("abuse", "threat_present", 0.85, False,
            "kill hurt regret kids",
            r"\b(?:said|says|threatened|threatens|told me) (?:that )?if i (?:leave|tell|go|call|report)\b"
            r".{0,50}\b(?:kill|hurt|take the kids|regret)"),
    Pattern("abuse", "threat_present", 0.85, False,
            "scared afraid terrified threatened safe",
            r"\b(?:scared|afraid|terrified) (?:that )?(?:he|she|they)(?:'ll| will| is going to|'s going to| might| would) "
            r"(?:hurt|kill|hit|find) (?:me|us|the kids|my)\b"
            r"|\bthreatened (?:me|us|my \w+) with (?:a |his |her )?(?:knife|gun|weapon|bat|hammer)\b"
            r"|\b(?:don't|do not|dont) feel safe (?:around|with|near) (?:him|her|them|my \w+)\b"),
    Pattern("abuse", "sexual_abuse", 0.9, False,
            "touches touched forced forces makes made pressured",
            r"\b(?:comes|came) into my (?:room|bed)\b.{0,30}\b(?:touches|touched|touch)\b"
            r"|\b(?:touches|touched) me (?:at night|where|when|in places|down there|inappropriately|under)\b"
            r"|\b(?:forced|forces|makes|made|pressured) me (?:to )?(?:have sex|do sexual|touch (?:him|her|them)|into sex|watch porn)\b"
            r"|\bforced (?:himself|herself) on me\b"),
    Pattern("abuse", "elder_abuse", 0.75, False,
            "pension benefits savings locks lock feed",
            r"\b(?:takes|took|taking|steals|stole) my (?:pension|benefits|savings)\b.{0,40}\b(?:lock\w*|won't|hit\w*|threat\w*|scared|room)"
            r"|\blocks? me in (?:my|the|a) (?:room|house|flat)\b"
            r"|\b(?:doesn't|does not|won't|don't) (?:feed me|give me (?:food|my (?:medication|medicine|pills)))\b"),
    # --- medical emergencies of others and the signs that go with them ------------------------
    Pattern("medical_emergency", "collapse", 0.9, False,
            "collapsed fainted passed blacked unconscious round",
            rf"{_NOT_IF}\b{_SUBJECT} (?:just |has |suddenly |has just )?(?:collapsed|fainted|passed out|blacked out|fell unconscious)\b"
            r"|\b(?:hasn't|has not|won't|isn't|is not) (?:come|coming) (?:round|around|to)\b"),
    Pattern("medical_emergency", "choking", 0.9, False,
            "choking",
            rf"{_NOT_IF}\b(?:{_SUBJECT}|i)(?:'s| is|'re| are|'m| am|m) choking\b(?! (?:on (?:the|my|his|her) (?:words|tears|laughter)|up|back))"
            r"|\bchoking,? (?:and )?(?:can't|cannot|can not|not able to) (?:breathe|cry|cough|talk|speak)"),
    Pattern("medical_emergency", "poisoning", 0.9, False,
            "swallowed ate drank drunk licked",
            r"\b(?:swallowed|ate|drank|has drunk|drunk|licked) (?:a |an |some |the |my |his |her |half a |a whole |a bottle of )?"
            r"(?:(?:button|lithium|watch|coin) )?(?:batteries|battery|magnets?|bleach|poison|rat poison|weed ?killer|detergent|"
            r"washing (?:pods?|tablets?|capsules?)|dishwasher (?:pods?|tablets?)|laundry pods?|antifreeze|drain cleaner|"
            r"cleaning (?:fluid|liquid|products?)|chemicals?|pesticide|paint thinner|lighter fluid|lamp oil|"
            r"someone else's (?:pills|medication|tablets))\b"),
    Pattern("medical_emergency", "head_injury", 0.85, False,
            "head",
            r"\b(?:hit|banged|bumped|knocked|fell on|cracked) (?:his|her|my|their) head\b"
            r".{0,60}\b(?:vomit\w*|throwing up|threw up|confused|drowsy|won't wake|not making sense|unconscious|seizure|fitting)"),
    Pattern("medical_emergency", "pregnancy_danger", 0.85, False,
            "pregnant",
            r"\bpregnant\b.{0,60}\b(?:baby (?:isn't|is not|hasn't been|has not been|stopped|not) moving|severe (?:pain|cramps)|bleeding)\b"),
    Pattern("medical_emergency", "diabetic_emergency", 0.85, False,
            "sugar hypo hypoglycemic hypoglycaemic diabetic",
            r"\bblood sugar\b.{0,30}\b(?:really|very|dangerously|super|extremely|so) (?:low|high)\b"
            r".{0,40}\b(?:shaking|confused|dizzy|sweating|can't think|passing out|drowsy|vomiting|slurring)"
            r"|\b(?:hypo|hypoglycemic|hypoglycaemic|diabetic)\b.{0,40}\b(?:confused|unconscious|won't wake|not making sense|passing out|collapsed|fitting)"),
    Pattern("medical_emergency", "allergic_reaction", 0.9, False,
            "face lips tongue throat eyes epipen allergic",
            r"\b(?:face|lips|tongue|throat|eyes)(?: and (?:face|lips|tongue|throat|eyes))? (?:is |are )?(?:swelling|swollen|puffing up)\b"
            r"|\b(?:can't|cannot|can not) find (?:his|her|my|their|the) epi-?pen\b|\bused (?:his|her|my|their) epi-?pen\b"
            r"|\ballergic reaction\b.{0,40}\b(?:can't breathe|swelling|throat|hives all over|epi-?pen)"),
    Pattern("medical_emergency", "serious_fall", 0.9, False,
            "feel move",
            r"\b(?:fell|fallen|crashed|hit by a car|was hit)\b.{0,50}\b(?:can't|cannot|can not) (?:feel|move) (?:my|his|her|their) (?:legs|arms|body|feet|neck)\b"),
    Pattern("medical_emergency", "chest_signs", 0.8, True,
            "arm jaw chest",
            r"\bpain (?:going|spreading|shooting|radiating) (?:down|into|up) (?:my|his|her) (?:left )?(?:arm|jaw|neck)\b"
            r"|\bmy chest (?:feels|is) (?:tight|heavy|crushed)\b"),
    Pattern("medical_emergency", "breathing_signs", 0.85, False,
            "barely breathing rattly shallow gasping wheezing",
            r"\bbarely breathing\b(?! (?:out of|outta|through) (?:one|my|a) (?:nostril|nose))|\bbreathing (?:is |sounds |seems )?(?:very |really )?(?:rattly|shallow|gasping)\b"
            r"|\b(?:is|he's|she's|they're) (?:gasping for (?:air|breath)|wheezing badly)\b"),
    Pattern("medical_emergency", "serious_injury", 0.85, False,
            "bone crash accident bleeding fell floppy limp",
            r"\bbone (?:is )?(?:sticking|poking) out\b"
            r"|\b(?:car|motorbike|bike|road) (?:crash|accident)\b.{0,50}\b(?:trapped|bleeding|unconscious|not moving|injured|hurt)\b"
            r"(?!.{0,20}\b(?:film|movie|scene|show|game|episode))"
            r"|\b(?:won'?t|will not|can'?t|cannot) stop (?:the )?bleeding\b"
            rf"|{_NOT_IF}\b{_SUBJECT} (?:just )?fell (?:out of|from|off) (?:a|the|his|her) (?:window|balcony|roof|tree|ladder|bunk bed)\b"
            r"|\b(?:baby|infant|newborn|toddler) (?:is|seems|went|has gone|looks) (?:very )?(?:floppy|limp|grey|gray|blue)\b"),
    Pattern("medical_emergency", "meningitis_signs", 0.8, False,
            "stiff rash",
            r"\b(?:fever|temperature)\b.{0,40}\bstiff neck\b|\bstiff neck\b.{0,40}\b(?:fever|rash)\b|\brash (?:that )?(?:doesn't|does not|won't) fade\b"),
    Pattern("medical_emergency", "severe_burn", 0.8, False,
            "burned burnt scalded skin",
            r"\b(?:burn(?:ed|t)|scald(?:ed)?) (?:my|his|her|their) (?:\w+ )?(?:arm|hand|leg|face|chest|back|foot|feet|body|skin)\b"
            r".{0,40}\b(?:badly|severely|skin (?:is )?(?:peeling|coming off|blistering|black|white))"
            r"|\bskin is (?:peeling|coming|falling) off\b"),
)
