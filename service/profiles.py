"""Model profiles: what the answer pipeline knows about the model it talks to.

A 135M model can only pick a sentence and echo it; a 1.5B model can read whole passages and write a short,
faithful answer that combines them; a served 7B+ (or hosted) model can read more. The profile sets the evidence
budget (in tokens), how many passages the prompt carries and how long each is, the draft's length, whether the
answer may synthesise across sources, and how the verifier treats paraphrase.

Chosen automatically — the embedded default → `tiny`; the embedded quality model → `small`; an external server:
from what its `/v1/models` says it serves (a size in the name, a context), else `small` — and overridable with
`CITEWISE_LLM_PROFILE`. Every answer's trace names the profile that ran.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

ProfileName = Literal["tiny", "small", "large"]


class ModelProfile(BaseModel, frozen=True):
    name: ProfileName
    evidence_tokens: int  # the prompt's evidence budget
    passages: int  # at most this many numbered evidence pieces in the prompt
    passage_sentences: int  # each piece: the evidence sentence plus neighbours of its paragraph, up to this many
    draft_tokens: int  # the answer draft's length
    synthesis: bool  # several sentences, combining sources; no forced quote of the best evidence
    paraphrase: Literal["lexical", "semantic"]  # how the verifier judges wording that is not the source's
    judge: bool  # ask the model itself whether the evidence supports sentences the cheap checks cannot settle


PROFILES: dict[str, ModelProfile] = {
    "tiny": ModelProfile(
        name="tiny", evidence_tokens=200, passages=3, passage_sentences=1, draft_tokens=64,
        synthesis=False, paraphrase="lexical", judge=False,
    ),
    "small": ModelProfile(
        # 400 tokens / 4 passages rather than 700 / 5: quality model on the dev 20s, same run, 1 thread each —
        # accuracy RealTime QA 0.60 = 0.60, HotpotQA 0.60 → 0.65 (support 0.725 → 0.75), SQuAD 2 answerable
        # 0.857 → 1.0, ask p50 22–28 s → 18–23 s; answers that are only quotes 0.11–0.25 → 0.16–0.35
        name="small", evidence_tokens=400, passages=4, passage_sentences=3, draft_tokens=160,
        synthesis=True, paraphrase="semantic", judge=True,
    ),
    "large": ModelProfile(
        name="large", evidence_tokens=2500, passages=8, passage_sentences=5, draft_tokens=400,
        synthesis=True, paraphrase="semantic", judge=True,
    ),
}  # fmt: skip

_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bBmM])(?![a-zA-Z])")  # "1.5B", "7b", "135M"
_LARGE_FAMILIES = re.compile(r"gpt-4|gpt-5|\bo[134]\b|claude|gemini|mistral-large|command-r|deepseek", re.I)


def profile_from_model(model_id: str, context_tokens: int | None = None) -> ModelProfile:
    """A profile from what a server says about its model: a parameter count in the name ("7B", "1.5b", "135M"), a known
    hosted family, or a large context window; `small` when nothing is said."""
    size = _SIZE.search(model_id)
    if size is not None:
        billions = float(size.group(1)) / (1000 if size.group(2) in "mM" else 1)
        return PROFILES["large" if billions >= 6 else "small" if billions >= 0.4 else "tiny"]
    if _LARGE_FAMILIES.search(model_id) or (context_tokens or 0) >= 32768:
        return PROFILES["large"]
    return PROFILES["small"]


def choose_profile(override: str | None, *, embedded_model: str | None, model_id: str,
                   context_tokens: int | None = None) -> ModelProfile:
    """The profile to run: the override if set, else by the embedded model's name, else from the server's model."""
    if override:
        return PROFILES[override]
    if embedded_model is not None:
        return PROFILES["tiny" if embedded_model == "tiny" else "small"]
    return profile_from_model(model_id, context_tokens)
