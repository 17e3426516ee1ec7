"""Public QA dev sets as eval input: RealTime QA, SQuAD 2.0 and HotpotQA, read into documents and cases.

Each reader returns a `Dataset`: the documents to write as files into a folder (one file per article or
paragraph, with a stable file name that the cases' gold sources name) and the cases (id, question, gold answers,
answerable flag, gold sources). `citewise eval --dataset NAME PATH` ingests the files into a temporary index and
asks every selected case through `Engine.ask` (evals/runner.py `run_dataset`); evals/scorers.py scores them.

Formats and the choices made for each (../shared/datasets/*/PROVENANCE.md describe the files):

- **realtimeqa** — PATH is the folder with `corpus_dev.jsonl` and `questions_dev.jsonl` (or the questions file,
  with its `corpus_*.jsonl` beside it). One document per article, `<doc_id>.txt`, holding the article text.
  Questions are asked open-ended (the multiple-choice `choices` are not shown). Gold answers: `answer_text` (a
  list; any counts). Quirks: `answer_text` is the text of the right *choice*, so it can carry decoration the
  article need not repeat — curly quotes around titles (“Squid Game”), "$5", "60%" — which the SQuAD-style
  normalisation removes (punctuation and symbols are stripped on both sides, so "$5" matches "5 dollars" as "5"
  but "60%" also matches "60 percent"); a few are phrased as the quiz phrased them ("First lady Dr. Jill Biden",
  "Next week") and are scored literally: an answer saying "Jill Biden" counts as wrong. This is the documented
  RealTime QA scoring (contains `answer_text`), kept strict so figures compare across runs. Gold sources: the
  `gold_doc_ids` files. Answerable unless every gold article is no article: 8 of the 106 were scraped as a video-ad
  feedback form (41 words, "1. How relevant is this ad to you?"), so the documents cannot answer their questions
  (7 of 102; e.g. "Which automaker recalled more than 200,000 pickup trucks this week?") and refusing is right —
  such a case is unanswerable (answers moved to `tags`, "quiz answer: …"); until 2026-12-07 they counted as
  answerable, and an answer could be right only by the model's own knowledge.
- **squad2** — PATH is the SQuAD v2.0 JSON (`dev_articles_odd.json`). One document per *article* (whole Wikipedia
  articles, not SQuAD's single paragraphs), `NN_<Title>.txt`: the title (underscores as spaces) on the first line,
  then each paragraph, separated by blank lines. Gold answers: the distinct `answers[].text`; `is_impossible`
  questions are unanswerable (must be refused). Gold source: the article, for both kinds (an unanswerable
  question's sources are not scored).
- **hotpotqa** — PATH is the HotpotQA JSON (`train100.json`, distractor setting). Every context paragraph is its
  own document, `<title slug>_<8 hex of sha1(title)>.txt`: the title on the first line, a blank line, then the
  paragraph's sentences. Paragraphs with the same title are one document (in this file a title always has the
  same text). All questions' paragraphs go into ONE index (an open-corpus setting: each question competes with
  ~990 paragraphs, not only its own 10 — harder than the per-question distractor setting, and one ingest instead
  of one per question). Gold answers: `answer`; gold sources: the paragraphs named in `supporting_facts`
  (scored as supporting-source recall). Comparison questions whose answer is "yes"/"no" are scored on the
  answer's first word (see scorers.squad_answer_found).

The corpus is always the whole dataset's documents, whatever `--limit`/`--split` select, so a 30-question sample
and the full run answer over the same index.

Selection: `--split dev|test|all` uses the parity of sha256(case id) (even → dev, for tuning; odd → test, for
reporting), and `--limit N` then keeps the first N of the split ordered by sha256("sample:" + id): deterministic,
independent of the split hash, and nested (the 20-question sample is inside the 30-question one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from service.errors import InvalidInput

DatasetName = Literal["realtimeqa", "squad2", "hotpotqa"]
DATASETS: tuple[str, ...] = ("realtimeqa", "squad2", "hotpotqa")
Split = Literal["dev", "test", "all"]
SPLITS: tuple[str, ...] = ("dev", "test", "all")


class DatasetDocument(BaseModel):
    """One file to write: `name` is its path relative to the corpus folder (= the source name after ingest)."""

    name: str
    text: str


class DatasetCase(BaseModel):
    id: str
    question: str
    answers: list[str] = Field(default_factory=list)  # gold answer texts; any one counts (empty when unanswerable)
    answerable: bool = True
    sources: list[str] = Field(default_factory=list)  # gold documents (file names in `Dataset.documents`)
    tags: list[str] = Field(default_factory=list)


class Dataset(BaseModel):
    name: str
    path: str
    documents: list[DatasetDocument]
    cases: list[DatasetCase]
    support_recall: bool = False  # score supporting-source recall (HotpotQA: every gold paragraph should be cited)

    def write(self, folder: Path) -> Path:
        """Write every document into `folder` (created); returns it. Ingest that folder: sources = file names."""
        folder.mkdir(parents=True, exist_ok=True)
        for document in self.documents:
            target = folder / document.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(document.text, encoding="utf-8")
        return folder


# --- selection ------------------------------------------------------------------------------------


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def split_of(case_id: str) -> Literal["dev", "test"]:
    """Even sha256(id) → dev (tune on it), odd → test (report on it)."""
    return "dev" if _digest(case_id) % 2 == 0 else "test"


def select_cases(cases: Sequence[DatasetCase], split: str = "all", limit: int | None = None) -> list[DatasetCase]:
    """The cases of `split`, and with `limit` a deterministic sample of that many (kept in dataset order)."""
    if split not in SPLITS:
        raise InvalidInput(f"--split {split}: use one of {', '.join(SPLITS)}")
    if limit is not None and limit < 1:
        raise InvalidInput("--limit must be at least 1")
    chosen = [c for c in cases if split == "all" or split_of(c.id) == split]
    if limit is not None and limit < len(chosen):
        keep = {c.id for c in sorted(chosen, key=lambda c: _digest("sample:" + c.id))[:limit]}
        chosen = [c for c in chosen if c.id in keep]
    return chosen


# --- readers --------------------------------------------------------------------------------------


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None


def _read_jsonl(path: Path) -> Iterable[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read: {e.strerror or e}") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InvalidInput(f"{path}:{number}: invalid JSON ({e.msg})") from None
            if not isinstance(record, dict):
                raise InvalidInput(f"{path}:{number}: expected a JSON object")
            yield record


def _one_json_in(path: Path, dataset: str) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.json"))
        if len(found) != 1:
            raise InvalidInput(f"{path}: give the {dataset} JSON file itself (found {len(found)} .json files)")
        return found[0]
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file or folder")
    return path


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_-")
    return slug[:limit].rstrip("_-") or "untitled"


def _require(record: dict, keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise InvalidInput(f"{where}: missing field(s) {', '.join(missing)}")


ARTICLE_MIN_WORDS = 50  # a gold "article" shorter than this is a scraping leftover, not an article (see above)


def load_realtimeqa(path: Path) -> Dataset:
    path = Path(path)
    if path.is_dir():
        questions = sorted(path.glob("questions_*.jsonl"))
        if len(questions) != 1:
            raise InvalidInput(f"{path}: expected one questions_*.jsonl (found {len(questions)})")
        questions_path = questions[0]
    elif path.is_file():
        questions_path = path
    else:
        raise InvalidInput(f"{path}: no such file or folder")
    corpus_path = questions_path.with_name(questions_path.name.replace("questions_", "corpus_", 1))
    if corpus_path == questions_path or not corpus_path.is_file():
        raise InvalidInput(f"{questions_path}: no {corpus_path.name} beside it")

    documents: dict[str, DatasetDocument] = {}
    for number, record in enumerate(_read_jsonl(corpus_path), start=1):
        _require(record, ("doc_id", "text"), f"{corpus_path}:{number}")
        name = f"{_slug(str(record['doc_id']), 80)}.txt"
        documents[str(record["doc_id"])] = DatasetDocument(name=name, text=str(record["text"]))
    cases = []
    for number, record in enumerate(_read_jsonl(questions_path), start=1):
        where = f"{questions_path}:{number}"
        _require(record, ("question_id", "question", "answer_text", "gold_doc_ids"), where)
        answers = record["answer_text"] if isinstance(record["answer_text"], list) else [record["answer_text"]]
        unknown = [d for d in record["gold_doc_ids"] if d not in documents]
        if unknown:
            raise InvalidInput(f"{where}: gold_doc_ids {', '.join(unknown)} not in {corpus_path.name}")
        answers = [str(a) for a in answers if str(a).strip()]
        answerable = any(len(documents[d].text.split()) >= ARTICLE_MIN_WORDS for d in record["gold_doc_ids"])
        tags = [str(record.get("question_date", ""))] if record.get("question_date") else []
        cases.append(DatasetCase(
            id=str(record["question_id"]), question=str(record["question"]).strip(),
            answers=answers if answerable else [], answerable=answerable,
            sources=[documents[d].name for d in record["gold_doc_ids"]],
            tags=tags if answerable else [*tags, "no article text", *(f"quiz answer: {a}" for a in answers)],
        ))  # fmt: skip
    return Dataset(name="realtimeqa", path=str(path), documents=list(documents.values()), cases=cases)


def load_squad2(path: Path) -> Dataset:
    path = _one_json_in(Path(path), "SQuAD 2.0")
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise InvalidInput(f"{path}: not SQuAD JSON ({{version, data: [...]}})")
    documents, cases = [], []
    width = max(2, len(str(len(data["data"]))))
    for number, article in enumerate(data["data"], start=1):
        title = str(article.get("title", f"article {number}"))
        name = f"{number:0{width}d}_{_slug(title)}.txt"
        paragraphs = article.get("paragraphs", [])
        text = "\n\n".join([title.replace("_", " "), *(str(p["context"]).strip() for p in paragraphs)]) + "\n"
        documents.append(DatasetDocument(name=name, text=text))
        for paragraph in paragraphs:
            for qa in paragraph.get("qas", []):
                _require(qa, ("id", "question"), f"{path}: {title}")
                impossible = bool(qa.get("is_impossible", False))
                answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text", "").strip()))
                if not impossible and not answers:
                    raise InvalidInput(f"{path}: question {qa['id']} is answerable but has no answers")
                cases.append(DatasetCase(
                    id=str(qa["id"]), question=str(qa["question"]).strip(), answers=[] if impossible else answers,
                    answerable=not impossible, sources=[name], tags=[title],
                ))
    return Dataset(name="squad2", path=str(path), documents=documents, cases=cases)


def hotpot_file_name(title: str) -> str:
    """The stable file of a HotpotQA paragraph: a readable slug plus a hash of the exact title (titles collide as
    slugs, e.g. "Arthur? Arthur!" and "Arthur! Arthur?")."""
    return f"{_slug(title)}_{hashlib.sha1(title.encode('utf-8')).hexdigest()[:8]}.txt"


def load_hotpotqa(path: Path) -> Dataset:
    path = _one_json_in(Path(path), "HotpotQA")
    data = _read_json(path)
    if not isinstance(data, list):
        raise InvalidInput(f"{path}: not HotpotQA JSON (a list of questions)")
    documents: dict[str, DatasetDocument] = {}
    cases = []
    for number, record in enumerate(data, start=1):
        where = f"{path}: question {number}"
        if not isinstance(record, dict):
            raise InvalidInput(f"{where}: expected an object")
        _require(record, ("_id", "question", "answer", "supporting_facts", "context"), where)
        titles = set()
        for title, sentences in record["context"]:
            titles.add(title)
            if title not in documents:
                body = "".join(sentences).strip()
                documents[title] = DatasetDocument(name=hotpot_file_name(title), text=f"{title}\n\n{body}\n")
        gold_titles = list(dict.fromkeys(title for title, _ in record["supporting_facts"]))
        unknown = [t for t in gold_titles if t not in titles]
        if unknown:
            raise InvalidInput(f"{where}: supporting fact titles {', '.join(unknown)} not in its context")
        cases.append(DatasetCase(
            id=str(record["_id"]), question=str(record["question"]).strip(), answers=[str(record["answer"])],
            answerable=True, sources=[documents[t].name for t in gold_titles],
            tags=[t for t in (record.get("type"), record.get("level")) if t],
        ))
    return Dataset(
        name="hotpotqa", path=str(path), documents=list(documents.values()), cases=cases, support_recall=True
    )


READERS = {"realtimeqa": load_realtimeqa, "squad2": load_squad2, "hotpotqa": load_hotpotqa}


def load_dataset(name: str, path: Path) -> Dataset:
    """Read a dataset by name (realtimeqa, squad2, hotpotqa); raises InvalidInput with one readable line."""
    reader = READERS.get(name)
    if reader is None:
        raise InvalidInput(f"--dataset {name}: use one of {', '.join(DATASETS)}")
    return reader(Path(path))
