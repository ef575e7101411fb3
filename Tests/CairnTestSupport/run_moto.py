#!/usr/bin/env python3
"""Runs moto's S3-compatible server for Cairn's tests and exits when the test process does."""
import os, sys, threading, time

parent = os.getppid()


def watch_parent():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
from moto.server import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
