"""The names of the file formats the tracker reads and writes (no imports: the command line's
options name them without loading the readers)."""

INTERCHANGE = ("csv", "json")  # the tracker's own contract (tracker.interchange)
IMPORTS = INTERCHANGE + ("claimreview",)  # what `tracker import` reads (tracker.claimreview too)
EXPORTS = INTERCHANGE + ("claimreview", "stix")  # what `tracker export` writes (tracker.stix_export too)
