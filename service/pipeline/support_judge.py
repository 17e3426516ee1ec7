"""The model as the verifier's judge: "does this source text support this statement? yes or no" — and, once the
answer is whole, "is this answer to the question correct according to these sources alone?".

Asked only with capable profiles (`ModelProfile.judge`) and only for sentences the cheap checks cannot settle:
the hard checks passed (every number, date and name is in the cited text) and the wording lies between the
semantic paraphrase bars, or a clause of the sentence is made mostly of words the cited text lacks — then the
statement asked about is that clause alone (service.pipeline.verifier.check_support). The verdict is recorded in
the decision's reason beside the lexical and semantic scores. A reply that is neither yes nor no is no verdict:
the sentence is then judged unsupported. A model that fails raises LLMUnavailable like any other call.

The answer check (`model_answer_check`; strict mode, CITEWISE_ANSWER_CHECK) is asked once per answer, with the
question and the passages the answer cites: a sentence can be supported by its source and still not answer what
was asked — SQuAD 2's unanswerable questions are built that way ("In what decade did the Rankine cycle create 90%
of engine components?" answered "in the 1990s" from "In the 1990s, Rankine steam cycles generated about 90% of all
electric power"). Per-sentence support cannot see that; the question can.
`prompts/check_answer.txt` ends at "Answer:" with no newline after it, as it was measured: the 1.5B model's verdicts
on close calls change with one (SQuAD 2 held-out, first version: answerable refused 0.167 with it, 0.111 without).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from service.pipeline.ports import ChatModel
from service.pipeline.prompts import render_prompt
from service.pipeline.verifier import Judge
from service.schemas import ChatMessage, TokenUsage

JUDGE_MAX_TOKENS = 4  # "yes" / "no" and a stop
AnswerCheck = Callable[[str, Sequence[str], str], bool | None]  # (question, cited texts, answer) → confirmed?
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


def model_answer_check(llm: ChatModel, usage: TokenUsage | None = None) -> AnswerCheck:
    """An AnswerCheck that asks `llm` whether the answer is correct according to the cited texts alone."""

    def check(question: str, sources: Sequence[str], answer: str) -> bool | None:
        numbered = "\n".join(f"[{i}] {text}" for i, text in enumerate(sources, start=1))
        prompt = render_prompt("check_answer", question=question, sources=numbered, answer=answer)
        return parse_verdict(llm.complete([ChatMessage(role="user", content=prompt)], JUDGE_MAX_TOKENS, usage))

    return check
