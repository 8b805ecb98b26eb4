"""Downloads and caching of the public sources with :mod:`pooch`.

Online, :func:`fetch` downloads a known source once into the user cache
(``pooch.os_cache("gravity")``, override with the ``GRAVITY_DATA_DIR``
environment variable) and shows a progress bar. Offline, every reader takes a
local path instead, and :func:`fetch` is never called.

Publishers change files in place (WDI is updated quarterly, BACI gets a new
release letter), so most entries carry ``known_hash=None``: the file is then
hashed after download and the hash is recorded in the panel's provenance
instead. Pass ``known_hash`` to pin a vintage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REGISTRY", "Remote", "cache_dir", "fetch"]


@dataclass(frozen=True)
class Remote:
    """A downloadable source file."""

    url: str
    known_hash: str | None = None
    note: str = ""


#: Known public URLs (as published; verify the vintage you need).
REGISTRY: dict[str, Remote] = {
    "cepii_gravity_V202211": Remote(
        "https://www.cepii.fr/DATA_DOWNLOAD/gravity/data/Gravity_csv_V202211.zip",
        note="CEPII Gravity database V202211, CSV in a zip",
    ),
    "cepii_geodist_dist": Remote(
        "https://www.cepii.fr/distance/dist_cepii.dta", note="CEPII GeoDist dyadic file",
    ),
    "cepii_geodist_geo": Remote(
        "https://www.cepii.fr/distance/geo_cepii.dta", note="CEPII GeoDist country file",
    ),
    "baci_hs17_V202401b": Remote(
        "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS17_V202401b.zip",
        note="BACI HS2017, all years, ~2 GB zip",
    ),
    "wdi_csv": Remote(
        "https://databank.worldbank.org/data/download/WDI_CSV.zip",
        note="World Bank WDI bulk CSV (updated in place)",
    ),
    "pwt91": Remote(
        "https://www.rug.nl/ggdc/docs/pwt91.xlsx", note="Penn World Table 9.1 (Excel)",
    ),
}


def cache_dir() -> Path:
    """Directory of the download cache."""
    env = os.environ.get("GRAVITY_DATA_DIR")
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("gravity"))


def fetch(
    name: str,
    *,
    url: str | None = None,
    known_hash: str | None = None,
    progressbar: bool = True,
) -> Path:
    """Download ``name`` (a :data:`REGISTRY` key or any name with ``url``) into the cache.

    Returns the local path. Raises ``KeyError`` for an unknown name without ``url``.
    """
    import pooch

    if url is None:
        if name not in REGISTRY:
            raise KeyError(f"unknown source {name!r}: pass url= or a local path to the reader")
        remote = REGISTRY[name]
        url, known_hash = remote.url, known_hash or remote.known_hash
    path = pooch.retrieve(
        url=url,
        known_hash=known_hash,
        fname=Path(url).name,
        path=cache_dir(),
        progressbar=progressbar,
    )
    return Path(path)
