// citewise web page: ask, watch the answer stream, click a citation to see the exact source lines.
// Plain modern JS, no build step. Every piece of text from the server goes through textContent, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "citewise.apiKey";
const MAX_HISTORY = 20; // messages; the API rejects longer histories

/** Build an element: attrs may hold class, text, dataset, on<Event> handlers and plain attributes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function lineRange(start, end) {
  return start === end ? `line ${start}` : `lines ${start}–${end}`;
}

/** Where a span (citation or document line) is in the original file, when the index knows and it says more than
 * the extracted-text line: "p. 3" (PDF), "file line 28" (txt/md/html), "table 1, row 2" / "paragraph 4" (DOCX). */
function fileLocation(c, start = c.start_line ?? c.n, end = c.end_line ?? c.n) {
  if (c.page != null) return `p. ${c.page}`;
  if (c.file_start_line != null && (c.file_start_line !== start || c.file_end_line !== end)) {
    return c.file_start_line === c.file_end_line
      ? `file line ${c.file_start_line}`
      : `file lines ${c.file_start_line}–${c.file_end_line}`;
  }
  if (c.docx_table != null) return `table ${c.docx_table}${c.docx_row != null ? `, row ${c.docx_row}` : ""}`;
  if (c.docx_paragraph != null) return `paragraph ${c.docx_paragraph}`;
  return null;
}

/** "lines 5–6" of the extracted text, plus where that is in the file when it differs: "line 15 (file line 28)". */
function spanLabel(c) {
  const where = fileLocation(c);
  return where ? `${lineRange(c.start_line, c.end_line)} (${where})` : lineRange(c.start_line, c.end_line);
}

/** A source name as a URL path: each segment encoded, slashes kept (sources may live in folders). */
function sourcePath(source) {
  return source.split("/").map(encodeURIComponent).join("/");
}

// ---------------------------------------------------------------------------------------------
// API client: adds the API key when one is known; on a 401 asks for it once and retries.

let keyRequest = null;

function askForKey(rejected) {
  if (keyRequest) return keyRequest;
  const dialog = $("key-dialog");
  const input = $("key-input");
  $("key-message").textContent = rejected
    ? "That API key was not accepted. Enter the server's API key again."
    : "This citewise server is protected. Enter its API key; it is kept for this browser tab only.";
  input.value = "";
  keyRequest = new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        keyRequest = null;
        const key = input.value.trim();
        if (dialog.returnValue === "ok" && key) {
          sessionStorage.setItem(KEY_STORAGE, key);
          resolve(key);
        } else {
          resolve(null);
        }
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
  return keyRequest;
}

/** fetch() with the API key; on a 401 asks for the key (again, if the one sent was rejected) and retries. */
async function apiFetch(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers || {});
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) headers.set("Authorization", `Bearer ${key}`);
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401) return res;
    const current = sessionStorage.getItem(KEY_STORAGE);
    if (current && current !== key) continue; // another request already got a new key
    if (key) sessionStorage.removeItem(KEY_STORAGE);
    const entered = await askForKey(Boolean(key));
    if (!entered) return res;
  }
}

/** The readable message of an error response: {"error": {"code", "message"}} or FastAPI's {"detail"}. */
async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body?.error?.message) return body.error.message;
    if (typeof body?.detail === "string") return body.detail;
    if (Array.isArray(body?.detail)) return body.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  } catch {
    /* not JSON */
  }
  if (res.status === 401) return "The API key is missing or wrong.";
  return `The server answered ${res.status} ${res.statusText}`.trim();
}

/** Parse a Server-Sent Events body into {event, data} objects (EventSource cannot POST). */
async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data = [];
  const take = (line) => {
    if (line === "") {
      const out = data.length || event ? { event: event || "message", data: data.join("\n") } : null;
      event = "";
      data = [];
      return out;
    }
    if (line.startsWith(":")) return null; // comment / keep-alive ping
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    return null;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      const out = take(line);
      if (out) yield out;
    }
  }
  if (buffer) take(buffer.replace(/\r$/, ""));
  const last = take("");
  if (last) yield last;
}

