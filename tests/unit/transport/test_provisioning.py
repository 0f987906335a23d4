"""Partner provisioning documents: RabbitMQ's password hash, the one-user definitions, the
vhost of a URL. (That the broker takes them: tests/system/test_pika_partner.py logs in.)"""

from __future__ import annotations

import base64
import hashlib
import json

from gateway.cli.partners import vhost_of
from gateway.transport.provisioning import (
    HASHING_ALGORITHM,
    PartnerUser,
    generate_secret,
    password_hash,
)
from gateway.transport.rabbit import Topology

OIN = "00000099000000000101"


def test_password_hash_is_rabbitmqs_salted_sha256() -> None:
    salt = bytes.fromhex("908dc60a")
    stored = base64.b64decode(password_hash("geheim", salt=salt))
    assert stored == salt + hashlib.sha256(salt + b"geheim").digest()
    # a new salt every time: two hashes of one secret differ
    assert password_hash("geheim") != password_hash("geheim")


def test_secrets_are_long_and_never_repeat() -> None:
    drawn = {generate_secret() for _ in range(100)}
    assert len(drawn) == 100
    assert all(len(s) >= 43 for s in drawn)


def test_definitions_hold_one_user_its_hash_and_its_permissions_never_the_secret() -> None:
    topology = Topology("ketenpoort", (OIN,), (1000,))
    user = PartnerUser.of(topology, OIN, "/")
    document = user.definitions("s3cret-value")
    assert "s3cret-value" not in json.dumps(document)
    (entry,) = document["users"]
    assert entry["name"] == OIN
    assert entry["hashing_algorithm"] == HASHING_ALGORITHM
    assert entry["password_hash"]
    assert document["permissions"] == [
        {
            "user": OIN,
            "vhost": "/",
            "configure": r"^ketenpoort\.inbox\.00000099000000000101$",
            "write": r"^ketenpoort\.ingress$",
            "read": r"^ketenpoort\.inbox\.00000099000000000101$",
        }
    ]


def test_vhost_of_an_amqp_url() -> None:
    assert vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert vhost_of("amqp://guest:guest@127.0.0.1:5672") == "/"
    assert vhost_of("amqps://u:p@rabbitmq:5671/ketenpoort") == "ketenpoort"
    assert vhost_of("amqp://u:p@h/%2Fprod") == "/prod"
