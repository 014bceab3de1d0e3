"""The commands, one module each (run, local, demo, check, plan, specs, schema), and their helpers."""
