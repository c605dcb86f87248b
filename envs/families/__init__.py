"""Environment families: one module each, discovered by name (adding one touches only its file)."""
