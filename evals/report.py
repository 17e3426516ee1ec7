"""Human-readable eval reports: Markdown, or one self-contained HTML page (inline CSS and SVG, no scripts)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from evals.beir import BeirReport, beir_table
from evals.runner import Comparison, EvalResult, GateFailure, QuestionResult, compare
from evals.suite import CEILING_METRICS, LATENCY_METRICS, QUALITY_METRICS
from service.errors import InvalidInput

METRIC_LABELS = {
    "fact_recall": "fact recall",
    "citation_precision": "citation precision",
    "citation_recall": "citation recall",
    "citation_support": "citation support",
    "verifier_kept": "verifier kept",
    "refusal_accuracy": "refusal accuracy",
    "hit_at_k": "hit@k",
    "mrr": "MRR",
    "pass_rate": "pass rate",
    "judge_faithfulness": "judge faithfulness",
    "answer_accuracy": "answer accuracy",
    "unanswerable_refused": "unanswerable refused",
    "answerable_refused": "answerable refused (lower is better)",
    "gold_source_cited": "gold source cited",
    "support_recall": "support recall",
    "quote_only": "quote-only answers (lower is better)",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
}


def _label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if metric in LATENCY_METRICS or metric.endswith("_ms") else f"{value:.3f}"


def _rows(result: EvalResult, baseline: EvalResult | None, tolerance: float) -> list[Comparison]:
    return compare(result.aggregate, baseline.aggregate if baseline else {}, tolerance)


def _status(row: Comparison, thresholds: dict[str, float], failures: Sequence[GateFailure]) -> str:
    failed = {f.metric for f in failures}
    if row.metric in failed:
        return "FAIL"
    if row.metric in thresholds:
        return "ok"
    return ""


# --- Markdown -------------------------------------------------------------------------------------


def markdown_report(
    result: EvalResult | None,
    baseline: EvalResult | None = None,
    failures: Sequence[GateFailure] = (),
    tolerance: float = 0.05,
    beir: BeirReport | None = None,
) -> str:
    parts: list[str] = []
    if result is not None:
        parts += [
            f"# Eval: {result.suite}",
            "",
            f"model: {result.model or 'unknown'} ({result.provider or 'unknown provider'}) · k={result.k} · "
            f"{len(result.questions)} questions · {result.started_at:%Y-%m-%d %H:%M} UTC",
            "",
            ("**Gate: FAILED**\n\n" + "\n".join(f"- {f.message}" for f in failures)) if failures else "**Gate: passed**",
            "",
            "| metric | value | baseline | Δ | threshold | status |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in _rows(result, baseline, tolerance):
            parts.append(
                f"| {_label(row.metric)} | {_fmt(row.current, row.metric)} | {_fmt(row.baseline, row.metric)} "
                f"| {_fmt(row.delta, row.metric) if row.delta is not None else '–'} "
                f"| {_fmt(result.thresholds.get(row.metric), row.metric)} | {_status(row, result.thresholds, failures)} |"
            )
        parts += ["", "## Questions", "", "| id | pass | refused | facts | citations | support | hit@k | answer |", "|---|---|---|---:|---|---:|---:|---|"]
        for q in result.questions:
            s = q.scores
            answer = q.error and f"ERROR: {q.error}" or (q.answer.answer if q.answer else "")
            missing = "; ".join(" / ".join(f) for f in q.missing_facts)
            facts = _fmt(s.get("fact_recall")) + (f" (missing: {missing})" if missing else "")
            cites = ", ".join(sorted({c.source for c in q.answer.citations})) if q.answer else ""
            parts.append(
                f"| {q.id} | {'✅' if s.get('passed') else '❌'} | {q.answer.refused if q.answer else '–'} | {_md(facts)} "
                f"| {_md(cites)} | {_fmt(s.get('citation_support'))} | {_fmt(s.get('hit_at_k'))} | {_md(answer)} |"
            )
        if result.summaries:
            parts += ["", "## Summaries", ""]
            for case in result.summaries:
                scores = ", ".join(f"{_label(m)} {_fmt(v)}" for m, v in case.scores.items())
                parts.append(f"- {case.id}: {scores}" + (f" · error: {case.error}" if case.error else ""))
        if result.notes:
            parts += ["", *(f"> {note}" for note in result.notes)]
    if beir is not None:
        parts += ["", "## Retrieval (BEIR)", "", beir_table(beir)]
    return "\n".join(parts).strip() + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- HTML -----------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
.meta{color:#5b6475} table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d8dce4;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f1f3f7} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.pass td.status{background:#e3f6e8;color:#17692f;font-weight:600}
tr.fail td.status{background:#fde5e5;color:#a12020;font-weight:600}
.gate{padding:.6rem .9rem;border-radius:6px;margin:1rem 0;font-weight:600}
.gate.ok{background:#e3f6e8;color:#17692f} .gate.bad{background:#fde5e5;color:#a12020}
.missing{background:#ffe08a;padding:0 .2rem;border-radius:3px} .found{color:#17692f}
.cite{color:#2451b3;font-weight:600} .quote{color:#5b6475;font-size:.92em} .refused{font-style:italic;color:#5b6475}
.unsupported{text-decoration:underline wavy #c0392b} ul.cites{margin:.3rem 0 0 1rem;padding:0}
.regressed{color:#a12020;font-weight:600}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart_svg(result: EvalResult, baseline: EvalResult | None) -> str:
    """Horizontal bars of the 0..1 metrics: this run, the baseline beside it, and each threshold as a tick."""
    metrics = [m for m in (*QUALITY_METRICS, *CEILING_METRICS) if result.aggregate.get(m) is not None or (baseline and baseline.aggregate.get(m) is not None)]
    row_h, label_w, bar_w = (34 if baseline else 24), 170, 520
    height = 30 + row_h * len(metrics)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" height="{height}" role="img" '
        f'aria-label="metrics vs baseline" font-family="system-ui,sans-serif" font-size="12">',
        f'<rect x="{label_w}" y="0" width="{bar_w}" height="{height - 20}" fill="#fafbfc" stroke="#e3e6ec"/>',
    ]
    for frac in (0.25, 0.5, 0.75):
        x = label_w + bar_w * frac
        out.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{height - 20}" stroke="#e3e6ec"/>')
    for i, metric in enumerate(metrics):
        y = 8 + i * row_h
        now = result.aggregate.get(metric) or 0.0
        out.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{_e(_label(metric))}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * max(0.0, min(1.0, now)):.1f}" height="13" fill="#2f6fdf"><title>{_e(metric)}: {now:.3f}</title></rect>')
        out.append(f'<text x="{label_w + bar_w * min(1.0, now) + 4:.1f}" y="{y + 13}">{now:.2f}</text>')
        if baseline is not None:
            before = baseline.aggregate.get(metric)
            if before is not None:
                out.append(f'<rect x="{label_w}" y="{y + 17}" width="{bar_w * max(0.0, min(1.0, before)):.1f}" height="9" fill="#a9b4c8"><title>baseline {_e(metric)}: {before:.3f}</title></rect>')
        limit = result.thresholds.get(metric)
        if limit is not None:
            x = label_w + bar_w * limit
            out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + row_h - 6}" stroke="#c0392b" stroke-width="2"><title>threshold {limit:g}</title></line>')
    legend_y = height - 6
    out.append(f'<rect x="{label_w}" y="{legend_y - 9}" width="10" height="10" fill="#2f6fdf"/><text x="{label_w + 14}" y="{legend_y}">this run</text>')
    if baseline is not None:
        out.append(f'<rect x="{label_w + 80}" y="{legend_y - 9}" width="10" height="10" fill="#a9b4c8"/><text x="{label_w + 94}" y="{legend_y}">baseline</text>')
    out.append(f'<line x1="{label_w + 170}" y1="{legend_y - 9}" x2="{label_w + 170}" y2="{legend_y + 1}" stroke="#c0392b" stroke-width="2"/><text x="{label_w + 176}" y="{legend_y}">threshold</text>')
    out.append("</svg>")
    return "".join(out)


def _answer_html(q: QuestionResult) -> str:
    if q.error:
        return f'<span class="refused">error: {_e(q.error)}</span>'
    if q.answer is None:
        return ""
    unsupported = {s.sentence for s in q.sentences if not s.supported}
    text = _e(q.answer.answer)
    for sentence in unsupported:
        escaped = _e(sentence)
        if escaped in text:
            text = text.replace(escaped, f'<span class="unsupported" title="not supported by its cited quotes">{escaped}</span>', 1)
    text = re.sub(r"\[(\d+(?:\s*,\s*\d+)*)\]", r'<span class="cite">[\1]</span>', text)
    body = f'<div class="refused">{text}</div>' if q.answer.refused else f"<div>{text}</div>"
    if q.answer.citations:
        items = "".join(
            f'<li><span class="cite">[{c.id}]</span> {_e(c.source)}:{c.start_line}–{c.end_line} '
            f'<span class="quote">“{_e(c.quote)}”</span></li>'
            for c in q.answer.citations
        )
        body += f'<ul class="cites">{items}</ul>'
    return body


def _facts_html(q: QuestionResult) -> str:
    if not q.expected.answerable:
        return '<span class="refused">should refuse</span>'
    missing = {tuple(f) for f in q.missing_facts}
    items = []
    for fact in q.expected.facts:
        label = " / ".join(fact)
        css = "missing" if tuple(fact) in missing else "found"
        items.append(f'<span class="{css}" title="{"missing" if css == "missing" else "found"}">{_e(label)}</span>')
    return "<br>".join(items)


def html_report(
    result: EvalResult | None,
    baseline: EvalResult | None = None,
    failures: Sequence[GateFailure] = (),
    tolerance: float = 0.05,
    beir: BeirReport | None = None,
) -> str:
    title = f"citewise eval: {result.suite}" if result else "citewise retrieval eval"
    body: list[str] = [f"<h1>{_e(title)}</h1>"]
    if result is not None:
        body.append(
            f'<p class="meta">model {_e(result.model or "unknown")} ({_e(result.provider or "unknown provider")}) · '
            f"k={result.k} · {len(result.questions)} questions · {result.started_at:%Y-%m-%d %H:%M} UTC"
            + (f" · baseline from {baseline.started_at:%Y-%m-%d %H:%M}" if baseline else "") + "</p>"
        )
        if failures:
            body.append('<div class="gate bad">Gate failed<ul>' + "".join(f"<li>{_e(f.message)}</li>" for f in failures) + "</ul></div>")
        else:
            body.append('<div class="gate ok">Gate passed</div>')
        body.append("<h2>Metrics</h2>" + bar_chart_svg(result, baseline))
        rows = []
        for row in _rows(result, baseline, tolerance):
            status = _status(row, result.thresholds, failures)
            css = "fail" if status == "FAIL" else ("pass" if status else "")
            delta = _fmt(row.delta, row.metric) if row.delta is not None else "–"
            delta_html = f'<span class="regressed">{delta}</span>' if row.regressed else delta
            rows.append(
                f'<tr class="{css}"><td>{_e(_label(row.metric))}</td><td class="num">{_fmt(row.current, row.metric)}</td>'
                f'<td class="num">{_fmt(row.baseline, row.metric)}</td><td class="num">{delta_html}</td>'
                f'<td class="num">{_fmt(result.thresholds.get(row.metric), row.metric)}</td><td class="status">{status}</td></tr>'
            )
        body.append(
            '<table class="aggregate"><thead><tr><th>metric</th><th>value</th><th>baseline</th><th>Δ</th><th>threshold</th>'
            "<th>status</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
        qrows = []
        for q in result.questions:
            s = q.scores
            passed = bool(s.get("passed"))
            history = "".join(f'<div class="quote">{_e(m.role)}: {_e(m.content)}</div>' for m in q.history)
            qrows.append(
                f'<tr class="{"pass" if passed else "fail"}" id="q-{_e(q.id)}"><td>{_e(q.id)}</td>'
                f'<td class="status">{"pass" if passed else "fail"}</td>'
                f"<td>{history}{_e(q.question)}</td><td>{_facts_html(q)}</td><td>{_answer_html(q)}</td>"
                f'<td class="num">{_fmt(s.get("fact_recall"))}</td><td class="num">{_fmt(s.get("citation_precision"))}</td>'
                f'<td class="num">{_fmt(s.get("citation_recall"))}</td><td class="num">{_fmt(s.get("citation_support"))}</td>'
                f'<td class="num">{_fmt(s.get("refusal_accuracy"))}</td><td class="num">{_fmt(s.get("hit_at_k"))}</td>'
                f'<td class="num">{_fmt(s.get("answer_accuracy"))}</td><td class="num">{_fmt(s.get("quote_only"))}</td>'
                f'<td class="num">{_fmt(q.latency_ms, "latency_ms")}</td></tr>'
            )
        body.append(
            "<h2>Questions</h2><table class=\"questions\"><thead><tr><th>id</th><th>result</th><th>question</th>"
            "<th>expected facts</th><th>answer (unsupported sentences underlined)</th><th>facts</th><th>cit. P</th>"
            "<th>cit. R</th><th>support</th><th>refusal</th><th>hit@k</th><th>acc.</th><th>quote-only</th><th>ms</th>"
            "</tr></thead><tbody>"
            + "".join(qrows) + "</tbody></table>"
        )
        if result.summaries:
            items = []
            for case in result.summaries:
                scores = ", ".join(f"{_e(_label(m))} {_fmt(v)}" for m, v in case.scores.items())
                missing = "".join(f' <span class="missing">{_e(" / ".join(f))}</span>' for f in case.missing_facts)
                items.append(f"<li>{_e(case.id)}: {scores}{missing}</li>")
            body.append("<h2>Summaries</h2><ul>" + "".join(items) + "</ul>")
        if result.notes:
            body.append("".join(f'<p class="meta">{_e(n)}</p>' for n in result.notes))
    if beir is not None:
        beir_rows = "".join(
            f'<tr><td>{_e(r.mode)}</td><td class="num">{r.ndcg_at_10:.3f}</td><td class="num">{r.recall_at_10:.3f}</td>'
            f'<td class="num">{r.recall_at_100:.3f}</td><td class="num">{r.mrr_at_10:.3f}</td><td class="num">{r.latency_p50_ms:.0f}</td></tr>'
            for r in beir.rows
        ) + "".join(f'<tr><td>published: {_e(n)}</td><td class="num">{v:.3f}</td><td></td><td></td><td></td><td></td></tr>' for n, v in beir.anchors.items())
        body.append(
            f"<h2>Retrieval: BEIR {_e(beir.dataset)}</h2><p class=\"meta\">{beir.documents} documents, {beir.queries} queries</p>"
            '<table class="beir"><thead><tr><th>retrieval</th><th>nDCG@10</th><th>recall@10</th><th>recall@100</th>'
            "<th>MRR@10</th><th>p50 ms</th></tr></thead><tbody>" + beir_rows + "</tbody></table>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(
    path: Path,
    result: EvalResult | None,
    baseline: EvalResult | None = None,
    failures: Sequence[GateFailure] = (),
    tolerance: float = 0.05,
    beir: BeirReport | None = None,
) -> None:
    """Markdown for .md, HTML for .html/.htm (chosen by extension)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".md", ".markdown"):
        text = markdown_report(result, baseline, failures, tolerance, beir)
    elif suffix in (".html", ".htm"):
        text = html_report(result, baseline, failures, tolerance, beir)
    else:
        raise InvalidInput(f"--report {path}: use a .md or .html file name")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


