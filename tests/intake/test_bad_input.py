"""Bad input at the desk: always a 4xx naming the field, never a 5xx."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.intake.kit import PDF, PNG, Desk, b64, man_applicant, new_card_file

MB = 1024 * 1024


def _paths(body: dict[str, Any]) -> set[str]:
    return {p["path"] for p in body["detail"]}


async def test_malformed_json_and_wrong_types(desk: Desk) -> None:
    raw = await desk.client.post(
        "/applications", content=b'{"kecamatan": ', headers={"content-type": "application/json"}
    )
    assert raw.status_code == 422
    assert raw.json()["detail"][0]["type"] == "json_invalid"
    not_object = await desk.client.post("/applications", json=[1, 2])
    assert not_object.status_code == 422
    wrong = new_card_file(application_type=7, officer_id=["x"])
    wrong["applicant"]["birth_date"] = 12
    response = await desk.client.post("/applications", json=wrong)
    assert response.status_code == 422
    assert {"application_type", "officer_id", "applicant.birth_date"} <= _paths(response.json())
    extra = await desk.client.post("/applications", json=new_card_file(surprise=1))
    assert extra.status_code == 422
    assert "surprise" in _paths(extra.json())


async def test_invalid_nik_kk_dates_and_kecamatan_name_the_field(desk: Desk) -> None:
    applicant = man_applicant() | {"nik": "12345", "kk_number": "35080501011000AB"}
    future = (date.today() + timedelta(days=30)).isoformat()
    documents = {
        "kk_photocopy": {"kk_number": "3508050101100003"},
        "police_report": {"number": "X/1", "issued_on": future, "issuing_station": "Polsek"},
    }
    response = await desk.client.post(
        "/applications",
        json=new_card_file(applicant=applicant, application_type="lost", documents=documents),
    )
    assert response.status_code == 422
    problems = {p["path"]: p for p in response.json()["detail"]}
    assert problems["applicant.nik"]["code"] == "nik_wrong_length"
    assert problems["applicant.nik"]["message_id"] == "NIK harus 16 digit, bukan 5"
    assert problems["applicant.kk_number"]["code"] == "kk_not_digits"
    assert problems["documents.police_report.issued_on"]["code"] == "date_in_future"

    born_later = man_applicant() | {"birth_date": future}
    assert "applicant.birth_date" in _paths(
        (await desk.client.post("/applications", json=new_card_file(applicant=born_later))).json()
    )

    # A desk officer may not file for another office (403); the district admin may, so the
    # kecamatan code itself is checked.
    other = new_card_file(kecamatan="350899")
    assert (await desk.client.post("/applications", json=other)).status_code == 403
    admin = desk.bearer("admin.kabupaten")
    unknown = await desk.client.post("/applications", json=other, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["code"] == "unknown_kecamatan"
    assert unknown.json()["detail"][0]["loc"] == ["body", "kecamatan"]
    queue = await desk.client.get("/corrections", params={"kecamatan": "99"}, headers=admin)
    assert queue.status_code == 422
    assert queue.json()["detail"][0]["loc"] == ["query", "kecamatan"]
    assert (await desk.client.get("/handover")).status_code == 422

    nul = man_applicant() | {"occupation": "Petani\x00"}
    response = await desk.client.post("/applications", json=new_card_file(applicant=nul))
    assert response.status_code == 422
    assert "applicant.occupation" in _paths(response.json())
    assert (await desk.client.get("/applications/not-a-uuid")).status_code == 422
    assert (
        await desk.client.post(
            "/applications", headers={"Idempotency-Key": "a b"}, json=new_card_file()
        )
    ).status_code == 422


async def test_uploads_are_size_and_type_limited(desk: Desk) -> None:
    def upload(data: bytes, kind: str = "application/pdf") -> Any:
        return desk.client.post(
            "/uploads", data={"kecamatan": "350805"}, files={"file": ("f", data, kind)}
        )

    assert (await upload(PDF)).status_code == 201
    assert (await upload(PNG, "image/png")).status_code == 201
    big = await upload(b"%PDF-" + b"0" * (5 * MB))
    assert big.status_code == 413
    assert big.json()["detail"][0]["path"] == "file"
    gif = await upload(b"GIF89a" + b"0" * 100, "image/gif")
    assert gif.status_code == 415
    liar = await upload(PNG, "application/pdf")
    assert liar.status_code == 415
    assert (await upload(b"")).status_code == 422
    no_file = await desk.client.post("/uploads", data={"kecamatan": "350805"})
    assert no_file.status_code == 422

    inline_big = new_card_file(kk_scan={"content_base64": b64(b"%PDF-" + b"0" * (5 * MB))})
    response = await desk.client.post("/applications", json=inline_big)
    assert response.status_code == 413
    assert response.json()["detail"][0]["path"] == "kk_scan.content_base64"
    huge = await desk.client.post(
        "/applications",
        content=b"{" + b" " * (8 * MB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    not_b64 = await desk.client.post(
        "/applications", json=new_card_file(kk_scan={"content_base64": "!!!"})
    )
    assert not_b64.status_code == 422
    assert not_b64.json()["detail"][0]["code"] == "invalid_base64"
    both = await desk.client.post(
        "/applications",
        json=new_card_file(
            kk_scan={
                "content_base64": b64(PDF),
                "upload_id": "00000000-0000-4000-8000-000000000000",
            }
        ),
    )
    assert both.status_code == 422
    assert await desk.scalar("SELECT count(*) FROM applications") == 0
