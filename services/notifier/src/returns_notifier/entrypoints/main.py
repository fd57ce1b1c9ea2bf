from __future__ import annotations

from returns_contracts.service_kit.app import serve
from returns_notifier.config import NotifierSettings
from returns_notifier.entrypoints.app import create_app


def main() -> None:
    settings = NotifierSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
