"""The domain: campaigns, contact lists, leads and their lifecycle, compliance rules, persistence."""
