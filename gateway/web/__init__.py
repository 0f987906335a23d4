"""The HTTPS door: the partner API (mutual TLS), ops endpoints and the privacy officer's
audit pages. A face: it uses the core (``gateway.runtime.app``) and nothing imports it but the
tools and the CLI."""
