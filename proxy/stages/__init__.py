"""Stages, one per file. The order (outermost first) is fixed in ``proxy.services.build_pipeline``."""
