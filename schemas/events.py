"""One payload model per event type, and the registry of them (:data:`EVENT_TYPES`).

Versioning: a payload's ``version`` goes up when its shape changes. A change must keep
older messages readable (new fields get defaults) and older readers working (they ignore
fields they do not know); ``tests/schemas/test_compatibility.py`` enforces the first with the
golden samples in ``schemas/golden/``. A change that cannot do that is a new event type.

Biometric images and templates never travel on Kafka: events carry a :class:`ClaimCheck`
pointing at the encrypted record in the biometric store.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.application import Applicant, ApplicationType, CardFace, Documents
from schemas.base import Contract, Service
from schemas.states import ApplicationState
from schemas.values import PhoneNumber, ShortText

StaffId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
TrackingNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{6,32}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.]{1,64}$")]
# The card's chip serial (UID) as upper-case hex.
ChipSerial = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[0-9A-F]{8,40}$")]


class EventPayload(Contract):
    """Base of all payloads. ``event_type``/``version``/``producer`` are class-level facts."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    producer: ClassVar[Service]


class ClaimCheck(Contract):
    """A reference to data kept out of Kafka (encrypted at rest in its owner's store)."""

    store: Code  # e.g. "biometric.records"
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/:-]{1,200}$")]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]  # of the ciphertext


# ---------------------------------------------------------------- intake


class ApplicationAccepted(EventPayload):
    """The file was complete at the desk (or corrected): the 1-working-day clock runs."""

    event_type: ClassVar[str] = "application.accepted"
    producer: ClassVar[Service] = Service.INTAKE

    tracking_number: TrackingNumber  # printed on the applicant's receipt
    revision: int = Field(ge=1)  # 1, then +1 for each correction after a send-back
    application_type: ApplicationType
    applicant: Applicant
    documents: Documents
    deadline: AwareDatetime  # schemas.workdays.WorkingCalendar.deadline(accepted_at)
    officer_id: StaffId


class ApplicationRefused(EventPayload):
    """Refused at the desk as incomplete; only the problem codes, no personal data."""

    event_type: ClassVar[str] = "application.refused"
    producer: ClassVar[Service] = Service.INTAKE

    application_type: ApplicationType | None = None
    problem_codes: tuple[str, ...] = Field(min_length=1)
    officer_id: StaffId


class ApplicationCancelled(EventPayload):
    event_type: ClassVar[str] = "application.cancelled"
    producer: ClassVar[Service] = Service.INTAKE

    reason: ShortText
    officer_id: StaffId


class CardStoredUncollected(EventPayload):
    """Not collected in time: kept in storage, the applicant is called."""

    event_type: ClassVar[str] = "card.stored_uncollected"
    producer: ClassVar[Service] = Service.INTAKE

    storage_place: ShortText


class CardCollected(EventPayload):
    """Handed over after the applicant signed the receipt."""

    event_type: ClassVar[str] = "card.collected"
    producer: ClassVar[Service] = Service.INTAKE

    receipt_reference: ShortText
    officer_id: StaffId


# ---------------------------------------------------------------- validation


class ApplicationValidated(EventPayload):
    """The section head validated this revision; carries the validated data so downstream
    stages need no other topic to act on it."""

    event_type: ClassVar[str] = "application.validated"
    producer: ClassVar[Service] = Service.VALIDATION

    revision: int = Field(ge=1)
    tracking_number: TrackingNumber
    application_type: ApplicationType
    applicant: Applicant
    officer_id: StaffId


class SendBackReason(Contract):
    code: Code
    path: str | None = None  # the field concerned, e.g. "applicant.address.rt"
    note: ShortText  # the section head's words, for the front desk


class ApplicationSentBack(EventPayload):
    """Back to the front desk for correction; a corrected file comes as a new revision."""

    event_type: ClassVar[str] = "application.sent_back"
    producer: ClassVar[Service] = Service.VALIDATION

    revision: int = Field(ge=1)
    reasons: tuple[SendBackReason, ...] = Field(min_length=1)
    officer_id: StaffId


