"""Training scripts for the small models Bedside ships (run offline, on ``../shared/data``)."""