function parseJSON(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Cited text: "[n]" markers become links that open the source panel.

function citedText(tag, text, citations, className) {
  const byId = new Map((citations || []).map((c) => [Number(c.id), c]));
  const el = h(tag, { class: className });
  const parts = String(text || "").split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    const citation = m ? byId.get(Number(m[1])) : null;
    if (citation) el.append(citationLink(citation, part));
    else if (part) el.append(part);
  }
  return el;
}

function citationLink(citation, label) {
  const link = h("a", {
    class: "cite",
    href: `#${sourcePath(citation.source)}:${citation.start_line}`,
    text: label,
    title: `${citation.source}, ${spanLabel(citation)}`,
    "aria-label": `Citation ${citation.id}: ${citation.source}, ${spanLabel(citation)}`,
    dataset: {
      cite: String(citation.id),
      source: citation.source,
      start: String(citation.start_line),
      end: String(citation.end_line),
    },
  });
  link.addEventListener("click", (e) => {
    e.preventDefault();
    openSource(citation, link);
  });
  return link;
}

function sourcesList(citations, heading = "Sources") {
  if (!citations || citations.length === 0) return null;
  return h(
    "div",
    { class: "sources" },
    h("h3", { text: heading }),
    h(
      "ol",
      { class: "source-refs" },
      citations.map((c) =>
        h(
          "li",
          {},
          citationLink(c, `[${c.id}] ${c.source}, ${spanLabel(c)}`),
          c.quote ? h("blockquote", { class: "quote", text: c.quote }) : null,
        ),
      ),
    ),
  );
}