class ApplicationRejected(EventPayload):
    event_type: ClassVar[str] = "application.rejected"
    producer: ClassVar[Service] = Service.VALIDATION

    revision: int = Field(ge=1)
    reason_code: Code
    reason: ShortText
    officer_id: StaffId


# ---------------------------------------------------------------- biometric


class BiometricsCaptureQueued(EventPayload):
    """Not yet recorded: waiting for the operator to capture biometrics."""

    event_type: ClassVar[str] = "biometrics.capture_queued"
    producer: ClassVar[Service] = Service.BIOMETRIC


class BiometricsRecorded(EventPayload):
    event_type: ClassVar[str] = "biometrics.recorded"
    producer: ClassVar[Service] = Service.BIOMETRIC

    record: ClaimCheck
    fingerprints_captured: int = Field(ge=0, le=10)  # fewer than 10: missing/injured fingers
    iris_captured: bool
    face_captured: bool
    signature_captured: bool
    operator_id: StaffId


class BiometricsSkipped(EventPayload):
    """Already recorded earlier: the existing record is used."""

    event_type: ClassVar[str] = "biometrics.skipped"
    producer: ClassVar[Service] = Service.BIOMETRIC

    existing_record: ClaimCheck


class BiometricsDuplicateSuspected(EventPayload):
    """The 1:N fingerprint search matched other records; adjudication decides."""

    event_type: ClassVar[str] = "biometrics.duplicate_suspected"
    producer: ClassVar[Service] = Service.BIOMETRIC

    case_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    candidate_count: int = Field(ge=1)


class BiometricsDuplicateConfirmed(EventPayload):
    """Adjudication confirmed the duplicate: the application ends as rejected."""

    event_type: ClassVar[str] = "biometrics.duplicate_confirmed"
    producer: ClassVar[Service] = Service.BIOMETRIC

    case_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    officer_id: StaffId


class PrintPriority(StrEnum):
    # Dukcapil circular 471.13/6153: first cards before replacements when blanks are short.
    FIRST_CARD = "first_card"
    REPLACEMENT = "replacement"


class RecordPrintReady(EventPayload):
    """Everything the kecamatan's station needs to encode and print one card.

    Sent on the kecamatan's own print-ready topic. Photo, signature and the chip's
    fingerprint templates are claim checks, fetched by the station over its own channel.
    """

    event_type: ClassVar[str] = "record.print_ready"
    producer: ClassVar[Service] = Service.BIOMETRIC

    tracking_number: TrackingNumber
    application_type: ApplicationType
    priority: PrintPriority
    card: CardFace
    photo: ClaimCheck
    signature: ClaimCheck
    fingerprint_templates: ClaimCheck


# ---------------------------------------------------------------- card production


class CardQueuedForPrinting(EventPayload):
    """Back in the print queue: a reprint after spoilage, or blanks arrived."""

    event_type: ClassVar[str] = "card.queued_for_printing"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    reason: Literal["reprint", "stock_available"]


class CardWaitingForStock(EventPayload):
    event_type: ClassVar[str] = "card.waiting_for_stock"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION


class CertificateIssued(EventPayload):
    """Surat Keterangan: the temporary certificate while no blank card is available."""

    event_type: ClassVar[str] = "certificate.issued"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    certificate_number: ShortText
    issued_on: date
    valid_until: date  # about 6 months after issue
    officer_id: StaffId

    @model_validator(mode="after")
    def _valid_after_issue(self) -> Self:
        if self.valid_until <= self.issued_on:
            raise ValueError("valid_until must be after issued_on")
        return self


class CardEncoded(EventPayload):
    event_type: ClassVar[str] = "card.encoded"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    chip_serial: ChipSerial
    operator_id: StaffId


class CardPrinted(EventPayload):
    event_type: ClassVar[str] = "card.printed"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    chip_serial: ChipSerial
    print_job: Annotated[str, StringConstraints(min_length=1, max_length=128)]  # CUPS job id
    operator_id: StaffId


