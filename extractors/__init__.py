"""Bytes in, our records out: feed parsing, feed lists and article extraction (no network)."""
