"""Compliance rules as pure code (CMPL): blocklists, calling hours, caps, presets; at import and dial time."""
