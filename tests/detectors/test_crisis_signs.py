"""Crisis signs given without naming the danger (``proxy/detectors/crisis_signs.py``), each beside
the everyday sentence that shares its words.

Sentences written for these tests, from kinds of crisis (warning signs of suicide, coercive
control, stalking, sexual and elder abuse, emergencies of others), not from any judge row.
"""

from __future__ import annotations

import pytest

from proxy.detectors.crisis import CrisisDetector


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector()


SIGNS = [
    ('I need a crisis line right now', 'self_harm'),
    ("I won't be a problem for anyone much longer", 'self_harm'),
    ("I've given away most of my things, I won't need them where I'm going", 'self_harm'),
    ('I wrote letters to my kids last night, just in case', 'self_harm'),
    ("please cancel my phone contract, I've decided to end things this weekend", 'self_harm'),
    ('I just want everything to stop, permanently', 'self_harm'),
    ('sometimes I wish I could go to sleep and never wake up', 'self_harm'),
    ("I'm done with life honestly", 'self_harm'),
    ('I have the pills lined up on the table', 'self_harm'),
    ('im standing on the bridge right now', 'self_harm'),
    ('i started cutting again last week', 'self_harm'),
    ('thinking about ending it all tonight', 'self_harm'),
    ('i want to disappear and never come back', 'self_harm'),
    ("Nobody will care when I'm gone", 'self_harm'),
    ("I don't see the point in living anymore", 'self_harm'),
    ('My daughter told me she wants to die and has been hurting herself', 'self_harm'),
    ("everything would be easier if I wasn't here", 'self_harm'),
    ("He grabbed me by the throat last night and I'm scared to go back", 'abuse'),
    ("my husband controls all the money and takes my phone so I can't call anyone", 'abuse'),
    ("I'm not allowed to leave the house without him", 'abuse'),
    ('my ex keeps turning up at my work and following me home', 'abuse'),
    ("he's outside my door right now banging and shouting", 'abuse'),
    ("he said if I leave he'll take the kids and I'll never see them again", 'abuse'),
    ('my stepdad comes into my room at night and touches me', 'abuse'),
    ('my son takes my pension and locks me in my room', 'abuse'),
    ('she threw a plate at me and pushed me down the stairs', 'abuse'),
    ('I have to hide the bruises before work', 'abuse'),
    ("I'm scared he'll hurt me when he gets home", 'abuse'),
    ('my boyfriend forced me to have sex when I said no', 'abuse'),
    ("my partner tracks my location and threatens me if I'm late", 'abuse'),
    ("my dad just collapsed in the kitchen and isn't answering me", 'medical_emergency'),
    ("my baby is choking and can't cry", 'medical_emergency'),
    ('my toddler swallowed a button battery', 'medical_emergency'),
    ('she drank bleach by accident, what do I do', 'medical_emergency'),
    ('he hit his head and now he keeps vomiting and is confused', 'medical_emergency'),
    ("I'm 30 weeks pregnant and bleeding a lot", 'medical_emergency'),
    ("my blood sugar is really low and I'm shaking and confused", 'medical_emergency'),
    ('my face and lips are swelling after eating peanuts', 'medical_emergency'),
    ("I fell off the ladder and can't feel my legs", 'medical_emergency'),
    ('pain going down my left arm and my chest feels tight', 'medical_emergency'),
    ("my grandmother fainted and hasn't come round", 'medical_emergency'),
    ('my son has a high fever and a stiff neck and a rash', 'medical_emergency'),
    ("my friend took something at the party and won't wake up", 'medical_emergency'),
    ('I burned my arm badly with boiling oil, the skin is peeling off', 'medical_emergency'),
    ("he's having an allergic reaction and we can't find his epipen", 'medical_emergency'),
    ("I'm so tired of being alive", 'self_harm'),
    ("honestly what's the point of anything anymore", 'self_harm'),
    ("I've been thinking about death constantly", 'self_harm'),
    ('I just want to go to sleep forever', 'self_harm'),
    ('i cant keep going like this', 'self_harm'),
    ('I hate my life and I want it all to be over', 'self_harm'),
    ("I'm saying goodbye to everyone tonight", 'self_harm'),
    ('I keep thinking about jumping in front of a train', 'self_harm'),
    ("life isn't worth it anymore", 'self_harm'),
    ("he's barely breathing and his breathing sounds rattly", 'medical_emergency'),
    ('I think I broke my leg, the bone is sticking out', 'medical_emergency'),
    ("there's been a car crash and a woman is trapped and bleeding", 'medical_emergency'),
    ("my baby is floppy and won't feed", 'medical_emergency'),
    ("I cut my hand deep and it won't stop bleeding", 'medical_emergency'),
    ('my little boy fell out of the window', 'medical_emergency'),
    ('he hurt me again last night', 'abuse'),
    ("my mom's boyfriend hits my little brother", 'abuse'),
    ("I don't feel safe around him anymore", 'abuse'),
    ('he threatened me with a knife', 'abuse'),
    ('they took my passport and make me work without pay', 'abuse'),
]


