"""One valid example of every event type, with fixed ids and times.

Used to write the golden compatibility samples (``python -m schemas.export``), and handy as
test data elsewhere. The people and numbers are invented.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid5

from schemas.application import (
    Address,
    Applicant,
    ApplicationType,
    BloodType,
    Citizenship,
    Documents,
    KkPhotocopy,
    MaritalStatus,
    PoliceReport,
    Religion,
)
from schemas.envelope import Envelope
from schemas.events import (
    AbisCandidate,
    AbisOperation,
    AbisRequested,
    AbisResponded,
    ApplicationAccepted,
    ApplicationCancelled,
    ApplicationRefused,
    ApplicationRejected,
    ApplicationSentBack,
    ApplicationValidated,
    BiometricsCaptureQueued,
    BiometricsDuplicateConfirmed,
    BiometricsDuplicateSuspected,
    BiometricsRecorded,
    BiometricsSkipped,
    CallLogged,
    CardActivated,
    CardCollected,
    CardEncoded,
    CardPrinted,
    CardQueuedForPrinting,
    CardReadyForCollection,
    CardSpoiled,
    CardStoredUncollected,
    CardWaitingForStock,
    CertificateIssued,
    Channel,
    ClaimCheck,
    ComplaintAnswered,
    EventPayload,
    NotificationFailed,
    NotificationSent,
    PrintPriority,
    RecordPrintReady,
    SendBackReason,
    SlaBreached,
    SpoilReason,
    StockChange,
    StockLevel,
    StockLow,
    SurveyInvited,
)
from schemas.states import ApplicationState
from schemas.values import Sex

TEMPEH = "350805"
APPLICATION_ID = UUID("5a0d7c1e-3f4b-4c2a-9d8e-0b1c2d3e4f50")
OCCURRED_AT = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
_NAMESPACE = UUID("0f6c1d2e-7a8b-4c9d-8e0f-1a2b3c4d5e6f")

APPLICANT = Applicant(
    nik="3508054107850001",  # a woman (41 = 1 + 40) born 1 July 1985
    name="Siti Nur'aini",
    birth_place="Lumajang",
    birth_date=date(1985, 7, 1),
    sex=Sex.FEMALE,
    blood_type=BloodType.O,
    address=Address(
        street="Dusun Krajan", rt="002", rw="005", desa_code="3508052001", desa_name="Pandanwangi"
    ),
    religion=Religion.ISLAM,
    marital_status=MaritalStatus.KAWIN,
    occupation="Petani",
    citizenship=Citizenship.WNI,
    kk_number="3508050101100003",
    phone="+6281234567890",
)


def _ref(key: str) -> ClaimCheck:
    return ClaimCheck(store="biometric.records", key=key, sha256="ab" * 32)


SAMPLE_PAYLOADS: dict[str, EventPayload] = {
    p.event_type: p
    for p in (
        ApplicationAccepted(
            tracking_number="TPH-20250106-0001",
            revision=1,
            application_type=ApplicationType.LOST,
            applicant=APPLICANT,
            documents=Documents(
                kk_photocopy=KkPhotocopy(kk_number="3508050101100003"),
                police_report=PoliceReport(
                    number="SKTLK/12/I/2025/Sek Tempeh",
                    issued_on=date(2025, 1, 3),
                    issuing_station="Polsek Tempeh",
                ),
            ),
            deadline=datetime(2025, 1, 7, 2, 0, tzinfo=UTC),
            officer_id="petugas.tempeh.01",
        ),
        ApplicationRefused(
            application_type=ApplicationType.NEW,
            problem_codes=("missing_kk_photocopy",),
            officer_id="petugas.tempeh.01",
        ),
        ApplicationCancelled(reason="Pemohon membatalkan", officer_id="petugas.tempeh.01"),
        CardStoredUncollected(storage_place="Lemari A, rak 3"),
        CardCollected(receipt_reference="TT-2025-000123", officer_id="petugas.tempeh.01"),
        ApplicationValidated(
            revision=1,
            tracking_number="TPH-20250106-0001",
            application_type=ApplicationType.LOST,
            applicant=APPLICANT,
            officer_id="kasi.tempeh",
        ),
        ApplicationSentBack(
            revision=1,
            officer_id="kasi.tempeh",
            reasons=(
                SendBackReason(
                    code="address_mismatch",
                    path="applicant.address.rt",
                    note="RT tidak sesuai dengan KK",
                ),
            ),
        ),
        ApplicationRejected(
            revision=1,
            reason_code="forged_document",
            reason="Surat kehilangan tidak sah",
            officer_id="kasi.tempeh",
        ),
        BiometricsCaptureQueued(),
        BiometricsRecorded(
            record=_ref("350805/rec-000123"),
            fingerprints_captured=10,
            iris_captured=True,
            face_captured=True,
            signature_captured=True,
            operator_id="siak.tempeh",
        ),
        BiometricsSkipped(existing_record=_ref("350805/rec-000045")),
        BiometricsDuplicateSuspected(case_id="dedup-2025-0007", candidate_count=1),
        BiometricsDuplicateConfirmed(case_id="dedup-2025-0007", officer_id="kasi.tempeh"),
        RecordPrintReady(
            tracking_number="TPH-20250106-0001",
            application_type=ApplicationType.LOST,
            priority=PrintPriority.REPLACEMENT,
            card=APPLICANT.card_face(),
            photo=_ref("350805/rec-000123/photo"),
            signature=_ref("350805/rec-000123/sig"),
            fingerprint_templates=_ref("350805/rec-000123/fp"),
        ),
        CardQueuedForPrinting(reason="reprint"),
        CardWaitingForStock(),
        CertificateIssued(
            certificate_number="470/123/427.85/2025",
            issued_on=date(2025, 1, 6),
            valid_until=date(2025, 7, 6),
            officer_id="siak.tempeh",
        ),
        CardEncoded(chip_serial="04A1B2C3D4E5F6", operator_id="siak.tempeh"),
        CardPrinted(
            chip_serial="04A1B2C3D4E5F6", print_job="ktp-tempeh-42", operator_id="siak.tempeh"
        ),
        CardSpoiled(
            reason=SpoilReason.PRINT_DEFECT, chip_serial="04A1B2C3D4E5F6", note="Tinta luntur"
        ),
        CardReadyForCollection(storage_place="Lemari A, rak 3"),
        CardActivated(chip_serial="04A1B2C3D4E5F6", officer_id="petugas.tempeh.01"),
        StockLevel(blanks_available=41, change=-1, reason=StockChange.USED),
        StockLow(blanks_available=9, threshold=10),
        NotificationSent(
            channel=Channel.SMS, purpose="ready_for_collection", provider_reference="smsc-77812"
        ),
        NotificationFailed(
            channel=Channel.SMS,
            purpose="ready_for_collection",
            reason="SMSC rejected the destination",
        ),
        SlaBreached(
            deadline=datetime(2025, 1, 7, 2, 0, tzinfo=UTC),
            state=ApplicationState.WAITING_FOR_STOCK,
        ),
        CallLogged(call_id=17, outcome="will_come_on", come_on=date(2025, 1, 20)),
        SurveyInvited(survey_url="https://tuntas.lumajangkab.go.id/survey/Xq3v9c2LmT0a"),
        ComplaintAnswered(
            ticket="ADU-350805-20250106-0007",
            name="Siti Aminah",
            phone="+6281234567890",
            outcome="Loket rekam dibuka pukul 08.00 mulai Senin; mohon maaf atas antrean.",
        ),
        AbisRequested(
            operation=AbisOperation.INSERT,
            request_id="abis-insert-7d1f",
            reference_id=UUID("7d1f0c2e-5b6a-4c3d-8e9f-0a1b2c3d4e5f"),
            reference_url="http://127.0.0.1:8103/abis/references/7d1f0c2e-5b6a-4c3d-8e9f-0a1b2c3d4e5f",
        ),
        AbisResponded(
            operation=AbisOperation.IDENTIFY,
            request_id="abis-identify-7d1f",
            reference_id=UUID("7d1f0c2e-5b6a-4c3d-8e9f-0a1b2c3d4e5f"),
            succeeded=True,
            candidates=(
                AbisCandidate(reference_id=UUID("1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"), score=71),
            ),
        ),
    )
}


def sample_envelope(event_type: str) -> Envelope:
    """The sample event of this type, in its envelope, with ids derived from the type."""
    return Envelope.new(
        SAMPLE_PAYLOADS[event_type],
        application_id=APPLICATION_ID,
        kecamatan=TEMPEH,
        causation_id=uuid5(_NAMESPACE, f"cause:{event_type}"),
        occurred_at=OCCURRED_AT,
        message_id=uuid5(_NAMESPACE, event_type),
    )
