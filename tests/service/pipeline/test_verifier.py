"""Verifier rules on hand-made model drafts (the only place a fake LLM output is used), with the real embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embeddings import MiniLMEmbedder
from service.pipeline.claims import clause_runs
from service.pipeline.contradictions import opposite_of_asked, reversed_by
from service.pipeline.evidence import RankedEvidence
from service.pipeline.sentences import split_sentences
from service.pipeline.terms import missing_key_terms, unmentioned_names
from service.pipeline.verifier import (
    addresses_question,
    borrowed_numbers,
    check_support,
    draft_sentences,
    markers_in,
    strip_markers,
    swaps_subject,
    unanswered_after_fallback,
    unlinked_documents,
    verify,
)

NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"


def _sentence(news_dir: Path, source: str, starts: str) -> RankedEvidence:
    text = (news_dir / source).read_text(encoding="utf-8")
    s = next(s for s in split_sentences(text) if s.text.startswith(starts))
    return RankedEvidence(number=0, source=source, start_line=s.start_line, end_line=s.end_line, text=s.text, score=0.8)


@pytest.fixture(scope="module")
def evidence(news_dir: Path) -> list[RankedEvidence]:
    picked = [
        _sentence(news_dir, NEWS_A, "Ukraine ranked third"),
        _sentence(news_dir, NEWS_B, "The move contrasts with a pledge"),
        _sentence(news_dir, NEWS_A, "Earlier, Biden had also authorized Kyiv"),
        _sentence(news_dir, NEWS_B, "However, proponents argue"),
    ]
    return [e.model_copy(update={"number": i, "score": 0.9 - i / 10, "dense": 0.8 - i / 10}) for i, e in enumerate(picked, start=1)]


def test_markers_are_parsed_in_every_form() -> None:
    assert markers_in("A [1] b [2, 3] c [3][4] d [1;5].") == [1, 2, 3, 4, 5]
    assert strip_markers("Ukraine ranked third [1][2].") == "Ukraine ranked third."  # one grammar: spaces tidied


def test_a_marker_after_a_full_stop_closes_that_sentence_unless_it_starts_a_numbered_line() -> None:
    from service.pipeline.markers import marked_sentences

    assert marked_sentences("The treaty bans mines. [1] Russia invaded in 2022. [2]") == [
        "The treaty bans mines. [1]", "Russia invaded in 2022. [2]"]  # fmt: skip
    assert marked_sentences("The treaty bans mines.\n[1]\nRussia invaded [2].") == ["The treaty bans mines. [1]", "Russia invaded [2]."]
    # the tiny model echoing its evidence list: each line's number is its own
    echoed = "[1] The release is planned for September 2025.\n[2] The release has moved to October 2025."
    assert [markers_in(s) for s in marked_sentences(echoed)] == [[1], [2]]


def test_check_support_accepts_a_faithful_claim_and_rejects_others(embedder: MiniLMEmbedder, evidence) -> None:
    rank = evidence[0].text
    good = check_support("Ukraine ranked third among the countries most affected by antipersonnel mines [1].", [rank], embedder)
    assert good.supported and good.lexical >= 0.9 and good.semantic > 0.7 and not good.missing_terms
    wrong_number = check_support("Ukraine ranked third with 900 casualties, behind Myanmar and Syria.", [rank], embedder)
    assert not wrong_number.supported and wrong_number.missing_terms == ["900"]
    wrong_name = check_support("Ukraine ranked third, behind Myanmar and Afghanistan.", [rank], embedder)
    assert not wrong_name.supported and "Afghanistan" in wrong_name.missing_terms
    unrelated = check_support("Proponents argue the mines help Ukraine resist aggression.", [rank], embedder)
    assert not unrelated.supported and unrelated.lexical < 0.75
    assert not check_support("Anything at all.", [], embedder).supported


def test_invalid_marker_is_removed_and_the_sentence_reattributed(embedder: MiniLMEmbedder, evidence) -> None:
    draft = "Ukraine ranked third among the countries most affected by antipersonnel mines [7]."
    result = verify(draft, evidence, embedder)
    actions = [d.action for d in result.decisions]
    assert actions[0] == "marker_removed" and result.decisions[0].cited == [7]
    assert "reattributed" in actions
    assert result.sentences[0].cited == [1] and not result.extractive
    assert all(n in {1, 2, 3, 4} for s in result.sentences for n in s.cited)


def test_sentence_with_a_number_missing_from_its_evidence_is_dropped(embedder: MiniLMEmbedder, evidence) -> None:
    draft = (
        "Ukraine ranked third, with 900 casualties this year [1]. "
        "The Biden administration pledged in June 2022 to limit the use of anti-personnel mines globally [2]."
    )
    result = verify(draft, evidence, embedder)
    texts = [s.text for s in result.sentences]
    assert not any("900" in t for t in texts)
    dropped = [d for d in result.decisions if d.action == "dropped"]
    assert len(dropped) == 1 and "900" in dropped[0].reason
    kept = [s for s in result.sentences if not s.extractive]
    assert len(kept) == 1 and kept[0].cited == [2] and "June 2022" in kept[0].text


def test_uncited_but_supported_sentence_is_reattributed(embedder: MiniLMEmbedder, evidence) -> None:
    draft = "Earlier, Biden authorized Kyiv to use long-range ATACMS missiles against Russian territory."
    result = verify(draft, evidence, embedder)
    assert [d.action for d in result.decisions] == ["reattributed"]
    assert result.sentences == [result.sentences[0]] and result.sentences[0].cited == [3]


def test_wrongly_cited_sentence_moves_to_the_evidence_that_supports_it(embedder: MiniLMEmbedder, evidence) -> None:
    draft = "Proponents argue that the mines are a necessary step to help Ukraine resist Russian aggression [1]."
    result = verify(draft, evidence, embedder)
    assert result.decisions[-1].action == "reattributed" and result.sentences[0].cited == [4]


def test_all_unsupported_falls_back_to_quoting_the_best_evidence(embedder: MiniLMEmbedder, evidence) -> None:
    draft = "The mines cost 40 million dollars [1]. Poland will deliver them in March [2]. The documents don't say."
    result = verify(draft, evidence, embedder)
    assert result.extractive
    assert [s.text for s in result.sentences] == [evidence[0].text] and result.sentences[0].cited == [1]
    assert {d.action for d in result.decisions} == {"dropped", "extractive"}


def test_must_include_evidence_is_appended_unless_restated_whole(embedder: MiniLMEmbedder, evidence) -> None:
    whole = f"{evidence[0].text} [1]"
    result = verify(whole, evidence, embedder, must_include=[evidence[0], evidence[2]])
    assert [s.cited for s in result.sentences] == [[1], [3]]
    assert not result.sentences[0].extractive
    assert result.sentences[1].extractive and result.sentences[1].text == evidence[2].text
    # A paraphrase that drops facts (580, Myanmar, Syria) keeps its place, and the evidence is quoted too.
    partial = "Ukraine ranked third among the countries most affected by antipersonnel mines [1]."
    result = verify(partial, evidence, embedder, must_include=[evidence[0]])
    assert [(s.cited, s.extractive) for s in result.sentences] == [([1], False), ([1], True)]
    assert result.sentences[1].text == evidence[0].text


def test_off_topic_but_true_sentence_is_dropped(embedder: MiniLMEmbedder, evidence) -> None:
    draft = "Proponents argue that the provision of these mines is a necessary step to help Ukraine [4]."
    result = verify(draft, evidence, embedder, min_score=0.7)
    assert result.extractive and result.sentences[0].cited == [1]
    assert "off the question" in result.decisions[0].reason


def test_addresses_question_refuses_without_relevant_evidence(evidence) -> None:
    assert addresses_question("Anything?", []) == (False, "no evidence retrieved")
    weak = [e.model_copy(update={"score": 0.1}) for e in evidence]
    ok, reason = addresses_question("Where did Ukraine rank?", weak)
    assert not ok and "score" in reason
    middling = [e.model_copy(update={"score": 0.5}) for e in evidence]
    ok, reason = addresses_question("Which company made the mines in 1985?", middling)  # a number no text mentions
    assert not ok and "never mention 1985" in reason
    # a decade is mentioned by a year in it
    assert addresses_question("Were the mines made in the 1990s?", middling, ["Raytheon made mines in 1997."])[0]
    # a name no text mentions is no sign: documents leave their setting unnamed ("Which drugs became legal in
    # Ireland?" over Irish news that never says "Ireland"); on the public sets it refused answerable questions only
    assert addresses_question("Did Raytheon manufacture the mines?", middling)[0]
    assert addresses_question("Which company manufactures the mines?", middling)[0]
    # a strong match outweighs an unmentioned number
    assert addresses_question("Which company made the mines in 1985?", [e.model_copy(update={"score": 0.7}) for e in evidence])[0]
    ok, reason = addresses_question("How many mines will be shipped?", [evidence[3].model_copy(update={"score": 0.7, "dense": 0.6})])
    assert not ok and "number" in reason
    spelled = evidence[3].model_copy(update={"score": 0.7, "dense": 0.6, "text": "All forces are based on four interactions."})
    assert addresses_question("How many interactions are the forces based on?", [spelled])[0]  # a number in words
    assert addresses_question("Where did Ukraine rank among the most affected countries?", evidence)[0]
    # words in common but nothing close in meaning (SQuAD 2's unanswerable questions, more often than answerable ones)
    far = [e.model_copy(update={"score": 0.7, "dense": 0.4}) for e in evidence]
    ok, reason = addresses_question("Where did Ukraine rank among the most affected countries?", far)
    assert not ok and "close in meaning" in reason
    one_close = [*far[:-1], far[-1].model_copy(update={"dense": 0.5})]
    assert addresses_question("Where did Ukraine rank among the most affected countries?", one_close)[0]


def test_a_question_for_a_measure_needs_evidence_that_states_that_measure(evidence) -> None:
    """"What is the population of …?" is not answered by sentences about the place; a cost by a money amount, a
    share by a percentage, a population by a word for the people living there."""
    def ranked(text: str) -> list[RankedEvidence]:
        return [evidence[0].model_copy(update={"text": text, "score": 0.6, "dense": 0.6})]

    place = ranked("The reservoir project is the largest capital project of the Calder Falls Water Utility.")
    ok, reason = addresses_question("What is the population of Calder Falls?", place)
    assert not ok and "asks for a population" in reason
    assert addresses_question("What is the population of Calder Falls?", ranked("Calder Falls has 41,000 residents."))[0]
    assert not addresses_question("What is the total cost of the project?", place)[0]
    assert addresses_question("What is the total cost of the project?", ranked("The contract is worth $5.9 million."))[0]
    assert addresses_question("and what is the share of renters in Calder Falls?", ranked("Renters are 38% of homes."))[0]
    assert not addresses_question("What's the price of the annual pass?", ranked("The pass was sold out in 2024."))[0]
    assert addresses_question("What is the project about?", place)[0]  # not a measure: the other signals decide


def test_a_question_about_what_is_not_so_needs_evidence_that_negates_something(evidence) -> None:
    """SQuAD 2's "What does Article 102 not prohibit?" over "Article 102 prohibits the abuse of dominant position"
    was answered with that sentence. A negated question is addressed only when one of the best few evidence
    sentences negates something ("does not", "failed to", "cannot", …)."""
    def ranked(*texts: str) -> list[RankedEvidence]:
        return [evidence[0].model_copy(update={"text": t, "score": 0.7 - i / 10, "dense": 0.6}) for i, t in enumerate(texts)]

    affirms = ranked("Clause 9 of the harbour lease prohibits mooring in the channel.", "The lease runs to 2031.")
    ok, reason = addresses_question("What does clause 9 of the harbour lease not prohibit?", affirms)
    assert not ok and "not so" in reason
    assert not addresses_question("What didn't clause 9 of the harbour lease prohibit?", affirms)[0]
    assert addresses_question("What does clause 9 of the harbour lease prohibit?", affirms)[0]
    negates = ranked("Clause 9 of the harbour lease does not prohibit fishing from the pier.", "The lease runs to 2031.")
    assert addresses_question("What does clause 9 of the harbour lease not prohibit?", negates)[0]
    failed = ranked("The harbour board failed to renew clause 9 of the lease.", "The lease runs to 2031.")
    assert addresses_question("Which clause was not renewed by the harbour board?", failed)[0]
    # the asked sentence counts, not a premise before it; "not as … as" is a comparison
    premise = "The harbour board did not renew clause 9 of the lease. What does clause 9 of the harbour lease prohibit?"
    assert addresses_question(premise, affirms)[0]
    assert addresses_question("Was clause 9 of the harbour lease not as strict as clause 8?", affirms)[0]
    # only the best few count: a negation far down the list does not address the question
    far = ranked("Clause 9 of the harbour lease prohibits mooring.", *["The lease runs to 2031."] * 4, "Nobody can't fish.")
    assert not addresses_question("What does clause 9 of the harbour lease not prohibit?", far)[0]


def test_a_draft_cut_off_mid_sentence_loses_its_unfinished_tail(embedder: MiniLMEmbedder, evidence) -> None:
    draft = (
        "Ukraine ranked third among the countries most affected by antipersonnel mines [1]. "
        "The Biden administration made a pledge in June 2022 to limit the use of"
    )
    result = verify(draft, evidence, embedder)
    assert [s.cited for s in result.sentences] == [[1]]
    assert result.decisions[-1].action == "dropped" and "cut off" in result.decisions[-1].reason


def test_refused_draft_whose_fallback_quote_lacks_the_asked_number_becomes_a_refusal(
    embedder: MiniLMEmbedder, evidence
) -> None:
    """The model said the documents don't say; the fallback quote would answer a different question."""
    refused = verify("The documents don't say.", evidence, embedder)
    assert refused.extractive
    # "ranked third" has no 2019 in it: quoting it would answer another question
    assert "2019" in (unanswered_after_fallback("Where did Ukraine rank in 2019?", "The documents don't say.", refused) or "")
    # without a number to check, the quote stands (the model often refuses answerable questions)
    assert unanswered_after_fallback("Where did Ukraine rank?", "The documents don't say.", refused) is None
    # the model did not refuse: its failed draft is no sign that the documents lack the answer
    assert unanswered_after_fallback("Where did Ukraine rank in 2019?", "Ukraine was first.", refused) is None
    # a kept sentence is not a fallback
    kept = verify("Ukraine ranked third among the countries most affected by antipersonnel mines [1].", evidence, embedder)
    assert not kept.extractive
    assert unanswered_after_fallback("Where did Ukraine rank in 2019?", "The documents don't say.", kept) is None


