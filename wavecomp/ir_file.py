"""The IR's file format: one ``.npz`` (a JSON header plus one ``.npy`` per int16 array).

Why a zip written by hand: every member gets a fixed timestamp and order, so the same network
always gives the same bytes and compiled artefacts are reproducible. Version 2 stores graph
networks (nodes, sources, tables, outputs); version-1 files (plain conv chains) still load.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp.ir import (
    ConvLayer,
    ConvSource,
    IdentitySource,
    IRError,
    Network,
    Node,
    io_spec_from_dict,
    io_spec_to_dict,
)

FORMAT = "wavecomp-network"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def save_network(net: Network, path: Path) -> Path:
    """Write ``net`` to ``path`` atomically (a ``.partial`` file renamed into place)."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": net.name,
        "io": io_spec_to_dict(net.io),
        "nodes": [_node_header(node) for node in net.nodes],
        "outputs": [list(pair) for pair in net.outputs],
        "metadata": net.metadata,
    }
    members = {"network.json": json.dumps(header, indent=2, sort_keys=True).encode() + b"\n"}
    for i, node in enumerate(net.nodes):
        members[f"node{i}_bias.npy"] = _npy_bytes(node.bias)
        for j, source in enumerate(node.sources):
            if isinstance(source, ConvSource):
                members[f"node{i}_source{j}_weights.npy"] = _npy_bytes(source.weights)
        for k, table in enumerate(node.tables):
            members[f"node{i}_table{k}.npy"] = _npy_bytes(table)
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    tmp.replace(path)
    return path


def load_network(path: Path) -> Network:
    """Read a version 1 or 2 file; every failure is an IRError naming the file."""
    try:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read("network.json"))
            if header.get("format") != FORMAT:
                raise IRError(f"{path}: not a wavecomp network file")
            version = header.get("version")
            if version not in READABLE_VERSIONS:
                raise IRError(
                    f"{path}: format version {version} is not supported (this wavecomp reads "
                    f"versions {', '.join(map(str, READABLE_VERSIONS))}); re-export the model "
                    "or upgrade wavecomp"
                )

            def array(name: str) -> np.ndarray:
                return np.load(io.BytesIO(zf.read(name)), allow_pickle=False)

            if version == 1:
                nodes: list[Any] = [
                    ConvLayer(
                        name=spec["name"],
                        weights=array(f"layer{i}_weights.npy"),
                        bias=array(f"layer{i}_bias.npy"),
                        dilation=spec["dilation"],
                        activation=spec["activation"],
                    )
                    for i, spec in enumerate(header["layers"])
                ]
                outputs = None
            else:
                nodes = [_node_from(spec, i, array) for i, spec in enumerate(header["nodes"])]
                outputs = tuple((t, c) for t, c in header["outputs"])
    except FileNotFoundError:
        raise IRError(f"{path}: no such file") from None
    except IRError as err:
        if str(path) in str(err):
            raise
        raise IRError(f"{path}: {err}") from None
    except (zipfile.BadZipFile, KeyError, TypeError, json.JSONDecodeError, ValueError) as err:
        raise IRError(
            f"{path}: not a readable wavecomp network file ({err}); "
            "expected a .npz written by wavecomp (train/import)"
        ) from None
    try:
        return Network(
            nodes,
            io_spec_from_dict(header["io"]),
            name=header["name"],
            metadata=header.get("metadata", {}),
            outputs=outputs,
        )
    except IRError as err:
        raise IRError(f"{path}: {err}") from None


def _node_header(node: Node) -> dict[str, Any]:
    sources = []
    for source in node.sources:
        if isinstance(source, ConvSource):
            sources.append(
                {
                    "kind": "conv",
                    "tensor": source.tensor,
                    "kernel_size": source.kernel_size,
                    "dilation": source.dilation,
                    "in_channels": source.in_channels,
                }
            )
        else:
            sources.append({"kind": "identity", "tensor": source.tensor, "shift": source.shift})
    return {
        "name": node.name,
        "activation": node.activation,
        "shift": node.shift,
        "slope": node.slope,
        "pre_channels": node.pre_channels,
        "sources": sources,
        "tables": len(node.tables),
    }


def _node_from(spec: dict[str, Any], i: int, array: Any) -> Node:
    sources: list[ConvSource | IdentitySource] = []
    for j, s in enumerate(spec["sources"]):
        if s["kind"] == "conv":
            weights = array(f"node{i}_source{j}_weights.npy")
            sources.append(ConvSource(s["tensor"], weights, s["dilation"]))
        elif s["kind"] == "identity":
            sources.append(IdentitySource(s["tensor"], s["shift"]))
        else:
            raise IRError(f"node {i} {spec['name']!r} source {j}: unknown kind {s['kind']!r}")
    return Node(
        name=spec["name"],
        sources=tuple(sources),
        bias=array(f"node{i}_bias.npy"),
        activation=spec["activation"],
        shift=spec["shift"],
        slope=spec["slope"],
        tables=tuple(array(f"node{i}_table{k}.npy") for k in range(spec["tables"])),
    )


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array, dtype="<i2"), allow_pickle=False)
    return buf.getvalue()
