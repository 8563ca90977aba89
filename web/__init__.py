"""HTTP faces of the engine: the local control API now, the web console and agent desktop next."""