def test_streamed_draft_is_judged_like_the_whole_and_only_once_each_sentence_is_complete(
    embedder: MiniLMEmbedder, evidence
) -> None:
    """The streamed answer's verifier: sentences handed out as the next one begins (never a "3." before "3.5"),
    the same verdicts as verifying the whole draft, and the unverified rest kept apart as `pending`."""
    from service.pipeline.verifier import DraftSplitter, DraftVerifier

    draft = (
        f"{evidence[0].text.rstrip('.')} [1]. The mines cost 3.5 million dollars each [2]. "
        f"{evidence[2].text.rstrip('.')} [3]. And then it"
    )
    splitter, streamed = DraftSplitter(), DraftVerifier(evidence, embedder)
    handed: list[str] = []
    pendings: list[str] = []
    for piece in [draft[i : i + 3] for i in range(0, len(draft), 3)]:  # 3-character deltas
        for sentence in splitter.feed(piece):
            handed.append(sentence)
            streamed.judge(sentence)
        pendings.append(splitter.pending)
    closing = splitter.close()
    for i, sentence in enumerate(closing):
        streamed.judge(sentence, last=i == len(closing) - 1)
    handed += closing
    assert [strip_markers(s) for s in handed] == [
        strip_markers(f"{evidence[0].text.rstrip('.')} [1]."), "The mines cost 3.5 million dollars each.",
        strip_markers(f"{evidence[2].text.rstrip('.')} [3]."), "And then it",
    ]  # fmt: skip
    assert "The mines cost 3." not in handed and not any("[" in p for p in pendings)
    whole = verify(draft, evidence, embedder, must_include=[evidence[0]])
    assert streamed.finish(must_include=[evidence[0]]) == whole
    kept = [s.text for s in whole.sentences]
    assert "The mines cost 3.5 million dollars each." not in kept and "And then it" not in kept


