"""The product's devices: push tokens turned off on an opt-out, deleted when the provider reports them
invalid (they are the person's data, and useless)."""

from __future__ import annotations

from core.containers import DEVICES
from core.ports import Clock, DocumentStore


class Devices:
    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def disable_push(self, user_id: str) -> int:
        """Marks every device of the user as not to be sent push notifications; returns how many."""
        now = self._clock.now().isoformat()
        devices = list(
            self._store.query(DEVICES, user_id, "SELECT * FROM c WHERE c.userId = @user", {"@user": user_id})
        )
        for device in devices:
            if not device.get("pushDisabled"):
                self._store.upsert(DEVICES, {**device, "pushDisabled": True, "pushDisabledAt": now})
        return len(devices)

    def delete_invalid(self, user_id: str, tokens: list[str]) -> int:
        """Deletes the user's devices whose push token the provider reported invalid."""
        wanted = set(tokens)
        rows = self._store.query(
            DEVICES, user_id, "SELECT c.id, c.pushToken FROM c WHERE c.userId = @user", {"@user": user_id}
        )
        doomed = [str(r["id"]) for r in rows if r.get("pushToken") in wanted]
        return sum(self._store.delete(DEVICES, device_id, user_id) for device_id in doomed)
