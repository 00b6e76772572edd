"""FPGA toolchain runs (YoWASP yosys / nextpnr-ecp5 / ecppack) and their reports."""
