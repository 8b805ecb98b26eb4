"""Readers for the public sources of a gravity panel (one module per source).

Every reader takes a local path (offline use) and returns a pandas DataFrame
with canonical column names and units (USD, persons, km), its provenance in
``attrs["gravity_provenance"]`` and, for trade flows, the source's coverage in
``attrs["gravity_coverage"]``. ``gravity.sources._download.fetch`` downloads
known sources into a cache with pooch when online.

Every reader reads columns **by name** (order free, extra columns ignored) and
checks the file itself (:mod:`gravity.sources.fileio`): gzip and zip integrity,
UTF-8 (latin-1 only for the publishers in
:data:`gravity.sources.fileio.LATIN1_PUBLISHERS`), every line with the
header's number of fields (a cut last line is a truncated file), numbers and
integer years parsed strictly (:mod:`gravity.sources.validate`). Each problem
is a typed error of :mod:`gravity.errors` (``FileFormatError``,
``UnknownCountryError``, ``DuplicateKeyError``, ...) naming the file and the
line, column or rows.
"""

from gravity.sources.baci import read_baci, read_baci_country_codes
from gravity.sources.baci_products import build_baci_products
from gravity.sources.bri import (
    bri_in_force,
    compare_bri_lists,
    load_bri,
    read_bri_list_a,
    read_bri_list_b,
)
from gravity.sources.cepii_gravity import flows_from_cepii, read_cepii_gravity
from gravity.sources.china_mirror import read_china_mirror, top_partner_share
from gravity.sources.comtrade import read_comtrade
from gravity.sources.dots import read_dots
from gravity.sources.geodist import read_geodist, read_geodist_geo
from gravity.sources.imf_fd import read_imf_fd
from gravity.sources.pwt import read_pwt
from gravity.sources.wdi import read_wdi
from gravity.sources.wits import read_wits_tariffs

__all__ = [
    "bri_in_force", "build_baci_products", "compare_bri_lists", "flows_from_cepii", "load_bri", "read_baci",
    "read_baci_country_codes", "read_bri_list_a", "read_bri_list_b", "read_cepii_gravity",
    "read_china_mirror", "read_comtrade", "read_dots", "read_geodist", "read_geodist_geo",
    "read_imf_fd", "read_pwt", "read_wdi", "read_wits_tariffs", "top_partner_share",
]
