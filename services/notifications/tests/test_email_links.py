"""Unsubscribe links outlive a change of WEBHOOK_SECRETS_KEY (the key they derive from): the documented change puts
the new key first and keeps the old one after it, and every link already emailed must keep working meanwhile."""

import uuid
from pathlib import Path

from cryptography.fernet import Fernet

from medic.notifications.bootstrap import build
from medic.notifications.service_layer.emails import EmailLinks
from services.notifications.tests.conftest import make_settings


def links_with(tmp_path: Path, keys: str) -> EmailLinks:
    service = build(make_settings(tmp_path, WEBHOOK_SECRETS_KEY=keys), start_consumer=False)
    links: EmailLinks = service.app.state.email_links
    return links


def test_a_link_made_before_a_key_change_still_names_its_email(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    email_id = uuid.uuid4()
    token = links_with(tmp_path, old).unsubscribe_url(email_id).rsplit("/", 1)[1]

    after_the_change = links_with(tmp_path, f"{new},{old}")
    assert after_the_change.email_id(token) == email_id
    fresh = after_the_change.unsubscribe_url(email_id).rsplit("/", 1)[1]
    assert fresh != token and after_the_change.email_id(fresh) == email_id  # new links use the new key
    assert links_with(tmp_path, new).email_id(token) is None  # once the old key is dropped, so are its links
