"""One measured figure, and the table `python -m bench` prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    p50: float
    p99: float | None
    unit: str
    target: str
    met: bool | None  # None: reported only, no target

    def row(self) -> str:
        p99 = f"{self.p99:.2f}" if self.p99 is not None else "-"
        verdict = {True: "met", False: "NOT MET", None: "reported"}[self.met]
        return f"| {self.name} | {self.p50:.2f} {self.unit} | {p99} | {self.target} | {verdict} |"


def table(figures: list[Figure]) -> str:
    lines = ["| figure | median | p99 | target | |", "|---|---|---|---|---|"]
    lines += [f.row() for f in figures]
    return "\n".join(lines)
