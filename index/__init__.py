"""Ingest, segmentation, BM25 search and target extraction over bureau reports.

Knows nothing about Telegram: the front ends in :mod:`bot` call into it.
"""