PARAPHRASE = "Among nations hurt most by such weapons, Ukraine came in third place, trailing Myanmar and Syria [1]."
CLAUSES = ["Among nations hurt most by such weapons", "Ukraine came in third place"]  # half their words or fewer in [1]


class _Judge:
    """A scripted judge (verification logic only): records what it was asked, answers as told."""

    def __init__(self, verdict: bool | None) -> None:
        self.verdict, self.asked = verdict, []

    def __call__(self, statement: str, evidence: str) -> bool | None:
        self.asked.append(statement)
        return self.verdict


def test_the_judge_settles_only_what_the_cheap_checks_cannot(embedder: MiniLMEmbedder, evidence) -> None:
    """Semantic mode: a close paraphrase (half the words) is kept without asking; a looser one lies between the
    bars and the judge decides, its verdict recorded beside the scores — first on each clause made mostly of words
    the cited text lacks, then on the sentence; a wrong number never reaches the judge."""
    yes, no = _Judge(True), _Judge(False)
    close = f"{evidence[0].text.rstrip('.')} [1]."
    assert verify(close, evidence, embedder, paraphrase="semantic", judge=yes).sentences[0].text == strip_markers(close)
    assert yes.asked == []
    kept = verify(PARAPHRASE, evidence, embedder, paraphrase="semantic", judge=yes)
    assert [s.text for s in kept.sentences] == [strip_markers(PARAPHRASE)] and not kept.extractive
    assert yes.asked == [*CLAUSES, strip_markers(PARAPHRASE)] and "judge: supported" in kept.decisions[0].reason
    assert "semantic" in kept.decisions[0].reason  # both checks in the trace
    refused = verify(PARAPHRASE, evidence, embedder, paraphrase="semantic", judge=no)
    assert refused.extractive and no.asked == CLAUSES[:1]  # judged unsupported: not shown, evidence quoted instead
    assert f"not in the cited text: {CLAUSES[0]}, judge: not supported" in refused.decisions[0].reason
    wrong = verify("Ukraine came in third place with 900 casualties, trailing Myanmar and Syria [1].", evidence,
                   embedder, paraphrase="semantic", judge=yes)
    assert wrong.extractive and yes.asked == [*CLAUSES, strip_markers(PARAPHRASE)]  # the hard check: no judge call


def test_a_streamed_draft_holds_judged_sentences_until_the_model_is_free(embedder: MiniLMEmbedder, evidence) -> None:
    """While the draft streams, the model cannot judge: the sentence that needs it and every later one wait,
    then `finish` judges them in the draft's order — the same answer as verifying the whole draft."""
    from service.pipeline.verifier import DraftVerifier

    later = f"{evidence[2].text.rstrip('.')} [3]."
    judge = _Judge(True)
    streamed = DraftVerifier(evidence, embedder, paraphrase="semantic", judge=judge, streaming=True)
    assert streamed.judge(PARAPHRASE) is None and streamed.judge(later, last=True) is None
    assert judge.asked == []  # nothing asked while the model is busy
    finished = streamed.finish()
    assert [s.text for s in finished.sentences] == [strip_markers(PARAPHRASE), strip_markers(later)]
    assert judge.asked == [*CLAUSES, strip_markers(PARAPHRASE)]
    assert finished == verify(f"{PARAPHRASE} {later}", evidence, embedder, paraphrase="semantic", judge=_Judge(True))


def test_judge_replies_are_read_as_yes_no_or_no_verdict() -> None:
    from service.pipeline.support_judge import parse_verdict

    assert parse_verdict("Yes.") is True and parse_verdict(" no") is False and parse_verdict('"yes"') is True
    assert parse_verdict("The statement is supported") is None and parse_verdict("") is None


def _piece(number: int, source: str, text: str, score: float = 0.8) -> RankedEvidence:
    """One hand-made evidence sentence, line 3 of its document."""
    return RankedEvidence(number=number, source=source, start_line=3, end_line=3, text=text, score=score)


