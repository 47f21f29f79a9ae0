"""Chat front ends (Telegram and console) over the report index in :mod:`index`."""
