"""List import: read CSV/XLSX in any encoding, normalise and classify numbers, de-duplicate, scrub."""