def test_a_capable_model_s_sentence_joining_two_documents_cites_both(embedder: MiniLMEmbedder) -> None:
    """Semantic mode (capable profiles): a two-hop sentence citing one source is completed by the one piece that
    holds the names it lacks, and cites both — when the judge agrees; a join it rejects is dropped. The tiny
    profile's lexical mode never joins documents."""
    pieces = [
        _piece(1, "institute.md", "Notable speakers at the Brisbane Institute included Jeffrey Smart and two judges."),
        _piece(2, "smart.md", "Jeffrey Smart was an Australian painter known for his precise depictions of urban landscapes.", 0.7),
    ]  # fmt: skip
    draft = "A painter who spoke at the Brisbane Institute, Jeffrey Smart, was known for depictions of urban landscapes [2]."
    yes, no = _Judge(True), _Judge(False)
    joined = verify(draft, pieces, embedder, paraphrase="semantic", judge=yes)
    assert not joined.extractive and joined.sentences[0].cited == [1, 2] and len(yes.asked) == 1
    assert "judge: supported" in joined.decisions[0].reason
    assert verify(draft, pieces, embedder, paraphrase="semantic", judge=no).extractive  # a false link: dropped
    assert verify(draft, pieces, embedder, paraphrase="lexical").extractive
    # a page that does not name him ties nothing to him: dropped whatever the judge says (unlinked_documents)
    unnamed = [pieces[0].model_copy(update={"text": "Notable speakers at the Brisbane Institute included one painter."}), pieces[1]]
    assert verify(draft, unnamed, embedder, paraphrase="semantic", judge=yes).extractive


def test_a_join_may_rest_on_a_second_hop_that_scores_low_against_the_question(embedder: MiniLMEmbedder) -> None:
    """The second hop's page never names what the question names ("the pop band founded by one of the stars of
    Aisa Yeh Jahaan is Euphoria [2]", HotpotQA, quality model: Palash Sen's page scored below the off-topic bar),
    so it scores low: the join stands when the other piece is on the question — the model's citation or the piece
    that completes it — and not when both are off it."""
    pieces = [
        _piece(1, "institute.md", "Notable speakers at the Brisbane Institute included Jeffrey Smart and two judges."),
        _piece(2, "smart.md", "Jeffrey Smart was an Australian painter known for his precise depictions of urban landscapes.", 0.3),
    ]  # fmt: skip
    yes = _Judge(True)
    for draft in (
        "A painter who spoke at the Brisbane Institute, Jeffrey Smart, was known for depictions of urban landscapes [2].",
        "A painter who spoke at the Brisbane Institute, Jeffrey Smart, was known for depictions of urban landscapes.",
    ):
        joined = verify(draft, pieces, embedder, min_score=0.5, paraphrase="semantic", judge=yes)
        assert not joined.extractive and joined.sentences[0].cited == [1, 2], joined.decisions
    off_topic = [pieces[0].model_copy(update={"score": 0.3}), pieces[1]]
    assert verify(draft, off_topic, embedder, min_score=0.5, paraphrase="semantic", judge=yes).extractive


# HotpotQA, quality model: "the city where Kerry Saxby-Junna was born had a population of 7,049 [1][2]" from her page
# and another town's census line — every name of it stands in one of the two, and the judge said yes. Invented here.
RUNNER = _piece(1, "Mira_Talen.txt", "Mira Talen (born 2 June 1961) is a retired Australian race walker.")
CENSUS = _piece(2, "Orrin_Vale.txt", "At the 2011 Census the town had a population of 7,049.")
BORN_IN = "She was born in Orrin Vale, Queensland."
FALSE_JOIN = "At the 2011 Census, the town where Mira Talen was born had a population of 7,049"


def test_a_sentence_joining_documents_needs_a_link_between_them() -> None:
    """Documents a sentence joins (no one of them holds all its names and numbers) must be linked: a name in both
    cited texts, or one naming the other's subject (its title). Extra citations and "both" sentences join nothing."""
    assert unlinked_documents(FALSE_JOIN, [RUNNER, CENSUS], {}) == ["Mira_Talen.txt", "Orrin_Vale.txt"]
    born_in = RUNNER.model_copy(update={"text": f"{RUNNER.text} {BORN_IN}"})
    assert unlinked_documents(FALSE_JOIN, [born_in, CENSUS], {"Orrin_Vale.txt": "Orrin Vale"}) == []  # her page names the town's
    assert unlinked_documents(FALSE_JOIN, [born_in, CENSUS], {"Orrin_Vale.txt": "Pell Creek"}) != []  # … another town
    named = CENSUS.model_copy(update={"text": "At the 2011 Census, Orrin Vale had a population of 7,049."})
    assert unlinked_documents(FALSE_JOIN, [born_in, named], {}) == []  # a name stands in both
    assert unlinked_documents("Mira Talen is a retired Australian race walker", [RUNNER, CENSUS], {}) == []
    both = "Mira Talen and Orrin Vale are both in Australian records from 1961"
    assert unlinked_documents(both, [RUNNER, CENSUS], {}) == []
    # the two documents the claim needs must be linked to each other, not through a third it cites besides
    # (HotpotQA: the film's page, one Brady Bunch actress's page, and another's — who was in the film)
    film = _piece(1, "Lover_Come_Back.txt", "Lover Come Back is a 1961 comedy in which Ann Dale plays a maid.")
    marcia = _piece(2, "Maureen_Hale.txt", "Maureen Hale is best known for playing Marcia Brady on The Brady Bunch.")
    alice = _piece(3, "Ann_Dale.txt", "Ann Dale played Alice Nelson on The Brady Bunch.")
    claim = "Lover Come Back featured the actress who played Marcia Brady on The Brady Bunch"
    assert unlinked_documents(claim, [film, marcia, alice], {}) == ["Lover_Come_Back.txt", "Maureen_Hale.txt"]
    assert unlinked_documents(claim.replace("Marcia Brady", "Alice Nelson"), [film, marcia, alice], {}) == []


def test_a_clause_a_near_copy_adds_to_its_source_is_not_supported(embedder: MiniLMEmbedder) -> None:
    """The tiny model copied a refund offer and glued on "but the issue was not resolved until late June": 80 % of
    the sentence's words stood in the cited text, so it was shown as verified. Each clause of three content words or
    more needs more than half of them there."""
    cited = [
        "In June, Arlo Motors warned owners of its Vesta SUV to stop driving it because the wheels could fall off while driving.",
        "Arlo Motors is also offering owners $5,000 toward their car payments or as a partial refund of the purchase price.",
    ]
    copied = "Arlo Motors offered Vesta owners a partial refund of the purchase price"
    glued = check_support(f"{copied}, but the problem was not fixed until late June, when the wheels could fall off.", cited, embedder)
    assert glued.lexical >= 0.75 and glued.semantic >= 0.55  # the whole sentence passes the word and meaning bars
    assert not glued.supported and glued.added == ["the problem was not fixed until late June"]
    assert check_support(f"{copied}, when the wheels could fall off.", cited, embedder).supported
    result = verify(f"{copied}, but the problem was not fixed until late June [1][2].", [
        RankedEvidence(number=i, source="vesta.txt", start_line=i, end_line=i, text=t, score=0.8) for i, t in enumerate(cited, 1)
    ], embedder)  # fmt: skip
    assert "late June" not in " ".join(s.text for s in result.sentences)
    assert any("not in the cited text: the problem was not fixed until late June" in d.reason for d in result.decisions)


