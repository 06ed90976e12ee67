"""Harm acts of the harmful-request detector (:mod:`proxy.detectors.harmful`), added for issue 15.

Written from a harm taxonomy on 2026-12-07 (never from a prompt of an evaluation set): sabotage of
infrastructure, drink spiking, weapons past security, undetectable poison, covert tracking of a
person, impersonation to phish, card fraud, fake schemes, framing someone, illicit prescriptions,
drug misuse, hiding self-harm or child abuse, extremist recruitment, calls to persecute a group,
staged deaths, covert capture of keystrokes or screens, improvised weapons; and, in a second
round, threats and swatting, arson, luring a child, beatings that leave no marks, sexual acts
with a minor named by age, leaked intimate images, refund and insurance fraud, hiding money,
exam cheating, wireless attacks, insults of a group, snooping on a partner's messages; and, in a
third, acts told after a story: vandalism, theft of controlled drugs at work, getting into
someone's account, making someone sick through their food, making a pet disappear, meeting a
minor without the parents knowing, fake review campaigns; and, in a fourth, finding a private
person's address, number or routine (a stranger described by what they did, or with a sign of
pursuit: "so I can confront her", "she blocked me", a restraining order) and reading someone's
medical, bank or other records without consent; and, in a fifth, content that demeans a group
asked for in so many words (mocking it, false claims about it, insults aimed at someone's origin,
telling people to go back where they came from, crime put down to race). Each is a
:class:`~proxy.detectors.harm_vocab.HarmFeature` like those of :mod:`proxy.detectors.harm_features`
(which appends this table to its harm objects); gaps between words allow possessives ("a city's").
"""

from __future__ import annotations

from typing import Final

from proxy.detectors.harm_vocab import GROUP as _GROUP
from proxy.detectors.harm_vocab import PERSON as _PERSON
from proxy.detectors.harm_vocab import HarmFeature
from proxy.detectors.harm_vocab import feature as _f

__all__ = ["HARM_ACTS"]

#: asking to find where a person is or how to reach them ("find her new address", "where he works")
_FIND_PERSON = (
    rf"(?:find|get|look up|dig up|track down|figure out|locate|search for|pull up)\w* (?:out )?(?:[\w']+ ){{0,3}}?(?:(?:{_PERSON})'?s? )?"
    r"(?:new |current |home )?(?:address|(?:home |personal |cell |mobile )?(?:phone )?number|daily (?:routine|schedule)|workplace|whereabouts|"
    r"where (?:she|he|they) (?:lives?|works?|sleeps?))"
)
#: the words one of which :data:`_FIND_PERSON` needs, as a trigger group
_FIND_WORDS = " + find finds finding get gets getting look dig track figure locate locates located locating search pull"
#: a sign the person is being pursued: "so I can confront her", "she blocked me", a restraining order
_PURSUIT = (
    r"(?:so (?:i|we) can (?:go there and confront|show up|turn up|confront|visit|surprise|wait for|teach)|(?:my ex|she|he|they) blocked me"
    r"(?! by mistake| accidentally)|(?:she|he|they) (?:moved away|changed (?:her|his|their) (?:number|address))|"
    r"restraining order|without (?:her|him|them) knowing)"
)

