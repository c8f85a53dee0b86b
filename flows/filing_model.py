"""Where a filing conversation stands: its states (the value is what the user's row stores), the
facts its guards need from the database, and the throwaway machine model of one update."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import cast

from flows.catalog import ComplaintType
from flows.context import Context
from flows.conversation import FlowModel
from flows.records import Draft


class FilingState(Enum):
    """The filing flow's states; the value is what the user's row stores."""

    IDLE = "idle"
    CHOOSING_TYPE = "choosing_type"
    READING_GUIDANCE = "reading_guidance"
    ENTERING_TARGET = "entering_target"
    COLLECTING_EVIDENCE = "collecting_evidence"
    DESCRIBING = "describing"
    REVIEWING = "reviewing"
    CONFIRMING = "confirming"


DRAFTING = [s for s in FilingState if s is not FilingState.IDLE]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the guards need from the database, looked up by the engine before firing."""

    duplicate_of: str | None = None  # number of an open complaint about the same event
    number: str | None = None  # a fresh, unused complaint number (only when submitting)


class FilingModel(FlowModel):
    """The throwaway machine model for one update: its data is the user's draft."""

    __slots__ = ()

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, FilingState(ctx.user.state), ctx.user.draft)
        self.facts = Facts()

    @property
    def draft(self) -> Draft | None:
        return cast(Draft | None, self.data)

    @draft.setter
    def draft(self, draft: Draft | None) -> None:
        self.data = draft

    @property
    def ctype(self) -> ComplaintType:
        ctype = self.catalog.type(self.draft.type_id if self.draft else None)
        assert ctype is not None, "a draft past the type step always has a known type"
        return ctype
