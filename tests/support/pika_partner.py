"""A partner system written with pika alone, from docs/asyncapi.yaml alone.

It imports nothing of the project (on purpose: this is what a partner's integration engineer
could write from the contract): every exchange, routing key, queue name, queue argument and
header name below is read from the AsyncAPI document. Names are found by their role in the
document (the channel of the ``send`` operations, the queue of the ``receive`` operation, the
header whose values are ``levering``/``antwoord``, the boolean "published again" header),
never typed in here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import yaml
from pika.adapters.blocking_connection import BlockingChannel


@dataclass(frozen=True)
class Contract:
    """What a partner needs of the AsyncAPI document, found by role."""

    ingress_exchange: str
    ingress_routing_key: str
    inbox_pattern: str  # with {oin}
    inbox_arguments: dict[str, Any]
    soort_header: str
    herhaald_header: str
    poging_header: str
    levering: str  # the soort value of a delivery
    antwoord: str  # the soort value of a gateway answer
    gateway_headers: frozenset[str]  # every header the gateway may set
    required_headers: frozenset[str]
    broker_header_patterns: tuple[str, ...]  # RabbitMQ's own headers (regular expressions)

    @classmethod
    def read(cls, path: Path) -> Contract:
        doc = yaml.safe_load(path.read_text("utf-8"))
        channels = doc["channels"]

        def channel_of(operation: dict[str, Any]) -> dict[str, Any]:
            ref: str = operation["channel"]["$ref"]  # "#/channels/<name>"
            found: dict[str, Any] = channels[ref.rsplit("/", 1)[1]]
            return found

        sends = [op for op in doc["operations"].values() if op["action"] == "send"]
        receives = [op for op in doc["operations"].values() if op["action"] == "receive"]
        ingress = channel_of(sends[0])
        assert all(channel_of(op) is ingress for op in sends)
        inbox = channel_of(receives[0])
        uit = doc["components"]["schemas"]["uitGateway"]
        properties: dict[str, Any] = uit["properties"]
        soort = next(name for name, p in properties.items() if "levering" in p.get("enum", []))
        herhaald = next(name for name, p in properties.items() if p.get("type") == "boolean")
        poging = inbox["x-ketenpoort-retry"]["attempt-header"]
        return cls(
            ingress_exchange=ingress["bindings"]["amqp"]["exchange"]["name"],
            ingress_routing_key=ingress["address"],
            inbox_pattern=inbox["bindings"]["amqp"]["queue"]["name"],
            inbox_arguments=dict(inbox["x-ketenpoort-arguments"]),
            soort_header=soort,
            herhaald_header=herhaald,
            poging_header=poging,
            levering="levering",
            antwoord="antwoord",
            gateway_headers=frozenset(properties),
            required_headers=frozenset(uit["required"]),
            broker_header_patterns=tuple(uit.get("patternProperties", {})),
        )

    def undocumented(self, headers: dict[str, Any]) -> set[str]:
        """Headers of a message from the gateway that the document does not name."""
        return {
            name
            for name in headers
            if name not in self.gateway_headers
            and not any(re.match(pattern, name) for pattern in self.broker_header_patterns)
        }


@dataclass
class Received:
    message_id: str | None
    correlation_id: str | None
    type: str | None
    headers: dict[str, Any]
    body: bytes


@dataclass
class PikaPartner:
    """One partner: log in as its OIN with its secret, send, receive, confirm, ask status."""

    contract: Contract
    oin: str
    secret: str
    vhost: str
    host: str = "127.0.0.1"
    port: int = 5672
    seen: set[str] = field(default_factory=set)  # message_ids taken (duplicate window)
    dropped: list[Received] = field(default_factory=list)  # flagged copies already seen
    connection: pika.BlockingConnection | None = None
    channel: BlockingChannel | None = None

    @property
    def inbox(self) -> str:
        return self.contract.inbox_pattern.replace("{oin}", self.oin)

    def connect(self) -> None:
        self.connection = pika.BlockingConnection(
            pika.ConnectionParameters(
                host=self.host,
                port=self.port,
                virtual_host=self.vhost,
                credentials=pika.PlainCredentials(self.oin, self.secret),
            )
        )
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def reopen(self) -> None:
        """A new channel (after the broker closed one for a refused operation)."""
        assert self.connection is not None
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            self.connection.close()

    def _channel(self) -> BlockingChannel:
        assert self.channel is not None
        return self.channel

    def _connection(self) -> pika.BlockingConnection:
        assert self.connection is not None
        return self.connection

    def declare_inbox(
        self, *, passive: bool = False, arguments: dict[str, Any] | None = None
    ) -> int:
        """queue.declare of the own inbox, as AMQP clients do by habit; messages waiting."""
        result = self._channel().queue_declare(
            self.inbox,
            passive=passive,
            durable=True,
            arguments=self.contract.inbox_arguments if arguments is None else arguments,
        )
        return int(result.method.message_count)

    def send(
        self,
        body: bytes,
        *,
        user_id: str | None = "",
        routing_key: str | None = None,
        traceparent: str | None = None,
    ) -> None:
        """Publish to ingress with publisher confirms (raises when not confirmed)."""
        headers = {"traceparent": traceparent} if traceparent else {}
        self._channel().basic_publish(
            self.contract.ingress_exchange,
            self.contract.ingress_routing_key if routing_key is None else routing_key,
            body,
            properties=pika.BasicProperties(
                content_type="application/xml",
                delivery_mode=2,
                user_id=self.oin if user_id == "" else user_id,
                headers=headers,
            ),
            mandatory=True,
        )

    def receive(self, until: Callable[[Received], bool], *, timeout: float = 60.0) -> Received:
        """Take inbox messages (ack each) until one satisfies ``until``; flagged copies of a
        message_id already taken are acknowledged and dropped, as the contract says."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = self._channel().basic_get(self.inbox, auto_ack=False)
            if method is None:
                self._connection().sleep(0.05)
                continue
            got = Received(
                properties.message_id,
                properties.correlation_id,
                properties.type,
                dict(properties.headers or {}),
                body,
            )
            self._channel().basic_ack(method.delivery_tag)
            flagged = got.headers.get(self.contract.herhaald_header) is True
            if flagged and got.message_id in self.seen:
                self.dropped.append(got)
                continue
            if got.message_id:
                self.seen.add(got.message_id)
            if until(got):
                return got
        raise AssertionError(f"{self.oin}: nothing matching in {self.inbox} after {timeout} s")

    def reject_next(self, *, timeout: float = 60.0) -> Received:
        """Take the next inbox message and reject it (requeue=false): hand it back."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = self._channel().basic_get(self.inbox, auto_ack=False)
            if method is None:
                self._connection().sleep(0.05)
                continue
            self._channel().basic_reject(method.delivery_tag, requeue=False)
            return Received(
                properties.message_id,
                properties.correlation_id,
                properties.type,
                dict(properties.headers or {}),
                body,
            )
        raise AssertionError(f"{self.oin}: nothing in {self.inbox} after {timeout} s")
