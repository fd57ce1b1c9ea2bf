"""deploy/k8s, offline: kustomize renders it, kubeconform checks every Kubernetes resource
against the API's JSON schemas, and this project's own rules are checked on the rest (topics
from the code, replication, probes, limits, budgets, credentials from Secrets)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from returns_contracts.topics import DEFAULT_PARTITIONS, Topics

from .settings import SETTINGS, demo_credentials, env_names
from .topology import (
    SERVICES,
    SKIPPED_KINDS,
    Resource,
    kubeconform,
    kustomize_build,
    of_kind,
    strimzi_check,
)


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return kustomize_build()


def _by_name(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {resource["metadata"]["name"]: resource for resource in of_kind(resources, kind)}


def _container(deployment: Resource) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_every_kubernetes_resource_passes_kubeconform(resources: list[Resource]) -> None:
    import yaml

    checked = kubeconform(["-"], stdin=yaml.safe_dump_all(resources))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    summary = json.loads(checked.stdout)["summary"]
    skipped = sum(1 for resource in resources if resource["kind"] in SKIPPED_KINDS)
    assert summary["valid"] == len(resources) - skipped
    assert summary["skipped"] == skipped
    assert summary["invalid"] == summary["errors"] == 0


def test_kubeconform_refuses_a_deployment_the_api_would_refuse() -> None:
    # The check above is only worth something if the schemas are really applied.
    bad = textwrap.dedent(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: broken}
        spec:
          replicas: "three"
          selector: {matchLabels: {app: broken}}
          template:
            metadata: {labels: {app: broken}}
            spec:
              containers:
                - name: broken
                  image: broken
                  livenesProbe: {httpGet: {path: /healthz, port: 8000}}
        """
    )

    checked = kubeconform(["-"], stdin=bad)

    assert checked.returncode != 0
    assert json.loads(checked.stdout)["summary"]["invalid"] == 1


def test_kubeconform_refuses_a_mongodb_replica_set_its_crd_would_refuse() -> None:
    bad = textwrap.dedent(
        """
        apiVersion: mongodbcommunity.mongodb.com/v1
        kind: MongoDBCommunity
        metadata: {name: broken}
        spec:
          members: "three"
          type: ReplicaSet
          version: "8.0.12"
          security: {authentication: {modes: ["SCRAM"]}}
          users:
            - name: app
              db: admin
              passwordSecretRef: {name: app-password}
              roles: [{name: readWrite, db: app}]
              scramCredentialsSecretName: app-scram
              conectionStringSecretName: app-url
        """
    )

    checked = kubeconform(["-"], stdin=bad)

    assert checked.returncode != 0
    errors = {
        error["path"] for error in json.loads(checked.stdout)["resources"][0]["validationErrors"]
    }
    assert "/spec/members" in errors
    assert "/spec/users/0" in errors  # the misspelt field


def test_every_strimzi_resource_reads_into_strimzi_s_model(resources: list[Resource]) -> None:
    import yaml

    strimzi = [resource for resource in resources if resource["kind"] in SKIPPED_KINDS]

    checked = strimzi_check(yaml.safe_dump_all(strimzi))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert len(lines) == len(strimzi)
    assert all(line.startswith("OK ") for line in lines)


def test_the_strimzi_check_refuses_wrong_types_unknown_fields_and_values() -> None:
    bad = textwrap.dedent(
        """
        apiVersion: kafka.strimzi.io/v1beta2
        kind: KafkaNodePool
        metadata: {name: typed, labels: {strimzi.io/cluster: returns}}
        spec:
          replicas: three
          roles: [controller, broker]
          storage: {type: ephemeral}
        ---
        apiVersion: kafka.strimzi.io/v1beta2
        kind: Kafka
        metadata: {name: misspelt}
        spec:
          kafka:
            version: 4.1.0
            listeners: [{name: plain, port: 9092, type: internal, tls: false}]
            confg: {min.insync.replicas: 2}
        ---
        apiVersion: kafka.strimzi.io/v1beta2
        kind: KafkaNodePool
        metadata: {name: role}
        spec:
          replicas: 3
          roles: [controler]
          storage: {type: ephemeral}
        """
    )

    checked = strimzi_check(bad)

    assert checked.returncode == 1
    verdicts = dict(line.split(": ", 1) for line in checked.stdout.splitlines())
    assert "not a valid `int` value" in verdicts["INVALID KafkaNodePool/typed"]
    assert verdicts["INVALID Kafka/misspelt"] == "unknown field /spec/kafka/confg"
    assert verdicts["INVALID KafkaNodePool/role"] == "unknown value at /spec/roles/0"


