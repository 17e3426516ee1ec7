"""The optional LLM judge: prompt filling and verdict parsing (a scripted stand-in LLM; parsing logic only)."""

from __future__ import annotations

from evals.judge import judge_faithfulness, parse_verdicts
from service.schemas import Answer, Citation


class ScriptedLLM:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    def complete(self, messages, max_tokens=None) -> str:  # noqa: ANN001 - LLMClient.complete's shape
        self.prompts.append(messages[-1].content)
        return self.reply


ANSWER = Answer(
    answer="The U.S. has not signed the Ottawa Treaty [1]. It will ship 5,000 mines [1].",
    refused=False,
    citations=[Citation(id=1, source="b.txt", start_line=5, end_line=5, quote="a treaty the U.S. has not signed")],
)


def test_parse_verdicts_tolerates_fences_and_rejects_garbage() -> None:
    reply = '```json\n{"claims": [{"claim": "a", "supported": true}, {"claim": "b", "supported": false}]}\n```'
    assert parse_verdicts(reply) == [True, False]
    assert parse_verdicts("I think it is fine.") == []
    assert parse_verdicts('{"claims": "nope"') == []


def test_judge_scores_supported_claims_over_claims_and_shows_the_quotes() -> None:
    llm = ScriptedLLM('{"claims": [{"claim": "not signed", "supported": true}, {"claim": "5,000", "supported": false}]}')
    assert judge_faithfulness(llm, "Has the US signed?", ANSWER) == 0.5
    prompt = llm.prompts[0]
    assert "[1] b.txt:5-5: a treaty the U.S. has not signed" in prompt and "Has the US signed?" in prompt
    assert judge_faithfulness(ScriptedLLM("no JSON here"), "q", ANSWER) is None
