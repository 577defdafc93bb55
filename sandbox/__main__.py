"""Run one sandbox service: `python -m sandbox tiparser --port 8101` / `python -m sandbox casehelper`."""

from __future__ import annotations

import argparse

import uvicorn

DEFAULT_PORTS = {"tiparser": 8101, "casehelper": 8102}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("service", choices=sorted(DEFAULT_PORTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: tiparser 8101, casehelper 8102")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.service == "tiparser":
        from sandbox.tiparser_app import create_app
    else:
        from sandbox.casehelper_app import create_app
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port or DEFAULT_PORTS[args.service],
        log_level=args.log_level,
        timeout_graceful_shutdown=1,
    )  # don't wait out "slow" calls


if __name__ == "__main__":
    main()
