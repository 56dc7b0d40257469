"""The real URLconf with one extra path: the baseline insert that signing is measured against."""

from __future__ import annotations

from django.urls import path

from bench import baseline_views
from config.urls import urlpatterns as _site

urlpatterns = [
    path("bench/baseline/", baseline_views.baseline_insert, name="bench_baseline"),
    *_site,
]
