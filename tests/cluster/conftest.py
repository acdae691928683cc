"""The three-node RabbitMQ cluster the failover tests share: started once for this package (and stopped after
it, not at the end of the session), healthy again before each test."""

import shutil
from collections.abc import Iterator

import pytest

from tests import infra
from tests.cluster.rabbit_cluster import RabbitCluster


@pytest.fixture(scope="package")
def rabbit_cluster() -> Iterator[RabbitCluster]:
    if not (shutil.which("rabbitmq-server") and shutil.which("rabbitmqctl")):
        infra.unavailable("rabbitmq-server and rabbitmqctl (a local RabbitMQ installation, for a 3-node cluster)")
    cluster = RabbitCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.shutdown()


@pytest.fixture
def cluster(rabbit_cluster: RabbitCluster) -> RabbitCluster:
    """The cluster with every node running, whatever an earlier test left stopped."""
    rabbit_cluster.heal()
    return rabbit_cluster