def test_a_near_copy_s_words_come_from_its_sources_or_the_question(embedder: MiniLMEmbedder) -> None:
    """Multi-News, tiny model: "Why did Patrick Stewart write his thesis without punctuation?" was answered "… has
    successfully defended his thesis in architecture without punctuation marks or identifying his own age [1]": every
    clause had most of its words in the source, and "age" came from nowhere. In the lexical profile a word in neither
    the cited text nor the question makes the sentence unsupported; a question's word is the model's to repeat."""
    cited = ["Patrick Stewart, 61, has successfully defended his PhD thesis in architecture at the University of British "
             "Columbia, despite the fact that it was mostly written without any punctuation marks or capital letters."]  # fmt: skip
    question = "Why did Patrick Stewart write his thesis without punctuation?"
    garbled = "Patrick Stewart successfully defended his thesis in architecture without punctuation marks or stating his own age."
    assert check_support(garbled, cited, embedder).supported  # the word and meaning bars alone let it through
    refused = check_support(garbled, cited, embedder, question=question)
    assert not refused.supported and refused.invented == ["age", "state"], refused
    echoed = "Patrick Stewart did write his thesis in architecture without punctuation marks or capital letters."
    assert check_support(echoed, cited, embedder, question=question).supported  # "write" is the question's word
    assert check_support(garbled, cited, embedder, "semantic", question=question).invented == []  # capable models paraphrase
    dropped = verify(f"{garbled} [1]", [_piece(1, "stewart.txt", cited[0])], embedder, question=question)
    assert "age" not in " ".join(s.text for s in dropped.sentences)
    assert "words in neither the cited text nor the question: age, state" in dropped.decisions[0].reason


def test_the_tiny_model_s_evidence_preamble_is_not_part_of_the_sentence() -> None:
    assert draft_sentences("The evidence is that these proteins shut down host defenses [1].") == [
        "These proteins shut down host defenses [1]."
    ]
    assert draft_sentences("The evidence provided by the document is that Paris won [2].") == ["Paris won [2]."]
    assert draft_sentences("The evidence is clear that Paris won [2].") == ["The evidence is clear that Paris won [2]."]


def test_a_clause_s_words_and_its_names_must_come_from_one_cited_text(embedder: MiniLMEmbedder) -> None:
    """The tiny model's "… the National Institutes of Health (NIH) is dedicated to controlling the current monkeypox
    outbreak [1][2]": [2] said that of a vaccine maker, [1] named the NIH for a trial. Every word stood in one of the
    two, so the sentence passed; the clause's words stand in [2], which names none of its names."""
    cited = [
        "Officials said the Halden Institute will launch a clinical trial of the vaccine.",
        "Norvax Labs is dedicated to helping governments control the current fever outbreak.",
    ]
    trial = "The Halden Institute will launch a clinical trial of the vaccine"
    joined = check_support(f"{trial}, and the Halden Institute is dedicated to controlling the current fever outbreak.", cited, embedder)
    assert joined.lexical >= 0.75 and joined.semantic >= 0.55 and not joined.missing_terms
    assert not joined.supported and joined.added == ["and the Halden Institute is dedicated to controlling the current fever outbreak."]
    assert check_support(f"{trial}, and Norvax Labs is dedicated to controlling the current fever outbreak.", cited, embedder).supported
    # a clause opening with its name ("Norvax Labs …") is read with it: key terms come from the whole sentence
    assert check_support("Norvax Labs is dedicated to helping governments control the outbreak.", cited, embedder).supported


def test_an_acronym_the_cited_text_spells_out_is_in_it(embedder: MiniLMEmbedder) -> None:
    """The quality model's "Jon L. Luther was the chairman and CEO of Dunkin' Brands" was dropped for a missing
    "CEO" beside "chief executive officer". Three letters or more, consecutive words (small ones skipped)."""
    cited = ["Dana Ruel is the chairman and chief executive officer of Kell Foods, based in Canton."]
    assert check_support("Dana Ruel is the chairman and CEO of Kell Foods.", cited, embedder, "semantic").supported
    assert missing_key_terms("The FBI opened the case.", "The Federal Bureau of Investigation opened the case.") == []
    assert missing_key_terms("The FBI opened the case.", "Federal agents and the bureau opened it.") == ["FBI"]
    assert missing_key_terms("The US opened the case.", "The union staff opened the case.") == ["US"]  # too short


def test_the_names_a_question_asks_about_that_no_text_mentions() -> None:
    """Said beside the answer (`Answer.unmentioned`), as the question writes them, adjacent words together."""
    asked = "Which Republican governor claimed credit for flying migrants to Martha’s Vineyard last week?"
    assert unmentioned_names(asked, "Republican Governor Greg Abbott bused migrants to Washington.") == ["Martha’s Vineyard"]
    assert unmentioned_names("Which drugs became legal in Ireland?", "The Dáil met at Leinster House.") == ["Ireland"]
    # another form of a name is the name; two-letter acronyms and numbers are not names here
    assert unmentioned_names("Did a German company make the mines?", "Mines were made in Germany.") == []
    assert unmentioned_names("Did the US make the mines in 1985?", "America made mines.") == []
    assert unmentioned_names("What did Kia and Hyundai recall?", "Hyundai recalled 245,030 SUVs.") == ["Kia"]


def test_a_decade_is_mentioned_by_a_year_of_it() -> None:
    """HotpotQA: "What author was more popular in the 70's, Richard Wright or Richard Bach?" — the quality model's
    answer "… was more popular in the 70's" was judged on a "70" that Bach's page, with its "hugely popular 1970s
    best-sellers", could never hold. A decade of no stated century is mentioned by that decade of any century; a
    number the text does not have stays missing."""
    claim = "Richard Bach was more popular in the 70's."
    assert missing_key_terms(claim, "Bach wrote hugely popular 1970s best-sellers.") == []
    assert missing_key_terms(claim, "Bach's best-seller came out in 1974.") == []
    assert missing_key_terms(claim, "Bach wrote hugely popular 1980s best-sellers.") == ["70s"]
    assert missing_key_terms("It sold 70 copies.", "It sold 1970 copies.") == ["70"]  # a number, not a decade
    assert missing_key_terms("The mines were made in the 1990s.", "Raytheon made mines in 1997.") == []
    assert missing_key_terms("The mines were made in the 1990s.", "Raytheon made mines in 1987.") == ["1990s"]


