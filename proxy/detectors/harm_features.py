"""The hand-written features of the harmful-request detector (:mod:`proxy.detectors.harmful`): a table.

Each feature names *what* is asked for (a harm object or act, with its category), *how* it is
asked (a request for instructions, code, a plan; an evasion clause such as "without getting
caught") or a *benign context* that makes the same words harmless ("kill a process", "what is",
"how do I protect myself from"). Weights are hand-set log-odds written from a harm taxonomy (never
from a specific prompt of any set), so they hold on phrasings no model has seen. Patterns run on
lower-cased, whitespace-collapsed text; each carries trigger words that gate it cheaply.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BENIGN_CONTEXT", "HARM_OBJECTS", "INTENT", "HarmFeature"]


from proxy.detectors.harm_acts import HARM_ACTS
from proxy.detectors.harm_vocab import GROUP as _GROUP
from proxy.detectors.harm_vocab import MAKE as _MAKE
from proxy.detectors.harm_vocab import PERSON as _PERSON
from proxy.detectors.harm_vocab import HarmFeature
from proxy.detectors.harm_vocab import feature as _f

HARM_OBJECTS: Final[tuple[HarmFeature, ...]] = (
    _f("explosives", "weapons", 3.0,
       "bomb bombs explosive explosives ied napalm thermite molotov grenade grenades detonator c4 c-4 tnt semtex anfo tatp",
       r"\b(?:pipe |car |nail |dirty |fertili[sz]er )?bombs?\b|\bexplosives?\b|\bi\.?e\.?d\b|\bnapalm\b|\bthermite\b|\bmolotov\b|\bgrenades?\b|"
       r"\bdetonators?\b|\bc-?4\b|\btnt\b|\bsemtex\b|\banfo\b|\btatp\b"),
    _f("cbrn", "weapons", 3.5,
       "nerve sarin vx tabun soman novichok mustard chlorine phosgene ricin anthrax botulinum bioweapon bioweapons biological chemical "
       "nuclear uranium plutonium pathogen pathogens toxin smallpox plague cyanide radiological weaponize weaponise",
       r"\bnerve (?:agent|gas)s?\b|\bsarin\b|\bvx\b|\btabun\b|\bsoman\b|\bnovichok\b|\bmustard gas\b|\bchlorine gas\b|\bphosgene\b|\bricin\b|"
       r"\banthrax\b|\bbotulinum\b|\bbio-?weapons?\b|\b(?:biological|chemical|nuclear|radiological) (?:weapon|attack|agent)s?\b|"
       r"\b(?:enriched|weapons?-grade) (?:uranium|plutonium)\b|\bweaponi[sz]e\b|\bsmallpox\b|\bcyanide\b|\b(?:deadly|lethal) (?:pathogen|toxin|virus)e?s?\b"),
    _f("firearms", "weapons", 2.6,
       "gun guns firearm firearms rifle rifles automatic silencer suppressor untraceable ghost ar-15 ammunition",
       r"\b(?:untraceable|ghost|homemade|3d[- ]printed|unregistered) (?:gun|firearm|pistol|rifle)s?\b|\b(?:fully )?automatic (?:rifle|weapon|fire)\b|"
       r"\bconvert (?:a |an |my )?(?:\w+ ){0,2}(?:rifle|gun|ar-15)\b|\b(?:silencer|suppressor)s?\b|\bbuy (?:a )?(?:gun|firearm)s? (?:without|illegally)\b"),
    _f("kill_person", "violence", 3.0,
       "kill killing murder murdering assassinate poison poisoning strangle stab shoot torture kidnap abduct hurt injure maim beat drown suffocate "
       "attack assault sedate smother choke bludgeon shank disfigure cripple paralyze paralyse knock",
       rf"\b(?:kill|killing|murder|murdering|assassinate|poison|poisoning|strangle|stab|shoot|torture|kidnap|abduct|hurt|injure|maim|beat up|drown|suffocate|"
       rf"sedate|smother|choke|bludgeon|shank|disfigure|cripple|paraly[sz]e|knock out) "
       rf"(?:\w+ ){{0,2}}(?:{_PERSON})\b|\bknock (?:{_PERSON}) (?:out|unconscious)\b|\bphysically (?:attack|assault|hurt) (?:{_PERSON})\b|"
       rf"\b(?:attack|assault|jump|ambush) (?:{_PERSON}) (?:with (?:a |an |my )?(?:knife|bat|hammer|acid|gun|weapon|machete|brick|crowbar|bottle)|"
       rf"(?:and|to) (?:hurt|kill|injure|beat|stab|rob))\b"),
    _f("mass_violence", "violence", 3.2,
       "shooting massacre terrorist terrorism terror genocide bodies body murder killing",
       r"\bmass (?:shooting|murder|killing|casualt)|\bschool shooting\b|\bterror(?:ist)? attack\b|\bmassacre\b|\bgenocide\b|\bethnic cleansing\b|"
       r"\b(?:dispose of|get rid of|hide) (?:a |the )?(?:dead )?bod(?:y|ies)\b|\bget away with (?:murder|killing)\b|\bjoin (?:isis|al-qaeda|a terrorist)"),
    _f("self_harm", "self_harm", 3.2,
       "myself suicide overdose starve purge self-harm selfharm wrists life die",
       r"\b(?:kill|hurt|cut|harm|hang|poison|starve|burn) myself\b|\bsuicide (?:method|note)s?\b|\b(?:commit|committing) suicide\b|\bend my (?:own )?life\b|"
       r"\boverdose on\b|\bself[- ]?harm\b|\bslit (?:my )?wrists\b|\bpainless(?:ly)? (?:way to )?die\b"),
    _f("malware", "cyber", 3.0,
       "malware ransomware keylogger keyloggers trojan rootkit botnet spyware virus worm backdoor exploit exploits zero-day payload cryptojacking stalkerware",
       r"\b(?:malware|ransomware|keyloggers?|trojans?|rootkits?|botnets?|spyware|stalkerware|backdoors?|cryptojack\w*)\b|"
       r"\b(?:computer )?(?:virus|worm) (?:that|to|which)\b|\bzero[- ]day (?:exploit)?|\bexploit (?:code|kit|for)\b|\b(?:self-replicating|polymorphic) (?:code|virus|malware)\b"),
    _f("intrusion", "cyber", 2.8,
       "hack hacking crack cracking ddos brute-force phishing steal injection bypass disable escalate",
       r"\bhack(?:ing)? (?:into )?(?:someone|somebody|my (?:ex|wife|husband|boss|neighbou?r)|a |an |the |his |her |their )(?:'s )?(?:[\w']+ ){0,3}"
       r"(?:account|email|phone|computer|network|wi-?fi|server|database|website|system|camera|bank)s?\b|\bcrack (?:a |the |someone's )?(?:password|wi-?fi|license)|"
       r"\bddos\b|\bbrute[- ]force (?:into|attack)|\bphishing (?:email|page|site|kit|campaign|message)s?\b|\bsql injection (?:to|attack)|"
       r"\bsteal (?:\w+ ){0,2}(?:passwords?|credentials|cookies|logins?|data|credit card|identit)|\b(?:bypass|disable|evade) (?:the )?(?:antivirus|edr|firewall|2fa|two-factor|authentication)\b|"
       r"\bescalate (?:my )?privileges?\b"),
    _f("drugs", "crime", 2.8,
       "meth methamphetamine fentanyl heroin cocaine crack lsd mdma dmt ghb opium amphetamine amphetamines ketamine molly ecstasy xtc xanax xans "
       "oxys percs shrooms psilocybin 2cb 2c-b nbome smack",
       rf"\b(?:{_MAKE}) (?:\w+ ){{0,2}}(?:meth|methamphetamine|fentanyl|heroin|cocaine|crack cocaine|lsd|mdma|dmt|ghb|opium|amphetamines?|ketamine|"
       r"molly|ecstasy|xtc|xanax|xans|oxys|percs|shrooms|psilocybin|2c-?b|nbome|smack)\b|"
       r"\b(?:sell|smuggle|traffic|deal) (?:\w+ ){0,2}(?:drugs|meth|cocaine|heroin|fentanyl)\b"),
    _f("fraud_theft", "crime", 2.6,
       "launder laundering counterfeit forge forged fake identity shoplift shoplifting smuggle smuggling traffic trafficking evade evasion "
       "embezzle insider bribe scam scams ponzi fraud blackmail extort extortion stalk dox doxx hotwire steal stolen pickpocket",
       r"\blaunder(?:ing)? (?:\w+ ){0,3}?(?:money|cash|funds|proceeds|profits|bitcoin|crypto|earnings)\b|\bmoney laundering\b|"
       r"\bcounterfeit (?:money|bills|currency|goods)\b|\bforge (?:a |an )?(?:\w+ )?(?:passport|signature|document|id|check|cheque)|"
       r"\bfake (?:passport|id|driver'?s licen[cs]e|identity|documents)\b|\bidentity theft\b|\bshoplift|\b(?:human|sex) trafficking\b|\bsmuggl\w+ (?:drugs|people|weapons|migrants)|"
       r"\bevade (?:\w+ )?taxes\b|\btax evasion\b|\bembezzl|\binsider trading\b|\bbribe (?:a |an |the )?(?:official|judge|police|cop)|\b(?:run|set up|start) (?:a |an )?(?:\w+ )?(?:scam|ponzi|fraud)|"
       r"\b(?:scam|defraud) (?:old|elderly|people|someone|customers)|\bblackmail\b|\bextort|\bstalk (?:someone|my|her|him|a)|\bdoxx?(?:ing)?\b|\bhotwire\b|"
       r"\bsteal (?:a car|from|someone'?s|money|a |an )|\bsell stolen\b|\bpickpocket"),
    _f("break_in", "crime", 2.2,
       "break lock picking burglar burgle rob robbery",
       r"\bbreak into (?:a |an |someone'?s |my neighbou?r'?s )?(?:house|home|car|apartment|store|safe)\b|\brob (?:a |the )?(?:bank|store|house|person)\b|\bburgl"),
    _f("weapon_design", "weapons", 2.8,
       "weapon weapons",
       r"\b(?:make|build|design|create|assemble|develop|construct|improvise|craft)(?:ing)? (?:a |an |the )?(?:[\w-]+ ){0,2}weapons?\b|"
       r"\bweapons? (?:that|to|capable of|which) (?:\w+ ){0,3}(?:kill|harm|hurt|injure|assassinate)"),
    _f("harm_people", "violence", 2.8,
       "harm hurt injure assassinate assassination bomb threat threats",
       r"\b(?:cause|causing|inflict|inflicting) (?:\w+ ){0,2}(?:harm|injur(?:y|ies)|damage|pain) (?:to|on) (?:others|people|someone|a person|humans|children|civilians)\b|"
       r"\b(?:harm|hurt|injure|attack|target) (?:others|people|civilians|innocent people|a crowd|minorities|immigrants)\b|\bassassinat\w*|\bbomb threats?\b|"
       r"\bpoison (?:a |the )?(?:water supply|food supply|city|reservoir)"),
    _f("computer_crime", "cyber", 2.6,
       "hack hacking hacked unauthorized unauthorised vulnerabilities vulnerability antivirus steal stealing exfiltrate crack cracking",
       r"\bhack(?:ing|s)? into\b|\b(?:gain|obtain|get) unauthori[sz]ed access\b|\bexploit(?:s|ing)? (?:\w+ ){0,3}vulnerabilit(?:y|ies)\b|"
       r"\b(?:disables?|evades?|bypass(?:es)?) (?:\w+ ){0,2}(?:antivirus|anti-virus|security (?:measures|software|systems|controls))\b|"
       r"\bsteal(?:s|ing)? (?:\w+ ){0,3}(?:sensitive|confidential|personal|private|classified|financial) (?:information|data|records|files)\b|"
       r"\bcrack(?:ing)? (?:\w+ ){0,2}passwords?\b|\bbreak into (?:a |an |the )?(?:\w+ )?(?:network|system|database|server|account)s?\b|\bexfiltrat"),
    _f("commit_crime", "crime", 2.6,
       "commit committing fraud crime crimes manipulate manipulating cheat cheating evade evading counterfeit",
       r"\bcommit(?:ting)? (?:\w+ ){0,2}(?:fraud|crimes?|theft|arson|burglary|robbery|vandalism|perjury)\b|"
       r"\bmanipulat(?:e|ing) (?:\w+ ){0,2}(?:stock|share|market) prices\b|\bevad(?:e|ing) (?:law enforcement|the police|arrest|capture)\b|"
       r"\b(?:get away with|avoid getting caught for) (?:\w+ ){0,2}(?:fraud|crimes?|theft|hit and run|drunk driving)\b"),
    _f("dangerous_encouragement", "violence", 2.4,
       "encourage encourages encouraging promote promotes promoting glorify glorifies glorifying",
       r"\b(?:encourag|promot|glorif)\w* (?:\w+ ){0,4}(?:drunk driving|drug use|self-harm|suicide|anorexia|bulimia|eating disorders?|violence|terrorism|"
       r"dangerous behaviou?rs?|racism|hatred|discrimination|extremism|school shootings?)\b"),
    _f("manipulation", "crime", 2.0,
       "manipulate manipulating trick tricking deceive deceiving coerce coercing gaslight",
       r"\b(?:manipulat|trick|deceiv|coerc|gaslight)\w* (?:\w+ ){0,2}(?:people|someone|others|children|a child|vulnerable|elderly|my (?:partner|wife|husband|girlfriend|boyfriend))\b"),
    _f("falsehoods", "misinformation", 2.2,
       "false misleading fake conspiracy propaganda defamatory slander libel",
       r"\b(?:spread|spreads|spreading|create|creates|write|writes|publish)\w* (?:\w+ ){0,3}(?:false|misleading|fake) (?:information|claims|news|stories|reviews|rumou?rs)\b|"
       r"\bdefamatory\b|\b(?:slander|libel)(?:ous)? (?:\w+ ){0,2}(?:about|against)\b"),
    _f("illegal", "crime", 2.2,
       "illegal illegally illicit black dark unlicensed falsify falsifying",
       r"\billegal(?:ly)?\b|\billicit\b|\bblack market\b|\bdark ?web\b|\bfalsif(?:y|ying)\b"),
    _f("spam_flood", "cyber", 1.8,
       "spam spamming flood bombard unsolicited robocalls",
       r"\b(?:spam|spamming|bombard|robocalls?)\b|\bflood (?:a |the |their |his |her )?(?:\w+ )?(?:page|inbox|phone|forum|comments|site)|\bunsolicited (?:messages|emails|calls)"),
    _f("incite", "violence", 3.0,
       "incite inciting riot riots uprising",
       r"\bincit(?:e|ing) (?:\w+ ){0,2}(?:violence|hatred|a riot|riots|attacks?|an uprising)"),
    _f("animal_cruelty", "violence", 2.6,
       "poison hurt torture kill dogfight dogfighting cockfight",
       r"\b(?:poison|hurt|torture|kill|abuse|drown) (?:a |my |the |his |her |our )?(?:neighbou?r'?s )?(?:dog|cat|pet|puppy|kitten|animal|horse)s?\b|\b(?:dog|cock)fight"),
    _f("explicit_sex", "sexual", 2.0,
       "sexually explicit porn pornographic erotic erotica nsfw",
       r"\bsexually explicit\b|\bexplicit sex\b|\bporn(?:ographic)?\b|\berotica?\b|\bnsfw\b"),
    _f("sexual_minors", "sexual", 4.0,
       "child children minor minors underage teen teens teenager teenagers schoolgirl schoolgirls kid kids groom grooming loli preteen year yo",
       r"\b(?:sexual|sexually|nude|nudes|naked|explicit|erotic|porn\w*)\b.{0,40}\b(?:child|children|minors?|underage|(?:\d|1[0-7])[- ]year[- ]old|(?:\d|1[0-7]) ?yo|"
       r"preteen|kids?|teens?|teenagers?|schoolgirls?)\b|"
       r"\b(?:child|children|minors?|underage|preteen|kids?|teens?|teenagers?|schoolgirls?|(?:\d|1[0-7])[- ]year[- ]olds?|(?:\d|1[0-7]) ?yo)\b.{0,40}"
       r"\b(?:sexual|sexually|nude|nudes|naked|explicit|erotic|porn\w*)\b|"
       r"\bgroom(?:ing)? (?:a |the )?(?:child|minor|kid|teen)|\bmeet (?:up )?(?:with )?(?:a |an |this |that )?(?:(?:\d|1[0-7])[- ]year[- ]old|minor|underage|teen)\w* "
       r"(?:\w+ ){0,3}without (?:her|his|their) parents"),
    # coercion and lack of consent, asked for as a how-to ("how do I force my partner into sex"):
    # only right after the request words, never "me" as the object, so a person asking about
    # being pressured ("my boyfriend keeps pressuring me into sex") or about the law is not stopped
    _f("sexual_abuse", "sexual", 3.0,
       "revenge non-consensual rape drug roofie secretly sextort sextortion upskirt force pressure coerce trick blackmail manipulate consent will",
       r"\brevenge porn\b|\bnon-?consensual\b|\b(?:rape|roofie|drug) (?:a |her|him|someone|my date)\b|\bsecretly (?:film|record|photograph)|\bsextort|\bupskirt|"
       r"\b(?:how (?:do|can|could|would|should) (?:i|we|you|one)|how to|ways? to|tips (?:on|for) (?:how to )?|help me|teach me (?:how )?to|best way to) "
       r"(?:(?:force|pressure|coerce|trick|blackmail|manipulate) (?!me\b|us\b|myself\b)(?:\w+ ){1,6}?into (?:having )?(?:sex|sexual \w+|sleeping with)\b|"
       r"(?:have sex|sleep) with (?:\w+ ){1,3}?(?:without (?:her|his|their) consent|against (?:her|his|their) will)\b)"),
    _f("hate", "hate", 2.4,
       "inferior subhuman vermin propaganda supremacy supremacist holocaust slur slurs harass harassment bully threaten threatening racist",
       r"\b(?:inferior|subhuman|vermin|animals|parasites)\b.{0,30}\b(?:race|jews|muslims|blacks|immigrants|gays|women)|"
       r"\b(?:race|jews|muslims|blacks|immigrants|gays|women) (?:are|is) (?:inferior|subhuman|vermin|parasites)|"
       r"\bwhite (?:supremacy|supremacist|power)\b|\bholocaust (?:denial|never happened|was a hoax|is a hoax)|"
       r"(?<!\bmakes )(?<!\bmade )(?<!\bmaking )(?<!\btells )(?<!\btelling )(?<!\btold )\bracist (?:joke|slur|propaganda)s?\b|"
       r"\b(?:harass|bully|threaten|intimidate|humiliate)(?:ing)? (?:\w+ ){0,2}(?:someone|her|him|them|my|a |an |the )|\bthreatening (?:message|letter|note)\b"),
    # asked to *produce* content that demeans people: "write a toxic sentence about women", "give me
    # offensive names to call my coworker", "list slurs for ..." (not: "how do I answer toxic comments",
    # "is this comment offensive?", "give me insults for my brother": a roast is not flagged for that word alone)
    _f("hateful_content", "hate", 2.4,
       "toxic hateful racist sexist insulting offensive derogatory demeaning discriminatory bigoted homophobic transphobic misogynistic "
       "degrading dehumanizing dehumanising insults slurs",
       r"\b(?:write|compose|draft|generate|create|produce|make up|come up with|give me|tell me|list|suggest|say)\b(?: \w+){0,4}? "
       r"(?:toxic|hateful|racist|sexist|insulting|offensive|derogatory|demeaning|discriminatory|bigoted|homophobic|transphobic|misogynistic|"
       r"degrading|dehumani[sz]ing)(?: \w+){0,2}? (?:sentences?|jokes?|poems?|rants?|comments?|messages?|posts?|tweets?|names?|nicknames?|insults?|"
       r"remarks?|stor(?:y|ies)|songs?|lyrics|essays?|paragraphs?|statements?|content|speech(?:es)?|slogans?|terms?|words|things to say)\b"
       r"(?!(?: \w+){0,3}? (?:to |should |must |can )?(?:avoid|filter|block|ban|flag|detect|moderate|remove|recogni[sz]e))|"
       r"\b(?:give me|list|suggest|come up with|write|tell me)(?: \w+){0,3}? slurs\b"),
    _f("disinformation", "misinformation", 2.2,
       "fake disinformation misinformation conspiracy hoax propaganda rigged stolen",
       r"\bfake news (?:article|story|post)|\b(?:spread|create|write) (?:\w+ ){0,2}(?:disinformation|misinformation|propaganda|conspiracy theor)|"
       r"\b(?:election|vote) (?:was |is )?(?:stolen|rigged)\b|\bvaccines? cause autism\b|\b(?:covid|climate change|moon landing) (?:is|was) (?:a )?hoax\b"),
    _f("fabricated_claims", "misinformation", 2.2,
       "claim claiming claims saying argue arguing prove proving convince convincing persuade persuading fake false fabricated made-up bogus "
       "suppress voters vaccine vaccines 5g fluoride chemtrails",
       r"\b(?:claim\w*|saying|argu\w*|prov\w*|convinc\w*|persuad\w*) (?:that )?(?:\w+ ){0,4}?(?:cures?|prevents?|reverses?) (?:covid|cancer|autism|diabetes|hiv|aids|"
       r"measles|alzheimer'?s)\b|\b(?:write|post|generate|create|leave|produce)\w* (?:\w+ ){0,3}?(?:fake|false|fabricated|made-up|bogus) (?:[\w-]+ ){0,2}?"
       r"(?:reviews|testimonials|ratings|endorsements|quotes|statistics|studies|citations|evidence|news|stories|articles|claims)\b|"
       r"\bsuppress (?:the )?(?:\w+ ){0,2}?(?:vote|votes|voters|turnout)\b|\b(?:wrong|fake) (?:election|voting|polling) (?:date|day|location|place|information)\b|"
       r"\b(?:convinc\w*|persuad\w*|prov\w*|claim\w*|argu\w*) (?:that )?(?:\w+ ){0,2}?(?:vaccines?|5g|fluoride|chemtrails|mrna vaccines?) (?:cause|causes|caused|"
       r"contain|contains|is|are) (?:\w+ ){0,2}?(?:autism|cancer|infertility|covid|microchips?|poison|a bioweapon|deadly|population control|sterili[sz]ation)\b"),
    *HARM_ACTS,
)

INTENT: Final[tuple[HarmFeature, ...]] = (
    _f("asks_how", "", 1.2,
       "how ways way steps step-by-step instructions guide tutorial recipe method methods plan procedure help teach where",
       r"\bhow (?:to|do|can|could|would|should|might) \b|\b(?:best|easiest|fastest|cheapest|quickest|safest|simplest) way\b|\bstep[- ]by[- ]step\b|"
       r"\b(?:instructions|guide|tutorial|recipe|procedure|steps|methods?|ways) (?:for|to|on)\b|\bhelp me\b|\bteach me\b|\bwhere (?:can|do|could) i (?:buy|get|find|order)\b"),
    _f("asks_to_write", "", 1.0,
       "write create generate develop design draft compose produce code script program give provide outline",
       r"\b(?:write|create|generate|develop|design|draft|compose|code|script|program|give|provide|outline|teach|publish|produce)(?: me)? (?:a |an |the |some |detailed |working )?"
       r"(?:\w+ ){0,3}(?:script|code|program|tutorial|guide|post|article|message|email|letter|essay|plan|list|instructions|recipe|blueprint|speech|tweet|story|"
       r"strategy|website|app|tool|algorithm|campaign|video|bot|manual|guidance)"),
    _f("evasion", "", 2.0,
       "caught detection detected undetected undetectable untraceable noticing trace traces police anonymously catching knowing looks look",
       r"\bwithout (?:getting |being )?(?:caught|detected|noticed|traced|anyone (?:knowing|noticing|finding out))\b|\bundetect(?:ed|able)\b|\buntraceabl[ey]\b|"
       r"\bwithout (?:the |any )?(?:cameras?|anyone|police|cops|neighbou?rs?|(?:her|him|them) knowing)(?: (?:catching|seeing|noticing|knowing))?(?: it was me)?\b|"
       r"\b(?:so|make) it looks? (?:like )?(?:an? )?(?:accident|accidental|electrical|natural|suicide|it was (?:someone else|an accident))\b|"
       r"\b(?:cover|hide) (?:my|the) (?:tracks|traces)\b|\bavoid (?:the )?(?:police|detection|cops)\b|\bso (?:no one|nobody) (?:knows|finds out)\b"),
    _f("first_person_intent", "", 0.8,
       "i want i'm i am going planning",
       r"\bi (?:want|need|am going|'m going|plan|am planning|'m planning) to\b"),
)

BENIGN_CONTEXT: Final[tuple[HarmFeature, ...]] = (
    _f("computing_sense", "", -4.0,
       "process processes task thread threads job jobs container pod session server instance query program app tab signal sigkill sigterm port",
       r"\b(?:kill|killing|terminate|shoot|execute|attack|destroy|wipe|hack|exploit|bypass|abort)(?: -9)? (?:\w+ ){0,3}(?:process(?:es)?|task|threads?|jobs?|containers?|pods?|"
       r"sessions?|instances?|query|queries|tab|port \d+|branch|cache|namespace|stack|prototype|problem|bug|refactor|codebase|parallelism|the free tier|caching)\b"),
    _f("everyday_sense", "", -3.5,
       "time weeds weed flies mosquitoes mosquito bacteria germs mould mold pests photo photos video film picture scene sunset hill opening laundry balloon balloons jet",
       r"\b(?:kill|killing|shoot|shooting|attack|beat|blow up|destroy)(?:ing)? (?:\w+ ){0,3}(?:time|weeds?|flies|mosquito(?:es)?|bacteria|germs|mou?ld|pests|aphids|ants|"
       r"photos?|videos?|film|pictures?|scenes?|sunsets?|portraits?|hills?|openings?|defen[cs]e|laundry|balloons?|jet lag|procrastination|"
       r"the heat|a cold|the competition|my (?:brother|sister|friend|dad|mom) at)\b"),
    _f("protective", "", -3.0,
       "protect prevent avoid recognise recognize spot detect report safe safely safety dispose warning signs defend accused charged victim so train "
       "catch tell never accidentally is got received permission consent knowledge approval blessing attorney",
       r"\b(?:protect|prevent|avoid|recogni[sz]e|spot|detect|report|defend against|guard against|stay safe from)(?:ing)? (?:\w+ ){0,4}"
       r"(?:scams?|phishing|fraud|malware|ransomware|hack|attack|abuse|trafficking|grooming|stalk|poison|overdose|theft|thieves|burglar|virus)|"
       r"\bwhat should i do if\b|\bwarning signs\b|\b(?:safely|properly) (?:store|dispose|handle|use)\b|\bhow to report\b|"
       r"\b(?:falsely )?accused of\b|\bcharged with\b|\b(?:a |the )?victim of\b|\bdefend myself\b|"
       r"\bso (?:that )?(?:i|we) can (?:protect|avoid|spot|recogni[sz]e|teach|train|warn|defend)\b|\btrain (?:my |our )?(?:staff|employees|team|colleagues|users)\b|"
       r"\b(?:protect|prevent|avoid|recogni[sz]e|spot|detect|report|catch|tell if)\w* (?:\w+ ){0,4}(?:fake|fraud\w*|counterfeit|charit\w*|spik\w*|drugg\w*|impersonat\w*|"
       r"skimm\w*|grooming|predators?|extremis\w*|radicali[sz]\w*|stalkerware|spyware|cheat\w*|swatting|arson)|\bnever (?:be )?mix|\b(?:i|we|my \w+) accidentally\b|"
       r"\bwith (?:his|her|their|my \w+'s) (?:permission|consent|knowledge|approval|blessing)\b|\bpower of attorney\b|"
       r"\bis (?:this|it) (?:a |an )?(?:scam|phishing|legit|real|fake)\b|\bi (?:got|received) (?:an? )?(?:\w+ )?(?:email|text|message|call|letter)\b"),
    _f("informational", "", -2.2,
       "what definition define history historical why explain meaning fiction novel movie film game story",
       r"^(?:what (?:is|are|was|were) (?:a |an |the )?\w+(?: \w+)?\??$)|\b(?:definition|meaning) of\b|\b(?:legal|dictionary) definition\b|"
       r"\bwhy did (?:the )?\w+|\bin (?:the )?(?:history|movie|film|novel|book|game|series)\b|\bhistorical(?:ly)?\b|\bmurder mystery\b|\bin (?:my|a) (?:novel|story|screenplay)\b"),
    # writing or asking *about* a harm, not for it ("an article about the rise of extremist propaganda", "is it true that ...")
    _f("about_the_harm", "", -3.0,
       "analyze analyse analysis debunk debunking countering combat combating fight fighting reporting documentary about true "
       "why",
       r"\b(?:analy[sz]e|analysis of|debunk\w*|countering|combat(?:ing)?|fight(?:ing)? against|reporting on|documentary (?:about|on))\b|"
       rf"\babout how (?!to\b)(?!(?:[\w']+ ){{1,2}}(?:{_GROUP}) (?:are|is)\b)|"
       r"\babout (?:the )?(?:rise|spread|history|dangers?|effects?|impact|psychology|causes?|roots) of\b|\bis it true that\b|"
       r"\bwhy do (?:some )?people (?:think|believe|claim|say)\b"),
    # a parent talking with their own children "about" something ("how do I talk to my teenager about sexual
    # consent"): outweighs what the model adds, so not "teach a child that ...", nor a sentence that also says
    # "send me", "touch" or "our secret" (a groomer's phrasing)
    _f("parenting_talk", "", -6.0,
       "talk speak",
       r"\b(?:talk|speak) (?:to|with) (?:my|our) (?:\w+ )?(?:kids?|children|teens?|teenagers?|sons?|daughters?|students?|class) about\b"
       r"(?!.*\b(?:(?:send|sends|show|shows|give|gives|touch|touches) me|with me|touch\w*|our secret|keep (?:it|this) (?:a )?secret)\b)"),
    _f("game_sense", "", -3.0,
       "skyrim minecraft fortnite elden gta duty souls game roblox zelda dnd d&d baldur's assassin's hitman valorant league overwatch pubg apex sims "
       "stardew boss level quest playthrough speedrun npc npcs mob mobs dungeon raid pvp",
       r"\b(?:in|on) (?:skyrim|minecraft|fortnite|elden ring|gta|call of duty|dark souls|the game|this game|a game|my game|the level|roblox|zelda|d&d|dnd|"
       r"baldur'?s gate|assassin'?s creed|hitman|valorant|league|overwatch|pubg|apex|the sims|stardew)\b|"
       r"\b(?:boss fight|level \d+|quest|playthrough|speedrun|npcs?|mobs?|dungeon|raid boss|pvp)\b"),
    _f("pain_figure", "", -3.0,
       "killing",
       r"\b(?:my|the) (?:\w+ )?(?:is|are) killing me\b"),
)
