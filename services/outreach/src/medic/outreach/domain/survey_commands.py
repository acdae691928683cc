"""Commands about surveys."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from medic.outreach.domain.surveys import Item
from medic.shared.contracts.outreach.surveys import ResponseKind


@dataclass(frozen=True)
class CreateQuestionnaire:
    name: str
    items: tuple[Item, ...]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class PublishVersion:
    questionnaire_id: uuid.UUID
    items: tuple[Item, ...]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CorrectVersion:
    questionnaire_id: uuid.UUID
    version: int
    items: tuple[Item, ...]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class RecordResponse:
    questionnaire_id: uuid.UUID
    version: int
    participant_id: uuid.UUID
    cycle_id: uuid.UUID
    activity_id: uuid.UUID | None
    kind: ResponseKind
    answers: Mapping[str, int]
    correlation_id: uuid.UUID