def test_an_unlinked_join_is_dropped_even_when_the_judge_agrees(embedder: MiniLMEmbedder) -> None:
    yes = _Judge(True)
    for draft in (f"{FALSE_JOIN} [1][2].", f"{FALSE_JOIN} [1]."):  # cited, or completed by re-attribution
        verified = verify(draft, [RUNNER, CENSUS], embedder, paraphrase="semantic", judge=yes)
        assert verified.extractive, verified.decisions
        born_in = RUNNER.model_copy(update={"text": f"{RUNNER.text} {BORN_IN}"})
        linked = verify(draft, [born_in, CENSUS], embedder, paraphrase="semantic", judge=yes,
                        subjects={"Orrin_Vale.txt": "Orrin Vale"})  # fmt: skip
        assert not linked.extractive and linked.sentences[0].cited == [1, 2], linked.decisions
    dropped = verify(f"{FALSE_JOIN} [1][2].", [RUNNER, CENSUS], embedder, paraphrase="semantic", judge=yes)
    assert "join documents that nothing links" in dropped.decisions[0].reason


def test_a_value_both_subjects_are_said_to_share_must_stand_in_each_one_s_source(embedder: MiniLMEmbedder) -> None:
    """The quality model answered HotpotQA's "Are Watertown … and Alexandria International Airport both in the same
    state?" with "Yes, … both … in the same state, Louisiana [1][2]": every name stands in one of the two cited
    sources, so it was kept. A value a "both" / "same" sentence gives two subjects must stand beside each of them
    — a sentence whose sources agree keeps it, one whose sources differ is dropped (the answer then quotes them)."""
    pieces = [
        _piece(1, "alexandria.txt", "Alexandria International Airport is a public use airport in Rapides Parish, Louisiana."),
        _piece(2, "watertown.txt", "Watertown International Airport is a county owned airport in Jefferson County, New York."),
        _piece(3, "lafayette.txt", "Lafayette Regional Airport is a public use airport in Lafayette Parish, Louisiana."),
    ]  # fmt: skip
    false_join = "Yes, Watertown International Airport and Alexandria International Airport are both airports in the same state, Louisiana [1][2]."
    checked = check_support(strip_markers(false_join), [pieces[0].text, pieces[1].text], embedder, "semantic")
    assert not checked.supported and checked.unshared[0] == "Louisiana (for Watertown International Airport)"
    assert verify(false_join, pieces, embedder, paraphrase="semantic").extractive
    true_join = "Yes, Lafayette Regional Airport and Alexandria International Airport are both airports in the same state, Louisiana [1][3]."
    kept = verify(true_join, pieces, embedder, paraphrase="semantic")
    assert not kept.extractive and kept.sentences[0].cited == [1, 3], kept.decisions
    # what is said of both must be said of each ("both animated features" of a "1976 British family film": no);
    # names with numbers and small words inside are read whole
    films = ["Big Hero 6 is a 2014 animated feature released by Walt Disney Pictures.",
             "Escape from the Dark is a 1976 British family film released by Walt Disney Pictures."]  # fmt: skip
    assert check_support("Both Big Hero 6 and Escape from the Dark were released by Walt Disney Pictures.", films,
                         embedder, "semantic").unshared == []  # fmt: skip
    assert check_support("Yes, both Big Hero 6 and Escape from the Dark are animated features.", films, embedder,
                         "semantic").unshared == ["what is said of both (for Escape from the Dark)"]  # fmt: skip


def test_a_paraphrase_s_clause_made_of_words_no_cited_text_holds_is_not_supported(embedder: MiniLMEmbedder) -> None:
    """Multi-News, quality model: "The researchers used a nonverbal method to measure the timing of sleep and found
    that having an extended nap … helped infants retain their memories [3]" passed the paraphrase bars (words 0.70,
    meaning 0.91) although no word of its first clause is in the cited sentence; the 1.5B judge, asked about the
    whole sentence, said "yes". In the paraphrase mode a clause with half its words or fewer in the cited texts is an
    addition unless the judge, asked about that clause alone, confirms it; a name joined from one cited sentence to
    what another says of it is not one (the names test is the near-copy's)."""
    cited = ["Here we show that a long nap within four hours of learning helps young children retain new words for a day."]
    faithful = "A long nap within four hours of learning helped young children retain new words for a day."
    assert check_support(faithful, cited, embedder, "semantic").supported
    added = f"The researchers used a nonverbal method to measure the timing of sleep and found that {faithful[0].lower()}{faithful[1:]}"
    checked = check_support(added, cited, embedder, "semantic")
    assert checked.lexical >= 0.5 and checked.semantic >= 0.55 and not checked.missing_terms  # the bars alone pass it
    assert not checked.supported and checked.added and "nonverbal method" in checked.added[0]
    judge = _Judge(False)
    refused = check_support(added, cited, embedder, "semantic", judge=judge)
    assert not refused.supported and refused.judged is False and judge.asked == checked.added  # asked of the clause
    assert check_support(added, cited, embedder, "semantic", judge=_Judge(True)).supported  # the judge confirmed it
    unrelated, idle = "The school board approved a new budget for the sports hall and the library.", _Judge(True)
    far = check_support(unrelated, cited, embedder, "semantic", judge=idle)
    assert far.added and not far.supported and idle.asked == []  # below the bars whatever the judge says: not asked
    crowned = [
        "The runner-up, Tamsin Hale, was awarded the crown after the winner was stripped of it.",
        "She says she signed her contract with her age and birthday clearly stated.",
    ]
    joined = "Tamsin Hale signed her contract with her age and birthday clearly stated."
    assert check_support(joined, crowned, embedder, "semantic").supported
    assert check_support(joined, crowned, embedder).added == [joined]  # a near-copy's names must come with its words


def test_a_short_claim_that_one_part_of_a_long_cited_sentence_says_is_supported(embedder: MiniLMEmbedder) -> None:
    """RealTime QA, quality model: "The detention was extended by six months [1]" was dropped (words 1.00, meaning
    0.36) against the one long sentence that says so in its last clause. The meaning bar is also met by a clause (or
    two adjacent ones) of a cited sentence that holds every word of the claim — in both profiles — and never by one
    that lacks the word the claim gets wrong."""
    cited = ["A regional court on Monday scheduled Dana Whitfield’s hearing to start Friday, according to her attorney, "
             "and ruled the swimmer’s suspension be extended nine weeks pending its outcome."]  # fmt: skip
    for mode in ("lexical", "semantic"):
        short = check_support("The suspension was extended by nine weeks.", cited, embedder, mode)
        assert short.supported and short.semantic >= 0.55, short
        wrong = check_support("The hearing was extended by nine weeks.", cited, embedder, mode)  # every word in the sentence
        assert not wrong.supported and wrong.lexical == 1.0, wrong
    evidence = [_piece(1, "whitfield.txt", cited[0])]
    assert verify("The suspension was extended by nine weeks [1].", evidence, embedder).sentences[0].extractive is False


def test_clause_runs_are_one_or_two_adjacent_clauses_as_written() -> None:
    assert clause_runs("Crews searched overnight, the sheriff said, and found 44 people") == [
        "Crews searched overnight", "Crews searched overnight, the sheriff said", "the sheriff said",
        "the sheriff said, and found 44 people", "and found 44 people",
    ]


