"""People's part of the composition: the service and, in a server, its sweep of expired statuses."""

from __future__ import annotations

from server.chat.kernel.wiring import Wiring
from server.chat.people.service import PeopleService, ProfileOnRoleChange
from server.chat.presence.service import PresenceService


def build(w: Wiring, presence: PresenceService) -> PeopleService:
    people = PeopleService(w.db, presence)
    w.before_commit(ProfileOnRoleChange(people))  # a role change -> user:updated
    w.part("status sweep", people.start, people.stop, serving=True)
    return people
