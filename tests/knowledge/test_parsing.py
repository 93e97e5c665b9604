"""Parsers on real files of each format, and every bad file refused with a clear message."""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError
from knowledge.parsing import ParseLimits, parse_document
from tests.knowledge import docs

LIMITS = ParseLimits(max_bytes=2 * 1024 * 1024, max_unpacked_bytes=5 * 1024 * 1024)


@pytest.mark.parametrize("ext", sorted(docs.FORMATS))
def test_each_format_gives_title_headings_and_text(ext):
    parsed = parse_document(f"parking.{ext}", docs.FORMATS[ext](docs.PARKING), LIMITS)
    assert parsed.title == "Parking guide"
    by_heading = {s.heading: s.text for s in parsed.sections}
    assert "Electric cars" in by_heading, [s.headings for s in parsed.sections]
    assert "0.25 EUR per kWh" in by_heading["Electric cars"]
    assert "underground garage" in by_heading["Parking at the Lyon office"]


def test_html_drops_navigation_and_footer():
    parsed = parse_document("parking.html", docs.html(docs.PARKING), LIMITS)
    everything = " ".join(s.text for s in parsed.sections)
    assert "cookie settings" not in everything and "Login" not in everything


def test_docx_table_rows_keep_their_headers():
    parsed = parse_document("parking.docx", docs.docx_bytes(docs.PARKING), LIMITS)
    assert any("Level: -2; Use: Employee parking" in s.text for s in parsed.sections)


def test_markdown_table_rows_keep_their_headers():
    text = ("# Vacation\n\nAllowance by seniority:\n\n| Years of service | Vacation days per year |\n|---|---|\n"
            "| less than 3 years | 25 days |\n| 3 to 5 years | 27 days |\n")
    parsed = parse_document("policy.md", text.encode(), LIMITS)
    lines = parsed.sections[0].text.splitlines()
    assert "Years of service: 3 to 5 years; Vacation days per year: 27 days" in lines
    assert not any(line.startswith("Years of service | ") for line in lines)  # the header is said per row


def test_pdf_with_empty_user_password_is_read():
    # Encrypted only against editing (empty user password): readable by anyone, so accepted.
    parsed = parse_document("open.pdf", docs.pdf(docs.PARKING, password=""), LIMITS)
    assert any("Electric cars" == s.heading for s in parsed.sections)


def refused(name: str, data: bytes, limits: ParseLimits = LIMITS) -> AssistantError:
    with pytest.raises(AssistantError) as info:
        parse_document(name, data, limits)
    err = info.value
    assert 400 <= err.status < 500, err
    assert name in err.message  # the uploader learns which file, and why
    return err


def test_corrupt_pdf_is_refused():
    err = refused("broken.pdf", docs.corrupt_pdf())
    assert err.code == "invalid_document" and "damaged" in err.message


def test_not_a_pdf_is_refused():
    err = refused("fake.pdf", b"just some text pretending to be a PDF")
    assert "not a PDF" in err.message


def test_password_protected_pdf_is_refused():
    err = refused("secret.pdf", docs.pdf(docs.PARKING, password="s3cret"))
    assert "password" in err.message


def test_scanned_pdf_without_text_is_refused():
    err = refused("scan.pdf", docs.scanned_pdf())
    assert err.code == "empty_document" and "scanned" in err.message


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.pdf", "empty.docx", "empty.html"])
def test_empty_files_are_refused(name):
    err = refused(name, b"")
    assert err.code == "empty_document" and "empty" in err.message


def test_whitespace_only_is_empty():
    assert refused("blank.md", b"  \n\n\t  \n").code == "empty_document"


@pytest.mark.parametrize("name", ["tool.exe", "sheet.xlsx", "photo.png", "noextension"])
def test_unsupported_types_are_refused(name):
    err = refused(name, b"MZ\x90\x00 some binary payload" * 10)
    assert err.status == 415 and "not a supported type" in err.message


def test_oversize_is_refused():
    err = refused("huge.txt", b"a" * (LIMITS.max_bytes + 1))
    assert err.status == 413


def test_docx_zip_bomb_is_refused_before_unpacking():
    bomb = docs.zip_bomb_docx(50 * 1024 * 1024)
    assert len(bomb) < 200_000  # tiny on the wire...
    err = refused("bomb.docx", bomb)  # ...refused from the zip directory, never inflated
    assert "zip bomb" in err.message


def test_docx_that_is_not_a_zip_is_refused():
    assert "not a DOCX" in refused("fake.docx", docs.not_a_zip_docx()).message


def test_docx_missing_document_part_is_refused():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "not a Word document" in refused("odd.docx", out.getvalue()).message


def test_binary_disguised_as_text_is_refused():
    assert "binary" in refused("data.txt", b"\x00\x01\x02\x03" * 100).message