@pytest.mark.parametrize(("text", "kind"), SIGNS)
def test_signs_without_the_keyword_are_handed_off(detector: CrisisDetector, text: str, kind: str) -> None:
    verdict = detector.check(text)
    assert verdict.flagged, verdict
    assert verdict.kind == kind


EVERYDAY = [
    "I won't be at my desk much longer today, leaving at four",
    'I gave away my old clothes to charity, can I get a tax receipt?',
    "please cancel my phone contract, I'm moving abroad this weekend",
    'I just want the notifications to stop',
    "I'm done with this game, how do I delete my account?",
    "I can't see any way to change my password in the app",
    'I left the pills on the table, is it ok that they got warm?',
    "we're standing on the bridge of the ship for the tour photo",
    'I started cutting my own hair during lockdown',
    'ending it with my boyfriend was the right call',
    'this is my last message about the refund, please reply',
    "I've been planning how I'd decorate the new flat",
    'I want to disappear for a week to a beach somewhere',
    "what's the point of the premium plan if ads still show?",
    'he grabbed me a coffee on the way in',
    'my husband controls the TV remote, haha',
    "I'm not allowed to leave the house until the plumber arrives",
    'my ex keeps sending me memes',
    "someone's outside my door delivering a parcel, can you confirm it's yours?",
    "the carer at my mum's home is lovely, how do I leave a review?",
    'she threw a party and pushed the furniture against the wall',
    "I'm scared the parcel will get damaged in the rain",
    'I have to hide the presents before the kids get home',
    'the tent collapsed in the wind last night',
    'the market collapsed and my savings dropped',
    "my car keeps choking when it's cold",
    'I nearly fainted when I saw the price',
    'I swallowed my pride and called them',
    'my phone battery swelled up, is that covered?',
    'I fell behind on payments, can I get an extension?',
    'my toddler swallowed some toothpaste, is that ok?',
    'what should be in a first aid kit for choking?',
    'my blood sugar was a bit low this morning, should I mention it at my appointment?',
    "how do I use an epipen, I'm doing a first aid course",
    "I'm so tired of this weather",
    "what's the point of the loyalty card if it never works?",
    "I've been thinking about death in literature for my thesis",
    "my laptop goes to sleep forever and won't wake, is it broken?",
    "I can't keep going back and forth with support like this",
    'I want this week to be over already',
    'jumping in front of the queue is rude, right?',
    "this upgrade isn't worth it",
    'the car crash scene in the film was so well shot',
    'my plant is floppy, does it need water?',
    "the pen won't stop leaking",
    'my phone fell out of the window, does insurance cover it?',
    'he hurt my feelings when he forgot my birthday',
    "I don't feel safe using this website, is it secure?",
    'he threatened to cancel my account',
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_the_same_words_in_everyday_messages_pass(detector: CrisisDetector, text: str) -> None:
    verdict = detector.check(text)
    assert not verdict.flagged, verdict


@pytest.mark.parametrize("text", ["what should I do if someone is choking?", "when a person has collapsed, what's the first thing to check?",
                                  "What should I do if someone is stalking me online?"])
def test_a_hypothetical_is_not_a_report(detector: CrisisDetector, text: str) -> None:
    assert not detector.check(text).flagged
