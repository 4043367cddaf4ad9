"""What integrations tell the apps built on them; integrations import none of their receivers.

`sync_finished(sender, run)` is sent once a run's log is closed (`run_finish`), after its
transaction commits, with `run` the `SyncRun` (its `error` empty on success).
"""

from __future__ import annotations

from django.dispatch import Signal

sync_finished = Signal()
