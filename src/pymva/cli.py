"""The ``pymva`` command (``python -m pymva``).

``pymva gui TMVA.root -o plots/`` writes the plots of ROOT's TMVAGui for a TMVA output file as PNG
and PDF, with ``plots/index.html`` showing them all (:func:`pymva.plotting.write_plots`).

``pymva export WEIGHTS_XML --to onnx|cpp|torchscript|pt2 -o OUT`` writes the method of a weights file as
an ONNX model, a header-only C++ file, a TorchScript file or a ``torch.export`` program
(:func:`pymva.export.export`, ``docs/deployment.md``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ._version import __version__
from .errors import PyMVAError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pymva", description="pymva: ROOT's TMVA in Python. Tools for TMVA output files."
    )
    parser.add_argument("--version", action="version", version=f"pymva {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    gui = sub.add_parser(
        "gui",
        help="write TMVAGui's plots of a TMVA output file as PNG and PDF, with an index.html",
        description=(
            "Write the plots of ROOT's TMVAGui (input variables, correlations, classifier outputs "
            "with the overtraining test, cut efficiencies, ROC curves, parallel coordinates, BDT "
            "control plots, training history) for a TMVA output file written by pymva or by ROOT, "
            "and an index.html that shows them all."
        ),
    )
    gui.add_argument("file", help="the TMVA output ROOT file, e.g. TMVA.root")
    gui.add_argument("-o", "--output", default="plots", help="output directory (default: plots)")
    gui.add_argument("-d", "--dataset", default=None, help="only this dataset (default: all)")
    gui.add_argument(
        "-f",
        "--format",
        dest="formats",
        nargs="+",
        default=["png", "pdf"],
        choices=["png", "pdf", "svg"],
        help="image formats (default: png pdf)",
    )
    gui.add_argument(
        "--nsignal", type=float, default=1000.0, help="signal events for the significance (default 1000)"
    )
    gui.add_argument(
        "--nbackground",
        type=float,
        default=1000.0,
        help="background events for the significance (default 1000)",
    )
    gui.add_argument(
        "--style",
        default="ROOT",
        help="matplotlib style: ROOT (mplhep's, default), none (matplotlib's defaults) or a style name",
    )
    gui.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    exp = sub.add_parser(
        "export",
        help="write the method of a weights file as ONNX, header-only C++, TorchScript or torch.export",
        description=(
            "Write the method of a TMVA weights file (its variable transformations folded in) as an ONNX "
            "model, a header-only C++17 file with SOFIE's Session/infer interface, a TorchScript file or a "
            "torch.export program (.pt2)."
        ),
    )
    exp.add_argument("weights", help="the .weights.xml file")
    exp.add_argument(
        "--to", required=True, choices=["onnx", "cpp", "torchscript", "pt2"], help="the output format"
    )
    exp.add_argument(
        "-o", "--output", required=True, help="the output file (e.g. model.onnx, TMVA_BDT.hxx, model.pt2)"
    )
    exp.add_argument("--name", default=None, help="the model name (C++ namespace TMVA_SOFIE_<name>)")
    exp.add_argument(
        "--user-code", default=None, help="PyTorch: the file that defines load_model_custom_objects"
    )
    exp.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    return parser


def _run_export(args: argparse.Namespace) -> str:
    from .export import export

    options = {"UserCode": args.user_code} if args.user_code else {}
    return str(export(args.weights, args.to, args.output, args.name, **options))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pymva`` command line; return the exit status (0: success, 1: error, 2: usage).

    Errors of pymva (a missing file, no TMVA dataset in it, a missing extra such as matplotlib) are
    written to stderr as one line, without a traceback.
    """
    args = _parser().parse_args(argv)
    logger = logging.getLogger("pymva")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    before = logger.level
    logger.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        if args.command == "export":
            written = _run_export(args)
            sys.stdout.write(f"{written}\n")
            return 0
        from .plotting import write_plots

        page = write_plots(
            args.file,
            args.output,
            args.dataset,
            formats=args.formats,
            n_signal=args.nsignal,
            n_background=args.nbackground,
            style=None if args.style.lower() == "none" else args.style,
        )
    except (PyMVAError, OSError) as exc:
        sys.stderr.write(f"pymva {args.command}: error: {exc}\n")
        return 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)
    sys.stdout.write(f"{page.index}\n")
    return 0
