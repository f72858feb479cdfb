"""Background-worker channels of the ranking app (`manage.py runworker ranking`)."""

from typing import Any

from ranking.consumers import RankingWorkerConsumer

worker_channels: dict[str, Any] = {"ranking": RankingWorkerConsumer.as_asgi()}
