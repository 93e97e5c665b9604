"""Knowledge errors: refused documents and unknown ones, in the project's one hierarchy."""

from __future__ import annotations

from assistant.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType


class InvalidDocument(BadRequest):
    """A document we cannot read: damaged, encrypted, empty, or a zip bomb. Nothing was changed."""

    code = "invalid_document"


class UnsupportedDocument(UnsupportedMediaType):
    code = "unsupported_document"


class DocumentTooLarge(PayloadTooLarge):
    code = "document_too_large"


class DocumentNotFound(NotFound):
    code = "document_not_found"


__all__ = ["DocumentNotFound", "DocumentTooLarge", "InvalidDocument", "UnsupportedDocument"]
