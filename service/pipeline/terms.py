"""The words that carry a sentence's content, shared by evidence selection and the verifier.

`content_terms` (stemmed, stopwords removed) measure lexical overlap; `key_terms` are the checkable facts of a
sentence — numbers, dates and proper names — which must literally occur in the text it cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache

import Stemmer

_WORD = re.compile(
    r"(?:[^\W\d_]\.){2,}"  # dotted acronyms: U.S., e.g.
    r"|\d[\d,.]*\d|\d"  # numbers: 5,757 / 2023 / 3.5
    r"|[^\W\d_](?:[^\W_]|['’\-](?=[^\W\d_]))*",  # words, with inner hyphens/apostrophes
    re.UNICODE,
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


def key_terms(sentence: str) -> list[str]:
    """Numbers, dates and proper names in a sentence: the facts that must appear verbatim in cited text.

    A capitalised word counts as a name unless it starts the sentence (then only an all-caps acronym counts).
    """
    keys: list[str] = []
    for i, token in enumerate(words(sentence)):
        if token[0].isdigit():
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
    return [k for k in missing if not (k.isalpha() and k.isupper() and len(k) >= ACRONYM_MIN and spelled_out(k, cited_text))]


def _capitalised_runs(tokens: list[str]) -> list[list[str]]:
    """Runs of consecutive capitalised tokens ("United States", "World Health Organization")."""
    runs: list[list[str]] = [[]]
    for token in tokens:
        if token[0].isupper():
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def unmentioned_names(question: str, text: str) -> list[str]:
    """The question's names and numbers that `text` never mentions, an acronym standing for its words either way
    ("United States" is mentioned by "U.S.", "WHO" by "World Health Organization") and another form of a word
    counting as the word ("Russians" / "Russian", "Brittish" / "British", "B-cell" / "B cell", "1950s" / "1958")."""
    missing = missing_key_terms(question, text)
    if not missing:
        return []
    text_tokens, asked = words(text), words(question)
    acronyms = {t for t in text_tokens if t.isupper() and len(t) >= 2}
    initials = {"".join(w[0] for w in run) for run in _capitalised_runs(text_tokens) if len(run) >= 2}
    covered = {t for t in asked if t.isupper() and len(t) >= 2 and t in initials}
    for run in _capitalised_runs(asked):
        if len(run) >= 2 and "".join(w[0] for w in run).upper() in acronyms:
            covered.update(run)
    unknown = [m for m in missing if m not in covered]
    if unknown:
        lowered = [t.lower() for t in text_tokens]
        vocabulary = {t for t in lowered if not t[0].isdigit()} | {a + b for a, b in zip(lowered, lowered[1:])}
        years = {t for t in text_tokens if t.isdigit() and len(t) == 4}
        unknown = [m for m in unknown if not _variant_mentioned(m, question, vocabulary, years)]
    return unknown


_DEMONYM = re.compile(r"^(?:Native|[A-Z][a-z]+(?:an|ian|ean|ese|ish|ch|i))$")
VARIANT_PREFIX = 5  # "German" / "Germany", "Russians" / "Russian", "Gothais" / "Gotha": one name, another form
VARIANT_SIMILARITY = 0.85  # "Brittish" / "British": a misspelling


def _variant_mentioned(name: str, question: str, vocabulary: set[str], years: set[str]) -> bool:
    """Is `name` in the text under another form: a decade ("1950s") by a year in it, a word by an inflection or
    a misspelling of it? A demonym ("German", "Native") describes rather than names: always counted as mentioned."""
    if _DEMONYM.search(name):
        return True
    if name[0].isdigit():
        return re.search(rf"\b{re.escape(name)}s\b", question) is not None and any(y[:3] == name[:3] for y in years)
    lower = name.lower()
    for word in vocabulary:
        if len(lower) >= VARIANT_PREFIX and word[:VARIANT_PREFIX] == lower[:VARIANT_PREFIX] and abs(len(word) - len(lower)) <= 3:
            return True
        if abs(len(word) - len(lower)) <= 2 and SequenceMatcher(None, word, lower).ratio() >= VARIANT_SIMILARITY:
            return True
    return False
