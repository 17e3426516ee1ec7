"""The model as the verifier's judge: "does this source text support this statement? yes or no".

Asked only with capable profiles (`ModelProfile.judge`) and only for sentences the cheap checks cannot settle:
the hard checks passed (every number, date and name is in the cited text) and the wording lies between the
semantic paraphrase bars (service.pipeline.verifier.check_support). The verdict is recorded in the decision's
reason beside the lexical and semantic scores. A reply that is neither yes nor no is no verdict: the sentence is
then judged unsupported. A model that fails raises LLMUnavailable like any other call.
"""

from __future__ import annotations

import re

from service.pipeline.ports import ChatModel
from service.pipeline.prompts import render_prompt
from service.pipeline.verifier import Judge
from service.schemas import ChatMessage, TokenUsage

JUDGE_MAX_TOKENS = 4  # "yes" / "no" and a stop
_VERDICT = re.compile(r"\b(yes|no)\b", re.I)


def parse_verdict(reply: str) -> bool | None:
    """True for a reply starting "yes", False for "no", None for anything else."""
    match = _VERDICT.match(reply.strip(" \t\n\"'*.:"))
    return None if match is None else match.group(1).lower() == "yes"


def model_judge(llm: ChatModel, usage: TokenUsage | None = None) -> Judge:
    """A Judge that asks `llm` (its token counts added to `usage`)."""

    def judge(statement: str, evidence: str) -> bool | None:
        prompt = render_prompt("judge_support", statement=statement, evidence=evidence)
        return parse_verdict(llm.complete([ChatMessage(role="user", content=prompt)], JUDGE_MAX_TOKENS, usage))

    return judge
