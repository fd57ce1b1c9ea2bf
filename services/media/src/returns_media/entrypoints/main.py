from __future__ import annotations

from returns_contracts.service_kit.app import serve
from returns_media.config import MediaSettings
from returns_media.entrypoints.app import create_app


def main() -> None:
    settings = MediaSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
