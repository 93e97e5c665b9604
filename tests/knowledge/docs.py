"""Real documents of every supported format, and every kind of bad file, generated for the tests."""

from __future__ import annotations

import io
import zipfile

import docx
import pypdf
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

Sections = list[tuple[str, str]]  # (heading, paragraph)

PARKING: Sections = [
    ("Parking at the Lyon office", "Employees may park in the underground garage on level minus two. "
     "Each employee gets one parking badge from the front desk."),
    ("Electric cars", "Charging stations are on level minus one. Charging is free for company cars and costs "
     "0.25 EUR per kWh for private cars."),
    ("Bicycles", "The bicycle room is next to the main entrance and opens with your badge."),
]


def pdf(sections: Sections, *, title: str = "Parking guide", password: str | None = None) -> bytes:
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    story = [Paragraph(title, styles["Title"])]
    for heading, text in sections:
        story += [Paragraph(heading, styles["Heading1"]), Paragraph(text, styles["BodyText"])]
    SimpleDocTemplate(out, pagesize=A4, title=title).build(story)
    data = out.getvalue()
    if password is None:
        return data
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    return encrypted.getvalue()


def scanned_pdf() -> bytes:
    """A PDF with only a drawing on it: no text layer, as a scanner would make it."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.rect(100, 100, 300, 400, fill=1)
    page.showPage()
    page.save()
    return out.getvalue()


def docx_bytes(sections: Sections, *, title: str = "Parking guide") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    for heading, text in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Level", "Use"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "-2", "Employee parking"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html(sections: Sections, *, title: str = "Parking guide") -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{t}</p>" for h, t in sections)
    return (f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a> | <a href='/wiki'>Wiki</a> | Login</nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright Example Corp - cookie settings</footer></body></html>").encode()


def markdown(sections: Sections, *, title: str = "Parking guide") -> bytes:
    return (f"# {title}\n\n" + "".join(f"## {h}\n\n{t}\n\n" for h, t in sections)).encode()


def text(sections: Sections, *, title: str = "Parking guide") -> bytes:
    return (f"{title}\n\n" + "".join(f"{h}\n\n{t}\n\n" for h, t in sections)).encode()


FORMATS = {"pdf": pdf, "docx": docx_bytes, "html": html, "md": markdown, "txt": text}


def corrupt_pdf() -> bytes:
    good = pdf(PARKING)
    return good[:400] + b"\x00garbage\xff" * 50  # header intact, body and cross-reference table gone


def zip_bomb_docx(unpacked_bytes: int) -> bytes:
    """A DOCX-shaped zip whose document.xml inflates to `unpacked_bytes` (a zip bomb)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * unpacked_bytes + b"</w:document>")
    return out.getvalue()


def not_a_zip_docx() -> bytes:
    return b"This is not a Word document at all, just text with a .docx name." * 10
