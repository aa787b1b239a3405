"""Data sources: real images for validation and calibration."""
