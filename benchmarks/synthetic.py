"""Seeded stand-ins for two larger public tables, made here (no downloads): flight delays and
house prices. Each has many small, real effects (an airport's delays, a zip code's premium,
a day's weather), text categories, an ID-like column and dates, so that learning keeps paying
off for thousands of boosting rounds, as it does on the real tables and not on breast cancer.

    python benchmarks/synthetic.py flights 300000 out.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def flights(n: int = 300_000, seed: int = 0) -> pd.DataFrame:
    """Is a flight delayed (a binary target, 20% positive)? Carrier (16), origin and
    destination (300 airports, a few busy ones), departure time (hhmm), the day's own weather,
    the season, distance; `date` as text, `tailnum` an ID."""
    rng = np.random.default_rng(seed)
    carriers = [f"C{i:02d}" for i in range(16)]
    airports = [f"A{i:03d}" for i in range(300)]
    busy = 1 / np.arange(1, 301) ** 0.8
    busy /= busy.sum()
    carrier = rng.choice(carriers, n)
    origin = rng.choice(airports, n, p=busy)
    dest = rng.choice(airports, n, p=busy)
    day_of_year = rng.integers(0, 365, n)
    date = pd.Timestamp("2013-01-01") + pd.to_timedelta(day_of_year, unit="D")
    hour = np.clip(rng.normal(13.5, 4.5, n), 5, 23.98)
    dep_time = (np.floor(hour) * 100 + np.floor(hour % 1 * 60)).astype(int)  # hhmm
    apart = np.abs(
        pd.Series(origin).str[1:].astype(int).to_numpy()
        - pd.Series(dest).str[1:].astype(int).to_numpy()
    )
    distance = apart * 9 + rng.integers(80, 600, n)
    effect = {
        "carrier": dict(zip(carriers, rng.normal(0, 0.35, 16), strict=True)),
        "origin": dict(zip(airports, rng.normal(0, 0.35, 300), strict=True)),
        "dest": dict(zip(airports, rng.normal(0, 0.2, 300), strict=True)),
    }
    weather = rng.normal(0, 0.25, 365)  # each day its own
    logit = (
        -1.7
        + 0.11 * (hour - 13)
        + 0.15 * np.sin(hour * 1.7)
        + pd.Series(carrier).map(effect["carrier"]).to_numpy()
        + pd.Series(origin).map(effect["origin"]).to_numpy()
        + pd.Series(dest).map(effect["dest"]).to_numpy()
        + weather[day_of_year]
        + 0.3 * np.sin(day_of_year / 365 * 4 * np.pi)
        - 0.00015 * distance
    )
    delayed = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "date": date.strftime("%Y-%m-%d"),
            "month": date.month,
            "day": date.day,
            "dep_time": dep_time,
            "carrier": carrier,
            "tailnum": [f"N{v}" for v in rng.integers(10000, 99999, n)],
            "origin": origin,
            "dest": dest,
            "distance": distance,
            "delayed": delayed,
        }
    )


def houses(n: int = 80_000, seed: int = 0) -> pd.DataFrame:
    """A house's price (a regression on the price itself): a premium per zip code (400 of
    them), size, age, lot, rooms, condition (text) and the month of sale."""
    rng = np.random.default_rng(seed)
    zips = [f"Z{i:03d}" for i in range(400)]
    weight = 1 / np.arange(1, 401) ** 0.6
    weight /= weight.sum()
    zip_code = rng.choice(zips, n, p=weight)
    premium = dict(zip(zips, rng.normal(0, 0.3, 400), strict=True))
    sqft = np.clip(rng.lognormal(7.4, 0.35, n), 400, 8000).round(0)
    year = rng.integers(1900, 2015, n)
    lot = np.clip(rng.lognormal(8.8, 0.6, n), 800, 200_000).round(0)
    beds = np.clip(np.round(sqft / 600 + rng.normal(0, 0.8, n)), 1, 8)
    baths = np.clip(np.round(beds * 0.6 + rng.normal(0, 0.5, n)), 1, 6)
    levels = ["poor", "fair", "average", "good", "excellent"]
    condition = rng.choice(levels, n, p=[0.05, 0.15, 0.45, 0.25, 0.10])
    worth = dict(zip(levels, [-0.25, -0.1, 0.0, 0.08, 0.18], strict=True))
    month = rng.integers(1, 13, n)
    log_price = (
        11.0
        + 0.75 * np.log(sqft / 1600)
        + pd.Series(zip_code).map(premium).to_numpy()
        + pd.Series(condition).map(worth).to_numpy()
        + 0.1 * np.cos((year - 1900) / 115 * 3 * np.pi)
        + 0.0015 * (year - 1960)
        + 0.08 * np.log(lot / 6600)
        + 0.03 * baths
        + 0.02 * np.sin(month / 12 * 2 * np.pi)
        + rng.normal(0, 0.08, n)
    )
    return pd.DataFrame(
        {
            "zip": zip_code,
            "sqft": sqft,
            "year_built": year,
            "lot": lot,
            "beds": beds,
            "baths": baths,
            "condition": condition,
            "month": month,
            "price": np.exp(log_price).round(-2),
        }
    )


TABLES = {"flights": flights, "houses": houses}
# How each is read: ebm-study's data options for it.
OPTIONS = {
    "flights": [
        "data.target=delayed",
        "data.categorical=[carrier,origin,dest]",
        "data.drop=[tailnum]",
        "data.dates=[date]",
    ],
    "houses": ["data.target=price", "data.categorical=[zip,condition]"],
}


if __name__ == "__main__":
    name, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    TABLES[name](rows).to_csv(out, index=False)
