"""Models shipped with wavecomp (the default waveshaper)."""
