"""Shared pieces of the harmful-request feature tables (:mod:`proxy.detectors.harm_features`,
:mod:`proxy.detectors.harm_acts`): the feature record, its constructor, and the word lists several
patterns share (making verbs, people a harm is aimed at, groups people are targeted as)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.detectors.trigger_words import parse_triggers

__all__ = ["GROUP", "MAKE", "PERSON", "HarmFeature", "feature"]


@dataclass(frozen=True, slots=True)
class HarmFeature:
    """One named pattern: category ("" for intent and context features), weight, trigger words
    (one must occur for the pattern to run) and, when the pattern needs two kinds of word, more
    groups each of which must have one too."""

    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    triggers: frozenset[str]
    also: tuple[frozenset[str], ...] = ()


def feature(name: str, category: str, weight: float, triggers: str, *alternatives: str) -> HarmFeature:
    """A feature whose pattern is any of ``alternatives`` and whose trigger words are ``triggers``
    (:func:`~proxy.detectors.trigger_words.parse_triggers`: groups joined by " + " must each have one)."""
    first, more = parse_triggers(triggers)
    return HarmFeature(name, category, weight, re.compile("|".join(f"(?:{a})" for a in alternatives)), first, more)


MAKE = (
    r"make|making|build|building|synthesi[sz]e|synthesi[sz]ing|produce|producing|create|manufacture|assemble|cook|brew|extract|"
    r"obtain|acquire|buy|get|prepare|weaponi[sz]e|grow|culture|3d[- ]print|convert"
)
PERSON = (
    r"someone|somebody|a person|people|him|her|them|my (?:(?:step|ex-?)?(?:wife|husband|partner|ex|boss|neighbou?r|teacher|coworker|co-worker|"
    r"colleague|classmate|roommate|flatmate|landlord|tenant|manager|mother|father|mom|mum|dad|brother|sister|friend|girlfriend|boyfriend|son|"
    r"daughter|baby|child|uncle|aunt|cousin|grandma|grandpa|grandmother|grandfather|rival|enemy|bully))|"
    r"(?:a|the|that|this) (?:child|kid|baby|woman|man|girl|boy|cop|police officer|officer|judge|politician|journalist|witness|stranger|guard|"
    r"prisoner|inmate|nurse|doctor|patient|customer|cashier|student|teacher|homeless (?:man|woman|person)|protester|cyclist|driver|informant|"
    r"snitch|rival|victim|target|hostage|senator|mayor|ceo)|children|kids|the president|a senator|an? (?:ethnic|religious) group|"
    r"(?:jews|muslims|christians|immigrants|refugees|black people|gay people|trans people)"
)
#: groups people are demeaned or targeted as ("disabled people should be sterilised")
GROUP = (
    r"jews|jewish people|muslims|christians|hindus|sikhs|immigrants|refugees|migrants|black people|blacks|white people|asians|asian people|"
    r"latinos|hispanics|mexicans|arabs|gay people|gays|lesbians|trans people|transgender people|women|disabled people|the disabled|"
    r"autistic people|mentally ill people|the mentally ill|roma|gypsies|indigenous people|native americans|poor people|the poor|homeless people"
)