class SpoilReason(StrEnum):
    ENCODING_FAILED = "encoding_failed"
    PRINT_DEFECT = "print_defect"
    DATA_ERROR = "data_error"  # printed data is wrong
    ACTIVATION_FAILED = "activation_failed"
    DAMAGED = "damaged"
    OTHER = "other"


class CardSpoiled(EventPayload):
    """A blank was used up without a good card; a reprint follows."""

    event_type: ClassVar[str] = "card.spoiled"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    reason: SpoilReason
    chip_serial: ChipSerial | None = None
    note: ShortText | None = None


class CardReadyForCollection(EventPayload):
    """Handed to the front desk and stored until the applicant comes."""

    event_type: ClassVar[str] = "card.ready_for_collection"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    storage_place: ShortText  # e.g. "Lemari A, rak 3"


class CardActivated(EventPayload):
    """The applicant's fingerprint matched the chip on the reader."""

    event_type: ClassVar[str] = "card.activated"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    chip_serial: ChipSerial
    officer_id: StaffId


class StockChange(StrEnum):
    DELIVERED = "delivered"
    USED = "used"
    SPOILED = "spoiled"
    COUNTED = "counted"  # a physical count corrected the level


class StockLevel(EventPayload):
    """Blank-card stock of one kecamatan after a change (keyed by kecamatan)."""

    event_type: ClassVar[str] = "stock.level"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    blanks_available: int = Field(ge=0)
    change: int
    reason: StockChange


class StockLow(EventPayload):
    event_type: ClassVar[str] = "stock.low"
    producer: ClassVar[Service] = Service.CARD_PRODUCTION

    blanks_available: int = Field(ge=0)
    threshold: int = Field(ge=0)


# ---------------------------------------------------------------- notification


class Channel(StrEnum):
    SMS = "sms"
    PHONE_CALL = "phone_call"


class NotificationSent(EventPayload):
    """A message reached the provider. No phone number or text here (personal data)."""

    event_type: ClassVar[str] = "notification.sent"
    producer: ClassVar[Service] = Service.NOTIFICATION

    channel: Channel
    purpose: Code  # e.g. "ready_for_collection", "uncollected_reminder"
    provider_reference: Annotated[str, StringConstraints(max_length=128)] | None = None


class NotificationFailed(EventPayload):
    event_type: ClassVar[str] = "notification.failed"
    producer: ClassVar[Service] = Service.NOTIFICATION

    channel: Channel
    purpose: Code
    reason: ShortText


class SlaBreached(EventPayload):
    """The 1-working-day deadline passed before the card was ready."""

    event_type: ClassVar[str] = "sla.breached"
    producer: ClassVar[Service] = Service.NOTIFICATION

    deadline: AwareDatetime
    state: ApplicationState  # where the application was stuck


class CallLogged(EventPayload):
    """Staff recorded a call about an uncollected card and its outcome (the monthly report's
    calls made and their outcomes). No phone number here (personal data)."""

    event_type: ClassVar[str] = "call.logged"
    producer: ClassVar[Service] = Service.NOTIFICATION

    call_id: int = Field(ge=1)
    outcome: Code  # notification's call outcomes: reached, no_answer, wrong_number, will_come_on
    come_on: date | None = None  # the day the applicant said they will come


# ---------------------------------------------------------------- service quality


class SurveyInvited(EventPayload):
    """After the handover the applicant is asked to answer the IKM survey once, at this
    one-time link (notification sends it by SMS to the applicant's phone on file)."""

    event_type: ClassVar[str] = "survey.invited"
    producer: ClassVar[Service] = Service.SERVICE_QUALITY

    survey_url: Annotated[str, StringConstraints(pattern=r"^https?://\S{1,300}$")]


class ComplaintAnswered(EventPayload):
    """A complaint was followed up and its complainant left a phone number but no e-mail
    address: notification tells them the outcome by SMS. ``correlation_id`` is the complaint's
    id (not an application's); the phone number is here because the complainant may not be an
    applicant notification knows."""

    event_type: ClassVar[str] = "complaint.answered"
    producer: ClassVar[Service] = Service.SERVICE_QUALITY

    ticket: Annotated[str, StringConstraints(pattern=r"^ADU-[0-9]{6}-[0-9]{8}-[0-9]{4,}$")]
    name: ShortText | None = None
    phone: PhoneNumber
    outcome: Annotated[str, StringConstraints(min_length=1, max_length=160)]


