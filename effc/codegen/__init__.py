"""Code generators: C (runtime_c kernels), later HLS C++ and Verilog."""
