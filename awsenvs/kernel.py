"""The jsii kernel's exit, made quiet: imported before any binding starts the kernel.

jsii stops its kernel (the node process running the bindings) from an atexit hook that
writes a goodbye into the kernel's stdin.  When the kernel is already gone (a Ctrl-C at the
terminal reached it in the instant before awsenvs/kernel_signals.js took over, or it died),
that write raises BrokenPipeError, Python prints the traceback while exiting, and the rest
of the clean-up (the runtime's temporary folder) is skipped.  The hook keeps jsii's own
steps and, when the pipe is broken, does only the clean-up that is left.
"""

from __future__ import annotations

import contextlib

from jsii._kernel.providers import process as _process

_jsii_stop = _process._NodeProcess.stop


def _stop(self) -> None:
    try:
        _jsii_stop(self)
    except (BrokenPipeError, ValueError):  # the kernel exited first: nothing to say goodbye to
        with contextlib.suppress(Exception):
            self._process.wait(timeout=5)
            self._ctx_stack.close()


if getattr(_process._NodeProcess.stop, "__module__", "") != __name__:
    _process._NodeProcess.stop = _stop
