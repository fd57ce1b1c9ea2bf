from __future__ import annotations

from returns_contracts.service_kit.app import serve
from returns_labels.config import LabelsSettings
from returns_labels.entrypoints.app import create_app


def main() -> None:
    settings = LabelsSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
