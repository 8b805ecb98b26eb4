"""Loaders for published gravity datasets."""

from .yotov import load_yotov2016, yotov2016_application_data

__all__ = ["load_yotov2016", "yotov2016_application_data"]
