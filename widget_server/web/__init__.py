"""HTTP handlers: thin functions that parse, call the domain, and answer."""
