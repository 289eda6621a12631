"""Daily climate and discharge series shipped inside spotpy's wheel (real measurements).

Two catchments, read from spotpy's installed package data (never a hard-coded path):

- **Fulda** (Hesse, Germany; ``spotpy/examples/cmf_data/fulda_climate.csv``), 1979-01-01 to
  1988-12-31, 3653 days, no gaps. Columns: ``tmax``, ``tmin``, ``tmean`` (air temperature,
  degC), ``prec`` (precipitation, mm/day), ``q`` (discharge at the outlet, m3/s). The
  catchment area, 2976.41 km2, is the one spotpy's own lumped CMF example uses; it turns
  discharge into runoff depth (``q_mm``, mm/day). The file has no evapotranspiration:
  :func:`hargreaves_pet` estimates it from the temperatures (latitude 50.6 N, stated).
- **HYMOD example catchment** (``spotpy/examples/hymod_python/hymod_input.csv``), 2012-01-01
  to 2016-12-31, 1827 days. Columns: ``prec`` (mm/day), ``pet`` (Turc potential
  evapotranspiration, mm/day), ``q`` (discharge, l/s). Discharge is missing (NaN) for all of
  2012 (spotpy uses that year as model warm-up). Area 1.783 km2, from spotpy's HYMOD example.

Each loader returns a :class:`pandas.DataFrame` indexed by date with ``q_mm`` (runoff depth,
mm/day) and ``pet`` added, so every model sees the same units.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

FULDA_AREA_KM2 = 2976.41  # spotpy examples/spot_setup_cmf_lumped.py
FULDA_LATITUDE = 50.6  # degrees north, the catchment's approximate centre (our assumption)
HYMOD_AREA_KM2 = 1.783  # spotpy examples/spot_setup_hymod_python.py
CATCHMENTS = ("fulda", "hymod")


def _data(package: str, name: str):
    return files(package).joinpath(name)


def hargreaves_pet(tmin: np.ndarray, tmax: np.ndarray, day_of_year: np.ndarray,
                   latitude: float) -> np.ndarray:
    """Hargreaves-Samani (1985) potential evapotranspiration, mm/day (FAO-56 eq. 21, 52).

    ``0.0023 * Ra * (Tmean + 17.8) * sqrt(Tmax - Tmin)`` with Ra the extraterrestrial
    radiation (as evaporated depth, mm/day) for the latitude and day of year.
    """
    phi = np.deg2rad(latitude)
    j = np.asarray(day_of_year, dtype=float)
    dr = 1 + 0.033 * np.cos(2 * np.pi * j / 365)
    delta = 0.409 * np.sin(2 * np.pi * j / 365 - 1.39)
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(delta), -1, 1))
    ra = 24 * 60 / np.pi * 0.0820 * dr * (ws * np.sin(phi) * np.sin(delta)
                                           + np.cos(phi) * np.cos(delta) * np.sin(ws))
    ra_mm = 0.408 * ra  # MJ/m2/day -> mm/day
    tmean = (tmin + tmax) / 2
    return np.maximum(0.0023 * ra_mm * (tmean + 17.8) * np.sqrt(np.maximum(tmax - tmin, 0)), 0)


def load_fulda() -> pd.DataFrame:
    """The Fulda series (1979-1988): temperatures, precipitation, discharge, PET, runoff."""
    path = _data("spotpy.examples.cmf_data", "fulda_climate.csv")
    with path.open(encoding="utf-8") as f:
        df = pd.read_csv(f, skiprows=[1])  # second line holds the units
    df.index = pd.to_datetime(df.pop("date"), format="%d.%m.%Y")
    df = df.rename(columns={"Prec": "prec", "Q": "q"}).astype(float)
    df["pet"] = hargreaves_pet(df["tmin"].to_numpy(), df["tmax"].to_numpy(),
                               df.index.day_of_year.to_numpy(), FULDA_LATITUDE)
    df["q_mm"] = df["q"] * 86400 / (FULDA_AREA_KM2 * 1e6) * 1000  # m3/s -> mm/day
    return df


def load_hymod_catchment() -> pd.DataFrame:
    """The HYMOD example series (2012-2016): precipitation, Turc PET, discharge, runoff."""
    path = _data("spotpy.examples.hymod_python", "hymod_input.csv")
    with path.open(encoding="utf-8") as f:
        df = pd.read_csv(f, sep=";")
    df.index = pd.to_datetime(df.pop("Date"), format="%d.%m.%Y")
    df.columns = ["prec", "pet", "q"]
    df = df.astype(float)
    df["q_mm"] = df["q"] / 1000 * 86400 / (HYMOD_AREA_KM2 * 1e6) * 1000  # l/s -> mm/day
    return df


def load_catchment(name: str) -> pd.DataFrame:
    """``fulda`` or ``hymod``."""
    return {"fulda": load_fulda, "hymod": load_hymod_catchment}[name]()


# Train / validation / test periods by calendar year (inclusive). The test period is the
# last one; HYMOD's first year (no discharge) is only model warm-up.
PERIODS = {
    "fulda": {"warmup": ("1979", "1979"), "train": ("1980", "1984"),
              "val": ("1985", "1986"), "test": ("1987", "1988")},
    "hymod": {"warmup": ("2012", "2012"), "train": ("2013", "2014"),
              "val": ("2015", "2015"), "test": ("2016", "2016")},
}


def period_mask(df: pd.DataFrame, catchment: str, part: str) -> np.ndarray:
    """Boolean mask of the rows in ``part`` (warmup/train/val/test) for the catchment."""
    a, b = PERIODS[catchment][part]
    years = df.index.year
    return np.asarray((years >= int(a)) & (years <= int(b)))
