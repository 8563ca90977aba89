"""Keypress surveys (SRV-1...SRV-4): the survey documents and, with issue 6's later steps, their answers."""
