# Server fixtures (Kafka, MongoDB protocol, S3, SMTP, the four services) for every test folder.
pytest_plugins = ["returns_infra.fixtures"]
