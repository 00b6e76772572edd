"""The MCU backend: a network as C++ for a Daisy (STM32H750, Cortex-M7) with CMSIS-DSP.

- ``emit``: writes the engine (model header, cached-wavenet engine, CMSIS core shim), a Daisy
  Patch firmware project, a README and a report (``emit.emit``).
- ``cmsis_dsp``: fetches the pinned CMSIS-DSP sources (PyPI sdist) into the wavecomp cache.
- ``host``: builds an emitted engine with the host compiler and runs it (the bit-exact tests
  and ``wavecomp sim --target cmsis``).
- ``m7``: cross-builds it for the Cortex-M7 and runs it on an emulator, counting instructions.
"""
