"""Settings of the biometric stage (``TUNTAS_BIOMETRIC_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from schemas.regions import lumajang
from schemas.values import RegionLevel, parse_region_code
from services.biometric.items import Finger
from services.biometric.quality import QualityPolicy
from services.runtime.settings import Connections, RuntimeKnobs

SERVICE = "biometric"
DEFAULT_HTTP_PORT = 8103


class BiometricSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(
        env_prefix="TUNTAS_BIOMETRIC_", frozen=True, extra="ignore", populate_by_name=True
    )

    connections: Connections = Field(default_factory=Connections)
    http_port: int = DEFAULT_HTTP_PORT

    # Kecamatan served: their print-ready topics are created at start. Empty: every kecamatan
    # of Kabupaten Lumajang from the packaged region data. Comma-separated codes.
    kecamatan_codes: str = ""

    # Master keys wrap the per-kecamatan data keys. "1:<base64>,2:<base64>", or a file holding
    # that. Neither set: the unprefixed BIOMETRIC_MASTER_KEYS / BIOMETRIC_MASTER_KEY_FILE, then
    # (when `generate_master_key`, for local runs) a key file generated under TUNTAS_HOME.
    master_keys: SecretStr | None = None
    master_key_file: Path | None = None
    generate_master_key: bool = True
    home: Path = Field(default=Path(".tuntas"), validation_alias="TUNTAS_HOME")

    # The recording stations' capture device service (docs/capture-devices.md), by address;
    # {kecamatan} stands for the station. A real office sets its own device service's URL.
    device_url: str = "http://127.0.0.1:4501/{kecamatan}"

    # Automatic operator (demo/benchmark): capture every queued applicant right on consume.
    auto_capture: bool = False
    auto_operator_id: str = "auto.operator"
    auto_capture_concurrency: int = Field(default=1, ge=1, le=16)

    # Processes for the image checks and template extraction (0: threads of this process,
    # which share one interpreter lock, i.e. one core).
    image_workers: int = Field(default=2, ge=0, le=16)

    # Quality gates and re-capture.
    min_finger_quality: int = 40
    min_iris_quality: int = 40
    min_face_quality: int = 40
    max_attempts: int = Field(default=3, ge=1, le=10)

    # 1:N deduplication through the ABIS (docs/abis.md): identify requests ask for candidates
    # at this false-positive identification rate, at most this many.
    abis_target_fpir: float = Field(default=0.001, gt=0, lt=1)
    abis_max_results: int = Field(default=10, ge=1, le=100)
    # Where the ABIS fetches a record's dedupe fingers (this stage's own API, as the ABIS
    # reaches it); empty: http://127.0.0.1:<the port this stage listens on>.
    public_url: str = ""
    # The machine clients (token usernames) allowed to fetch them: the ABIS's service account.
    abis_clients: str = "service-account-svc-abis"

    # The two fingers whose templates go on the chip, in preference order; when one is an
    # exception the next available finger in Finger order (ISO position) is used instead.
    chip_fingers: str = "right_index,left_index"

    def kecamatan_list(self) -> list[str]:
        if self.kecamatan_codes.strip():
            return [
                parse_region_code(c, RegionLevel.KECAMATAN)
                for c in self.kecamatan_codes.split(",")
                if c.strip()
            ]
        return [r.code for r in lumajang().children("3508", RegionLevel.KABUPATEN)]

    def chip_finger_list(self) -> tuple[Finger, ...]:
        return tuple(Finger(f.strip()) for f in self.chip_fingers.split(",") if f.strip())

    def quality_policy(self) -> QualityPolicy:
        return QualityPolicy(
            min_finger_quality=self.min_finger_quality,
            min_iris_quality=self.min_iris_quality,
            min_face_quality=self.min_face_quality,
            max_attempts=self.max_attempts,
        )

    def abis_client_names(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.abis_clients.split(",") if c.strip())

    @property
    def schema_name(self) -> str:
        return self.db_schema or SERVICE
