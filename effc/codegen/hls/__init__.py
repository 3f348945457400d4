"""The HLS target: the int8 core as a streaming HLS C++ dataflow accelerator
(``target.py`` registers it; docs/hls-backend.md describes it)."""
