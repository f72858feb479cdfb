worker_channels: dict = {}
