"""Applicant SMS templates."""

from __future__ import annotations

import pytest

from services.notification.sms.encoding import encode_message, is_gsm7
from services.notification.sms.templates import TEMPLATES, Language, Template, fields, render

DATA = {
    "name": "Siti Aminah",
    "tracking_number": "3508-20250114-0042",
    "deadline": "15-01-2025",
    "office": "Kantor Kecamatan Tempeh",
    "office_hours": "Senin-Jumat 08.00-15.00",
    "what_to_fix": "fotokopi KK belum dilampirkan",
    "ready_since": "15-01-2025",
    "valid_until": "15-07-2025",
    "survey_url": "https://ikm.lumajangkab.go.id/s/42",
    "outcome": "loket dibuka 07.30",
}


def _data(template: Template) -> dict[str, str]:
    return {k: DATA[k] for k in fields(template)}


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("language", list(Language))
def test_every_template_renders_in_gsm7_with_its_data(
    template: Template, language: Language
) -> None:
    text = render(template, language, _data(template))
    assert "{" not in text
    assert DATA["tracking_number"] in text or template is Template.IKM_SURVEY
    assert is_gsm7(text)
    assert len(encode_message(text, ref=0).parts) <= 2


def test_languages_share_placeholders() -> None:
    for template, texts in TEMPLATES.items():
        assert fields(template)
        assert {
            lang: render(template, lang, _data(template)).count(DATA["name"]) for lang in texts
        } == dict.fromkeys(Language, 1)


def test_card_ready_says_where_when_and_to_bring_the_receipt() -> None:
    text = render(Template.CARD_READY, Language.ID, _data(Template.CARD_READY))
    assert "Kantor Kecamatan Tempeh" in text
    assert "Senin-Jumat 08.00-15.00" in text
    assert "tanda terima" in text


def test_sent_back_says_what_to_fix() -> None:
    text = render(Template.SENT_BACK, Language.EN, _data(Template.SENT_BACK))
    assert "fotokopi KK belum dilampirkan" in text


def test_missing_or_unexpected_field_is_refused() -> None:
    data = _data(Template.FILE_ACCEPTED)
    del data["deadline"]
    with pytest.raises(ValueError, match="deadline"):
        render(Template.FILE_ACCEPTED, Language.ID, data)
    with pytest.raises(ValueError, match="survey_url"):
        render(
            Template.FILE_ACCEPTED, Language.ID, _data(Template.FILE_ACCEPTED) | {"survey_url": "x"}
        )


def test_braces_in_data_are_not_interpreted() -> None:
    data = _data(Template.SENT_BACK) | {"what_to_fix": "{name}"}
    assert "{name}" in render(Template.SENT_BACK, Language.ID, data)
