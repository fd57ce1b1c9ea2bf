"""What can go wrong with an upload, in words a customer understands.

Each error carries its HTTP status and a stable code; the entrypoint turns it into the one
error shape of the service kit.
"""

from __future__ import annotations


class MediaError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthorized(MediaError):
    status_code = 401
    code = "invalid_token"


class NotFound(MediaError):
    status_code = 404
    code = "not_found"


class DraftClosed(MediaError):
    status_code = 409
    code = "draft_submitted"


class TooManyPhotos(MediaError):
    status_code = 409
    code = "too_many_photos"


class PhotoKept(MediaError):
    status_code = 409
    code = "photo_submitted"


class TooLarge(MediaError):
    status_code = 413
    code = "file_too_large"


class TooManyPixels(MediaError):
    status_code = 413
    code = "image_too_large"


class UnsupportedImage(MediaError):
    status_code = 415
    code = "unsupported_image"


class BrokenImage(MediaError):
    status_code = 422
    code = "broken_image"


class InvalidUpload(MediaError):
    status_code = 422
    code = "invalid_request"


class TooManyUploads(MediaError):
    status_code = 429
    code = "too_many_uploads"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