function suggestionsList(suggestions) {
  if (!suggestions || suggestions.length === 0) return null;
  return h(
    "div",
    { class: "sources suggestions" },
    h("h3", { text: "Closest sources" }),
    h(
      "ul",
      { class: "source-refs" },
      suggestions.map((s) => {
        const target = { source: s.source, start_line: s.start_line, end_line: s.end_line, quote: s.text };
        const link = h("a", {
          class: "suggestion",
          href: `#${sourcePath(s.source)}:${s.start_line}`,
          text: `${s.source}, ${lineRange(s.start_line, s.end_line)}`,
        });
        link.addEventListener("click", (e) => {
          e.preventDefault();
          openSource(target, link);
        });
        const snippet = s.text && s.text.length > 240 ? `${s.text.slice(0, 240)}…` : s.text;
        return h("li", {}, link, snippet ? h("blockquote", { class: "quote", text: snippet }) : null);
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Source panel: the document's numbered lines, cited range highlighted, quote marked.

const textCache = new Map();
let panelTrigger = null;
let panelRequest = 0;

async function fetchDocumentText(source) {
  if (textCache.has(source)) return textCache.get(source);
  const res = await apiFetch(`/v1/documents/${sourcePath(source)}/text`);
  if (!res.ok) throw new Error(await errorMessage(res));
  const body = await res.json();
  textCache.set(source, body);
  return body;
}

/** Whitespace-insensitive search: [start, end) of `needle` in `hay`, or null. */
function findLoosely(hay, needle) {
  const exact = hay.indexOf(needle);
  if (exact >= 0) return [exact, exact + needle.length];
  const map = [];
  let norm = "";
  for (let i = 0; i < hay.length; i++) {
    if (/\s/.test(hay[i])) {
      if (norm.length && norm[norm.length - 1] !== " ") {
        norm += " ";
        map.push(i);
      }
    } else {
      norm += hay[i].toLowerCase();
      map.push(i);
    }
  }
  const want = needle.replace(/\s+/g, " ").trim().toLowerCase();
  if (!want) return null;
  const at = norm.indexOf(want);
  if (at < 0) return null;
  return [map[at], map[at + want.length - 1] + 1];
}

function lineItem(line, markFrom, markTo) {
  const text = line.text;
  const content = h("span", { class: "lt" });
  if (markFrom !== null && markTo > markFrom) {
    content.append(text.slice(0, markFrom), h("mark", { text: text.slice(markFrom, markTo) }), text.slice(markTo));
  } else {
    content.textContent = text;
  }
  const where = fileLocation(line);
  return h("li", { id: `L${line.n}`, class: "line", dataset: { n: String(line.n) }, title: where || undefined },
    h("span", { class: "ln", "aria-hidden": "true", text: String(line.n) }), content);
}

function renderSourceLines(doc, target) {
  const list = $("source-lines");
  list.replaceChildren();
  const start = target.start_line;
  const end = Math.max(target.end_line, start);
  // Where the quote sits inside the cited lines (joined with "\n", as in the document).
  const cited = doc.lines.filter((l) => l.n >= start && l.n <= end);
  const joined = cited.map((l) => l.text).join("\n");
  const span = target.quote ? findLoosely(joined, target.quote) : null;
  let offset = 0;
  const offsets = new Map();
  for (const l of cited) {
    offsets.set(l.n, offset);
    offset += l.text.length + 1;
  }
  const fragment = document.createDocumentFragment();
  for (const line of doc.lines) {
    let from = null;
    let to = null;
    if (span && offsets.has(line.n)) {
      const o = offsets.get(line.n);
      from = Math.max(0, span[0] - o);
      to = Math.min(line.text.length, span[1] - o);
      if (to <= 0 || from >= line.text.length) from = to = null;
    }
    const item = lineItem(line, from, to);
    if (line.n >= start && line.n <= end) item.classList.add("hl");
    fragment.append(item);
  }
  list.append(fragment);
  const first = $(`L${start}`);
  if (first) first.scrollIntoView({ block: "center" });
}

async function openSource(target, trigger) {
  const request = ++panelRequest;
  panelTrigger = trigger || null;
  const panel = $("source-panel");
  panel.hidden = false;
  document.body.classList.add("source-open");
  $("source-title").textContent = target.source;
  $("source-range").textContent = spanLabel(target);
  $("source-status").textContent = "Loading…";
  $("source-status").classList.remove("error");
  $("source-lines").replaceChildren();
  $("source-title").focus();
  try {
    const doc = await fetchDocumentText(target.source);
    if (request !== panelRequest) return;
    $("source-status").textContent = "";
    renderSourceLines(doc, target);
  } catch (err) {
    if (request !== panelRequest) return;
    $("source-status").textContent = `Could not load ${target.source}: ${err.message}`;
    $("source-status").classList.add("error");
  }
}

function closeSource() {
  const panel = $("source-panel");
  if (panel.hidden) return;
  panel.hidden = true;
  document.body.classList.remove("source-open");
  if (panelTrigger && document.contains(panelTrigger)) panelTrigger.focus();
  else $("question").focus();
  panelTrigger = null;
}

// ---------------------------------------------------------------------------------------------
// Conversation

let history = [];
let streaming = null; // AbortController of the answer being streamed

function messagesEl() {
  return $("messages");
}

function addTurn(role, ...children) {
  $("empty-state")?.remove();
  const turn = h("article", { class: `turn ${role}` }, ...children);
  messagesEl().append(turn);
  turn.scrollIntoView({ block: "end" });
  return turn;
}

function setBusy(busy) {
  $("ask-button").disabled = busy;
  $("stop-button").hidden = !busy;
  $("ask-form").setAttribute("aria-busy", busy ? "true" : "false");
}

function renderAnswer(turn, answer) {
  const body = turn.querySelector(".turn-body");
  body.replaceChildren();
  if (answer.refused) {
    turn.classList.add("refused");
    turn.dataset.state = "refused";
    body.append(
      h("p", { class: "badge refusal-badge", text: "Not in the documents" }),
      citedText("p", answer.answer, answer.citations, "answer-text"),
      suggestionsList(answer.suggestions) || "",
    );
  } else {
    turn.dataset.state = "done";
    body.append(citedText("p", answer.answer, answer.citations, "answer-text"));
    if (answer.unmentioned && answer.unmentioned.length > 0) {
      body.append(h("p", { class: "meta unmentioned", text: `The documents never mention ${answer.unmentioned.join(", ")}.` }));
    }
    body.append(sourcesList(answer.citations) || "");
  }
  if (answer.model) body.append(h("p", { class: "meta", text: `model: ${answer.model}` }));
}

function showTurnError(turn, message) {
  turn.dataset.state = "error";
  const body = turn.querySelector(".turn-body");
  body.querySelector(".draft")?.remove(); // unverified: never left on the page
  body.append(h("p", { class: "error", role: "alert", text: message }));
}

async function ask(question) {
  const previous = history.slice(-MAX_HISTORY);
  addTurn("user", h("h3", { class: "visually-hidden", text: "You asked" }), h("p", { class: "question-text", text: question }));
  // While streaming: the verified sentences, then the model's draft not yet verified (dimmed, labelled "draft";
  // each `draft` event replaces it, so a sentence the verifier drops disappears). The verified answer then
  // replaces both in place (renderAnswer).
  const verified = h("span", { class: "verified-text" });
  const draftText = h("span", { class: "draft-text" });
  const draft = h("span", { class: "draft", hidden: "" },
    h("span", { class: "draft-label", text: "draft" }), " ", draftText);
  const live = h("p", { class: "streaming-text" }, verified, " ", draft);
  const status = h("p", { class: "status", role: "status", text: "Searching the documents…" });
  const turn = addTurn("assistant", h("h3", { class: "visually-hidden", text: "citewise answered" }),
    h("div", { class: "turn-body" }, status, live));
  turn.dataset.state = "streaming";
  const controller = new AbortController();
  streaming = controller;
  setBusy(true);
  let final = null;
  let failed = false;
  let tokens = 0;
  let drafts = 0;
  try {
    const res = await apiFetch("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, history: previous, stream: true }),
      signal: controller.signal,
    });
    if (!res.ok) {
      showTurnError(turn, await errorMessage(res));
      return;
    }
    if (!(res.headers.get("content-type") || "").includes("text/event-stream")) {
      final = await res.json();
    } else {
      for await (const ev of sseEvents(res.body)) {
        if (ev.event === "token") {
          verified.append(ev.data); // a delta of the verified answer (contract)
          turn.dataset.tokens = String(++tokens);
        } else if (ev.event === "draft") {
          status.textContent = "Writing and checking the answer…";
          draftText.textContent = ev.data; // the unverified rest of the draft: replaces the previous one
          draft.hidden = !ev.data;
          turn.dataset.drafts = String(++drafts);
        } else if (ev.event === "answer") {
          final = parseJSON(ev.data);
        } else if (ev.event === "error") {
          const err = parseJSON(ev.data);
          showTurnError(turn, err?.error?.message || err?.message || ev.data || "The answer failed.");
          failed = true;
        } else if (ev.event === "done") {
          break;
        }
      }
    }
    if (final) {
      renderAnswer(turn, final);
      history.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
      $("chat-live").textContent = final.refused ? "The documents do not answer that." : "Answer ready.";
    } else if (!failed) {
      showTurnError(turn, "The answer stream ended before the verified answer arrived.");
    }
  } catch (err) {
    if (err.name === "AbortError") showTurnError(turn, "Stopped.");
    else showTurnError(turn, `Could not reach the server: ${err.message}`);
  } finally {
    status.remove();
    if (streaming === controller) streaming = null;
    setBusy(false);
    turn.scrollIntoView({ block: "nearest" });
  }
}

function newConversation() {
  streaming?.abort();
  history = [];
  messagesEl().replaceChildren(
    h("div", { id: "empty-state", class: "empty-state" },
      h("p", { text: "New conversation. Ask a question about the documents." })),
  );
  closeSource();
  $("question").focus();
}

// ---------------------------------------------------------------------------------------------
// Summaries

async function summarize(source) {
  closeDocsDrawer();
  const label = source ? `Summary of ${source}` : "Summary of all documents";
  const status = h("p", { class: "status", role: "status", text: "Summarizing… this can take a while." });
  const turn = addTurn("assistant summary", h("h3", { class: "summary-title", text: label }),
    h("div", { class: "turn-body" }, status));
  turn.dataset.state = "streaming";
  try {
    const res = await apiFetch("/v1/summarize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(source ? { source } : {}),
    });
    if (res.status === 501) {
      turn.dataset.state = "unavailable";
      turn.querySelector(".turn-body").append(h("p", { class: "notice", text: await errorMessage(res) }));
      return;
    }
    if (!res.ok) {
      showTurnError(turn, await errorMessage(res));
      return;
    }
    renderSummary(turn, await res.json());
  } catch (err) {
    showTurnError(turn, `Could not reach the server: ${err.message}`);
  } finally {
    status.remove();
    turn.scrollIntoView({ block: "nearest" });
  }
}

function renderSummary(turn, summary) {
  turn.dataset.state = "done";
  const body = turn.querySelector(".turn-body");
  const cites = summary.citations || [];
  if (summary.summary) body.append(citedText("p", summary.summary, cites, "answer-text"));
  if (summary.bullets?.length) {
    body.append(h("ul", { class: "bullets" }, summary.bullets.map((b) => citedText("li", b, cites))));
  }
  if (summary.differences?.length) {
    body.append(
      h("section", { class: "differences" },
        h("h3", { text: "Where the sources differ" }),
        h("ul", { class: "bullets" }, summary.differences.map((d) => citedText("li", d, cites)))),
    );
  }
  const refs = sourcesList(cites);
  if (refs) body.append(refs);
}

// ---------------------------------------------------------------------------------------------
// Documents: list, upload, delete

function formatDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value ?? "") : date.toLocaleString();
}

async function loadDocuments() {
  const status = $("docs-status");
  status.classList.remove("error");
  try {
    const res = await apiFetch("/v1/documents");
    if (!res.ok) throw new Error(await errorMessage(res));
    const body = await res.json();
    const docs = Array.isArray(body) ? body : body.documents || [];
    renderDocuments(docs);
    status.textContent = docs.length ? "" : "No documents yet: drop some files above.";
  } catch (err) {
    status.textContent = `Could not list documents: ${err.message}`;
    status.classList.add("error");
  }
}

function renderDocuments(docs) {
  docs.sort((a, b) => a.source.localeCompare(b.source));
  $("docs-count").textContent = `(${docs.length})`;
  $("docs-list").replaceChildren(
    ...docs.map((doc) =>
      h("li", { class: "doc", dataset: { source: doc.source } },
        h("div", { class: "doc-name", title: doc.source, text: doc.source }),
        h("div", { class: "doc-meta", text: `${doc.chunks} chunk${doc.chunks === 1 ? "" : "s"} · ingested ${formatDate(doc.ingested_at)}` }),
        h("div", { class: "doc-actions" },
          h("button", { type: "button", class: "small", text: "Summarize", "aria-label": `Summarize ${doc.source}`,
            onclick: () => summarize(doc.source) }),
          h("button", { type: "button", class: "small danger-outline", text: "Delete", "aria-label": `Delete ${doc.source}`,
            onclick: (e) => deleteDocument(doc.source, e.currentTarget) }),
        ),
      ),
    ),
  );
}

function confirmDialog(message, okLabel = "Delete") {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = message;
  $("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function deleteDocument(source, button) {
  const ok = await confirmDialog(`Delete “${source}” and all its chunks from the index?`);
  if (!ok) {
    button?.focus();
    return;
  }
  const status = $("docs-status");
  status.classList.remove("error");
  status.textContent = `Deleting ${source}…`;
  const res = await apiFetch(`/v1/documents/${sourcePath(source)}`, { method: "DELETE" });
  if (!res.ok) {
    status.textContent = `Could not delete ${source}: ${await errorMessage(res)}`;
    status.classList.add("error");
    button?.focus();
    return;
  }
  textCache.delete(source);
  await loadDocuments();
  status.textContent = `Deleted ${source}.`;
  $("summarize-all").focus();
}

/** The per-file result of an upload response, whatever the list is called. */
function uploadOutcome(body, fileName) {
  const items = Array.isArray(body) ? body : body?.files || body?.results || body?.documents || [];
  const item = items.find((f) => f.source === fileName || f.source?.endsWith(`/${fileName}`)) || items[0];
  if (!item) return { ok: true, text: "uploaded" };
  const outcome = item.outcome || item.status || "uploaded";
  const failed = ["failed", "skipped", "error", "rejected"].includes(outcome);
  const reason = item.reason || item.error || item.message;
  let text = outcome;
  if (item.chunks) text += `, ${item.chunks} chunk${item.chunks === 1 ? "" : "s"}`;
  if (reason) text += `: ${typeof reason === "string" ? reason : reason.message || JSON.stringify(reason)}`;
  return { ok: !failed, text };
}

/** Why an upload was refused: the file's own reason when the error lists files, else the error message. */
async function uploadError(res, fileName) {
  const body = await res.clone().json().catch(() => null);
  const files = body?.error?.files;
  if (Array.isArray(files) && files.length) {
    const item = files.find((f) => f.source === fileName || f.source?.endsWith(`/${fileName}`)) || files[0];
    if (item.reason) return item.reason;
  }
  return errorMessage(res);
}

async function uploadFiles(fileList) {
  const files = Array.from(fileList || []);
  if (files.length === 0) return;
  const rows = files.map((file) => {
    const state = h("span", { class: "upload-state", text: "waiting" });
    const row = h("li", { class: "upload", dataset: { name: file.name, state: "waiting" } },
      h("span", { class: "upload-name", text: file.name }), state);
    $("upload-list").append(row);
    return { file, row, state };
  });
  for (const { file, row, state } of rows) {
    row.dataset.state = "uploading";
    state.textContent = "uploading…";
    try {
      const form = new FormData();
      form.append("files", file, file.name);
      const res = await apiFetch("/v1/documents", { method: "POST", body: form });
      if (!res.ok) {
        row.dataset.state = "error";
        state.textContent = `failed: ${await uploadError(res, file.name)}`;
        continue;
      }
      const result = uploadOutcome(await res.json(), file.name);
      row.dataset.state = result.ok ? "done" : "error";
      state.textContent = result.text;
    } catch (err) {
      row.dataset.state = "error";
      state.textContent = `failed: ${err.message}`;
    }
    textCache.delete(file.name);
  }
  await loadDocuments();
}

function setUpDropzone() {
  const zone = $("dropzone");
  const input = $("file-input");
  input.addEventListener("change", async () => {
    await uploadFiles(input.files);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "dragend"]) zone.addEventListener(type, () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    uploadFiles(e.dataTransfer?.files);
  });
  // A file dropped next to the zone must not make the browser navigate away from the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (e) => e.preventDefault());
}

// ---------------------------------------------------------------------------------------------
// Layout helpers (phone: the documents panel is a drawer)

function closeDocsDrawer() {
  document.body.classList.remove("docs-open");
  $("docs-toggle").setAttribute("aria-expanded", "false");
}

function toggleDocsDrawer() {
  const open = !document.body.classList.contains("docs-open");
  document.body.classList.toggle("docs-open", open);
  $("docs-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("docs-heading").focus();
}

// ---------------------------------------------------------------------------------------------

function init() {
  const form = $("ask-form");
  const question = $("question");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = question.value.trim();
    if (!text || streaming) return;
    question.value = "";
    ask(text);
    question.focus();
  });
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  $("stop-button").addEventListener("click", () => streaming?.abort());
  $("new-chat").addEventListener("click", newConversation);
  $("source-close").addEventListener("click", closeSource);
  $("summarize-all").addEventListener("click", () => summarize(null));
  $("docs-toggle").addEventListener("click", toggleDocsDrawer);
  $("docs-heading").setAttribute("tabindex", "-1");
  for (const button of document.querySelectorAll("dialog button[data-cancel]")) {
    button.addEventListener("click", () => button.closest("dialog").close("cancel"));
  }
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || document.querySelector("dialog[open]")) return;
    if (!$("source-panel").hidden) closeSource();
    else if (document.body.classList.contains("docs-open")) {
      closeDocsDrawer();
      $("docs-toggle").focus();
    }
  });
  // Announcements for screen readers, separate from the streaming text.
  document.body.append(h("p", { id: "chat-live", class: "visually-hidden", role: "status" }));
  setUpDropzone();
  loadDocuments();
  question.focus();
}

document.addEventListener("DOMContentLoaded", init);