HARM_ACTS: Final[tuple[HarmFeature, ...]] = (
    _f("sabotage", "violence", 2.6,
       "sabotage sabotaging derail derailing contaminate contaminating poison poisoning hijack crash disable",
       r"\b(?:sabotag\w*|derail\w*|blow up|bomb|contaminat\w*|poison\w*|disable) (?:[\w']+ ){0,3}?(?:the |a |an )?(?:power grid|(?:electric(?:al)? )?grid|"
       r"substations?|(?:passenger |freight )?trains?|railway|rail (?:line|track)s?|train tracks|water (?:supply|treatment|system|plant)|reservoir|"
       r"(?:oil |gas )?pipelines?|gas (?:line|main)s?|dams?|nuclear (?:plant|reactor)|power (?:plant|station)|(?:passenger )?planes?|aircraft|airliner|"
       r"air traffic control|cell towers?|911|emergency services|hospital(?:'s)? (?:systems|network|generators?))\b|"
       r"\b(?:hijack|crash|bring down|shoot down) (?:a |an |the )?(?:passenger |commercial )?(?:plane|aircraft|airliner|jet|flight)\b"),
    _f("drink_spiking", "violence", 3.2,
       "spike spiking slip rohypnol roofie roofies chloroform date-rape date",
       r"\bspik(?:e|ing) (?:[\w']+ ){0,2}?(?:drinks?|coffee|tea|food|punch|cocktail)\b|"
       r"\bslip (?:[\w']+ ){0,3}?(?:into|in) (?:her|his|their|someone'?s|my \w+'?s?|a (?:girl|guy|woman|man)'?s|the) (?:[\w']+ )?(?:drink|coffee|tea|food|beer|wine)\b|"
       r"\b(?:get|buy|make|use|give|put|slip|obtain|order|dose)\b(?: \w+){0,3}? (?:rohypnol|roofies?|date[- ]rape drugs?|chloroform)\b"),
    _f("weapon_past_security", "weapons", 2.8,
       "gun guns knife knives blade blades weapon weapons firearm firearms explosive explosives bomb bombs pistol pistols taser tasers",
       r"\b(?:get|sneak|smuggle|slip)\w* (?:a |an |my |the )?(?:[\w']+ )?(?:gun|knife|knives|blade|weapon|firearm|explosive|bomb|pistol|taser)s? "
       r"(?:[\w']+ ){0,2}?(?:past|through|onto|into) (?:the )?(?:airport |tsa |stadium |school |court |security |metal )?(?:security|plane|flight|aircraft|"
       r"metal detectors?|checkpoint|school|stadium|courthouse|concert)\b"),
    _f("undetectable_poison", "violence", 3.2,
       "poison poisons toxin toxins substance substances chemical chemicals undetectable untraceable tasteless odorless odourless antifreeze arsenic cyanide",
       r"\b(?:poisons?|toxins?|substances?|chemicals?)(?: \w+)? (?:that|which) (?:[\w']+ ){0,3}?(?:can'?t|cannot|won'?t|wouldn'?t|doesn'?t|don'?t|will not|would not) "
       r"(?:[\w']+ ){0,2}?(?:be )?(?:detected|traced|show up)|\b(?:undetectable|untraceable|tasteless|odou?rless) (?:[\w']+ )?poisons?\b|"
       r"\bpoison (?:[\w']+ ){0,2}?(?:slowly|over time|little by little|gradually)\b|"
       r"\b(?:put|slip|add|mix)\w* (?:[\w']+ ){0,3}?(?:poison|antifreeze|arsenic|cyanide) (?:in|into) (?:[\w']+ ){0,2}?(?:food|drink|coffee|tea|meal|soup)\b"),
    _f("covert_tracking", "privacy", 2.8,
       "track tracking monitor spy follow read see check access intercept clone log record mirror install hidden secret find locate",
       r"^(?=.*\b(?:without (?:her|him|them|his|their|my \w+|the \w+|anyone)(?:'s)? (?:[\w']+ )?(?:knowing|knowledge|consent|permission|noticing|finding out)|"
       r"secretly|covertly|behind (?:her|his|their|my \w+'s) back|without (?:being|getting) (?:caught|noticed|detected)|(?:she|he|they) (?:won'?t|never|doesn'?t) "
       r"(?:know|find out|notice))\b).*\b(?:track|monitor|spy on|follow|read|see|check|access|intercept|clone|log|record|mirror|hack|get into)\w* (?:[\w']+ ){0,3}?"
       r"(?:my (?:[\w']+ )?(?:wife|husband|partner|ex|girlfriend|boyfriend|gf|bf|boss|coworker|employee|neighbou?r|roommate|daughter|son|mother|father|mom|dad|"
       r"friend|sister|brother)|someone|somebody|her|his|their|a person)(?:'s)? (?:[\w']+ ){0,2}?(?:phone|location|messages|texts|whatsapp|imessages?|emails?|"
       r"calls|browsing|internet history|car|movements|whereabouts|snapchat|instagram|facebook|dms|chats|conversations)\b|"
       r"\binstall (?:[\w']+ ){0,2}?(?:spyware|stalkerware|a tracker|a gps tracker|tracking (?:app|software)|a keylogger|a hidden camera) (?:on|in) "
       r"(?:her|his|their|my \w+'s|someone'?s)\b|\b(?:hidden|secret) cameras? (?:in|into) (?:[\w']+ ){0,2}?(?:bathroom|bedroom|shower|changing room)\b|"
       r"\b(?:find|get|locate|track down|figure out)\w* (?:[\w']+ ){0,3}?(?:home address|address|where (?:she|he|they) (?:lives?|sleeps?)) "
       r"(?:[\w']+ ){0,3}?from (?:just )?(?:a |an |her |his |their )?(?:photo|picture|username|license plate|licence plate|ip address|selfie|instagram)\b"),
    _f("impersonation_phishing", "cyber", 2.8,
       "pretend pretending pretends pose posing impersonate impersonating disguised spoof spoofed spoofing fake looks appears claiming harvest harvesting",
       r"\b(?:pretend\w* to be|pos\w* as|impersonat\w*|disguis\w* as|(?:looks?|appears?) (?:like it(?:'s| is| came)|to (?:be|come)) from|spoof\w*|"
       r"claiming to be from) (?:[\w']+ ){0,3}?(?:bank|paypal|irs|hmrc|amazon|apple|microsoft|netflix|google|police|government|tax office|ceo|boss|"
       r"it (?:department|support)|tech support|delivery company|fedex|ups|dhl|usps|royal mail)\b(?=.{0,120}\b(?:login|log in|password|passcode|"
       r"credentials|card (?:number|details)|bank (?:details|account)|account (?:number|details)|pin|ssn|social security|verification code|one-time code|"
       r"otp|2fa code|gift cards?|wire|transfer|payment|personal (?:details|information)|details)\b)|\bfake login (?:page|site|form|screen)s?\b|"
       r"\bcredential harvest\w*|\bharvest (?:[\w']+ ){0,2}?(?:credentials|logins|passwords)\b|"
       r"\bclone (?:a |the )?(?:[\w']+ )?(?:login|bank(?:ing)?) (?:page|site|website)\b"),
    _f("card_fraud", "crime", 2.6,
       "skim skimming skimmer skimmers carding cvv clone stolen cloned skimmed sim",
       r"\bskim(?:ming)? (?:[\w']+ ){0,2}?(?:cards?|card numbers|credit|debit)\b|\bcard skimm\w*|\bskimmers? (?:on|at|for|to|in)\b|"
       r"\b(?:use|buy|sell|cash out|make money with) (?:[\w']+ ){0,2}?(?:stolen|cloned|skimmed) (?:credit |debit |gift )?cards?\b|"
       r"\bclone (?:a |someone'?s |her |his )?(?:credit |debit |sim |bank )?cards?\b|\bcarding\b|\bcvv (?:dumps?|shops?)\b|"
       r"\b(?:buy|use|cash out) (?:[\w']+ ){0,2}?card (?:numbers|details|dumps)\b|\bsim[- ]swap\w*"),
    _f("fake_scheme", "crime", 2.6,
       "fake",
       r"\bfake (?:[\w']+ )?(?:charity|charities|fundraiser|gofundme|donation (?:page|site|drive)|crowdfunding|investment|lottery|giveaway|"
       r"job (?:offer|posting|listing)s?|sweepstakes|tech support|invoices?|refund|insurance claim|rental listing|escrow|doctor'?s note|sick note|"
       r"money|bills|banknotes|twenties|hundreds|euros|dollars|"
       r"diploma|degree|transcript|prescriptions?(?! glasses| lenses)|receipts|pay ?stubs?|bank statements?)\b"),
    _f("frame_someone", "crime", 2.6,
       "frame plant fabricate false falsely",
       rf"\bframe (?:{_PERSON}) (?:[\w']+ )?for\b|\bplant (?:drugs|evidence|a gun|a weapon|stolen \w+) (?:on|in)\b|"
       r"\b(?:fabricate|plant|forge) (?:[\w']+ ){0,2}?evidence\b|\b(?:make|file|submit|write) (?:a )?false (?:police report|accusation|allegation|claim|complaint)\b|"
       rf"\bfalsely accuse (?:{_PERSON})\b"),
    _f("illicit_prescription", "crime", 2.6,
       "prescription prescriptions doctor-shop doctor-shopping doctor symptoms",
       r"\b(?:get|buy|obtain|order|score|acquire|source)\w* (?:[\w']+ ){0,3}?(?:opioids?|oxycodone|oxy(?:contin)?|xanax|adderall|percocet|vicodin|"
       r"hydrocodone|morphine|codeine|fentanyl|ketamine|benzos?|valium|tramadol|steroids|ritalin|modafinil)\b(?: \w+){0,3}? without (?:a |any )?"
       r"(?:prescription|doctor|script)\b|\b(?:forge|forged|fake) (?:a )?prescriptions?(?! glasses| lenses)\b|\bdoctor[- ]shop\w*|"
       r"\b(?:fake|exaggerate|lie about) (?:[\w']+ ){0,2}?(?:symptoms|pain) to get (?:[\w']+ ){0,2}?(?:opioids|oxy\w*|xanax|adderall|painkillers|pills|prescriptions?)\b"),
    _f("self_harm_concealment", "self_harm", 3.0,
       "starve starving pro-ana proana thinspo thinspiration hide hiding cover covering conceal pills tablets painkillers noose purge vomit",
       r"\bstarv(?:e|ing) (?:myself|yourself|oneself)\b|\bpro[- ]?ana\b|\bthinspo\w*|"
       r"\b(?:hide|hiding|cover|covering|conceal)\w* (?:up )?(?:my )?(?:self[- ]harm|cuts|cutting|scars|burns|eating disorder|not eating|purging) "
       r"(?:[\w']+ ){0,3}?from (?:my |the )?(?:parents|mom|mum|dad|family|teachers?|school|doctor|therapist|everyone|people|boyfriend|girlfriend|husband|wife)\b|"
       r"\bhow many (?:[\w']+ ){0,2}?(?:pills|tablets|sleeping pills|painkillers|paracetamol|tylenol|aspirin|insulin) (?:[\w']+ ){0,6}?(?:to die|would kill me|"
       r"to kill myself|to not wake up|is fatal|are fatal|is lethal|are lethal)\b|\btie (?:a )?noose\b|\bhang (?:myself|yourself)\b|"
       r"\b(?:make|induce|force) (?:myself|yourself) (?:to )?(?:throw up|vomit|purge)\b"),
    _f("child_abuse", "violence", 3.0,
       "bruises marks welts burns injuries hit beat spank punish discipline smack whip hurt",
       r"\b(?:hide|cover up|conceal|explain away)\w* (?:the )?(?:bruises|marks|welts|burns|injuries) (?:on|from) (?:my |the |a |his |her )?(?:kid|child|son|daughter|"
       r"baby|toddler|stepson|stepdaughter|students?)\b|\b(?:hit|beat|spank|punish|discipline|smack|whip|hurt)\w* (?:my |a |the )?(?:kid|child|son|daughter|baby|"
       r"toddler|children|kids|stepson|stepdaughter) (?:[\w']+ ){0,4}?(?:without (?:leaving )?(?:any )?(?:marks|bruises|evidence)|so (?:it|they|there) (?:[\w']+ ){0,2}?"
       r"(?:(?:doesn|don|won)'?t (?:show|leave)|no marks))"),
    _f("extremism", "violence", 3.0,
       "recruit recruiting recruitment radicalize radicalise radicalizing radicalising militia jihad jihadi jihadist isis neo-nazi nazi nationalist "
       "terrorist extremist manifesto",
       r"\b(?:recruit\w*|radicali[sz]\w*) (?:[\w']+ ){0,4}?(?:for |to |into )?(?:an? |the |my |our )?(?:violent |armed )?(?:militia|terror(?:ist)? (?:group|cell|organi[sz]ation)|"
       r"extremist (?:group|movement|cause)|jihad\w*|isis|al[- ]qaeda|neo-?nazi\w*|white nationalist\w*|accelerationis\w*)\b|"
       r"\b(?:militia|jihadi?|jihadist|isis|neo-?nazi|white nationalist|terrorist|extremist) (?:recruitment|recruiting|propaganda|manifesto|pamphlets?|"
       r"flyers?|posters?|slogans?)\b|\bradicali[sz]e (?:[\w']+ ){0,2}?(?:young|teens?|teenagers?|people|men|youth|kids|followers|others|students)\b|"
       r"\bmanifesto (?:for|like) (?:a |the )?(?:mass shooter|shooter|attack)"),
    _f("persecute_group", "hate", 3.0,
       "jews jewish muslims christians hindus sikhs immigrants refugees migrants blacks white asians asian latinos hispanics mexicans arabs gay "
       "gays lesbians trans transgender women disabled autistic mentally roma gypsies indigenous native poor homeless black",
       rf"\b(?:{_GROUP}) (?:should|must|need to|ought to|deserve to) (?:all )?(?:be )?(?:sterili[sz]ed|exterminated|eliminated|wiped out|gassed|deported|"
       r"locked up|killed|shot|hanged|banned from|segregated|put in camps|not (?:be allowed to )?(?:vote|exist|breed|marry|have children|work))\b|"
       rf"\b(?:{_GROUP}) (?:are|is) (?:[\w']+ ){{0,2}}?(?:inferior|subhuman|animals|vermin|parasites|a disease|a plague|genetically inferior|less intelligent|"
       r"criminals|rapists|terrorists|evil)\b(?!.{0,40}\b(?:a myth|myths|false|untrue|wrong|a stereotype|stereotypes|a misconception|debunk\w*))"),
    _f("staged_death", "violence", 3.2,
       "accident suicide causes attack robbery breathing disappear wake rid eliminate silence whack dispose",
       r"\bmake (?:it|his death|her death|the death|the murder|the killing) look like (?:an? )?(?:accident|suicide|natural causes|heart attack|robbery)\b|"
       rf"\bmake (?:{_PERSON}) (?:stop breathing|disappear (?:for good|permanently|forever)|never wake up)\b|"
       rf"\b(?:get rid of|eliminate|silence|whack|dispose of) (?:{_PERSON})\b(?=.{{0,50}}\b(?:for good|permanently|forever|without|"
       r"so (?:no one|nobody)|look like|caught|police|trace|body)\b)"),
    _f("drug_misuse", "crime", 2.6,
       "high stoned wasted tripping trip buzzed snort snorting inject injecting smoke crush shoot plug boof huff huffing sniff inhale mix "
       "combine sell selling deal dealing push cut stash hide smuggle ship mail dealer plug grow cultivate cook brew extract pass beat cheat "
       "fool trick test pee urine shrooms psilocybin mescaline peyote lean drank freebase dabs",
       r"\b(?:how (?:to|do i|can i|could i|would i)|ways? to|best way to|easiest way to|help me|i want to|i wanna|can i|trying to) (?:get|stay) "
       r"(?:high|stoned|wasted|tripping|buzzed)\b(?! (?:altitude|ground|score|marks))|"
       r"\bget(?:ting)? (?:high|stoned|wasted|tripping) (?:on|off|from|with)\b|\b(?:take|use|smoke|drink|eat|snort|mix) (?:\w+ ){0,3}?to get "
       r"(?:high|stoned|wasted|tripping|buzzed)\b|"
       r"\b(?:snort|inject|smoke|crush|shoot up|plug|boof|huff|sniff|inhale)\w* (?:[\w']+ ){0,3}?(?:pills|oxy\w*|xanax|xans|adderall|ritalin|heroin|cocaine|"
       r"coke|ketamine|fentanyl|meth|glue|paint|gasoline|nitrous|whippets|percocets?|percs|morphine|opioids?|crack|molly|bath salts)\b|"
       r"\b(?:mix|combine)\w* (?:[\w']+ ){0,3}?(?:xanax|xans|benzos?|oxy\w*|opioids?|alcohol|molly|mdma|cocaine|coke|ketamine|lean|codeine|dxm) "
       r"(?:and|with) (?:[\w']+ ){0,2}?(?:xanax|xans|benzos?|oxy\w*|opioids?|alcohol|booze|molly|mdma|cocaine|coke|ketamine|lean|codeine|dxm)\b"
       r"(?=.{0,60}\b(?:high|buzz|trip|stronger|intense|harder|better)\b)|"
       r"\b(?:sell|deal|push|move|distribute|cut|stash|hide|smuggle|ship|mail|post)\w* (?:[\w']+ ){0,3}?(?:drugs|weed|coke|cocaine|molly|pills|xans|percs|"
       r"meth|heroin|fentanyl|shrooms|ketamine|lsd|mdma|ecstasy|dope|narcotics|crack)\b(?! (?:addiction|addicts|overdoses?|prevention|policy|laws?)\b)|"
       r"\b(?:find|get|score|cop)\w* (?:a |my |an? )?(?:drug )?(?:dealer|plug)\b|"
       r"\b(?:grow|cultivate|cook|brew|extract|synthesi[sz]e|make|produce)\w* (?:[\w']+ ){0,3}?(?:shrooms|psilocybin|magic mushrooms|mescaline|peyote|crack|"
       r"crystal meth|purple drank|freebase|hash oil|dabs|bho)\b|"
       r"\b(?:pass|beat|cheat|fool|trick) (?:[\w']+ ){0,2}?(?:drug|urine|piss|hair follicle|breathalyzer|breathalyser) tests?\b|"
       r"\b(?:fake|synthetic|someone else'?s|clean) (?:pee|urine) (?:for|to pass)\b|"
       r"\bhow (?:much|many) (?:[\w']+ ){0,6}?(?:to|do i need to|should i take to) (?:get high|trip|get stoned|get a buzz|feel (?:high|the high))\b"),
    _f("covert_capture", "cyber", 2.8,
       "secretly silently covertly quietly invisibly background keystrokes keystroke",
       r"\b(?:secretly|silently|covertly|quietly|invisibly|in the background)\b (?:[\w']+ ){0,2}?(?:record|capture|log|steal|grab|copy|upload|send|forward)\w* "
       r"(?:[\w']+ ){0,3}?(?:keystrokes|keys|passwords|screen|screenshots|webcam|camera|microphone|mic|messages|texts|browsing|clipboard|location|credentials)\b|"
       r"\b(?:record|capture|log)s? (?:every |all )?(?:keystrokes?|keys pressed)\b(?=.{0,80}\b(?:emails?|send|sends|uploads?|without|secretly|silently)\b)"),
    _f("improvised_weapon", "weapons", 2.8,
       "shiv shank zip pipe slam-fire slamfire sear bump switchblade knuckles dusters turn flamethrower gas fumes smoke",
       r"\b(?:make|build|craft|whittle|fashion|sharpen|improvise|file)\w* (?:[\w']+ ){0,3}?(?:shiv|shank|zip gun|pipe gun|slam[- ]?fire|auto sear|bump stock|"
       r"switchblade|brass knuckles|knuckle dusters?|poison(?:ed)? darts?)\b|\bturn (?:a |an |my )?(?:[\w']+ ){0,2}?into (?:a |an )?(?:weapon|gun|flamethrower|bomb|explosive)\b|"
       r"\b(?:make|produce|create|generate|release)\w* (?:[\w']+ ){0,3}?(?:toxic|poisonous|deadly|lethal|nerve|chlorine|mustard|phosgene|hydrogen sulfide) "
       r"(?:gas|fumes|smoke|cloud)\b"),
    # --- second round (2026-12-07, afternoon), from the same taxonomy: threats, arson, swatting, luring,
    # beatings without marks, sexual acts with a minor by age, leaked intimate images, refund and insurance
    # fraud, hiding money, exam cheating with evasion, wireless attacks, group insults, snooping on a partner
    _f("threats", "violence", 2.6,
       "threat threats threatening threaten swat swatting",
       r"\b(?:send|write|draft|compose|leave) (?:[\w']+ ){0,3}?(?:death threats?|threat(?:s|ening (?:message|letter|note|text|email|voicemail)s?)? "
       r"(?:to|for|against))\b|\bthreaten (?:to (?:kill|hurt|rape|shoot|stab|beat)|(?:her|him|them|my \w+) with (?:a )?(?:gun|knife|violence))\b|"
       r"\bswat(?:ting)? (?:someone|him|her|them|my|a streamer|that streamer)\b|\bcall in a (?:fake )?(?:bomb threat|hostage|shooting)\b"),
    _f("arson", "violence", 3.0,
       "fire burn torch arson",
       r"\b(?:set (?:fire to|on fire|alight)|burn down|torch)\w* (?:[\w']+ ){0,3}?(?:house|home|car|building|school|church|mosque|synagogue|temple|"
       r"apartment|flat|store|shop|office|restaurant|clinic|barn)s?\b|\bstart (?:a |an )?(?:\w+ )?fire (?:at|in) (?:[\w']+ ){0,2}?(?:house|school|building|"
       r"office|store|apartment|flat|shop|car)\b"),
    _f("lure_person", "violence", 3.0,
       "lure lured luring entice",
       r"\b(?:lure|entice)\w* (?:a |the |that |this |some )?(?:child|kid|girl|boy|teen|teenager|woman|stranger|minor) (?:[\w']+ ){0,2}?"
       r"(?:into|to) (?:my|a|the) (?:car|van|house|home|basement|apartment|room|truck)\b"),
    _f("beat_no_marks", "violence", 3.0,
       "marks bruises evidence trace",
       r"\b(?:hit|hurt|beat|punch|choke|strangle|slap|kick)\w* (?:[\w']+ ){0,3}?without leaving (?:any )?(?:marks|bruises|evidence|a trace)\b"),
    _f("minor_by_age", "sexual", 4.0,
       "year yo 1yo 2yo 3yo 4yo 5yo 6yo 7yo 8yo 9yo 10yo 11yo 12yo 13yo 14yo 15yo 16yo 17yo",
       r"\b(?:date|sleep with|hook up with|have sex with|seduce|kiss|sext|sexting with|undress|touch)\w* (?:a |an |my |this |that )?"
       r"(?:\d|1[0-7])[- ]?(?:year[- ]old|yo)\b"),
    _f("leaked_images", "sexual", 3.0,
       "nudes nude intimate tape naked threaten",
       r"\b(?:leak|post|share|upload|send|spread)\w* (?:[\w']+ ){0,3}?(?:her|his|their|my ex'?s|my (?:ex-)?(?:girlfriend|boyfriend|wife|husband)'?s) "
       r"(?:[\w']+ )?(?:nudes|nude (?:photos|pics|pictures|videos)|intimate (?:photos|pics|pictures|videos|images)|sex tape|naked (?:photos|pics|pictures))\b|"
       r"\bthreaten (?:to )?(?:leak|post|share|send) (?:[\w']+ ){0,2}?(?:nudes|photos|pics|pictures|videos)\b"),
    _f("refund_fraud", "crime", 2.4,
       "fake false fraudulent bogus refund refunds chargeback chargebacks lie lying never broken damaged stolen lost",
       r"\b(?:file|make|submit|put in|lodge)\w* (?:a |an )?(?:fake|false|fraudulent|bogus) (?:insurance |warranty |refund |injury |damage )?"
       r"(?:claims?|chargebacks?)\b|\b(?:fake|false|fraudulent|bogus) (?:insurance|warranty|refund|injury|damage) claims?\b|"
       r"\b(?:get|claim|demand)\w* (?:a )?refunds? (?:[\w']+ ){0,3}?(?:without (?:returning|sending back)|for (?:[\w']+ ){0,2}?(?:i|we) (?:never|didn'?t|did not))\b|"
       r"\bchargeback (?:fraud|scam)|\b(?:lie|lying) (?:to (?:[\w']+ ){0,2}?)?to (?:get|claim) (?:a )?(?:refund|compensation|discount|payout)\b|"
       r"\b(?:say|claim|pretend)\w* (?:[\w']+ ){0,6}?(?:never (?:arrived|came)|was (?:broken|damaged|stolen|lost)) (?:[\w']+ ){0,4}?"
       r"(?:to get|so (?:i|we) (?:can|could) get) (?:a |my |our )?(?:refund|replacement|money back|payout)"),
    _f("hide_money", "crime", 2.4,
       "hide hiding conceal stash offshore",
       r"\b(?:hide|hiding|conceal|stash)\w* (?:[\w']+ ){0,3}?(?:money|income|assets|cash|earnings|savings|crypto) (?:from|so) (?:the )?"
       r"(?:irs|hmrc|tax(?:man| office| authorities)?|taxes|my (?:wife|husband|spouse)|the court|creditors|the divorce|bankruptcy)\b"),
    _f("exam_cheating", "crime", 2.2,
       "cheat cheating",
       r"\bcheat\w* (?:on|in|during|at) (?:[\w']+ ){0,2}?(?:exams?|tests?|quiz|finals?|midterms?|sat|act|gre|gmat|lsat|bar exam|board exam|certification)\b"),
    _f("wireless_attack", "cyber", 2.6,
       "evil deauth deauthentication jam jammer jamming sniff sniffing intercept",
       r"\bevil twin\b|\bdeauth(?:entication)? (?:attack|packets)\b|\bjam(?:ming)? (?:a |the |my neighbou?r'?s |someone'?s )?"
       r"(?:wi-?fi|signal|gps|cell(?:phone)? (?:signal|service)|network)\b|\b(?:sniff|intercept)\w* (?:[\w']+ ){0,3}?(?:someone'?s |other people'?s |"
       r"the )?(?:wi-?fi|traffic|packets|passwords) (?:on|at|in) (?:a |the )?(?:public|coffee shop|cafe|hotel|airport|school|neighbou?r)"),
    _f("group_insult", "hate", 2.6,
       "stupid lazy dirty violent greedy ugly dumb smelly criminals cheap inferior evil disgusting terrorists ill danger dangerous perverts "
       "pedophiles paedophiles groomers intelligent",
       rf"\bwhy (?:are|do) (?:all )?(?:{_GROUP}|fat people|old people) (?:so |always )?(?:stupid|lazy|dirty|violent|greedy|ugly|dumb|smelly|criminals|"
       r"cheap|inferior|evil|disgusting|terrorists|mentally ill|a danger|dangerous|perverts|pedophiles|paedophiles|groomers|less intelligent)\b"),
    _f("partner_snooping", "privacy", 2.6,
       "wife husband partner girlfriend boyfriend ex spouse gf bf wife's husband's partner's girlfriend's boyfriend's ex's spouse's "
       "wifes husbands partners girlfriends boyfriends exs spouses",
       r"\b(?:read|see|access|check|spy on|go through|look at)\w* (?:[\w']+ ){0,2}?(?:my )?(?:wife|husband|partner|girlfriend|boyfriend|ex|spouse|"
       r"gf|bf)'?s? (?:[\w']+ ){0,2}?(?:texts|messages|whatsapp|dms|emails|snapchat|chats|call logs?|browser history)\b"),
    # --- third round (2026-12-07), acts told in a story first ("my neighbour keeps ..., how do I ..."): vandalism,
    # theft of controlled drugs at work, getting into someone's account, making someone sick, a pet made to disappear,
    # meeting a minor behind the parents' backs, a fake review campaign against a competitor
    _f("vandalism", "crime", 2.4,
       "slash slashing puncture key keying scratch smash vandalize vandalise egg spray",
       r"\b(?:slash|puncture|key|scratch|smash|vandali[sz]e|egg|spray[- ]paint)\w* (?:[\w']+ ){0,3}?(?:tyres|tires|car|cars|windows?|windshield|"
       r"windscreen|paintwork|house|fence|mailbox|letterbox)\b"),
    _f("drug_diversion", "crime", 2.8,
       "take taking steal stealing skim skimming pocket divert diverting swipe",
       r"\b(?:take|steal|skim|pocket|divert|swipe|sneak)\w* (?:[\w']+ ){0,3}?(?:oxy\w*|opioids?|pills|controlled (?:drugs|substances)|narcotics|morphine|"
       r"fentanyl|xanax|adderall|ketamine|painkillers|meds|medication)\b(?=.{0,80}\b(?:counts?|inventory|stock|log|register) (?:\w+ )?(?:add up|match|"
       r"balance|look right)|.{0,80}\bwithout (?:anyone|them|the (?:pharmacist|manager|nurse|boss)) (?:noticing|knowing|finding out))"),
    _f("account_takeover", "cyber", 2.8,
       "into",
       r"\b(?:get|log|sign|break|hack)s? ?(?:in ?to|into) (?:her|his|their|my ex'?s|someone'?s|someone else'?s|my (?:wife|husband|partner|girlfriend|"
       r"boyfriend|boss|coworker|roommate|sister|brother|mom|dad|friend)'?s) (?:[\w']+ )?(?:account|icloud|email|e-mail|phone|instagram|facebook|"
       r"snapchat|gmail|laptop|computer|whatsapp|bank)\b"),
    _f("sicken_someone", "violence", 3.0,
       "sick ill vomit throw pass sleepy unconscious",
       r"\b(?:put|slip|add|mix|give|feed|sprinkle)\w* (?:[\w']+ ){0,6}?(?:to make (?:him|her|them|someone|the \w+|my \w+) (?:really |very |violently |so )?"
       r"(?:sick|ill|vomit|throw up|pass out|sleepy|unconscious)|so (?:he|she|they) (?:gets?|get|feels?) (?:really |very )?(?:sick|ill))\b"),
    _f("pet_disappear", "violence", 2.6,
       "disappear disappears",
       r"\bmake (?:[\w']+ ){0,2}?(?:dog|cat|pet|puppy|kitten|parrot|rabbit)s? (?:disappear|go away for good|vanish)\b"),
    _f("minor_secret_meeting", "sexual", 4.0,
       "parents parent mom mum dad mother father",
       r"^(?=.*\b(?:(?:\d|1[0-7])[- ]year[- ]old|minor|underage|teen|teenager|schoolgirl|schoolboy|(?:\d|1[0-7]) ?yo)\b).*"
       r"\b(?:meet|see|visit|pick up)\w* (?:me|up|her|him)\b(?: [\w']+){0,4}? without (?:telling |asking |letting )?(?:her|his|their) "
       r"(?:parents|mom|mum|dad|mother|father)"),
    _f("review_campaign", "misinformation", 2.4,
       "reviews review testimonials ratings one-star star",
       r"\b(?:reviews|testimonials|ratings) (?:[\w']+ ){0,5}?(?:from|by|as|under|using) (?:[\w']+ ){0,2}?(?:fake|made-up|made up|fictional|invented|"
       r"bogus|sock ?puppet) (?:\w+ )?(?:customers|accounts|names|people|profiles|users|identities)\b|"
       r"\b(?:one|1)[- ]star reviews? (?:for|of|on|about) (?:their|his|her|a competitor'?s?|my competitor'?s?|the competitor'?s?|our competitor'?s?|"
       r"(?:a |the |our |my )?rival'?s?)\b"),
    # --- fifth round (2026-12-07): content that demeans a group (mocking it, false claims about it, insults aimed at
    # someone's origin, telling people to leave), asked for in so many words
    _f("mock_group", "hate", 3.2,
       "joke jokes meme memes roast mock mocking ridicule ridiculing fun humiliate humiliating",
       rf"\b(?:write|make|create|draft|come up with|give me|tell me|generate)\b(?: [\w']+){{0,4}}? (?:mock\w*|ridicul\w*|making fun of|make fun of|"
       rf"humiliat\w*) (?:all )?(?:{_GROUP})\b|"
       rf"\b(?:jokes?|memes?|roasts?|songs?|poems?|tweets?|posts?|cartoons?|limericks?) (?:[\w']+ ){{0,3}}?about how (?:[\w']+ ){{0,2}}?(?:{_GROUP}) (?:are|is)\b"),
    _f("demeaning_claim", "hate", 3.2,
       "inferior stupid intelligent ill danger dangerous criminals violent evil subhuman animals parasites disgusting threat diseased perverts "
       "pedophiles paedophiles groomers ruining destroying invading replacing allowed control",
       rf"\b(?:explain\w*|prov(?:e|ing)|argu(?:e|ing)|convinc\w* (?:me|people|everyone)|saying|claiming|reasons?|why)\b (?:that |why |how )?(?:all )?"
       rf"(?:{_GROUP}) (?:(?:are|is) (?:[\w']+ ){{0,2}}?(?:inferior|stupid|less intelligent|mentally ill|a danger|dangerous|criminals|violent|evil|"
       r"subhuman|animals|parasites|disgusting|a threat|diseased|perverts|pedophiles|paedophiles|groomers|ruining|destroying|invading|replacing)\b|"
       r"(?:shouldn'?t|should not|must not|mustn'?t) be allowed to\b|control (?:the )?(?:banks|media|government|world|money)\b)"
       r"(?!.{0,40}\b(?:a myth|myths|false|untrue|wrong|a stereotype|stereotypes|a misconception|debunk\w*))"),
    _f("origin_insults", "hate", 2.6,
       "insults insult names nicknames jokes",
       r"\b(?:insults?|names|nicknames|jokes) (?:[\w']+ ){0,4}?(?:based on|about|for) (?:his|her|their) (?:accent|race|skin(?: colou?r)?|religion|"
       r"ethnicity|nationality|turban|hijab)\b|\binsults? for (?:my|a|the|this|that) (?:indian|black|chinese|asian|mexican|muslim|jewish|arab|"
       r"african|pakistani|polish|gay|trans|lesbian|disabled)\b"),
    _f("go_back_message", "hate", 2.6,
       "back",
       r"\b(?:write|draft|make|create|design|print)\w*(?: [\w']+){0,4}? (?:flyers?|posters?|signs?|letters?|notes?|messages?|posts?|tweets?|"
       r"stickers?|banners?|leaflets?)\b(?: [\w']+){0,6}? go back (?:to )?(?:where they came from|(?:their|your) (?:own )?countr(?:y|ies))\b"),
    _f("race_as_cause", "hate", 3.2,
       "criminals stupid lazy dangerous violent inferior thieves terrorists",
       r"\b(?:are|is) (?:all )?(?:criminals|stupid|lazy|dangerous|violent|inferior|thieves|terrorists) because of (?:their|his|her) "
       r"(?:race|religion|ethnicity|skin(?: colou?r)?)\b"),
    # --- fourth round (2026-12-07): finding a private person, and their records without consent
    _f("doxxing_stranger", "privacy", 3.2,
       "address number lives works sleeps parks routine schedule workplace whereabouts + woman man girl guy customer reviewer streamer "
       "driver nurse cashier stranger" + _FIND_WORDS,
       r"\b(?:find|get|look up|dig up|track down|figure out|locate|search for|pull up)\w* (?:out )?(?:[\w']+ ){0,5}?"
       r"(?:home address|(?:home |personal |cell |mobile )?phone number|where (?:she|he|they) (?:lives?|works?|sleeps?|parks?)|daily (?:routine|schedule)|"
       r"workplace|whereabouts) (?:of |for )?(?:the|that|this|a) (?:woman|man|girl|guy|customer|reviewer|streamer|driver|nurse|cashier|"
       r"stranger) (?:who|that)\b"),
    _f("doxxing", "privacy", 3.2,
       "address number lives works sleeps routine schedule workplace whereabouts + confront surprise blocked restraining knowing away changed "
       "visit show turn wait teach" + _FIND_WORDS,
       rf"\b{_FIND_PERSON}\b(?=.{{0,120}}\b{_PURSUIT})|\b{_PURSUIT}.{{0,120}}\b{_FIND_PERSON}\b"),
    _f("records_snooping", "privacy", 2.6,
       "records record history file files statements",
       rf"\b(?:get|access|see|read|look at|look up|pull|obtain|view)\w* (?:into )?(?:[\w']+ ){{0,2}}?(?:{_PERSON}|someone else|a patient)'?s? "
       r"(?:[\w']+ )?(?:medical|health|bank|banking|financial|criminal|phone|hospital|therapy|hr|employment|tax) (?:records?|history|files?|statements?)\b"
       r"(?=.{0,60}\bwithout (?:her|his|their|them|him|anyone)?'?s? ?(?:consent|permission|knowing|knowledge|authori[sz]ation)|.{0,60}\bsecretly)"),
)
