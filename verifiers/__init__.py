"""The verification gate, baselines, JSON Schemas and the sandbox for untrusted code."""
