"""Guardian event-level evaluation: export datasets as recordings, run `guardian eval`, report."""
