"""A generator run in a forked process of its own, what it yields streamed back in order.

The import's stage (`imports.pipeline`) runs here for large files, so that it uses the second
core while the importing process looks up, decides and writes. The process starts as
`streamed` is entered, so it reads the first items while the importing process opens its
transaction and reads the blocklist's prefixes. Items cross a pipe, pickled (so plain tuples,
which pickle ten times faster than richer objects); the pipe holds little, so the process runs
at most an item ahead. A `UserError` raised there is raised again here, any other failure as a
`RuntimeError` carrying its traceback; leaving the `with` block ends the process, whatever
happened. The child must touch neither the database nor the connections it inherits, and leaves
by `os._exit` (as multiprocessing's fork does), as SQLite and psycopg require of a forked process.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ringcast.errors import UserError

Argument = TypeVar("Argument")
Item = TypeVar("Item")


@contextmanager
def streamed(
    produce: Callable[[Argument], Iterator[Item]], argument: Argument, *, name: str
) -> Iterator[Iterator[Item]]:
    """What `produce(argument)` yields, produced in a forked process: started on entering (so it
    gets going while the caller prepares), ended on leaving, whatever happened."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(produce, argument, sender), name=name, daemon=True)
    process.start()
    sender.close()
    try:
        yield _received(receiver, process, name)
    finally:
        receiver.close()
        if process.is_alive():
            process.terminate()
        process.join()


def _received(receiver: Any, process: Any, name: str) -> Iterator[Any]:
    try:
        while True:
            message = receiver.recv()
            if message[0] == "item":
                yield message[1]
            elif message[0] == "done":
                return
            elif message[0] == "user-error":
                raise UserError(message[1], hint=message[2])
            else:
                raise RuntimeError(f"the {name} process failed:\n{message[1]}")
    except EOFError:
        process.join()
        raise RuntimeError(f"the {name} process died (exit code {process.exitcode})") from None


def _run(produce: Callable[[Any], Iterator[Any]], argument: Any, sender: Any) -> None:
    try:
        for item in produce(argument):
            sender.send(("item", item))
        sender.send(("done",))
    except UserError as error:
        sender.send(("user-error", error.message, error.hint))
    except KeyboardInterrupt:
        pass
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()
