"""Word classes of the harmful-request model (:mod:`proxy.detectors.harmful`): what is asked about
(weapons, violence, drugs, cyber, crime, sex, minors, hate, privacy, falsehoods), who it is aimed at,
how it is asked (how-to, write, first person, evasion, illegality) and benign frames (protection,
safety, history, fiction, computing).

A text becomes the set of classes its words fall in plus every *pair* of classes ("weapon x howto",
"violence x person", "harm x protect"); the model learns one weight per class and pair. Written
from a harm taxonomy and everyday English, never from an evaluation set's prompts; the lists are
broad on purpose, so a request worded unlike any training row still lands in its class. Words are
matched after a crude suffix strip (:func:`stem`), so "hacking", "hacked" and "hacks" are "hack".
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Final

__all__ = ["CLASSES", "lexicon_tokens", "stem"]


def stem(word: str) -> str:
    """A crude, deterministic suffix strip (enough to fold plurals and -ing/-ed forms)."""
    for suffix, min_len in (("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= min_len:
            return word[: -len(suffix)]
    return word


def _cls(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


#: class name -> stems. Harm classes first, then targets, forms and frames.
CLASSES: Final[dict[str, frozenset[str]]] = {
    "weapon": _cls("ammo caliber bullet bullets detonate detonation fuse blast crossbow taser switchblade machete brass knuckles agent "
                   "agents biological chemical gas pathogenic enrichment centrifuge warhead nuke nuclear bioweapon toxic bomb bombs "
                   "explosive explosives grenade grenades gun guns firearm firearms rifle rifles pistol pistols ammunition ammo silencer "
                   "suppressor napalm thermite detonator detonators ied weapon weapons sarin ricin anthrax nerve toxin toxins pathogen "
                   "pathogens bioweapon bioweapons uranium plutonium molotov shrapnel missile flamethrower mustard chlorine phosgene cyanide "
                   "arsenic poison poisons poisonous lethal deadly radioactive dirty untraceable homemade zip ghost"),
    "violence": _cls("abuse abusive slap punish intimidate revenge vengeance retaliate riot mob hostage behead sniper brutal cruelty bleed "
                     "blood maul beating punching kicking choke kill killing murder murdering stab stabbing shoot shooting strangle choke "
                     "torture kidnap abduct assault attack beat hurt harm injure maim drown suffocate rape massacre slaughter assassinate "
                     "punch hit threaten terrorize terrorise terror terrorist bully harass stalk hitman violence violent fight cripple burn "
                     "arson ambush execute lynch dismember corpse body bodies dead"),
    "self": _cls("razor blade anorexia bulimia pro-ana laxatives jump bridge lethal myself suicide suicidal overdose self-harm selfharm "
                 "cutting starve starving purge wrists hang noose die dying life pills"),
    "drugs": _cls("synthesize synthesise precursor pseudoephedrine dmt pcp opium morphine codeine lean adderall shrooms psychedelic "
                  "psychedelics high dose stash meth methamphetamine cocaine heroin fentanyl crack lsd mdma ecstasy opioid opioids drug "
                  "drugs weed cannabis marijuana ketamine ghb narcotics narcotic dealer pills prescription oxycodone xanax steroids"),
    "cyber": _cls("privilege privileges escalate escalation shellcode obfuscate obfuscated polymorphic defender edr persistence dll "
                  "exfiltrate exfiltration c2 crypter keylog sniff sniffer spoof spoofing mitm credential hijack cookie cookies deface "
                  "jammer carding carder cvv swap reverse shell root kernel hack hacking hacker malware virus ransomware keylogger trojan "
                  "botnet spyware stalkerware phishing exploit exploits ddos password passwords credentials backdoor rootkit brute "
                  "injection crack bypass breach wifi account accounts server servers database webcam infostealer skimmer worm payload "
                  "zero-day vulnerability vulnerabilities antivirus firewall login logins"),
    "crime": _cls("mule impersonate impersonation fence contraband kickback perjury tamper tampering alibi burglar lockpick crowbar hotwire "
                  "carjack mug mugging graffiti fraudulent plagiarize plagiarism unlicensed shoplifting sneak steal stealing stolen rob "
                  "robbery burgle burglary shoplift smuggle smuggling launder laundering forge forged counterfeit scam scams defraud fraud "
                  "embezzle bribe blackmail extort extortion cheat cheating evade evasion trafficking traffic loot poach vandalize "
                  "vandalise pickpocket heist ransom con swindle ponzi fake forgery piracy pirate bootleg loophole"),
    "sex": _cls("sex sexual sexually nude nudes naked porn pornography explicit erotic rape molest grope intimate undressing fetish"),
    "minor": _cls("child children kid kids minor minors underage teen teens teenager teenagers girl girls boy boys preteen toddler 12 13 14 "
                  "15 year-old schoolgirl schoolboy"),
    "hate": _cls("insult insults offensive derogatory demean stereotype stereotypes discriminate discrimination segregate sexist "
                 "homophobic transphobic bigot bigoted xenophobic antisemitic islamophobic mock ridicule humiliate troll trolling harass "
                 "harassment cyberbully race racist racial racism jews jewish muslims muslim blacks immigrants immigrant gays gay trans "
                 "transgender inferior subhuman vermin slur slurs nazi nazis supremacy supremacist ethnic religion refugees mexicans roma "
                 "disabled retarded dehumanise dehumanize genocide holocaust"),
    "privacy": _cls("eavesdrop wiretap snoop hidden camera tracker gps stalk follow dox personal information ssn passport bank account "
                    "browsing history password passwords consent address addresses location whereabouts track tracking spy spying personal "
                    "private ssn dox doxx identity identities records schedule phone number numbers photos messages emails secretly monitor "
                    "surveillance"),
    "falsehood": _cls("deceive deceptive mislead misleading manipulate manipulation fabricate fabricated smear astroturf sockpuppet bots "
                      "impersonate fake false hoax conspiracy rigged propaganda misinformation disinformation rumor rumour rumours lie lies "
                      "myth staged deepfake defamatory slander libel"),
    "deceive": _cls("trick tricking manipulate manipulating gaslight lie lying deceive coerce groom lure seduce pressure guilt-trip brainwash "
                    "exploit exploiting con fool prey"),
    "regulated": _cls("tax taxes exam exams test insurance customs police court prison jail border licence license permit prescription welfare "
                      "benefits audit fine fines law laws authorities government security guard guards cameras alarm"),
    "person": _cls("someone somebody person people him her them wife husband neighbour neighbor boss coworker colleague teacher classmate "
                   "baby stranger ex girlfriend boyfriend partner mother father mom mum dad sister brother landlord officer cop police "
                   "journalist politician president family students victim crowd civilians elderly old lady man woman employee roommate"),
    "howto": _cls("how ways way steps step-by-step instructions guide tutorial method methods recipe teach explain best easiest quickest "
                  "fastest walk procedure tips"),
    "write": _cls("write create generate draft compose code script program design develop post article essay tweet speech letter email "
                  "message pamphlet story"),
    "intent": _cls("i i'm want need planning plan going gonna wanna"),
    "evasion": _cls("caught undetected detection undetectable untraceable secretly secret anonymously anonymous trace traces evidence hide "
                    "hiding noticing notice knowing cover"),
    "illegal": _cls("illegal illegally unlawful unlicensed black dark without permission consent"),
    "protect": _cls("protect protection prevent prevention avoid safe safely safety report reporting recognise recognize spot detect defend "
                    "defence defense victim victims support signs warning legally legal awareness secure lock locked"),
    "learn": _cls("history historical why what understand learn study research explain meaning definition difference fiction novel story "
                  "game movie film thriller mystery character book essay"),
    "computing": _cls("process processes thread threads container containers python linux docker server kubernetes bash terminal cpu port "
                      "script test tests bug code app browser cache git"),
    "everyday": _cls("cake recipe garden weeds time balloon balloons photo photos sunset chess game team party hair bike kitchen cook cooking "
                     "bath christmas birthday dinner tomatoes"),
}

def lexicon_tokens(words: Iterable[str]) -> list[str]:
    """The class names and class pairs the (lower-cased) ``words`` fall in, as tokens for hashing."""
    stems = {stem(w) for w in words}
    present = sorted(name for name, members in CLASSES.items() if not members.isdisjoint(stems))
    return [f"#{c}" for c in present] + [f"#{a}&{b}" for a, b in combinations(present, 2)]