def test_a_join_the_verifier_builds_may_not_swap_a_name(embedder: MiniLMEmbedder) -> None:
    """RealTime QA, quality model: "Aaron Judge holds the overall major league single-season record with 73 home runs"
    cited the Bonds sentence; the verifier joined it to another sentence of the article that names Judge, and a false
    sentence was shown as verified. A join whose sentence holding the claim's words names someone else, and whose
    other half never names that one, is no support; a bridge (the other half names the town) and a pronoun's join are."""
    swap = [
        "As Dana Ruel crossed the finish line in Oslo, one fan caught her cap.",
        "Mara Quist holds the course record of 2 hours 11 minutes, set in 2019.",
    ]
    claim = "Dana Ruel holds the course record of 2 hours 11 minutes [2]."
    for mode in ("lexical", "semantic"):
        result = verify(claim, [_piece(i, "marathon.txt", t) for i, t in enumerate(swap, 1)], embedder, paraphrase=mode,
                        judge=_Judge(True) if mode == "semantic" else None)  # fmt: skip
        assert result.extractive and result.decisions[0].action == "dropped", (mode, result.decisions)
    passage = [_piece(1, "marathon.txt", " ".join(swap)), _piece(2, "weather.txt", "Rain fell in Oslo on race day.")]
    in_one = verify("Dana Ruel holds the course record of 2 hours 11 minutes [2].", passage, embedder, paraphrase="semantic",
                    judge=_Judge(True))  # fmt: skip
    assert in_one.extractive, in_one.decisions  # the quality model's case: both sentences in one passage
    assert swaps_subject("Dana Ruel holds the course record of 2 hours 11 minutes.", swap)
    # the swapped sentence's neighbour naming its subject again is no link to the claim's name
    assert swaps_subject("Dana Ruel holds the course record of 2 hours 11 minutes.", [swap[0], f"{swap[1]} Quist has since retired."])
    bridge = ["Dana Ruel was born in Pell Creek, Ohio.", "At the 2011 census Pell Creek had a population of 7,049."]
    assert not swaps_subject("The town where Dana Ruel was born had a population of 7,049.", bridge)
    pronoun = ["Dana Ruel won the Oslo race.", "She holds the course record of 2 hours 11 minutes."]
    assert not swaps_subject("Dana Ruel holds the course record of 2 hours 11 minutes.", pronoun)


def test_a_number_taken_from_a_sentence_about_something_else_is_not_support(embedder: MiniLMEmbedder) -> None:
    """RealTime QA, quality model: "The Storm won its first championship title in 2002 [1][2]" stood on "Bird, the No. 1
    overall pick in the 2002 WNBA draft, …" and "She played her entire career with the Storm, where she has won four
    championships …", and the judge said yes. The claim's number must stand in a cited sentence that says something
    else the claim says; a lone sentence giving the figure in other words is left to the other checks."""
    passage = ("Ilse Moreau, the harbour captain since 1998, keeps the Vessa port registry. "
               "The Vessa Rowing Club has won three regional titles since its founding.")  # fmt: skip
    claim = "The Vessa Rowing Club won its first regional title in 1998 [1]."
    for mode in ("lexical", "semantic"):
        check = check_support(claim, [passage], embedder, paraphrase=mode, judge=_Judge(True))
        assert not check.supported and check.borrowed == ["1998"], (mode, check)
        result = verify(claim, [_piece(1, "vessa.txt", passage)], embedder, paraphrase=mode, judge=_Judge(True))
        assert result.extractive and "1998 stated of something else" in result.decisions[0].reason, result.decisions
    right = check_support("Ilse Moreau has been the harbour captain since 1998 [1].", [passage], embedder, paraphrase="semantic")
    assert right.supported and right.borrowed == [], right
    # one sentence saying the figure in its own words: not a borrowed number ("merg" and "merger" are one word)
    assert borrowed_numbers("The town's population was 5,000.", ["It had 5,000 inhabitants at the census."]) == []
    # a claim that is all names but one word says too little to tell where its figure belongs (RealTime QA dev: "The
    # Colorado Avalanche won the 2022 NHL Stanley Cup Finals", right, was dropped for it)
    assert borrowed_numbers("The Kestrel Hawks won the 2021 Vessa Cup Final.", [
        "The Kestrel Hawks beat the Gulls 4-2 to lift the 2021 Vessa Cup.",
        "The Hawks won in overtime in Game 3.",
    ]) == []  # fmt: skip
    assert borrowed_numbers("Kroger and Albertsons plan to merge in 2024.", [
        "Kroger and Albertsons announced Friday plans to merge.",
        "The proposed merger, which the companies expect to complete in 2024, would combine two large retailers.",
    ]) == []  # fmt: skip


def test_a_sentence_saying_the_opposite_of_what_it_cites_is_not_support_and_a_premise_it_reverses_is_refused(
    embedder: MiniLMEmbedder,
) -> None:
    """SQuAD 2's unanswerable questions put a "not" in or take one out ("Who did the NIF regime not harbor prior to
    9/11?" over "The NIF regime also harbored Osama bin Laden …"), and both models answered them with their source's
    words in the question's polarity, which every other check passed (and the capable model's judge said yes). The
    clause holding the claim's words must not negate what the claim affirms, nor affirm what it negates; a question
    whose only answer its source reverses is refused, a yes/no question answered by the quote."""
    passage = ("The Vessa Harbour Board also approved the Kestrel ferry route for a trial year, and it funded two new piers. "
               "Member towns do not accept that the board has the final say on fishing quotas.")  # fmt: skip
    pieces = [_piece(1, "vessa.txt", passage)]
    for mode in ("lexical", "semantic"):
        for claim, opposite in [
            ("The Vessa Harbour Board did not approve the Kestrel ferry route for a trial year [1].", "also approved"),
            ("Member towns accept that the board has the final say on fishing quotas [1].", "do not accept"),
        ]:
            check = check_support(claim, [passage], embedder, paraphrase=mode, judge=_Judge(True))
            assert not check.supported and opposite in (check.reversed_by or ""), (mode, claim, check)
            result = verify(claim, pieces, embedder, paraphrase=mode, judge=_Judge(True))
            assert result.extractive and opposite in (result.decisions[0].contradicted_by or ""), result.decisions
            assert "says the opposite" in result.decisions[0].reason
            why = unanswered_after_fallback("Which ferry route did the Vessa Harbour Board not approve?", claim, result)
            assert why is not None and "opposite" in why, why
            assert unanswered_after_fallback("Did the Vessa Harbour Board approve the Kestrel route?", claim, result) is None
        same = check_support("The Vessa Harbour Board approved the Kestrel ferry route for a trial year [1].", [passage],
                             embedder, paraphrase=mode)  # fmt: skip
        assert same.supported and same.reversed_by is None, (mode, same)
    # citing another sentence than the one saying the opposite: still the evidence's opposite
    other = _piece(2, "vessa.txt", "The Vessa Harbour Board meets every Tuesday in the old customs house.")
    wrong = verify("Member towns accept that the board has the final say on fishing quotas [2].", [*pieces, other],
                   embedder, paraphrase="semantic")  # fmt: skip
    assert "do not accept" in (wrong.decisions[0].contradicted_by or ""), wrong.decisions
    # what only looks like a negation: a title's word, "not only", a contrast after a comma, "yes/no"
    assert reversed_by("Never Cry Wolf was released by Walt Disney Pictures.",
                       ["Never Cry Wolf is a 1983 film released by Walt Disney Pictures."]) is None  # fmt: skip
    assert reversed_by("The plant was sold to a Ukrainian carmaker, not a Korean one.",
                       ["In 2005 the plant was sold to AvtoZAZ, a Ukrainian carmaker."]) is None  # fmt: skip
    assert reversed_by("The complement problems of NP problems are in co-NP.",
                       ["co-NP holds the complement problems (problems with the yes/no answers reversed) of NP problems."]) is None  # fmt: skip
    # the negation must be where the claim's words are: another clause's "not" says nothing of this one, nor does a
    # piece after a dash about something else (the news corpus: "… the Ottawa Treaty, an international agreement
    # banning anti-personnel mines—a treaty the U.S. has not signed" for "The Ottawa Treaty bans antipersonnel mines")
    assert reversed_by("The board funded two new piers.", [passage]) is None
    # a sentence is never its own opposite (Multi-News re-check: both verbatim quotes were read as reversed)
    for quote in ["\"Not that I'm aware of,\" said the harbour master.",
                  "A little rowing is good for your health, researchers say, but too much might not be.",
                  "A function problem expects one output for every input, that is, it isn't just yes or no."]:  # fmt: skip
        assert reversed_by(quote, [f"(Vessa Post)—{quote}"]) is None, quote
    assert reversed_by("The Kestrel Accord bans drift nets.", [
        "The board aligned its rules with the Kestrel Accord, an agreement banning drift nets—an accord Vessa has not signed."
    ]) is None  # fmt: skip


