"""The RTL target: effc's own programmable int8 accelerator in Verilog (target.py)."""
