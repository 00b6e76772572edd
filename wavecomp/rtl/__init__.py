"""The FPGA core: hand-written SV library (``hdl/``) + generated network tops."""
