"""`make bench` (answers): `ask` end-to-end latency and time to the first streamed token, embedded model.

Targets (issue 3): ask p50 ≤ 4 s on 2 cores, first streamed token ≤ 1.5 s. The questions are the news suite's
answerable ones, asked over a fresh index of ../shared/corpus/news; one warm-up question is not counted.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from evals.scorers import percentile
from evals.suite import load_suite
from service.config import get_settings
from service.engine import Engine

SUITE = Path(__file__).resolve().parent / "suites" / "news.yaml"
QUESTIONS = 12


def main() -> None:
    suite = load_suite(SUITE, None)
    answerable = [q.question for q in suite.questions if q.answerable is not False and not q.history]
    questions, fresh = answerable[:QUESTIONS], answerable[QUESTIONS : 2 * QUESTIONS]
    with tempfile.TemporaryDirectory(prefix="citewise-bench-answers-") as home:
        settings = get_settings().model_copy(update={"home": Path(home)})
        with Engine(settings) as engine:
            assert suite.docs_dir is not None  # load_suite resolved it
            engine.ingest([suite.docs_dir])
            started = time.perf_counter()
            engine.llm.check()
            print(f"model {engine.llm.model_name} ready in {time.perf_counter() - started:.2f} s "
                  f"({settings.llm_threads} threads)")
            engine.ask(questions[0])  # warm-up: loads the embedder, fills caches
            totals, firsts, generation = [], [], []
            verified_firsts: list[float] = []
            for question in questions:
                t = time.perf_counter()
                answer = engine.ask(question)
                totals.append((time.perf_counter() - t) * 1000)
                generation.append(answer.timings_ms.get("generation_ms", 0.0))
            # Streamed questions not asked before: the server caches earlier prompts, a repeat would skip their
            # processing and flatter the time to the first token.
            for question in fresh:
                t = time.perf_counter()
                seen_draft = False
                for event in engine.ask_stream(question):
                    if event.event == "draft" and not seen_draft:  # the model's first token (provisional)
                        firsts.append((time.perf_counter() - t) * 1000)
                        seen_draft = True
                    if event.event == "token":  # the first verified text
                        verified_firsts.append((time.perf_counter() - t) * 1000)
                        break
                    if event.event in ("answer", "error"):
                        break
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows every figure)")
    print(f"ask end-to-end over {len(totals)} questions: p50 {statistics.median(totals):.0f} ms, "
          f"p95 {percentile(totals, 95):.0f} ms (target p50 ≤ 4000 ms)")
    print(f"  of which generation: p50 {statistics.median(generation):.0f} ms")
    if firsts:
        print(f"first draft token: p50 {statistics.median(firsts):.0f} ms, p95 {percentile(firsts, 95):.0f} ms "
              f"(target ≤ 1500 ms)")
    if verified_firsts:
        print(f"first verified text: p50 {statistics.median(verified_firsts):.0f} ms, "
              f"p95 {percentile(verified_firsts, 95):.0f} ms")


if __name__ == "__main__":
    main()
