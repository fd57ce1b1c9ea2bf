# Server fixtures (Kafka, MongoDB protocol, S3, SMTP, the four services) for every test folder,
# and the kit's (a Kafka producer on the real broker).
pytest_plugins = ["returns_infra.fixtures", "returns_contracts.service_kit.testing.fixtures"]