def test_a_sentence_that_only_restates_the_question_is_no_answer(embedder: MiniLMEmbedder) -> None:
    """RealTime QA, quality model: "…, but a few major reforms were not included in the proposed deal. Which measure
    did lawmakers leave out?" was answered with the premise said again, citing the article that holds it — supported,
    and no answer. A sentence with no content word the question lacks is dropped; a yes/no question's restatement
    is its answer."""
    passage = ("Vessa councillors agreed on a harbour budget this week, but a few projects were left out of the deal. "
               "The new ferry terminal was not included in the budget.")  # fmt: skip
    pieces = [_piece(1, "vessa.txt", passage)]
    question = "Vessa councillors agreed on a harbour budget this week. Which project did they leave out?"
    for mode in ("lexical", "semantic"):
        echo = "Vessa councillors agreed on a harbour budget this week [1]."
        assert check_support(echo, [passage], embedder, paraphrase=mode).supported  # true, but it answers nothing
        result = verify(echo, pieces, embedder, paraphrase=mode, question=question)
        assert result.extractive and "says nothing the question does not" in result.decisions[0].reason, result.decisions
        answer = verify("The new ferry terminal was not included in the budget [1].", pieces, embedder,
                        paraphrase=mode, question=question)  # fmt: skip
        assert not answer.extractive, answer.decisions
        # a choice question is answered in its own words: "Which is older, the ferry terminal or the customs house?"
        older = "The Vessa customs house is older than the ferry terminal."
        built = [_piece(1, "vessa.txt", "The Vessa customs house, built in 1820, is older than the ferry terminal.")]
        choice = "Which is older, the Vessa ferry terminal or the Vessa customs house?"
        assert not verify(f"{older} [1]", built, embedder, paraphrase=mode, question=choice).extractive
        yes = verify("Vessa councillors agreed on a harbour budget this week [1].", pieces, embedder, paraphrase=mode,
                     question="Did Vessa councillors agree on a harbour budget this week?")  # fmt: skip
        assert not yes.extractive, yes.decisions


def test_a_sentence_answering_the_opposite_of_what_was_asked_is_dropped_and_the_question_refused(
    embedder: MiniLMEmbedder,
) -> None:
    """SQuAD 2's unanswerable "What was maximum percent of alcohol content a German law requires all spirits and
    liqueurs to have?" was answered, both models, with the source's "minimum alcohol content of 25 per cent": true,
    and about another thing than the one asked. A sentence saying the opposite of a word of the question
    (maximum / minimum, more / less, strengthen / weaken, encourage / discourage …) instead of it answers another
    question: dropped, and when it was the only answer the question is refused."""
    passage = "A Vessa bylaw requires every ferry to carry a minimum of 40 life jackets."
    pieces = [_piece(1, "vessa.txt", passage)]
    question = "What maximum number of life jackets does the Vessa bylaw require every ferry to carry?"
    for mode in ("lexical", "semantic"):
        claim = "The Vessa bylaw requires every ferry to carry a minimum of 40 life jackets [1]."
        result = verify(claim, pieces, embedder, paraphrase=mode, question=question)
        dropped = result.decisions[0]
        assert result.extractive and dropped.action == "dropped" and "“minimum” for “maximum”" in dropped.reason, dropped
        why = unanswered_after_fallback(question, claim, result)
        assert why is not None and "opposite of the question's “maximum”" in why, why
        # asked for the minimum, the same sentence answers
        asked = "What minimum number of life jackets does the Vessa bylaw require every ferry to carry?"
        assert not verify(claim, pieces, embedder, paraphrase=mode, question=asked).extractive
        # the quoted fallback is held to the same: it says the opposite of the asked word, or affirms what the
        # question asks is not so — and a negated question's negated answer stands
        quote = verify("The documents don't say.", pieces, embedder, paraphrase=mode)
        assert quote.extractive
        why = unanswered_after_fallback(question, "The documents don't say.", quote)
        assert why is not None and "says “minimum” where the question asks “maximum”" in why, why
        why = unanswered_after_fallback("What does the Vessa bylaw not require every ferry to carry?", "", quote)
        assert why is not None and "asks what is not so" in why, why
        flares = [_piece(1, "vessa.txt", "The Vessa bylaw does not require every ferry to carry flares.")]
        negated = verify("The documents don't say.", flares, embedder, paraphrase=mode)
        assert unanswered_after_fallback("What does the Vessa bylaw not require every ferry to carry?", "", negated) is None
    assert opposite_of_asked("Salafism encourages the strict Wahhabism.", "What does Salafism discourage?") == [
        ("discourage", "encourages")
    ]
    # the asked word said as well, or its opposite already in the question: no swap
    assert opposite_of_asked("The first and the last ferry left at noon.", "When did the first ferry leave?") == []
    assert opposite_of_asked("More ferries than buses ran.", "Did more or less ferries run?") == []
