"""The entry point's signal handling, in this process: a signal while the command line or a
library imports ends in one line, never half an import."""

from __future__ import annotations

import importlib
import os
import signal
import sys

import pytest

from taxonomy._signals import HANDLED, Terminated, terminate


@pytest.mark.parametrize("signal_", [KeyboardInterrupt(), Terminated(signal.SIGTERM)])
def test_a_signal_while_the_command_line_imports_is_one_line(monkeypatch, capsys, signal_):
    # The entry point sets its handlers before importing the command line (which can take a
    # second on a busy machine); a signal in that second used to be a traceback or a bare kill.
    import builtins

    import taxonomy.__main__ as entry

    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "taxonomy.cli":
            raise signal_
        return real_import(name, *args, **kwargs)

    previous = {s: signal.getsignal(s) for s in HANDLED}
    monkeypatch.setattr(builtins, "__import__", interrupted)
    try:
        code = entry.main()
        installed = signal.getsignal(signal.SIGTERM)
    finally:
        monkeypatch.undo()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    assert installed is terminate
    assert code == (130 if isinstance(signal_, KeyboardInterrupt) else 143)
    assert capsys.readouterr().err.splitlines() == [
        f"taxonomy: {'interrupted' if code == 130 else 'stopped by SIGTERM'}; existing "
        "outputs were left as they were"]


@pytest.mark.parametrize("signum", HANDLED)
def test_a_signal_inside_an_import_waits_until_it_is_done(tmp_path, monkeypatch, signum):
    # Cut in the middle, an extension module's initialization can crash the interpreter at
    # exit (numpy's segfaulted) or turn the interrupt into a RuntimeError traceback.
    import threading

    sent = []
    monkeypatch.setattr("os.kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"halfway_{signal.Signals(signum).name}"
    (tmp_path / f"{name}.py").write_text(
        "import sys\nfrom taxonomy._signals import terminate\n"
        f"terminate({int(signum)}, sys._getframe())\nDONE = True\n")
    assert importlib.import_module(name).DONE  # the handler returned: the import went on
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join()
    assert sent == [(os.getpid(), signum)]  # sent again, to land after the import
    expected = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    previous = signal.getsignal(signum)
    try:
        with pytest.raises(expected):
            terminate(signum, sys._getframe())
    finally:
        signal.signal(signum, previous)
