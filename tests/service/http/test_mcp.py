"""The MCP server through the SDK's own clients, against a real `citewise serve` (/mcp, streamable HTTP) and a real
`citewise mcp` (stdio): same engine, same real model, same citations as `POST /v1/ask`; /mcp needs the API key."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.service.http.test_api_serve import serve

pytestmark = pytest.mark.slow

CITEWISE = Path(sys.executable).parent / "citewise"
KEY = "mcp-test-key-5e1a"
QUESTION = "Which treaty bans antipersonnel mines?"
TREATY_SOURCE = "001_846b2a5c2ae0efae.txt"


def spans(answer: dict) -> list[tuple]:
    return [(c["source"], c["start_line"], c["end_line"], c["quote"]) for c in answer["citations"]]


async def over_http(url: str) -> tuple[dict, list[str], list[str]]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=600) as client:
        async with streamable_http_client(f"{url}/mcp", http_client=client) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [t.name for t in (await session.list_tools()).tools]
                resources = [str(r.uri) for r in (await session.list_resources()).resources]
                result = await session.call_tool("ask", {"question": QUESTION})
                assert not result.is_error, result
                return result.structured_content or {}, tools, resources


async def over_stdio(home: Path) -> tuple[dict, dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")} | {"CITEWISE_HOME": str(home)}
    async with stdio_client(StdioServerParameters(command=str(CITEWISE), args=["mcp"], env=env)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            answer = await session.call_tool("ask", {"question": QUESTION})
            found = await session.call_tool("search", {"query": "Ottawa Treaty", "k": 2})
            text = await session.read_resource(f"citewise://documents/{TREATY_SOURCE}")
            return answer.structured_content or {}, found.structured_content or {}, text.contents[0].text  # type: ignore[union-attr]


def test_mcp_ask_matches_v1_ask_over_both_transports(tmp_path: Path, news_settings) -> None:
    home = tmp_path / "home"
    shutil.copytree(news_settings.home, home)
    with serve(tmp_path, env={"CITEWISE_API_KEY": KEY}) as (_, url, _log):
        assert httpx.post(f"{url}/mcp", json={}).status_code == 401
        assert httpx.post(f"{url}/mcp", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        v1 = httpx.post(f"{url}/v1/ask", json={"question": QUESTION}, headers={"Authorization": f"Bearer {KEY}"},
                        timeout=600).json()
        mcp_http, tools, resources = anyio.run(over_http, url)
    assert set(tools) == {"ask", "search", "summarize", "list_documents"}
    assert f"citewise://documents/{TREATY_SOURCE}" in resources
    assert spans(v1) and TREATY_SOURCE in {c["source"] for c in v1["citations"]}
    assert spans(mcp_http) == spans(v1) and mcp_http["refused"] is False
    mcp_stdio, found, text = anyio.run(over_stdio, home)
    assert spans(mcp_stdio) == spans(v1)
    assert found["query"] == "Ottawa Treaty" and 1 <= len(found["results"]) <= 2
    for c in mcp_stdio["citations"]:
        lines = text.splitlines()[c["start_line"] - 1 : c["end_line"]]
        assert c["quote"] in "\n".join(lines) or c["quote"] in " ".join(lines)
