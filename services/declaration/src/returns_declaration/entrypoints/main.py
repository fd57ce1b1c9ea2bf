from __future__ import annotations

from returns_contracts.service_kit.app import serve
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.app import create_app


def main() -> None:
    settings = DeclarationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
