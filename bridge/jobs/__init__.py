"""Jobs: the runner (queue, concurrency, supersede, variations, fallback) and its journal."""
