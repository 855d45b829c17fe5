"""Fuzzing every route of every stage: schemathesis from each stage's own OpenAPI, plus
hand-made hostile inputs (huge bodies, wrong content types, broken multipart, path traversal,
unicode edge cases). A 5xx is a defect; so is a hostile body a mutating route accepts (2xx).
Each runs as a caller with the right role (:mod:`tuntas.chaos.callers`) and as nobody (401).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tuntas import topology, up
from tuntas.chaos.callers import ISSUER_ENV, STATION_ENV, Callers
from tuntas.stack import local

HUGE = 12 * 1024 * 1024  # above every stage's body limit
TRAVERSAL = ("../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "..\\..\\boot.ini")
UNICODE = (
    "\u202eFDP.exe",  # right-to-left override
    "a\u200b\u200db",  # zero-width joiners
    "\x00nul",
    "😀" * 200,
    "Ǆ̈́\u0345\ufb03",  # case folding and combining marks
    "\ufeffbom",
)
BAD_UTF8 = b'{"name": "\xed\xa0\x80\xff\xfe"}'  # a lone surrogate and bytes never in UTF-8
MUTATING = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    stage: str
    base: str
    method: str
    path: str  # the OpenAPI template, e.g. /applications/{application_id}
    params: dict[str, str]  # path parameter → its schema's format or type


@dataclass
class FuzzResult:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    wrongly_accepted: list[str] = field(default_factory=list)
    # schemathesis failing in its own code on an operation (not an answer of the stage)
    tool_errors: list[str] = field(default_factory=list)

    def merge(self, other: FuzzResult) -> None:
        self.requests += other.requests
        self.server_errors += other.server_errors
        self.wrongly_accepted += other.wrongly_accepted
        self.tool_errors += other.tool_errors


async def routes(stages: dict[str, str]) -> list[Route]:
    """Every operation of every stage, from ``GET <base>/openapi.json``."""
    out: list[Route] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for stage, base in stages.items():
            spec = (await http.get(f"{base}/openapi.json")).raise_for_status().json()
            for path, item in spec["paths"].items():
                for method, op in item.items():
                    params = {
                        p["name"]: p.get("schema", {}).get("format") or p["schema"].get("type", "")
                        for p in op.get("parameters", [])
                        if p.get("in") == "path"
                    }
                    out.append(Route(stage, base, method, path, params))
    return out


def _fill(route: Route, value: str | None) -> str:
    """The route's URL with each path parameter a valid UUID or ``value``."""
    path = route.path
    for name, kind in route.params.items():
        # control characters percent-encoded (else no URL at all); "/", "%" and "." kept raw
        plain = str(uuid.uuid4()) if kind == "uuid" or value is None else quote(value, "/%.")
        path = path.replace("{" + name + "}", plain)
    return route.base + path


