"""What a request will cost before it is sent, and the budget it must fit (``[budget]``)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Budget, Settings
from bridge.engines.models import find_model, models_of
from bridge.engines.prices import Price, price_of
from bridge.errors import BudgetError
from bridge.model import EditRequest

__all__ = ["Estimate", "check_budget", "estimate"]


@dataclass(frozen=True)
class Estimate:
    model: str | None
    """``None`` for an engine that runs here (``local``): free."""
    price: Price | None
    jobs: int = 1

    @property
    def per_job(self) -> float | None:
        return 0.0 if self.price is None else self.price.usd

    @property
    def total(self) -> float | None:
        return None if self.per_job is None else self.per_job * self.jobs

    def describe(self) -> str:
        if self.model is None or self.price is None:
            return "free (runs here)"
        count = f" for {self.jobs} jobs" if self.jobs > 1 else ""
        figure = "unknown" if self.total is None else f"about ${self.total:.4f}"
        return f"{figure}{count} ({self.model}: {self.price.describe()})"


def estimate(request: EditRequest, settings: Settings, *, jobs: int = 1) -> Estimate:
    if not models_of(request.engine):
        return Estimate(None, None, jobs)
    spec = find_model(request.engine, request.model, request.operation)
    return Estimate(spec.id, price_of(spec.id, settings.prices), jobs)


def check_budget(cost: Estimate, budget: Budget, *, spent_today: float) -> None:
    """Refuse, before anything is sent, a request that would pass a ceiling; the error gives the figures."""
    if cost.model is None or (budget.per_request is None and budget.per_day is None):
        return
    total = cost.total
    if total is None:
        raise BudgetError(f"cost of {cost.model}: not published, so it cannot be held to [budget]; give it a price"
                          f' in config.toml ([prices] "{cost.model}" = USD per request)')
    if budget.per_request is not None and total > budget.per_request + 1e-9:
        raise BudgetError(f"cost = ${total:.4f}{f' for {cost.jobs} jobs' if cost.jobs > 1 else ''}: over the"
                          f" per-request ceiling of ${budget.per_request:.2f} ([budget] per_request in config.toml)")
    if budget.per_day is not None and spent_today + total > budget.per_day + 1e-9:
        raise BudgetError(f"cost = ${total:.4f}: with ${spent_today:.4f} spent today it would pass the daily"
                          f" ceiling of ${budget.per_day:.2f} ([budget] per_day in config.toml)")
