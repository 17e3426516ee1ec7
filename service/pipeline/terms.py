"""The words that carry a sentence's content, shared by evidence selection and the verifier.

`content_terms` (stemmed, stopwords removed) measure lexical overlap; `key_terms` are the checkable facts of a
sentence — numbers, dates and proper names — which must literally occur in the text it cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

_WORD = re.compile(
    r"(?:[^\W\d_]\.){2,}"  # dotted acronyms: U.S., e.g.
    r"|\d[\d,.]*\d|\d"  # numbers: 5,757 / 2023 / 3.5
    r"|[^\W\d_](?:[^\W_]|['’\-](?=[^\W\d_]))*",  # words, with inner hyphens/apostrophes
    re.UNICODE,
)

# Negation, explicit or in a verb ("failed to return" = "did not return"); both apostrophes.
NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|refus\w*|fail(?:s|ed|ing)?|unable|den(?:y|ies|ied)"
    r"|declin\w*|refrain\w*)\b|n[’']t\b",
    re.IGNORECASE,
)
# A statement's own negation, for telling whether two statements say the same thing or its opposite: the explicit
# words only ("failing to protect" in a claim and "following an investigation" in its source are not opposites).
STATED_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot)\b|n[’']t\b", re.IGNORECASE)
# … and what only looks like one: "not only", "or not", "not as correct as" (= "less correct than"), "not just",
# "yes/no" and "yes or no", a contrast after a comma ("a Ukrainian maker, not a Korean one").
NOT_A_NEGATION = re.compile(r"\bnot (?:only|just|until)\b|n[’']t (?:only|just)\b|\bor not\b|\bnot as \w+ as\b|\byes\s*(?:/|or)\s*no\b|,\s*not\b", re.IGNORECASE)


def states_negation(text: str) -> bool:
    """Does `text` negate what it states? A capitalised negation inside a sentence is part of a name ("Never Cry
    Wolf")."""
    text = NOT_A_NEGATION.sub(" ", text)
    return any(
        not m.group(0)[0].isupper() or not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?:;\"“(\u2014"
        for m in STATED_NEGATION.finditer(text)
    )

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours yourself
    yourselves many much say said says tell told according documents document text mention mentioned
    also yes however well one ones get got may might must shall
    article articles describe described characterize characterise discuss explain kind kinds type types sort
    two both way ways done
    """.split()
)  # the last lines are words about the question or the documents themselves, not about their content


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The stem content_terms uses for a lowercase word."""
    return _stemmer().stemWord(word)


def words(text: str) -> list[str]:
    """Word and number tokens, with possessives cut and hyphens/apostrophes inside words removed."""
    out = []
    for token in _WORD.findall(text):
        token = re.sub(r"['’]s$", "", token)
        out.append(re.sub(r"[-'’.]", "", token) if not token[0].isdigit() else token)
    return [t for t in out if t]


def normalize_number(token: str) -> str:
    """'5,757' and '5757' compare equal; so do '22%' and '22'."""
    return token.replace(",", "").rstrip(".%")


def content_terms(text: str) -> set[str]:
    """Stemmed, lowercased content words and normalised numbers."""
    terms = set()
    for token in words(text):
        lower = token.lower()
        if token[0].isdigit():
            terms.add(normalize_number(token))
        elif lower not in STOPWORDS and len(lower) > 1:
            terms.add(stem(lower))
    return terms


_DECADE = re.compile(r"(?:\d\d)?\d0")  # a number before "s": a decade ("1950s", and "70's" / "70s" of no stated century)


def key_terms(sentence: str) -> list[str]:
    """Numbers, dates and proper names in a sentence: the facts that must appear verbatim in cited text.

    A capitalised word counts as a name unless it starts the sentence (then only an all-caps acronym counts).
    """
    keys: list[str] = []
    tokens = words(sentence)
    for i, token in enumerate(tokens):
        if _DECADE.fullmatch(token) and tokens[i + 1 : i + 2] == ["s"]:
            keys.append(f"{token}s")  # "the 1950s", "the 70's": a decade, mentioned by any year of it (`missing_of`)
        elif token[0].isdigit():
            keys.append(normalize_number(token))
        elif token[0].isupper() and token.lower() not in STOPWORDS:
            if i > 0 or (len(token) > 1 and token.isupper()):
                keys.append(token)
    return list(dict.fromkeys(keys))


def comparable_words(text: str) -> set[str]:
    """The words of `text` as key terms are compared with them: numbers normalised, everything else lowercased."""
    return {normalize_number(t) if t[0].isdigit() else t.lower() for t in words(text)}


_INITIAL_SKIPS = frozenset({"of", "and", "the", "for"})  # "Federal Bureau of Investigation" is FBI
ACRONYM_MIN = 3  # "US" or "DP" spelled out by chance is too likely


def spelled_out(acronym: str, text: str) -> bool:
    """Does `text` say `acronym` in words: consecutive words, small ones skipped, whose initials spell it ("CEO":
    "chief executive officer")?"""
    initials = "".join(w[0] for w in words(text) if w.lower() not in _INITIAL_SKIPS).lower()
    return acronym.lower() in initials


def missing_key_terms(sentence: str, cited_text: str) -> list[str]:
    """The key terms of `sentence` that do not occur in `cited_text` (see `missing_of`)."""
    return missing_of(key_terms(sentence), cited_text)


def missing_of(keys: Sequence[str], cited_text: str) -> list[str]:
    """The key terms that do not occur in `cited_text` (names compared case-insensitively; an acronym of
    ACRONYM_MIN letters or more may be spelled out there)."""
    present = comparable_words(cited_text)
    missing = [k for k in keys if (k if k[0].isdigit() else k.lower()) not in present]
    missing = [k for k in missing if not (k.endswith("s") and k[0].isdigit() and _decade_in(k, present))]
    return [k for k in missing if not (k.isalpha() and k.isupper() and len(k) >= ACRONYM_MIN and spelled_out(k, cited_text))]


def _decade_in(decade: str, present: set[str]) -> bool:
    """Is the decade ("1950s", "70s") in these words: its own number ("the 1950s", "the 70's") or a year of it
    ("1958"; for "70s", a year of the 70s of any century: "1974")?"""
    digits = decade[:-1]
    return digits in present or any(len(w) == 4 and w.isdigit() and w[4 - len(digits) : 3] == digits[:-1] for w in present)


def unmentioned_numbers(question: str, text: str) -> list[str]:
    """The question's numbers that `text` never mentions (a decade is mentioned by a year of it: `missing_of`)."""
    return [k for k in missing_key_terms(question, text) if k[0].isdigit()]


NAME_VARIANT_PREFIX = 5  # "German" / "Germany", "Russians" / "Russian": one name in another form


def unmentioned_names(question: str, text: str) -> list[str]:
    """The question's names (as the question writes them, adjacent words together: "Martha’s Vineyard") that
    `text` never mentions, in the question's order; a name is mentioned by another form of it that shares its
    first NAME_VARIANT_PREFIX letters. Acronyms of two letters ("US", "DJ") are left out: too often spelled some
    other way. Numbers are `unmentioned_numbers`."""
    missing = {k for k in missing_key_terms(question, text) if not k[0].isdigit() and not (k.isupper() and len(k) <= 2)}
    if not missing:
        return []
    prefixes = {w.lower()[:NAME_VARIANT_PREFIX] for w in words(text) if len(w) >= NAME_VARIANT_PREFIX}
    missing = {k for k in missing if len(k) < NAME_VARIANT_PREFIX or k.lower()[:NAME_VARIANT_PREFIX] not in prefixes}
    phrases: list[str] = []
    start = end = None  # the character span of the run of missing names being read
    for match in re.finditer(r"[\w’'.-]+", question):
        token = match.group().strip("’'.-")
        if token in missing or token.rstrip("s").rstrip("’'") in missing:
            start = match.start() if start is None else start
            end = match.start() + len(match.group().rstrip("’'.-"))
        elif start is not None:
            phrases.append(question[start:end])
            start = None
    if start is not None:
        phrases.append(question[start:end])
    return list(dict.fromkeys(phrases))

