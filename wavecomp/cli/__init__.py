"""The ``wavecomp`` command line: a thin layer over the Python API, one module per command.

Every command works with no MODEL argument (it then uses the default model shipped in the
package). Errors from wavecomp's own checks (``WavecompError``) are printed as one readable
line with the fix, never as a traceback.
"""

from __future__ import annotations

import sys

import click

import wavecomp
from wavecomp.cli.amaranth_cmd import emit_amaranth
from wavecomp.cli.build_cmd import build
from wavecomp.cli.demo_cmd import demo
from wavecomp.cli.import_cmd import import_capture
from wavecomp.cli.inspect_cmd import inspect
from wavecomp.cli.mcu_cmd import emit_cmsis
from wavecomp.cli.sim_cmd import sim, tone
from wavecomp.cli.train_cmd import train
from wavecomp.errors import WavecompError


class _Group(click.Group):
    """Turns wavecomp's own errors into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WavecompError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(wavecomp.__version__, prog_name="wavecomp")
def main() -> None:
    """Compile streaming cached-wavenet audio models (dilated causal convs, Q4.12) for
    an ECP5 FPGA with the eurorack-pmod, and a Daisy Cortex-M7 with CMSIS-DSP.

    \b
    Start here:
      wavecomp inspect                     the default model: layers, MACs, memory, fit
      wavecomp tone tri.wav                a triangle test signal
      wavecomp sim --target reference tri.wav out.wav --cv e0=1 --cv e1=0
      wavecomp sim --target rtl tri.wav out.wav --cv e0=1 --cv e1=0   (the FPGA core)
      wavecomp build --target ecp5         a bitstream for the ECPIX-5 + eurorack-pmod
      wavecomp emit-cmsis                  a C++ engine + Daisy Patch firmware project
      wavecomp emit-cmsis --board pod amp.nam   a NAM capture as a Daisy Pod guitar pedal
      wavecomp emit-amaranth               an Amaranth stream component (Tiliqua)
      wavecomp train --out runs/mine       train your own (QKeras), with a report
      wavecomp import amp.nam              a Neural Amp Modeler capture -> model + report
      wavecomp sim --target reference guitar.wav out.wav --model amp.nam
      wavecomp demo                        all of the above on the default model
    """


for _command in (
    inspect,
    sim,
    tone,
    build,
    emit_cmsis,
    emit_amaranth,
    train,
    import_capture,
    demo,
):
    main.add_command(_command)

if __name__ == "__main__":
    sys.exit(main())
