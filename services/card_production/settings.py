"""Settings of one card-production station (one process per kecamatan office)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from schemas.values import RegionLevel, parse_region_code
from services.card_production.hardware.hopper import parse_address
from services.runtime.settings import Connections, RuntimeKnobs


class CardProductionSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(
        env_prefix="TUNTAS_CARD_PRODUCTION_", frozen=True, extra="ignore"
    )

    connections: Connections = Field(default_factory=Connections)
    http_port: int = 8110  # station n listens on 8110 + n

    kecamatan: str  # the station's office, e.g. "350805" (dotted accepted)
    # PC/SC reader name of the station's encoder (pcscd's socket: PCSCLITE_CSOCK_NAME).
    reader: str = "Virtual PCD 00 00"
    printer_queue: str = ""  # CUPS queue; default "tuntas-<kecamatan>"
    # Biometric service base URL; "simulated" = synthetic card data (demo/benchmark only).
    biometric_url: str = "http://127.0.0.1:8103"
    # The station logs in to the IdP (TUNTAS_OIDC_ISSUER) as its own machine client, bound to its
    # kecamatan, to fetch card data; the secret from a file (district IT hands it over) or env.
    oidc_client_id: str = ""  # default: station-<kecamatan>
    oidc_client_secret: str = ""
    oidc_client_secret_file: str = ""
    # How a card reaches the reader: "manual" (an operator inserts it) or
    # "hopper:<address>" (the card printer's hopper, docs/card-station.md; the address is a
    # UNIX socket path or host:port).
    feeder: str = "manual"
    auto_activate: bool = False  # demo/benchmark: activate right after printing

    low_stock_threshold: int = Field(default=50, ge=0)
    max_attempts: int = Field(default=5, ge=1)  # blanks spoiled on one job before escalation
    # Tries of a job that fails for a reason other than a device (bad card data, a bug)
    # before it is escalated and the station goes on with the next job.
    max_errors: int = Field(default=5, ge=1)
    error_retry_s: float = Field(default=5.0, ge=0)  # pause after such a failure
    printer_poll_s: float = Field(default=2.0, gt=0)
    print_timeout_s: float = Field(default=120.0, gt=0)
    feed_timeout_s: float = Field(default=600.0, gt=0)  # operator has this long to insert
    idle_poll_s: float = Field(default=2.0, gt=0)
    # 1:1 activation score; measured on 150 rendered people (docs/abis.md): genuine ≥ 83,
    # strangers ≤ 65 (at 60, 7 of 22,350 stranger pairs passed)
    match_threshold: int = Field(default=70, ge=1, le=100)
    activation_attempts: int = Field(default=3, ge=1)

    storage_drawers: int = Field(default=10, ge=1)  # lemari/laci at the office
    storage_slots: int = Field(default=50, ge=1)  # slots per drawer
    certificate_dir: Path = Path("/var/lib/tuntas/certificates")
    certificate_validity_days: int = Field(default=182, ge=1)  # about 6 months
    operator_id: str = "operator-siak"
    official_name: str = "KEPALA DINAS"
    official_nip: str = "000000000000000000"
    official_title: str = "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL"

    @field_validator("feeder")
    @classmethod
    def _feeder(cls, value: str) -> str:
        if value != "manual":
            address = value.removeprefix("hopper:")
            if address == value:
                raise ValueError("'manual' or 'hopper:<address>'")
            parse_address(address)
        return value

    @field_validator("kecamatan")
    @classmethod
    def _kecamatan(cls, value: str) -> str:
        return parse_region_code(value, RegionLevel.KECAMATAN)

    @property
    def queue(self) -> str:
        return self.printer_queue or f"tuntas-{self.kecamatan}"

    @property
    def station_schema(self) -> str:
        return self.db_schema or f"card_production_{self.kecamatan}"
