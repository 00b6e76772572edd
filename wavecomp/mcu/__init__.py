"""The MCU backend: a network as C++ for a Daisy (STM32H750, Cortex-M7) with CMSIS-DSP.

- ``plan``: how the engine computes each layer (accumulator width, rings, weight layout, bytes).
- ``render``: every file of the emitted project as bytes, from the templates in ``firmware/``.
- ``emit``: writes them into an output folder (``emit.emit``).
- ``daisy_fit``: the Daisy's memory map and whether the firmware fits (libDaisy counted).
- ``cmsis_dsp``: fetches the pinned CMSIS-DSP sources (PyPI sdist) into the wavecomp cache.
- ``host``: builds an emitted engine with the host compiler and runs it (the bit-exact tests
  and ``wavecomp sim --target cmsis``).
- ``m7_build`` / ``m7_run``: cross-build it for the Cortex-M7 and run it on an emulator,
  counting instructions.
"""
