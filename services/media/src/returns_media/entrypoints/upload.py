"""Receive one file from a multipart body as it streams in, with the size cap enforced.

Starlette's form parser would spool the whole body first and cap it only afterwards; here the
bytes are counted as they arrive, and reading stops at the first byte over the cap. The file
is kept in memory while small and spilled to a temporary file beyond, written off the event
loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from typing import BinaryIO, cast

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from returns_media.domain.errors import InvalidUpload, TooLarge
from returns_media.service.use_cases import ReceivedFile

# Room for the multipart framing and a few small fields around the file.
_ENVELOPE_ALLOWANCE = 64 * 1024
_IN_MEMORY_BYTES = 1024 * 1024
_FLUSH_BYTES = 256 * 1024


def too_large(max_bytes: int) -> TooLarge:
    megabytes = max_bytes / (1024 * 1024)
    return TooLarge(f"This file is too large: photos can be at most {megabytes:g} MB.")


def refuse_declared_size(request: Request, max_bytes: int) -> None:
    """Refuse at once a body that announces itself larger than any acceptable upload."""
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > max_bytes + _ENVELOPE_ALLOWANCE
    ):
        raise too_large(max_bytes)


class _FilePart:
    """Collects the parts' headers and the one file field's bytes, counting as they come."""

    def __init__(self, field: str, max_bytes: int) -> None:
        self.field = field
        self.max_bytes = max_bytes
        self.file = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES)  # noqa: SIM115
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.found = False
        self.pending = bytearray()
        self._in_file = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._in_file = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        # Only the first `file` part counts; any other part is read past and dropped.
        self._in_file = options.get(b"name") == self.field.encode() and not self.found
        self.found = self.found or self._in_file

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        chunk = data[start:end]
        self.sha256.update(chunk)
        self.pending += chunk

    def _part_end(self) -> None:
        self._in_file = False


async def receive_file(request: Request, *, field: str, max_bytes: int) -> ReceivedFile:
    refuse_declared_size(request, max_bytes)
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidUpload(f"Send the photo as multipart/form-data, in a field named {field!r}.")
    part = _FilePart(field, max_bytes)
    parser = MultipartParser(boundary, part.callbacks())  # type: ignore[arg-type]
    body_limit = max_bytes + _ENVELOPE_ALLOWANCE
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise too_large(max_bytes)
            parser.write(chunk)
            if len(part.pending) >= _FLUSH_BYTES:
                await _flush(part)
        parser.finalize()
        await _flush(part)
    except MultipartParseError as error:
        part.file.close()
        raise InvalidUpload("The multipart body is malformed; send the photo again.") from error
    except ClientDisconnect as error:
        # Nobody is left to read the answer; this only keeps it out of the error log.
        part.file.close()
        raise InvalidUpload("The upload was interrupted; please send the photo again.") from error
    except BaseException:
        part.file.close()
        raise
    if not part.found or part.size == 0:
        part.file.close()
        raise InvalidUpload(f"The request has no photo: send it in the multipart field {field!r}.")
    part.file.seek(0)
    return ReceivedFile(
        file=cast(BinaryIO, part.file), size_bytes=part.size, sha256=part.sha256.hexdigest()
    )


async def _flush(part: _FilePart) -> None:
    if part.pending:
        data = bytes(part.pending)
        part.pending.clear()
        await asyncio.to_thread(part.file.write, data)
