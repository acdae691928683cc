"""Connecting to RabbitMQ given several node addresses (RABBITMQ_URLS), the one way every part of a service does.

Each connect tries every address once, starting at a random one: replicas spread their connections over
the nodes, and after a node is lost each reconnects to one that is up. Retrying later, with backoff, is the
caller's part (the consumer's supervisor, the relay), so that a whole cluster being away never blocks here
for more than one timeout per node.
"""

import random
from collections.abc import Sequence
from urllib.parse import urlsplit

import aio_pika
from aio_pika.abc import AbstractConnection


class BrokerUnreachable(ConnectionError):
    """No address answered; the message names each address and its error, never a password."""


async def connect(urls: Sequence[str], *, timeout_s: float) -> AbstractConnection:
    """A connection to the first node that answers, trying each address once from a random start."""
    if not urls:
        raise ValueError("no broker address given")
    start = random.randrange(len(urls))
    failures: list[str] = []
    last_error: Exception | None = None
    for url in [*urls[start:], *urls[:start]]:
        try:
            return await aio_pika.connect(url, timeout=timeout_s)
        except Exception as error:  # any failure means: try the next node
            failures.append(f"{without_credentials(url)} ({_scrubbed(error, url)})")
            last_error = error
    raise BrokerUnreachable("no RabbitMQ node answered: " + "; ".join(failures)) from _chained(last_error, urls)


async def reachable(urls: Sequence[str], *, timeout_s: float = 2.0) -> None:
    """Readiness: raises unless some node accepts a connection (which is then closed)."""
    connection = await connect(urls, timeout_s=timeout_s)
    await connection.close()


def address_of(connection: AbstractConnection) -> str:
    """The node a connection was made to, without credentials: for the logs."""
    url = getattr(connection, "url", None)  # aio-pika's Connection has it; the abstract one does not say so
    return without_credentials(str(url)) if url is not None else "unknown"


def without_credentials(url: str) -> str:
    """scheme://host:port/vhost, without user name or password."""
    parts = urlsplit(url)
    default_port = 5671 if parts.scheme == "amqps" else 5672
    try:
        port = parts.port or default_port
    except ValueError:
        return f"{parts.scheme}://<invalid address>"
    return f"{parts.scheme}://{parts.hostname or ''}:{port}{parts.path}"


def _scrubbed(error: BaseException, url: str) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _chained(error: Exception | None, urls: Sequence[str]) -> Exception | None:
    """The last error as the cause, unless its text holds a password (then nothing is chained)."""
    if error is None:
        return None
    passwords = [password for url in urls if (password := urlsplit(url).password)]
    text = f"{error!r} {error.__cause__!r}"
    return None if any(password in text for password in passwords) else error
