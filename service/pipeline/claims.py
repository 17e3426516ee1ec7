"""The checkable values a sentence states — amounts, percentages, dates, periods, durations, counts of a thing —
each with the clause it sits in, and whether two sentences' values contradict each other.

Two sentences contradict when they give different values of the same kind to the same thing: "the release is
planned for September" / "the release has moved to October"; "the battery lasts 8 hours" / "up to 12 hours".
They do not when one merely adds a value ("returns in September" / "goes offline in April and returns in
September": the shared value makes it the same claim), when the values are about different things ("the minimum
order is 200 hubs" / "we shipped 4,120 hubs": their clauses share nothing but the unit), when they are about
different times (a different quarter or year *and* a different figure), or when one value follows from the other
("the bill rises by $1.69" / "from $48.20 to $49.89").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations, product

from service.pipeline.terms import STOPWORDS, content_terms, stem, words

_MONTH_NAMES = "january february march april may june july august september october november december".split()
# Capitalised month names only ("may" and "march" are also verbs), and May only before a day or a year.
_MONTH = (r"(?-i:(?:" + "|".join(m.capitalize() for m in _MONTH_NAMES if m != "may")
          + r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?(?![a-z])|May(?=\s\d))")
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9}
_SMALL_NUMBERS = "one two three four five six seven eight nine ten eleven twelve".split()
_HOURS = {"hour": 1, "day": 24, "week": 168, "month": 730, "year": 8766, "decade": 87660}
_ORDINALS = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3", "fourth": "4", "4th": "4"}
_HEDGE = re.compile(r"\b(?:more than|over|about|around|nearly|almost|roughly|some|at least|up to|less than|fewer "
                    r"than|under|approximately|an estimated|as many as|as much as)\s*$", re.IGNORECASE)
_VALUE = re.compile(
    rf"(?P<money>[$€£]\s?(?P<mnum>{_NUMBER})(?:\s?(?P<mscale>thousand|million|billion|bn|mn|m|k)\b)?"
    rf"|\b(?P<mnum2>{_NUMBER})\s?(?P<mscale2>thousand|million|billion)?\s(?:dollars|euros|pounds)\b)"
    rf"|(?P<percent>\b(?P<pnum>{_NUMBER})\s?(?:%|percent\b|per cent\b))"
    rf"|(?P<date>\b(?P<month>{_MONTH})(?:\s(?P<day>\d{{1,2}})\b(?!,?\d))?|\b(?P<day2>\d{{1,2}})\s(?P<month2>{_MONTH}))"
    rf"|(?P<period>\bq(?P<q>[1-4])\b|\b(?P<ord>{'|'.join(_ORDINALS)})[\s-](?P<part>quarter|half)\b)"
    rf"|(?P<duration>\b(?:(?P<dnum>{_NUMBER}|{'|'.join(_SMALL_NUMBERS)}|a few|several)[\s-])?"
    rf"(?P<dunit>hour|day|week|month|year|decade)s?\b)"
    rf"|(?P<year>\b(?:19|20)\d\d\b)"
    rf"|(?P<count>\b(?P<cnum>{_NUMBER})\b)",
    re.IGNORECASE,
)
# Where a clause ends: commas (not the one inside "April 7, 2025"), semicolons, colons, dashes and contrastive words.
# A colon inside a clock time breaks too, on purpose: "Rose died at 5:35 p.m. on Tuesday night" (the time from one
# sentence, the night from another) is caught by `verifier.added_clauses` only as "… 5" and "35 p.m. on Tuesday night".
_CLAUSE_BREAK = re.compile(r",(?!\d)(?!\s*\d{4}\b)|;|:|\s[–—-]\s|\b(?:while|whereas|but|although|though|which|that)\b", re.IGNORECASE)
TIME_KINDS = frozenset({"date", "year", "period"})
CONTEXT_WORDS = 3  # content words before a value that say what it is ("the firmware release is planned for …")
SAME_CONTEXT = 2  # shared context terms that make two values about the same thing ("interest rate" ≠ "rate increase")
SAME_VALUE = 0.05  # relative difference under which two figures are the same figure (rounding)
SAME_HEDGED_VALUE = 0.25  # … when one of them is hedged ("more than 160", "about $400,000")


@dataclass(frozen=True)
class Claim:
    """One value a sentence states: its kind ("money", "percent", "date", "period", "duration", "year" or
    "count:<unit>"), the value normalised, the number (for amounts), whether it is hedged ("up to 12 hours"), and
    what the value is about: the last CONTEXT_WORDS content words before it in its clause (names and other values
    left out: "the contract with Brennan & Holt is $5.9 million" is about the contract)."""

    kind: str
    value: str
    number: float | None
    hedged: bool
    context: frozenset[str]


def _number(text: str, scale: str | None = None) -> float:
    return float(text.replace(",", "")) * _SCALE.get((scale or "").lower(), 1.0)


def _unit_after(text: str) -> str | None:
    """The thing a bare number counts: the first lowercase content word among the next three words."""
    for token in words(text)[:3]:
        if token[0].isdigit():
            return None
        if token[0].islower() and token not in STOPWORDS:
            return stem(token)
    return None


def _claim(m: re.Match[str], text: str, context: frozenset[str]) -> Claim | None:
    hedged = bool(_HEDGE.search(text[: m.start()]))
    if m.group("money"):
        number = _number(m.group("mnum") or m.group("mnum2"), m.group("mscale") or m.group("mscale2"))
        return Claim("money", f"{number:g}", number, hedged, context)
    if m.group("percent"):
        number = _number(m.group("pnum"))
        return Claim("percent", f"{number:g}", number, hedged, context)
    if m.group("date"):
        month = (m.group("month") or m.group("month2")).lower()[:3]
        day = m.group("day") or m.group("day2")
        return Claim("date", f"{month} {int(day)}" if day else month, None, hedged, context)
    if m.group("period"):
        part = (m.group("part") or "quarter").lower()
        return Claim("period", f"{part} {m.group('q') or _ORDINALS[m.group('ord').lower()]}", None, hedged, context)
    if m.group("duration"):
        amount = (m.group("dnum") or "").lower()
        length = _number(amount) if amount[:1].isdigit() else _SMALL_NUMBERS.index(amount) + 1.0 if amount in _SMALL_NUMBERS else None
        unit = m.group("dunit").lower()
        hours = None if length is None else length * _HOURS[unit]  # "two weeks" and "14 days" are one duration
        return Claim("duration", f"{amount} {unit}".strip(), hours, hedged, context)
    if m.group("year"):
        return Claim("year", m.group(0), None, hedged, context)
    unit = _unit_after(text[m.end() :])
    if unit is None:
        return None
    return Claim(f"count:{unit}", f"{_number(m.group('cnum')):g}", _number(m.group("cnum")), hedged, context - {unit})


def clauses(text: str) -> list[str]:
    """`text` cut where a clause ends (commas, semicolons, dashes, "but", "which", …), each piece stripped."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c.strip()]