def hostile(route: Route) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(label, url, httpx request arguments) of each hostile input for ``route``."""
    url = _fill(route, None)
    yield "huge body", url, {"content": b"[" + b"1," * (HUGE // 2) + b"1]"}
    yield (
        "wrong content type",
        url,
        {"content": b"name=x", "headers": {"content-type": "text/plain"}},
    )
    yield "xml", url, {"content": b"<a>x</a>", "headers": {"content-type": "application/xml"}}
    yield (
        "invalid utf-8",
        url,
        {"content": BAD_UTF8, "headers": {"content-type": "application/json"}},
    )
    yield (
        "truncated json",
        url,
        {"content": b'{"a": [1, 2', "headers": {"content-type": "application/json"}},
    )
    yield (
        "deep json",
        url,
        {"content": b"[" * 5000 + b"]" * 5000, "headers": {"content-type": "application/json"}},
    )
    broken = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="../../x.pdf"\r\n\r\n%PDF'
    )
    yield (
        "broken multipart",
        url,
        {
            "content": broken,
            "headers": {"content-type": "multipart/form-data; boundary=x"},
        },
    )
    yield (
        "traversal file name",
        url,
        {"files": {"file": ("../../../../etc/passwd", b"%PDF-1.4\n%%EOF\n", "application/pdf")}},
    )
    for text in UNICODE:
        yield (
            f"unicode {text[:8]!r}",
            url,
            {"json": {k: text for k in ("name", "kecamatan", "officer_id", "nik")}},
        )
        yield f"unicode query {text[:8]!r}", url, {"params": {"kecamatan": text, "limit": text}}
    if route.params:
        for value in (*TRAVERSAL, *UNICODE[:3], "%00", "x" * 5000):
            yield f"path {value[:12]!r}", _fill(route, value), {"json": {}}


async def hostile_inputs(
    all_routes: list[Route], callers: Callers | None, concurrency: int = 8
) -> FuzzResult:
    """Every hostile input to every route, sent as ``callers`` say (None: no token)."""
    result = FuzzResult()
    limit = asyncio.Semaphore(concurrency)

    async def one(
        http: httpx.AsyncClient, route: Route, label: str, url: str, kw: dict[str, Any]
    ) -> None:
        async with limit:
            if callers is not None:
                token = await asyncio.to_thread(callers.header, route.path)
                kw = {**kw, "headers": {**kw.get("headers", {}), **token}}
            try:
                response = await http.request(route.method.upper(), url, **kw)
            except httpx.TransportError:  # the stage cut the connection (a huge body): fine
                result.requests += 1
                return
            result.requests += 1
            where = f"{route.stage} {route.method.upper()} {route.path} [{label}]"
            if response.status_code >= 500:
                result.server_errors.append(
                    f"{where}: {response.status_code} {response.text[:120]}"
                )
            elif response.is_success and route.method in MUTATING:
                result.wrongly_accepted.append(f"{where}: {response.status_code}")

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(
            *(one(http, r, label, url, kw) for r in all_routes for label, url, kw in hostile(r))
        )
    return result


_CASES = re.compile(r"^\s*(\d+) generated", re.MULTILINE)  # "Test cases:" then "  N generated, …"


async def schemathesis(
    stage: str,
    base: str,
    max_examples: int,
    out: Path,
    callers: Callers | None,
    max_time_s: float | None = None,
) -> FuzzResult:
    """``schemathesis run`` over one stage's OpenAPI: not_a_server_error and
    negative_data_rejection (invalid data must not be accepted), as ``callers`` say (None: no
    token, every staff route 401). ``max_time_s``: fuzz until then rather than once."""
    who = "as-staff" if callers else "no-token"
    report = out / f"schemathesis-{stage}-{who}.txt"
    budget = ["--max-time", str(int(max_time_s))] if max_time_s else []
    env = {k: v for k, v in os.environ.items() if k not in (ISSUER_ENV, STATION_ENV)}
    env.update(SCHEMATHESIS_HOOKS="tuntas.chaos.fuzz_hooks", **(callers.env() if callers else {}))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json",
        "--checks", "not_a_server_error,negative_data_rejection",
        "--max-examples", str(max_examples),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "2",
        "--seed", "21",
        "--suppress-health-check", "all",
        "--no-color",
        "--continue-on-failure",
        *budget,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    text = (await proc.communicate())[0].decode(errors="replace")
    report.write_text(text)
    result = FuzzResult(requests=sum(int(n) for n in _CASES.findall(text)))
    if proc.returncode != 0:
        label = f"{stage}: schemathesis exit {proc.returncode}: see {report}"
        if "Server error" in text:
            result.server_errors.append(label)
        elif any(
            sign in text.split("FAILURES")[-1]
            for sign in ("API accepted", "Schema-violating request accepted", "negative_data")
        ):  # the wording of schemathesis 3 and of 4 (ST201)
            result.wrongly_accepted.append(label)
        else:
            result.tool_errors.append(label)
    return result


async def every_stage(
    options: topology.Options,
    issuer: str,
    examples: tuple[int, int],
    out: Path,
    max_time_s: float | None = None,
) -> tuple[list[Route], FuzzResult]:
    """Start the deployment of ``options`` and fuzz every route of every stage (the first card
    station for all): the hostile inputs and schemathesis, with ``examples`` per operation as
    a caller with the right role and with no token. The routes found and the result."""
    callers = Callers(issuer, options.kecamatan[0])
    async with up.running(options, local.StackConfig.from_env()):
        stages = {s: topology.url(s, options) for s in topology.PORTS}
        stages["card_production"] = topology.station_url(0, options)
        found = await routes(stages)
        result = await hostile_inputs(found, callers)
        result.merge(await hostile_inputs(found, None))
        for stage, base in stages.items():
            result.merge(await schemathesis(stage, base, examples[0], out, callers, max_time_s))
            result.merge(await schemathesis(stage, base, examples[1], out, None, max_time_s))
    return found, result


def summary(result: FuzzResult) -> str:
    return json.dumps(
        {
            "requests": result.requests,
            "server_errors": len(result.server_errors),
            "wrongly_accepted": len(result.wrongly_accepted),
            "tool_errors": len(result.tool_errors),
        }
    )
