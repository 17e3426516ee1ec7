"""Optional LLM-judged faithfulness (`citewise eval --judge`): claims supported by the cited quotes ÷ claims.

Only meaningful with a capable external model (CITEWISE_LLM_BASE_URL); it is reported beside the deterministic
metrics and never replaces them.
"""

from __future__ import annotations

import json
import re

from service.llm import LLMClient
from service.pipeline.prompts import render_prompt
from service.schemas import Answer, ChatMessage

_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_verdicts(reply: str) -> list[bool]:
    """The judge's per-claim verdicts from its JSON reply (tolerating prose or code fences around it)."""
    match = _OBJECT.search(reply)
    if not match:
        return []
    try:
        claims = json.loads(match.group(0)).get("claims", [])
    except (json.JSONDecodeError, AttributeError):
        return []
    return [bool(c.get("supported")) for c in claims if isinstance(c, dict)]


def judge_faithfulness(llm: LLMClient, question: str, answer: Answer) -> float | None:
    """Share of the answer's claims the judge finds in its cited quotes; None when the judge gave no verdicts."""
    sources = "\n".join(f"[{c.id}] {c.source}:{c.start_line}-{c.end_line}: {c.quote}" for c in answer.citations)
    prompt = render_prompt("judge_faithfulness", question=question, sources=sources or "(none)", answer=answer.answer)
    verdicts = parse_verdicts(llm.complete([ChatMessage(role="user", content=prompt)], max_tokens=800))
    return sum(verdicts) / len(verdicts) if verdicts else None
