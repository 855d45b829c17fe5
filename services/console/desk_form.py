"""The desk's application form: its fields per application type, the JSON body built from
what was typed, a file's data as field values again (corrections), and the stage's refusal
problems placed at their fields. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.application import (
    ApplicationType,
    BloodType,
    Citizenship,
    MaritalStatus,
    Religion,
)
from schemas.requirements import REQUIREMENT_LABELS, REQUIREMENTS
from schemas.values import Sex

DAMAGED_HANDED_IN = "documents.damaged_card.handed_in"


@dataclass(frozen=True)
class Field:
    name: str  # the dotted path in the request body, e.g. "applicant.address.rt"
    label: str  # an i18n key
    kind: str = "text"  # text, date, select, checkbox, tel
    options: Sequence[tuple[str, str]] = ()  # (value, label or i18n key)
    required: bool = True
    autocomplete: str = "off"
    inputmode: str | None = None
    pattern: str | None = None

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass(frozen=True)
class Section:
    key: str  # also the body path its problems name when the whole part is missing
    title: str
    fields: Sequence[Field] = field(default_factory=tuple)


def _choices(values: Sequence[str], prefix: str = "") -> tuple[tuple[str, str], ...]:
    return tuple((v, f"{prefix}{v}" if prefix else v.replace("_", " ").title()) for v in values)


DIGITS = "[0-9]*"
APPLICANT = Section(
    "applicant",
    "desk.applicant",
    (
        Field("applicant.nik", "field.nik", inputmode="numeric", pattern=DIGITS),
        Field("applicant.name", "field.name", autocomplete="name"),
        Field("applicant.birth_place", "field.birth_place"),
        Field("applicant.birth_date", "field.birth_date", kind="date"),
        Field("applicant.sex", "field.sex", kind="select", options=_choices(list(Sex), "sex.")),
        Field(
            "applicant.blood_type",
            "field.blood_type",
            kind="select",
            options=tuple((b.value, b.value) for b in BloodType),
            required=False,
        ),
        Field(
            "applicant.religion", "field.religion", kind="select", options=_choices(list(Religion))
        ),
        Field(
            "applicant.marital_status",
            "field.marital_status",
            kind="select",
            options=_choices(list(MaritalStatus)),
        ),
        Field("applicant.occupation", "field.occupation"),
        Field(
            "applicant.citizenship",
            "field.citizenship",
            kind="select",
            options=tuple((c.value, c.value.upper()) for c in Citizenship),
            required=False,
        ),
        Field("applicant.kk_number", "field.kk_number", inputmode="numeric", pattern=DIGITS),
        Field("applicant.phone", "field.phone", kind="tel", required=False, autocomplete="tel"),
    ),
)
ADDRESS = Section(
    "applicant.address",
    "desk.address",
    (
        Field("applicant.address.street", "field.street"),
        Field("applicant.address.rt", "field.rt", inputmode="numeric", pattern=DIGITS),
        Field("applicant.address.rw", "field.rw", inputmode="numeric", pattern=DIGITS),
        Field(
            "applicant.address.desa_code", "field.desa_code", inputmode="numeric", pattern=DIGITS
        ),
        Field("applicant.address.desa_name", "field.desa_name"),
    ),
)
KK = Section(
    "documents.kk_photocopy",
    "field.kk_photocopy",
    (
        Field(
            "documents.kk_photocopy.kk_number",
            "field.kk_photocopy",
            inputmode="numeric",
            pattern=DIGITS,
            required=False,
        ),
    ),
)
POLICE = Section(
    "documents.police_report",
    "field.police_number",
    (
        Field("documents.police_report.number", "field.police_number", required=False),
        Field(
            "documents.police_report.issued_on",
            "field.police_issued_on",
            kind="date",
            required=False,
        ),
        Field("documents.police_report.issuing_station", "field.police_station", required=False),
    ),
)
DAMAGED = Section(
    "documents.damaged_card",
    "field.damaged_card",
    (
        Field(DAMAGED_HANDED_IN, "field.damaged_card", kind="checkbox", required=False),
        Field(
            "documents.damaged_card.nik_on_card",
            "field.nik_on_card",
            inputmode="numeric",
            pattern=DIGITS,
            required=False,
        ),
        Field("documents.damaged_card.condition", "field.condition", required=False),
    ),
)
_DOCUMENTS = {
    ApplicationType.NEW: (KK,),
    ApplicationType.LOST: (POLICE, KK),
    ApplicationType.DAMAGED: (KK, DAMAGED),
}
TYPE_LABELS = {
    ApplicationType.NEW: "type.new",
    ApplicationType.LOST: "type.lost",
    ApplicationType.DAMAGED: "type.damaged",
}


def sections(kind: ApplicationType) -> tuple[Section, ...]:
    return (APPLICANT, ADDRESS, *_DOCUMENTS[kind])


def checklist(kind: ApplicationType, lang: str) -> list[str]:
    """The requirements of this type, in the staff's language."""
    index = 1 if lang == "en" else 0
    return [REQUIREMENT_LABELS[r][index] for r in REQUIREMENTS[kind]]


def body_from_form(kind: ApplicationType, form: Mapping[str, str]) -> dict[str, Any]:
    """The request body from the typed fields: empty fields are left out, so the stage's
    requirement check names exactly what is missing."""
    names = {f.name for s in sections(kind) for f in s.fields}
    body: dict[str, Any] = {"application_type": kind.value}
    for name in sorted(names - {DAMAGED_HANDED_IN}):
        value = form.get(name, "").strip()
        if value:
            _put(body, name.split("."), value)
    documents = body.setdefault("documents", {})
    if DAMAGED_HANDED_IN in names:
        if form.get(DAMAGED_HANDED_IN):
            documents.setdefault("damaged_card", {})
        else:
            documents.pop("damaged_card", None)
    return body


def _put(target: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def values_of(file: Mapping[str, Any]) -> dict[str, str]:
    """A file's data as the form's field values (dotted names)."""
    found: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif value is not None:
            found[prefix] = str(value)

    walk("", {k: file.get(k) for k in ("applicant", "documents")})
    if isinstance((file.get("documents") or {}).get("damaged_card"), Mapping):
        found[DAMAGED_HANDED_IN] = "on"
    return found


@dataclass(frozen=True)
class Placed:
    """A stage's problems in the staff's language: by field or section path, and all in order."""

    by_path: Mapping[str, list[str]]
    summary: list[tuple[str, str]]  # (anchor id, message)


def place(problems: Sequence[Mapping[str, Any]], kind: ApplicationType, lang: str) -> Placed:
    """Each problem at the field (or section) its ``path`` names, else at the form's top."""
    anchors = {f.name: f.id for s in sections(kind) for f in s.fields}
    anchors |= {s.key: "s-" + s.key.replace(".", "-") for s in sections(kind)}
    by_path: dict[str, list[str]] = {}
    summary = []
    for problem in problems:
        path = str(problem.get("path") or problem.get("field") or "")
        text = str(
            problem.get(f"message_{lang}")
            or problem.get("message_id")
            or problem.get("note")
            or problem.get("msg")
            or problem.get("code")
        )
        where = path
        while where and where not in anchors:  # the nearest enclosing field or section
            where = where.rpartition(".")[0]
        by_path.setdefault(where or "", []).append(text)
        summary.append((anchors.get(where, "form-top"), text))
    return Placed(by_path, summary)