def clause_runs(text: str, longest: int = 2) -> list[str]:
    """Every run of 1 … `longest` consecutive clauses of `text`, as written there (breaks inside a run kept)."""
    bounds = [(0, 0), *((b.start(), b.end()) for b in _CLAUSE_BREAK.finditer(text)), (len(text), len(text))]
    runs = []
    for first in range(len(bounds) - 1):
        for last in range(first + 1, min(first + longest, len(bounds) - 1) + 1):
            run = text[bounds[first][1] : bounds[last][0]].strip()
            if run and run != text.strip():
                runs.append(run)
    return runs


def claims_in(text: str) -> list[Claim]:
    """The typed values of a sentence, each with what it is about (see Claim)."""
    breaks = list(_CLAUSE_BREAK.finditer(text))
    starts = [0, *(b.end() for b in breaks)]
    matches = list(_VALUE.finditer(text))
    value_terms = set().union(*(content_terms(m.group(0)) for m in matches))
    out = []
    for m in matches:
        clause_start = starts[max(bisect_right(starts, m.start()) - 1, 0)]
        before = [t for t in _common_terms(text[clause_start : m.start()]) if t not in value_terms]
        claim = _claim(m, text, frozenset(before[-CONTEXT_WORDS:]))
        if claim is not None:
            out.append(claim)
    return out


