"""`farm`: the wrangler's command line (docs/API.md section 8), a client of a farm node through FarmClient.

One thin module per command or small group of commands, each with ``add_parser(sub)`` and a ``run(ns)`` that
imports what it needs when it runs; ``output`` draws (rich on a terminal, plain lines elsewhere, JSON with --json).

Exit codes, decided here and nowhere else: 0 done; 1 the farm refused (its message on standard error, and with
--json its answer on standard output); 2 a usage error, or a farm that cannot be reached.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from farm_node import __version__
from farm_node.cli.common import CLIENT_EXAMPLE
from farm_node.errors import ConfigError, FarmNodeError

EXAMPLES = """The commands a wrangler types most:
  farm jobs                                every job, one line each
  farm show JOB --frames --status Failed   a job and its failed frames
  farm log JOB SUBJOB FRAME -f             a frame's log, followed as it renders
  farm retry JOB                           its failed and cancelled frames again
  farm set JOB priority=80                 change a job
  farm hosts                               the render hosts
  farm watch                               a live table of the farm
"""


def parser() -> argparse.ArgumentParser:
    from farm_node.cli.farm import actions, backup, hosts, jobs, limits, log, submit, update, watch
    from farm_node.cli.farm.connect import common_flags
    p = argparse.ArgumentParser(prog="farm", description="Talk to a PyFarm render farm: list, change and watch its "
                                                         "jobs, frames and hosts.",
                                epilog=EXAMPLES + "\n" + CLIENT_EXAMPLE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="%(prog)s " + __version__)
    common_flags(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in (jobs, submit, actions, update, log, hosts, limits, backup, watch):
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    ns = p.parse_args(argv)
    if not ns.command:
        p.print_help(sys.stderr)
        return 2
    from maya_plugin.errors import FarmError, FarmRejected, FarmUnavailable
    try:
        return ns.run(ns) or 0
    except FarmUnavailable as exc:
        return _fail(ns, 2, str(exc))
    except FarmRejected as exc:
        return _fail(ns, 1, str(exc), dict(exc.payload, status=exc.status))
    except FarmError as exc:           # FarmAuthError: the farm refused the token
        return _fail(ns, 1, str(exc))
    except ConfigError as exc:         # a usage error found after parsing (a file, a value, no farm to talk to)
        return _fail(ns, 2, str(exc))
    except FarmNodeError as exc:       # what the farm would refuse, found before sending (a restore's names)
        return _fail(ns, 1, str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:            # `farm jobs | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _fail(ns: argparse.Namespace, code: int, message: str, answer: dict | None = None) -> int:
    if getattr(ns, "json", False):
        answer = dict(answer or {})
        answer.setdefault("error", message)
        print(json.dumps(answer), flush=True)
    print("farm %s: %s" % (ns.command, message), file=sys.stderr, flush=True)
    return code