def console_summary(
    result: EvalResult | None,
    baseline: EvalResult | None = None,
    failures: Sequence[GateFailure] = (),
    tolerance: float = 0.05,
    beir: BeirReport | None = None,
) -> str:
    """What `citewise eval` prints without --json: the metrics table, failed questions, the gate, BEIR."""
    lines: list[str] = []
    if result is not None:
        counted = f"{len(result.questions)} questions" + (f", {len(result.summaries)} summaries" if result.summaries else "")
        lines.append(f"{result.suite}: {counted} · model {result.model or 'unknown'} · k={result.k}")
        lines.append(f"{'metric':<28}{'value':>9}{'baseline':>10}{'threshold':>11}")
        for row in _rows(result, baseline, tolerance):
            if row.current is None and row.baseline is None and row.metric not in result.thresholds:
                continue  # a metric this suite has nothing to measure with (no questions, or no summaries)
            mark = "  FAIL" if row.metric in {f.metric for f in failures} else ""
            lines.append(
                f"{_label(row.metric):<28}{_fmt(row.current, row.metric):>9}{_fmt(row.baseline, row.metric):>10}"
                f"{_fmt(result.thresholds.get(row.metric), row.metric):>11}{mark}"
            )
        failed = [q for q in result.questions if not q.scores.get("passed")]
        if failed:
            lines.append(f"failed questions ({len(failed)}):")
            for q in failed:
                if q.error:
                    why = f"error: {q.error}"
                elif q.answer and q.answer.refused != (not q.expected.answerable):
                    why = "refused" if q.answer.refused else "answered an unanswerable question"
                elif q.missing_facts:
                    why = "missing " + "; ".join(" / ".join(f) for f in q.missing_facts)
                else:
                    why = "no expected source cited"
                lines.append(f"  {q.id}: {why}")
        lines.extend(f"note: {n}" for n in result.notes)
        lines.append("gate: FAILED" if failures else "gate: passed")
        lines.extend(f"  {f.message}" for f in failures)
    if beir is not None:
        lines += ["", beir_table(beir)]
    return "\n".join(lines)