def _common_terms(text: str) -> list[str]:
    """The content terms of `text` in order, without numbers and capitalised words (names, except a first word)."""
    tokens = words(text)
    kept = [t for i, t in enumerate(tokens) if not t[0].isdigit() and (t[0].islower() or i == 0)]
    return [term for token in kept for term in content_terms(token)]


def _same_figure(x: Claim, y: Claim) -> bool:
    if x.kind == "duration" and (x.number is None or y.number is None):  # "for years" / "for nearly 30 years"
        return x.value.split()[-1] == y.value.split()[-1]
    if x.number is None or y.number is None:
        return x.value == y.value
    tolerance = SAME_HEDGED_VALUE if x.hedged or y.hedged else SAME_VALUE
    return abs(x.number - y.number) <= tolerance * max(abs(x.number), abs(y.number), 1e-9)


def _follows(x: Claim, others: list[Claim]) -> bool:
    """x is the difference or the sum of two of the other sentence's figures ("rises by $1.69" / "$48.20 to $49.89")."""
    numbers = [o.number for o in others if o.number is not None]
    if x.number is None:
        return False
    return any(
        abs(x.number - abs(p - q)) <= 0.01 * max(abs(x.number), 1) or abs(x.number - (p + q)) <= 0.01 * max(abs(x.number), 1)
        for p, q in combinations(numbers, 2)
    )


def _disagreeing(a: list[Claim], b: list[Claim], kind: str, specific: Callable[[str], bool]) -> tuple[Claim, Claim] | None:
    """Two values of `kind` about the same thing (their contexts share SAME_CONTEXT terms, one of them specific)
    that differ, when the sentences share no value of that kind; None otherwise."""
    xs, ys = [c for c in a if c.kind == kind], [c for c in b if c.kind == kind]
    if not xs or not ys or any(_same_figure(x, y) for x, y in product(xs, ys)):
        return None
    if any(_follows(x, ys) for x in xs) or any(_follows(y, xs) for y in ys):
        return None
    pairs = [
        (x, y) for x, y in product(xs, ys)
        if len(x.context & y.context) >= SAME_CONTEXT and any(specific(t) for t in x.context & y.context)
    ]
    return max(pairs, key=lambda p: len(p[0].context & p[1].context)) if pairs else None


def _figures_differ(a: list[Claim], b: list[Claim]) -> bool:
    """Both sentences state amounts or counts, and none of them in common."""
    xs = [c for c in a if c.kind not in TIME_KINDS and c.number is not None]
    ys = [c for c in b if c.kind not in TIME_KINDS and c.number is not None]
    return bool(xs and ys) and not any(_same_figure(x, y) for x, y in product(xs, ys))


def contradicting_values(a: str, b: str, specific: Callable[[str], bool] = bool) -> tuple[Claim, Claim] | None:
    """The values on which sentences a and b contradict each other, or None (see the module docstring).
    `specific(term)`: whether a shared context term names a particular thing (in the corpus: a rare term), not
    the corpus' general subject ("reservoir" throughout a reservoir project's documents); any term by default."""
    ca, cb = claims_in(a), claims_in(b)
    kinds = sorted({c.kind for c in ca} & {c.kind for c in cb})
    found = {kind: pair for kind in kinds if (pair := _disagreeing(ca, cb, kind, specific)) is not None}
    times_differ = any(  # a different quarter or year anywhere in the two sentences
        not any(_same_figure(x, y) for x in ca if x.kind == kind for y in cb if y.kind == kind)
        for kind in kinds if kind in TIME_KINDS
    )
    figures = [kind for kind in found if kind not in TIME_KINDS]
    if times_differ and (figures or _figures_differ(ca, cb)):
        return None  # a different figure for a different time is no conflict
    if figures:
        return found[figures[0]]
    for kind in ("date", "period", "year"):
        if kind in found:
            return found[kind]
    return None
