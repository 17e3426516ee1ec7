"""Country and state names, for the questions that ask which one ("A volcano eruption in which country …", "… after
severe flooding in which state?"): the sentence that names one answers them, and neither the embedding nor the
question's words tell it from its neighbours ("JMA announced a Level 5 alert" outranked "… Sakurajima volcano in
Japan …").

Names come from pycountry (ISO 3166: each country's name, common and official names, and the first-level
subdivisions of the type "State"), plus the short forms news writing uses that ISO does not ("Russia", "Britain").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import pycountry

PlaceKind = Literal["country", "state"]

_ASKS_PLACE = re.compile(r"\b(?:which|what)\s+(?:[\w.’'-]+\s+)?(?P<kind>countr(?:y|ies)|nations?|states?)\b", re.I)
# Forms ISO 3166 does not give (it has "Russian Federation", "United Kingdom", "Türkiye", "United States").
SHORT_FORMS = ("Russia", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "UK", "U.K.",
               "US", "U.S.", "USA", "America", "Turkey", "Czech Republic", "Ivory Coast", "Burma", "Holland")  # fmt: skip


def asked_place(question: str) -> PlaceKind | None:
    """"country" for "which country / nation …", "state" for "which state …", else None."""
    match = _ASKS_PLACE.search(question)
    if match is None:
        return None
    return "state" if match["kind"].lower().startswith("state") else "country"


def _names(kind: PlaceKind) -> list[str]:
    if kind == "state":
        return [s.name for s in pycountry.subdivisions if s.type == "State"]
    names = list(SHORT_FORMS)
    for country in pycountry.countries:
        for field in ("name", "common_name", "official_name"):
            name = getattr(country, field, None)
            if name:
                names.append(name.split(",")[0])  # "Korea, Republic of" → "Korea"
    return names


@lru_cache(maxsize=2)
def _pattern(kind: PlaceKind) -> re.Pattern[str]:
    names = sorted(set(_names(kind)), key=len, reverse=True)  # longest first: "West Virginia" before "Virginia"
    return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w])")


def places_in(kind: PlaceKind, text: str) -> set[str]:
    """The countries (or states) `text` names, as written."""
    return set(_pattern(kind).findall(text))
