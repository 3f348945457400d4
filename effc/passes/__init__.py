"""Graph -> Graph passes, one per file. The order lives in pipeline.py."""
