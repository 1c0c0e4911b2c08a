from enum import StrEnum


class JobsListState(StrEnum):
    DEAD = "dead"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
