"""Probe: a few news-suite questions through the real engine with each embedded model (CITEWISE_LLM=NAME).

    .venv/bin/python -m evals.probe_models [MODEL ...]      (default: quality quality-small)

Prints per question: refused?, expected fact found?, expected source cited?, seconds; per model: load time
(first answer includes the model start) and peak RSS of a fresh child process per model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

A, B = "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"
PROBES = [  # (question, any-of facts, source) from evals/suites/news.yaml
    ("When did the war between Russia and Ukraine begin?", ["February 2022"], A),
    ("How many victims of antipersonnel mines were counted in 2023?", ["5,757"], A),
    ("Which news network cited U.S. officials about the approval of anti-personnel mines for Ukraine?", ["CNN"], B),
    ("When did the Biden administration pledge to limit the use of anti-personnel mines globally?", ["June 2022"], B),
    ("How many antipersonnel mines will the U.S. ship to Ukraine?", [], None),  # unanswerable: must refuse
]
NEWS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news"


def one(model: str, home: str) -> None:
    from service.config import Settings
    from service.engine import Engine

    settings = Settings(_env_file=None, home=Path(home), llm=model)
    with Engine(settings) as engine:
        for question, facts, source in PROBES:
            t0 = time.monotonic()
            answer = engine.ask(question)
            cited = sorted({c.source.rsplit("/", 1)[-1] for c in answer.citations})
            print(json.dumps({
                "q": question[:60], "refused": answer.refused, "s": round(time.monotonic() - t0, 1),
                "fact": any(f.lower() in answer.answer.lower() for f in facts) if facts else None,
                "cited_ok": (source in cited) if source else None, "cited": cited, "answer": answer.answer[:300],
            }), flush=True)
    rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
    print(json.dumps({"peak_rss_mb": round(rss)}), flush=True)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        one(argv[1], argv[2])
        return
    from index.corpus import Corpus
    from service.config import Settings

    with tempfile.TemporaryDirectory(prefix="citewise-probe-") as tmp:
        corpus = Corpus.open(Settings(_env_file=None, home=Path(tmp)))
        try:
            corpus.ingest([NEWS])
        finally:
            corpus.close()
        for model in argv or ["quality", "quality-small"]:
            print(f"== {model}", flush=True)
            subprocess.run([sys.executable, "-m", "evals.probe_models", "--one", model, tmp], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
