"""The public's voice on the demo day, through the same doors the public and the staff use.

During the day each office gets a complaint on each of the standard's four channels: the web
form (no login), an e-mail over SMTP to the office's address, a telephone call and a note from
the suggestion box keyed in by the desk. The desk acknowledges some and follows up others (the
complainant is told by e-mail or SMS). After the handovers some applicants answer the IKM survey
from the link in their SMS. At the end the month-so-far performance report (JSON, and the PDF
and CSV the stage produces on demand) is saved beside the run's report, with the IKM per office.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import httpx

from simulators.mail import send_complaint
from tuntas import topology
from tuntas.demo.scenario import Office, Plan

AsStaff = Callable[[str, str], dict[str, Any]]  # (role, kecamatan) -> request extensions
SURVEY_LINK = re.compile(r"https?://\S+/survey/[A-Za-z0-9_-]+")
POLL_S = 0.5
NO_LOGIN = httpx.Auth()  # the public's requests: no token
# (day fraction, channel, category, subject): the complaints each office receives
COMPLAINTS = (
    (0.10, "website", "time", "Antrean rekam terlalu lama"),
    (0.30, "email", "requirements", "Persyaratan KTP-el hilang tidak jelas"),
    (0.50, "telephone", "staff", "Petugas loket kurang ramah"),
    (0.70, "suggestion_box", "facilities", "Ruang tunggu panas, kipas mati"),
)


@dataclass
class Voice:
    """What the public said and what the offices did with it (the demo report's section)."""

    complaints: dict[str, dict[str, int]] = field(default_factory=dict)  # office -> channel -> n
    tickets: list[str] = field(default_factory=list)
    acknowledged: int = 0
    followed_up: int = 0
    survey_links: int = 0
    survey_answers: int = 0
    monthly: dict[str, Any] = field(default_factory=dict)  # the district's month so far
    ikm: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # office -> IKM
    files: dict[str, str] = field(default_factory=dict)  # produced PDF/CSV/JSON


def mailbox(name: str) -> str:
    """The office's published address (as the stage's ``mailboxes`` setting has it)."""
    return f"kec_{name.lower().replace(' ', '')}@lumajangkab.go.id"


class PublicVoice:
    def __init__(
        self,
        plan: Plan,
        options: topology.Options,
        http: httpx.AsyncClient,
        names: dict[str, str],
        *,
        day_s: float,
        as_staff: AsStaff,
    ) -> None:
        self.plan = plan
        self.options = options
        self.http = http
        self.names = names
        self.day_s = day_s
        self.as_staff = as_staff
        self.rng = random.Random(plan.seed)
        self.voice = Voice()

    def _url(self, path: str) -> str:
        return topology.url("service_quality", self.options) + path

    async def _ok(self, response: httpx.Response, what: str) -> Any:
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    # ------------------------------------------------------------ during the day

    async def during_day(self) -> None:
        """Each office's four complaints at their moments of the day, then the desk's work."""
        opened = time.monotonic()
        for at, channel, category, subject in COMPLAINTS:
            await asyncio.sleep(max(0.0, opened + at * self.day_s - time.monotonic()))
            for office in self.plan.offices:
                await self._complain(office, channel, category, subject)
        for office in self.plan.offices:
            await self._desk(office)

    async def _complain(self, office: Office, channel: str, category: str, subject: str) -> None:
        code = office.kecamatan
        visitor = self.rng.choice(office.visitors)
        name = visitor.resident.name
        body = f"{subject}. Mohon ditindaklanjuti. ({name})"
        if channel == "email":
            port = topology.OFFICE_SMTP_PORT + self.options.port_offset
            sender = f"warga.{visitor.number}.{code}@example.id"
            await send_complaint(
                "127.0.0.1", port, sender, mailbox(self.names[code]), subject, body
            )
        elif channel == "website":
            form = {"kecamatan": code, "category": category, "subject": subject, "body": body,
                    "name": name, "email": f"warga.{visitor.number}.{code}@example.id"}  # fmt: skip
            # the public form: no login; the key makes a retry after a timeout one complaint
            headers = {"Idempotency-Key": f"demo-web-{code}-{visitor.number}-{subject}"}
            made = await self._ok(
                await self.http.post(
                    self._url("/pengaduan"), data=form, headers=headers, auth=NO_LOGIN
                ),
                subject,
            )
            self.voice.tickets.append(made["ticket"])
        else:
            entry = {
                "channel": channel,
                "category": category,
                "subject": subject,
                "body": body,
                "officer_id": f"petugas.{code}.01",
                "name": name,
                "phone": visitor.phone,
            }
            made = await self._ok(
                await self.http.post(
                    self._url(f"/offices/{code}/complaints"),
                    json={k: v for k, v in entry.items() if v is not None},
                    extensions=self.as_staff("desk", code),
                ),
                subject,
            )
            self.voice.tickets.append(made["ticket"])
        per_channel = self.voice.complaints.setdefault(code, {})
        per_channel[channel] = per_channel.get(channel, 0) + 1

    async def _desk(self, office: Office) -> None:
        """The desk's complaint screen: acknowledge what is new, follow up the telephone and
        suggestion-box ones (the web and e-mail ones stay open for tomorrow)."""
        code = office.kecamatan
        staff = self.as_staff("desk", code)
        listed = await self._ok(
            await self.http.get(self._url(f"/offices/{code}/complaints"), extensions=staff),
            "the complaint list",
        )
        for row in listed:
            path = f"/offices/{code}/complaints/{row['ticket']}"
            officer = {"officer_id": f"petugas.{code}.01"}
            if row["status"] == "received":
                await self._ok(
                    await self.http.post(
                        self._url(f"{path}/acknowledge"), json=officer, extensions=staff
                    ),
                    "acknowledging",
                )
                self.voice.acknowledged += 1
            if row["channel"] in ("telephone", "suggestion_box"):
                outcome = "Sudah kami tindak lanjuti; terima kasih atas masukannya."
                await self._ok(
                    await self.http.post(
                        self._url(f"{path}/follow-up"),
                        json={**officer, "outcome": outcome},
                        extensions=staff,
                    ),
                    "following up",
                )
                self.voice.followed_up += 1

    # ------------------------------------------------------------ after the day

    async def after_day(self, finished: dict[str, str], out: Path) -> Voice:
        """Survey answers from the SMS links of the cards collected (``finished``: visitor key
        -> "collected" | "stored"), then the month-so-far report saved under ``out``."""
        handed_over = sum(
            1 for v in self.plan.visitors if finished.get(v.key) == "collected" and v.phone
        )
        await self.answer_surveys(topology.sms_log(self.options), handed_over, timeout_s=120)
        return await self.month_so_far(out)

    async def answer_surveys(self, sms_log: Path, handed_over: int, timeout_s: float) -> None:
        """Two in three applicants who got the IKM link answer it (once each)."""
        deadline = time.monotonic() + timeout_s
        links: list[str] = []
        while time.monotonic() < deadline:
            links = await asyncio.to_thread(_survey_links, sms_log)
            if len(links) >= handed_over:
                break
            await asyncio.sleep(POLL_S)
        self.voice.survey_links = len(links)
        for n, link in enumerate(links):
            if n % 3 == 2:
                continue  # this one does not answer
            form = {"age": str(self.rng.randint(17, 70)), "sex": self.rng.choice("LP"),
                    "education": "SMA", "occupation": "WIRAUSAHA"}  # fmt: skip
            form |= {f"u{i}": str(self.rng.choice((3, 3, 4, 4, 2))) for i in range(1, 10)}
            await self._ok(await self.http.post(link, data=form, auth=NO_LOGIN), "a survey answer")
            self.voice.survey_answers += 1

    async def month_so_far(self, out: Path) -> Voice:
        """The month-so-far report as the stage produces it on demand, and the IKM per office."""
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        admin: dict[str, Any] = {}  # the district's report: the autopilot's default login
        url = self._url("/reports/monthly")
        self.voice.monthly = await self._ok(await self.http.get(url, extensions=admin), "report")
        for fmt in ("pdf", "csv"):
            got = await self.http.get(url, params={"format": fmt}, extensions=admin)
            await asyncio.to_thread((out / f"monthly-report.{fmt}").write_bytes, got.content)
            self.voice.files[fmt] = f"monthly-report.{fmt}"
        text = json.dumps(self.voice.monthly, indent=2)
        await asyncio.to_thread((out / "monthly-report.json").write_text, text)
        self.voice.files["json"] = "monthly-report.json"
        for office in self.plan.offices:
            code = office.kecamatan
            one = await self._ok(
                await self.http.get(url, params={"kecamatan": code}, extensions=admin), "IKM"
            )
            self.voice.ikm[code] = one["survey"]
        return self.voice


def _survey_links(sms_log: Path) -> list[str]:
    if not sms_log.exists():
        return []
    found: list[str] = []
    for line in sms_log.read_text(encoding="utf-8").splitlines():
        match = SURVEY_LINK.search(json.loads(line)["text"]) if line else None
        if match and match.group(0) not in found:
            found.append(match.group(0))
    return found


TITLE = "The public's voice (complaints, IKM) and the month so far"
COLUMNS = ("office", *(channel for _, channel, _, _ in COMPLAINTS), "IKM", "grade", "answers")


def _rows(voice: Voice, names: dict[str, str]) -> list[list[str]]:
    """Per office: complaints per channel, then its IKM (index, grade, responses)."""
    rows = []
    for code, per in voice.complaints.items():
        ikm = voice.ikm.get(code) or {}
        rows.append(
            [
                names.get(code, code),
                *(str(per.get(ch, 0)) for _, ch, _, _ in COMPLAINTS),
                str(ikm.get("index", "-")),
                str(ikm.get("grade", "-")),
                str(ikm.get("responses", 0)),
            ]
        )
    return rows


def _notes(voice: Voice) -> list[str]:
    channels = Counter[str]()
    for per in voice.complaints.values():
        channels.update(per)
    m = voice.monthly
    return [
        f"Complaints: {channels.total()} ("
        + ", ".join(f"{k} {v}" for k, v in channels.items())
        + f"); acknowledged {voice.acknowledged}, followed up {voice.followed_up}.",
        f"IKM survey: {voice.survey_links} links sent by SMS, {voice.survey_answers} answered.",
        "Month so far (district): applications"
        f" {sum(m.get('applications_by_type', {}).values())},"
        f" cards ready {m.get('ready', 0)}, collected {m.get('collected', 0)},"
        f" SMS {sum(m.get('sms', {}).values())}, complaints"
        f" {sum(m.get('complaints_by_channel', {}).values())}.",
    ]


def markdown(voice: Voice, names: dict[str, str]) -> list[str]:
    """The report's section: complaints per channel, the desk's work, IKM per office."""
    return [
        f"## {TITLE}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(r) + " |" for r in _rows(voice, names)),
        "",
        *(f"- {note}" for note in _notes(voice)),
        "- The performance report as the stage produces it on demand: "
        + ", ".join(f"[{k.upper()}]({v})" for k, v in voice.files.items()),
        "",
    ]


def html(voice: Voice, names: dict[str, str]) -> str:
    """The same section for report.html, with links to the produced PDF, CSV and JSON."""
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in _rows(voice, names)
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in _notes(voice))
    links = " ".join(f'<a href="{escape(v)}">{k.upper()}</a>' for k, v in voice.files.items())
    return (
        f"<h2>{escape(TITLE)}</h2><table><tr>{head}</tr>{rows}</table>"
        f"<ul>{notes}</ul><p>Performance report (month so far): {links}</p>"
    )
