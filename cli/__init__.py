"""The `ringcast` command line (typer): thin commands that build a request and call a service."""