# ---------------------------------------------------------------- ABIS (docs/abis.md)


class AbisOperation(StrEnum):
    """MOSIP's ABIS operations: the interface a vendor or national ABIS plugs in behind."""

    INSERT = "insert"
    IDENTIFY = "identify"
    DELETE = "delete"
    PING = "ping"
    PENDING_JOBS = "pending_jobs"
    # Tuntas's bulk path (not MOSIP's): insert every reference of a batch document, paged at
    # ``reference_url?after=<reference id>&limit=<n>``; answered when the whole batch is in.
    INSERT_BATCH = "insert_batch"


RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]


class AbisRequested(EventPayload):
    """A request to the ABIS. Never carries biometric data: for ``insert`` the ABIS fetches
    the record's templates from ``reference_url`` (MOSIP's referenceURL); ``identify`` searches
    the gallery with the biometrics already inserted under ``reference_id``."""

    event_type: ClassVar[str] = "abis.requested"
    producer: ClassVar[Service] = Service.BIOMETRIC

    operation: AbisOperation
    request_id: RequestId
    reference_id: UUID | None = None  # insert, identify, delete; insert_batch: the batch
    reference_url: Annotated[str, StringConstraints(pattern=r"^https?://\S{1,300}$")] | None = None
    target_fpir: Annotated[float, Field(gt=0, lt=1)] | None = None  # identify
    max_results: Annotated[int, Field(ge=1, le=100)] | None = None  # identify

    @model_validator(mode="after")
    def _fields_of_operation(self) -> Self:
        needs_reference = self.operation in (
            AbisOperation.INSERT,
            AbisOperation.IDENTIFY,
            AbisOperation.DELETE,
            AbisOperation.INSERT_BATCH,
        )
        if needs_reference and self.reference_id is None:
            raise ValueError(f"{self.operation.value} needs reference_id")
        fetches = self.operation in (AbisOperation.INSERT, AbisOperation.INSERT_BATCH)
        if fetches and self.reference_url is None:
            raise ValueError(f"{self.operation.value} needs reference_url")
        return self


class AbisCandidate(Contract):
    reference_id: UUID
    score: int = Field(ge=0, le=100)


class AbisResponded(EventPayload):
    """The ABIS's answer to one request (same ``request_id`` and ``operation``)."""

    event_type: ClassVar[str] = "abis.responded"
    producer: ClassVar[Service] = Service.ABIS

    operation: AbisOperation
    request_id: RequestId
    reference_id: UUID | None = None
    succeeded: bool
    failure_reason: Code | None = None  # e.g. "reference_not_found", "reference_unreachable"
    candidates: tuple[AbisCandidate, ...] = ()  # identify: best first, at most max_results
    job_count: int | None = Field(default=None, ge=0)  # pending_jobs


EVENT_TYPES: dict[str, type[EventPayload]] = {
    model.event_type: model
    for model in (
        ApplicationAccepted,
        ApplicationRefused,
        ApplicationCancelled,
        CardStoredUncollected,
        CardCollected,
        ApplicationValidated,
        ApplicationSentBack,
        ApplicationRejected,
        BiometricsCaptureQueued,
        BiometricsRecorded,
        BiometricsSkipped,
        BiometricsDuplicateSuspected,
        BiometricsDuplicateConfirmed,
        RecordPrintReady,
        CardQueuedForPrinting,
        CardWaitingForStock,
        CertificateIssued,
        CardEncoded,
        CardPrinted,
        CardSpoiled,
        CardReadyForCollection,
        CardActivated,
        StockLevel,
        StockLow,
        NotificationSent,
        NotificationFailed,
        SlaBreached,
        CallLogged,
        SurveyInvited,
        ComplaintAnswered,
        AbisRequested,
        AbisResponded,
    )
}