def test_every_topic_and_dlq_in_the_code_has_a_kafka_topic(resources: list[Resource]) -> None:
    declared = {
        topic["spec"].get("topicName", topic["metadata"]["name"]): topic
        for topic in of_kind(resources, "KafkaTopic")
    }
    wanted = Topics().specs()

    missing = sorted({spec.name for spec in wanted} - set(declared))
    assert not missing, f"topics of the code without a KafkaTopic in deploy/k8s: {missing}"
    assert sorted(declared) == sorted(spec.name for spec in wanted), "a KafkaTopic the code lacks"
    for spec in wanted:
        topic = declared[spec.name]["spec"]
        assert topic["partitions"] == spec.partitions, spec.name
        assert topic["replicas"] == 3, spec.name
        assert topic["config"]["min.insync.replicas"] == 2, spec.name
        assert topic["config"]["cleanup.policy"] == spec.config["cleanup.policy"], spec.name
        assert declared[spec.name]["metadata"]["labels"]["strimzi.io/cluster"] == "returns"


def test_kafka_is_three_kraft_nodes_replicating_to_two_in_sync_without_auto_creation(
    resources: list[Resource],
) -> None:
    (kafka,) = of_kind(resources, "Kafka")
    pools = list(of_kind(resources, "KafkaNodePool"))

    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert str(kafka["spec"]["kafka"]["version"]).startswith("4.")
    assert sum(pool["spec"]["replicas"] for pool in pools) == 3
    assert all({"broker", "controller"} <= set(pool["spec"]["roles"]) for pool in pools)
    assert all(pool["metadata"]["labels"]["strimzi.io/cluster"] == "returns" for pool in pools)


def test_mongodb_is_a_three_member_replica_set_with_a_user_per_service(
    resources: list[Resource],
) -> None:
    (mongodb,) = of_kind(resources, "MongoDBCommunity")
    secrets = _by_name(resources, "Secret")

    assert mongodb["spec"]["members"] == 3
    assert mongodb["spec"]["type"] == "ReplicaSet"
    users = {user["name"]: user for user in mongodb["spec"]["users"]}
    assert set(users) == set(SERVICES)
    for service, user in users.items():
        assert user["passwordSecretRef"]["name"] in secrets
        assert user["roles"] == [{"name": "readWrite", "db": service}]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_deployment_is_probed_bounded_and_budgeted(
    resources: list[Resource], service: str
) -> None:
    deployment = _by_name(resources, "Deployment")[service]
    budgets = [
        budget
        for budget in of_kind(resources, "PodDisruptionBudget")
        if budget["spec"]["selector"]["matchLabels"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    ]
    pod = deployment["spec"]["template"]
    container = _container(deployment)

    # A consumer beyond the partitions of its topics gets none (every topic: DEFAULT_PARTITIONS).
    assert 2 <= deployment["spec"]["replicas"] <= DEFAULT_PARTITIONS
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    # Long enough for the messages in hand to finish and their offsets to be committed.
    assert pod["spec"]["terminationGracePeriodSeconds"] >= 45
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert len(budgets) == 1
    assert budgets[0]["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_reads_real_settings_and_its_credentials_from_secrets(
    resources: list[Resource], service: str
) -> None:
    container = _container(_by_name(resources, "Deployment")[service])
    config_maps = _by_name(resources, "ConfigMap")
    secrets = _by_name(resources, "Secret")
    generated = {  # written by the MongoDB operator from mongodb.yaml
        user["connectionStringSecretName"]
        for mongodb in of_kind(resources, "MongoDBCommunity")
        for user in mongodb["spec"]["users"]
    }

    names: set[str] = set()
    from_secrets: set[str] = set()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(config_maps[source["configMapRef"]["name"]]["data"])
        else:
            keys = set(secrets[source["secretRef"]["name"]]["stringData"])
            names |= keys
            from_secrets |= keys
    for variable in container["env"]:
        names.add(variable["name"])
        reference = variable.get("valueFrom", {})
        if "secretKeyRef" in reference:
            assert reference["secretKeyRef"]["name"] in set(secrets) | generated
            from_secrets.add(variable["name"])
        elif "configMapKeyRef" in reference:
            ref = reference["configMapKeyRef"]
            assert ref["key"] in config_maps[ref["name"]]["data"]

    unknown = names - env_names(SETTINGS[service])
    assert not unknown, f"{service} has no such settings: {sorted(unknown)}"
    # Every setting whose default is a demo credential is set, and from a Secret.
    assert demo_credentials(SETTINGS[service]) <= from_secrets
    assert "MONGODB_URL" in from_secrets
