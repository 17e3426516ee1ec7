"""The CLI against a running `citewise serve` (`CITEWISE_URL` or `--server URL`): the same commands, the same
JSON, one short process start instead of opening the index and starting the model every time.

`RemoteEngine` has the methods the commands call on `Engine` (ask, ask_stream, search, summarize, documents)
and speaks the public HTTP API (`/v1/...`, with `CITEWISE_API_KEY` as the bearer key). Its errors are the
server's own one-line messages (a 4xx/5xx JSON body), or "cannot reach" when nothing answers at the URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import connect_sse

from service.errors import CitewiseError, UsageProblem
from service.pipeline.ports import ProgressCallback
from service.schemas import Answer, ChatMessage, DocumentRecord, SearchResponse, StreamEvent, Summary

TIMEOUT_S = 600.0  # an answer or a summary waits for the server's model (and its queue)


class RemoteEngine:
    def __init__(self, url: str, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=httpx.Timeout(TIMEOUT_S, connect=5.0))

    def __enter__(self) -> RemoteEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    # --- transport --------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as e:
            raise CitewiseError(f"cannot reach citewise serve at {self.url} ({e})") from None
        if response.status_code >= 400:
            raise CitewiseError(_error_message(response))
        return response.json()

    # --- what the commands call -------------------------------------------------------------------
    def search(self, query: str, k: int | None = None) -> SearchResponse:
        return SearchResponse.model_validate(self._request("POST", "/v1/search", {"query": query, "k": k}))

    def ask(self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        body = {"question": question, "history": [m.model_dump() for m in history], "k": k}
        return Answer.model_validate(self._request("POST", "/v1/ask", body))

    def ask_stream(
        self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None
    ) -> Iterator[StreamEvent]:
        """The server's SSE stream as the engine's events (draft, sentence, token, answer, error)."""
        body = {"question": question, "history": [m.model_dump() for m in history], "k": k, "stream": True}
        try:
            with connect_sse(self._http, "POST", "/v1/ask", json=body) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    raise CitewiseError(_error_message(source.response))
                for sse in source.iter_sse():
                    if sse.event == "answer":
                        yield StreamEvent(event="answer", data=Answer.model_validate_json(sse.data))
                    elif sse.event == "sentence":
                        yield StreamEvent(event="sentence", data=json.loads(sse.data))
                    elif sse.event == "error":
                        yield StreamEvent(event="error", data=json.loads(sse.data))
                    elif sse.event in ("draft", "token"):
                        yield StreamEvent(event=sse.event, data=sse.data)
        except httpx.HTTPError as e:
            raise CitewiseError(f"cannot reach citewise serve at {self.url} ({e})") from None

    def summarize(
        self,
        source: str | None = None,
        focus: str | None = None,
        length: str = "medium",
        progress: ProgressCallback | None = None,
        extractive: bool = False,
    ) -> Summary:
        body = {"source": source, "focus": focus, "length": length, "extractive": extractive}
        return Summary.model_validate(self._request("POST", "/v1/summarize", body))

    def list_documents(self) -> list[DocumentRecord]:
        return [DocumentRecord.model_validate(d) for d in self._request("GET", "/v1/documents")]

    def remove_documents(self, sources: Sequence[str]) -> list[str]:
        known = {d.source for d in self.list_documents()}
        unknown = [s for s in sources if s not in known]
        if unknown:  # as the local command: nothing is removed when one name is wrong
            raise CitewiseError(f"not an ingested document: {', '.join(unknown)} (see `citewise docs list`)")
        for source in sources:
            self._request("DELETE", f"/v1/documents/{quote(source, safe='/')}")
        return list(sources)

    def warm_up(self) -> None:
        """The server has started its model already."""

    def ingest(self, *args: object, **kwargs: object) -> Any:
        raise UsageProblem(
            f"ingest reads local folders: run it without CITEWISE_URL, or upload files with POST {self.url}/v1/documents"
        )


def _error_message(response: httpx.Response) -> str:
    """The server's one-line error (`{"error": {"code", "message"}}`), or the status line."""
    try:
        error = response.json().get("error", {})
        return str(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"citewise serve answered {response.status_code} {response.reason_phrase}"
