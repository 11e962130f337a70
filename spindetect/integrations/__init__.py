"""Blocks for data-processing frameworks (optional extras: spindetect[datatrove], spindetect[dolma])."""
