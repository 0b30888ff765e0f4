"""The library as rules read it: one view per track, merged enrichments, the loaded cache."""
