"""What `tuntas up` runs: the stage processes, one card station per kecamatan, and in local mode
the stand-ins for each station's hardware (``simulators.vchip``: the virtual chip and the
printer's hopper) and for the operator's SMSC.

Settings reach each process by environment, under the stage's own prefix, as in production.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schemas.base import Service
from simulators.vchip.address import default_hopper
from tuntas import staff
from tuntas.stack import cups, pcsc, principals, station_clients
from tuntas.stack.local import Endpoints
from tuntas.supervisor import ProcessSpec

PORTS = {
    "intake": 8101,
    "validation": 8102,
    "biometric": 8103,
    "notification": 8105,
    "service_quality": 8106,
    "abis": 8107,
}
STATION_BASE_PORT = 8110
# Stages that may run as several processes in one consumer group (``Options.processes``).
# Not the card station: it owns its office's reader and printer. Not the ABIS: each process
# would hold the whole gallery index in memory and answer 1:N searches from its own copy.
# Not service_quality: it listens for the offices' mail on one SMTP port.
SCALABLE = ("intake", "validation", "biometric", "notification")
MAX_PROCESSES = 4  # process r of a stage listens on its port + 100·(r − 1)
SMSC_PORT = 2775
OFFICE_SMTP_PORT = 2525  # service_quality: the offices' mailbox (complaints by e-mail)
MAIL_RELAY_PORT = 2526  # simulators.mail: where the offices' replies go (the outside world)
CAPTURE_DEVICES_PORT = 4501  # the recording stations' capture device service (simulated)
LAPOR_PORT = 4601  # simulators.lapor: SP4N-LAPOR!'s integration API (a stand-in)
TEMPEH = "350805"
CONSOLE_PORT = 8100  # the office console (services/console), staff log in in the browser


@dataclass(frozen=True)
class Options:
    home: Path
    kecamatan: tuple[str, ...] = (TEMPEH,)
    topic_prefix: str = ""
    automatic_staff: bool = False  # the demo's autopilot decides through the same APIs instead
    port_offset: int = 0  # lets a test run a second deployment beside a running one
    # A database of its own on the same server (created if missing): a demo or benchmark run
    # starts from empty state without touching the deployment's own data.
    database: str | None = None
    # A run's own outputs (card PDFs, SMS log, virtual chips, certificates) under
    # ``<home>/runs/<run_name>``, its own pcscd, reader names and vpcd ports, and CUPS queues
    # named after it; the machine-wide parts (cupsd, keys) stay in ``home``.
    run_name: str | None = None
    smsc_port: int = SMSC_PORT
    # Processes per stage (only :data:`SCALABLE` ones; absent: 1), e.g. ``{"intake": 2}``.
    processes: Mapping[str, int] = field(default_factory=dict)
    # People rendered beforehand for the capture devices to serve (simulators.capture.library):
    # a benchmark of the biometric stage measures the stage, not the simulator's rendering.
    capture_library: Path | None = None
    # More environment per stage, e.g. {"biometric": {"TUNTAS_BIOMETRIC_…": "8"}} (benchmarks).
    stage_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def process_count(service: str, options: Options) -> int:
    return options.processes.get(service, 1)


def parse_processes(text: str) -> dict[str, int]:
    """``"2"`` (every scalable stage) or ``"intake=2,validation=3"``; refuses the others."""
    if text.strip().isdigit():
        return parse_processes(",".join(f"{s}={text.strip()}" for s in SCALABLE))
    out: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, count = item.partition("=")
        if name not in SCALABLE:
            raise ValueError(f"{name}: only {', '.join(SCALABLE)} run as several processes")
        if not count.isdigit() or not 1 <= int(count) <= MAX_PROCESSES:
            raise ValueError(f"{item}: a count from 1 to {MAX_PROCESSES}")
        out[name] = int(count)
    return out


def url(service: str, options: Options, replica: int = 1) -> str:
    """Process ``replica`` (1-based) of a stage; its first by default."""
    return f"http://127.0.0.1:{PORTS[service] + 100 * (replica - 1) + options.port_offset}"


def urls(service: str, options: Options) -> list[str]:
    """Every process of a stage (a load balancer's list)."""
    return [url(service, options, r) for r in range(1, process_count(service, options) + 1)]


def process_name(service: str, replica: int) -> str:
    """``intake``, ``intake-2``, …: the first keeps the stage's name."""
    return service if replica == 1 else f"{service}-{replica}"


def console_url(options: Options) -> str:
    return f"http://127.0.0.1:{CONSOLE_PORT + options.port_offset}"


def console_banner(options: Options) -> str:
    """Where the office console is and who may log in (the local realm's demo staff)."""
    roles = ("desk", "kasi", "operator", "card_operator", "caller", "camat")
    users = ", ".join(staff.username(r, options.kecamatan[0]) for r in roles)
    others = [staff.username("desk", k).split(".")[1] for k in options.kecamatan[1:]]
    also = f" (other offices: .{', .'.join(others)})" if others else ""
    return (
        f"office console: {console_url(options)} — log in as {users}{also}, or"
        f" {staff.DISTRICT_ADMIN}; the password is the username (local stack only)"
    )


def device_url(options: Options) -> str:
    """The capture device service of every recording station; ``{kecamatan}`` names one."""
    return f"http://127.0.0.1:{CAPTURE_DEVICES_PORT + options.port_offset}/{{kecamatan}}"


def station_url(index: int, options: Options) -> str:
    return f"http://127.0.0.1:{STATION_BASE_PORT + index + options.port_offset}"


def outputs(options: Options) -> Path:
    return options.home / "runs" / options.run_name if options.run_name else options.home


def sms_log(options: Options) -> Path:
    return outputs(options) / "sms.jsonl"


def mail_log(options: Options) -> Path:
    return outputs(options) / "mail.jsonl"


def pdf_root(options: Options) -> Path:
    return outputs(options) / "cards"


def readers(options: Options) -> pcsc.Readers:
    """The run's pcscd and its readers (station n uses reader n)."""
    return pcsc.allocate(
        outputs(options) / "pcscd", options.run_name or "up", len(options.kecamatan)
    )


def queue(code: str, options: Options) -> str:
    return cups.queue_name(code, options.run_name)


def _module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def processes(endpoints: Endpoints, options: Options) -> list[ProcessSpec]:
    common = {
        **endpoints.as_env(),
        "TUNTAS_TOPIC_PREFIX": options.topic_prefix,
        "TUNTAS_HOME": str(options.home),
    }
    auto = "true" if options.automatic_staff else "false"
    specs: list[ProcessSpec] = []

    def stage(name: str, extra: dict[str, str]) -> None:
        # Each process of a stage: the same group and principal, an HTTP port of its own.
        for replica in range(1, process_count(name, options) + 1):
            base = url(name, options, replica)
            env = {
                **common,
                **principals.process_env(endpoints, Service(name)),
                f"TUNTAS_{name.upper()}_HTTP_PORT": base.rsplit(":", 1)[1],
                **extra,
                **options.stage_env.get(name, {}),
            }
            specs.append(
                ProcessSpec(
                    process_name(name, replica), _module(f"services.{name}"), env, f"{base}/health"
                )
            )

    smsc_port = options.smsc_port + options.port_offset
    specs.append(
        ProcessSpec(
            "smsc",
            _module("simulators.smsc", "--port", str(smsc_port), "--log", str(sms_log(options))),
        )
    )
    relay_port = str(MAIL_RELAY_PORT + options.port_offset)
    specs.append(
        ProcessSpec(
            "mail",
            _module("simulators.mail", "--port", relay_port, "--log", str(mail_log(options))),
        )
    )
    devices_port = str(CAPTURE_DEVICES_PORT + options.port_offset)
    library = ("--library", str(options.capture_library)) if options.capture_library else ()
    specs.append(
        ProcessSpec(
            "capture-devices",
            _module("simulators.capture", "--port", devices_port, *library),
            health_url=f"http://127.0.0.1:{devices_port}/health",
        )
    )
    lapor_port = str(LAPOR_PORT + options.port_offset)
    specs.append(
        ProcessSpec(
            "lapor",
            _module("simulators.lapor", "--port", lapor_port),
            health_url=f"http://127.0.0.1:{lapor_port}/health",
        )
    )
    # the local realm's ABIS client (deploy/keycloak/tuntas-realm.json)
    stage("abis", {"TUNTAS_ABIS_OIDC_CLIENT_SECRET": "local-only-svc-abis"})
    stage("intake", {})
    stage("validation", {"TUNTAS_VALIDATION_AUTO_APPROVE": auto})
    stage(
        "biometric",
        {"TUNTAS_BIOMETRIC_AUTO_CAPTURE": auto, "TUNTAS_BIOMETRIC_DEVICE_URL": device_url(options)},
    )
    stage(
        "notification",
        {
            "TUNTAS_NOTIFICATION_SMSC_PORT": str(smsc_port),
            "TUNTAS_NOTIFICATION_SMSC_HOST": "127.0.0.1",
        },
    )
    stage(
        "service_quality",
        {
            "TUNTAS_SERVICE_QUALITY_PUBLIC_URL": url("service_quality", options),
            "TUNTAS_SERVICE_QUALITY_SMTP_PORT": str(OFFICE_SMTP_PORT + options.port_offset),
            "TUNTAS_SERVICE_QUALITY_RELAY_PORT": relay_port,
            "TUNTAS_SERVICE_QUALITY_LAPOR_URL": f"http://127.0.0.1:{lapor_port}",
        },
    )
    specs.append(
        ProcessSpec(
            "console",
            _module("services.console"),
            {
                **common,
                **principals.console_env(endpoints),
                "TUNTAS_CONSOLE_HTTP_PORT": str(CONSOLE_PORT + options.port_offset),
                "TUNTAS_CONSOLE_INTAKE_URL": url("intake", options),
                "TUNTAS_CONSOLE_VALIDATION_URL": url("validation", options),
                "TUNTAS_CONSOLE_SERVICE_QUALITY_URL": url("service_quality", options),
                "TUNTAS_CONSOLE_BIOMETRIC_URL": url("biometric", options),
                "TUNTAS_CONSOLE_NOTIFICATION_URL": url("notification", options),
                "TUNTAS_CONSOLE_STATION_URLS": json.dumps(
                    {code: station_url(i, options) for i, code in enumerate(options.kecamatan)}
                ),
            },
            f"{console_url(options)}/health",
        )
    )
    pcscd = readers(options)
    for index, code in enumerate(options.kecamatan):
        port = STATION_BASE_PORT + index + options.port_offset
        chip_dir = outputs(options) / "chips" / code
        hopper = default_hopper(chip_dir)
        env = {
            **common,
            **principals.process_env(endpoints, Service.CARD_PRODUCTION, code),
            **pcscd.env(),
            "TUNTAS_CARD_PRODUCTION_HTTP_PORT": str(port),
            "TUNTAS_CARD_PRODUCTION_KECAMATAN": code,
            "TUNTAS_CARD_PRODUCTION_READER": pcscd.reader_name(index),
            "TUNTAS_CARD_PRODUCTION_PRINTER_QUEUE": queue(code, options),
            "TUNTAS_CARD_PRODUCTION_BIOMETRIC_URL": url("biometric", options),
            # The station's machine client (local realm: tuntas.stack.station_clients).
            "TUNTAS_CARD_PRODUCTION_OIDC_CLIENT_SECRET": station_clients.station_secret(code),
            "TUNTAS_CARD_PRODUCTION_AUTO_ACTIVATE": auto,
            "TUNTAS_CARD_PRODUCTION_FEEDER": f"hopper:{hopper}",
            "TUNTAS_CARD_PRODUCTION_CERTIFICATE_DIR": str(outputs(options) / "certificates" / code),
        }
        specs.append(
            ProcessSpec(
                f"station-{code}",
                _module("services.card_production"),
                env,
                f"http://127.0.0.1:{port}/health",
            )
        )
        specs.append(
            ProcessSpec(
                f"chip-{code}",
                _module(
                    "simulators.vchip",
                    "--vpcd-port", str(pcscd.vpcd_port(index)),
                    "--state-dir", str(chip_dir),
                    "--hopper", hopper,
                ),
            )
        )  # fmt: skip
    return specs


def listening_ports(options: Options) -> dict[int, str]:
    """Every port the deployment's processes listen on, with what listens there. Two runs
    whose offsets differ by 100 share some (a stage's second process, the capture devices and
    LAPOR): a clash is found before anything starts, not as a stranger's answer mid-run."""
    ports = {
        int(u.rsplit(":", 1)[1]): process_name(service, replica)
        for service in PORTS
        for replica, u in enumerate(urls(service, options), start=1)
    }
    ports |= {
        options.smsc_port + options.port_offset: "the SMSC",
        MAIL_RELAY_PORT + options.port_offset: "the mail relay",
        OFFICE_SMTP_PORT + options.port_offset: "the offices' mailbox (SMTP)",
        CAPTURE_DEVICES_PORT + options.port_offset: "the capture devices",
        LAPOR_PORT + options.port_offset: "SP4N-LAPOR!",
        CONSOLE_PORT + options.port_offset: "the console",
    }
    for index, code in enumerate(options.kecamatan):
        ports[STATION_BASE_PORT + index + options.port_offset] = f"station-{code}"
    return ports


def prepare_hardware(options: Options) -> None:
    """The run's hardware: its own pcscd with one vpcd reader per station, and one cups-pdf
    queue per station (cards land as PDFs under ``<outputs>/cards/<queue>``)."""
    pcsc.ensure_pcscd(readers(options))
    cups.ensure_cupsd()
    for code in options.kecamatan:
        cups.ensure_pdf_queue(queue(code, options), pdf_root(options))


def release_hardware(options: Options) -> None:
    """Stop the run's pcscd; a named run's queues go too (its PDFs stay)."""
    pcsc.stop_pcscd(readers(options).run_dir)
    if options.run_name is not None:
        for code in options.kecamatan:
            cups.remove_pdf_queue(queue(code, options))
