"""Local SMSC: a real SMPP 3.4 server (smpp34's) for local runs, the demo and tests.

Accepts any bind, answers submit_sm, sends a delivery receipt for every accepted part that
asked for one, and appends every complete message (concatenated parts reassembled, text
decoded) as one JSON line to the SMS log. Parts are reassembled as a handset does, by (source,
destination, reference), whatever session they came in, and each accepted part is kept in
``<log>.parts`` until its message is complete: an SMSC killed between two parts of a message
it had acknowledged still records it when the rest arrives. Faults for tests: answer the first
N submits with ESME_RTHROTTLED; end the session once, on the first submit after N accepted
ones, without answering or recording it.

    python -m simulators.smsc --port 2775 --log .tuntas/sms.jsonl [--throttle-first N]
        [--drop-after N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import smpp34

log = logging.getLogger("tuntas.smsc")

ESM_CLASS_UDHI = 0x40
ESM_CLASS_DELIVERY_RECEIPT = 0x04
MESSAGE_STATE_DELIVERED = 2
# SMPP 3.4 values (smpp34 sets its ESME_*/TLV_* constants at import time, invisible to mypy).
ESME_RINVDSTADR, ESME_RTHROTTLED = 0x0B, 0x58
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427

# GSM 03.38 decode tables, written out here rather than imported from the notification
# service: the SMSC is the independent other side, so an encoder bug cannot cancel itself out.
_GSM7 = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}


def decode_text(data_coding: int, body: bytes) -> str:
    """Decode an unpacked GSM-7 (0x00), Latin-1 (0x03) or UCS-2 (0x08) body."""
    if data_coding == 0x08:
        return body.decode("utf-16-be", errors="replace")
    if data_coding == 0x03:
        return body.decode("latin-1")
    out, escaped = [], False
    for b in body:
        if escaped:
            out.append(_GSM7_EXT.get(b, "?"))
            escaped = False
        elif b == 0x1B:
            escaped = True
        else:
            out.append(_GSM7[b & 0x7F])
    return "".join(out)


def split_udh(body: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """(ref, total, seq) of a concatenation IE (8- or 16-bit ref) if any, and the payload."""
    udh_len = body[0]
    udh, payload = body[1 : 1 + udh_len], body[1 + udh_len :]
    i = 0
    while i + 1 < len(udh):
        iei, ie_len = udh[i], udh[i + 1]
        ie = udh[i + 2 : i + 2 + ie_len]
        if iei == 0x00 and ie_len == 3:
            return (ie[0], ie[1], ie[2]), payload
        if iei == 0x08 and ie_len == 4:
            return (int.from_bytes(ie[:2], "big"), ie[2], ie[3]), payload
        i += 2 + ie_len
    return None, payload


@dataclass
class _Pending:
    parts: dict[int, bytes] = field(default_factory=dict)
    message_ids: dict[int, str] = field(default_factory=dict)


@dataclass
class Faults:
    throttle_first: int = 0  # answer this many submits with ESME_RTHROTTLED
    drop_after: int | None = None  # end the session once, after this many accepted submits


class LocalSmsc:
    def __init__(self, host: str, port: int, log_path: Path, faults: Faults | None = None) -> None:
        self.host, self.port, self.log_path = host, port, log_path
        self.faults = faults or Faults()
        self._server = smpp34.Server(host=host, port=port, system_id="TUNTAS-SMSC")
        self._sessions: dict[str, smpp34.Esme] = {}
        self._parts_path = log_path.with_name(log_path.name + ".parts")
        self._pending: dict[tuple[str, str, int], _Pending] = self._load_parts()
        self._tasks: set[asyncio.Task[None]] = set()
        self._submits = 0
        self._accepted = 0

    async def run(self, stop: asyncio.Event) -> None:
        await self._server.start()
        log.info("SMSC listening on %s:%d, SMS log %s", self.host, self.port, self.log_path)
        serve = asyncio.create_task(self._serve())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({serve, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if serve.done():
                serve.result()  # surface the error that ended the loop
        finally:
            serve.cancel()
            stopped.cancel()
            for esme in list(self._sessions.values()):
                with contextlib.suppress(Exception):  # shutting down: the peer may be gone
                    await esme.unbind()
            await self._server.stop()
            log.info("SMSC stopped")

    async def _serve(self) -> None:
        while True:
            await self._handle(await self._server.next())

    async def _handle(self, ev: smpp34.Esme | smpp34.SubmitSmEvent | smpp34.Unbound) -> None:
        if isinstance(ev, smpp34.Esme):
            log.info("bound: %s (session %s)", ev.system_id, ev.session_id)
            self._sessions[ev.session_id] = ev
        elif isinstance(ev, smpp34.Unbound):
            log.info("unbound: session %s", ev.session_id)
            self._sessions.pop(ev.session_id, None)
        else:
            await self._on_submit(ev)

    async def _on_submit(self, ev: smpp34.SubmitSmEvent) -> None:
        self._submits += 1
        f = self.faults
        if self._submits <= f.throttle_first:
            log.info("fault: throttling submit %d", self._submits)
            ev.reject(ESME_RTHROTTLED)
            return
        esme = self._sessions.get(ev.session_id)
        if f.drop_after is not None and self._accepted == f.drop_after and esme is not None:
            f.drop_after = None
            log.info("fault: ending session %s instead of answering", ev.session_id)
            self._sessions.pop(ev.session_id, None)
            await esme.unbind()
            return  # the undecided event is NAKed if the session still exists
        if not ev.destination_addr.isdigit():
            ev.reject(ESME_RINVDSTADR)
            return
        message_id = uuid.uuid4().hex[:16]
        self._collect(ev, message_id)  # kept before it is acknowledged, as an SMSC does
        ev.accept(message_id=message_id)
        self._accepted += 1
        if ev.registered_delivery & 0x01 and esme is not None:
            self._spawn(self._send_receipt(esme, ev, message_id))

    def _collect(self, ev: smpp34.SubmitSmEvent, message_id: str) -> None:
        body = ev.short_message
        concat, payload = split_udh(body) if ev.esm_class & ESM_CLASS_UDHI else (None, body)
        if concat is None:
            self._record(ev, decode_text(ev.data_coding, payload), [message_id])
            return
        ref, total, seq = concat
        key = (ev.source_addr, ev.destination_addr, ref)
        pending = self._pending.setdefault(key, _Pending())
        pending.parts[seq] = payload
        pending.message_ids[seq] = message_id
        if len(pending.parts) < total:
            self._keep_part(key, seq, payload, message_id)
            return
        del self._pending[key]
        seqs = sorted(pending.parts)
        # Decode the joined payload: a GSM-7 escape pair never straddles a part boundary.
        text = decode_text(ev.data_coding, b"".join(pending.parts[s] for s in seqs))
        self._record(ev, text, [pending.message_ids[s] for s in seqs])
        self._keep_part(key, None, b"", "")  # complete: its parts are no longer kept

    def _keep_part(self, key: tuple[str, str, int], seq: int | None, part: bytes, mid: str) -> None:
        line = {"key": list(key), "seq": seq, "part": part.hex(), "message_id": mid}
        with self._parts_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def _load_parts(self) -> dict[tuple[str, str, int], _Pending]:
        """The parts of incomplete messages accepted before a restart (the file replayed)."""
        pending: dict[tuple[str, str, int], _Pending] = {}
        lines = self._parts_path.read_text().splitlines() if self._parts_path.exists() else []
        for text in lines:
            with contextlib.suppress(ValueError, KeyError, TypeError):  # a line cut by a kill
                line = json.loads(text)
                source, destination, ref = line["key"]
                key = (str(source), str(destination), int(ref))
                if line["seq"] is None:
                    pending.pop(key, None)
                    continue
                held = pending.setdefault(key, _Pending())
                held.parts[int(line["seq"])] = bytes.fromhex(line["part"])
                held.message_ids[int(line["seq"])] = str(line["message_id"])
        return pending

    def _record(self, ev: smpp34.SubmitSmEvent, text: str, message_ids: list[str]) -> None:
        plus = "+" if ev.dest_addr_ton == 0x01 else ""
        line = {
            "time": datetime.now(UTC).isoformat(),
            "source": ev.source_addr,
            "destination": plus + ev.destination_addr,
            "text": text,
            "data_coding": ev.data_coding,
            "parts": len(message_ids),
            "message_ids": message_ids,
        }
        with self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        log.info("SMS to %s, %d part(s)", line["destination"], len(message_ids))

    async def _send_receipt(
        self, esme: smpp34.Esme, ev: smpp34.SubmitSmEvent, message_id: str
    ) -> None:
        now = datetime.now(UTC).strftime("%y%m%d%H%M")
        text = (
            f"id:{message_id} sub:001 dlvrd:001 submit date:{now} done date:{now} "
            "stat:DELIVRD err:000 text:"
        )
        try:
            await esme.deliver_sm(
                ev.source_addr,
                text.encode("ascii"),
                source_addr=ev.destination_addr,
                source_addr_ton=ev.dest_addr_ton,
                source_addr_npi=ev.dest_addr_npi,
                dest_addr_ton=ev.source_addr_ton,
                dest_addr_npi=ev.source_addr_npi,
                esm_class=ESM_CLASS_DELIVERY_RECEIPT,
                tlvs=[
                    smpp34.Tlv(TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0"),
                    smpp34.Tlv(TLV_MESSAGE_STATE, bytes((MESSAGE_STATE_DELIVERED,))),
                ],
            )
        except smpp34.SmppError as e:  # the ESME left before its receipt: a real SMSC retries
            log.warning("delivery receipt for %s not sent: %s", message_id, e)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m simulators.smsc", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2775)
    p.add_argument("--log", type=Path, required=True, help="the SMS log (JSON lines)")
    p.add_argument("--throttle-first", type=int, default=0, metavar="N")
    p.add_argument("--drop-after", type=int, default=None, metavar="N")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.log.touch()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    smsc = LocalSmsc(args.host, args.port, args.log, Faults(args.throttle_first, args.drop_after))
    await smsc.run(stop)


if __name__ == "__main__":
    asyncio.run(main())
