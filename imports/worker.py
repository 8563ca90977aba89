"""A generator run in a forked process of its own, what it yields streamed back in order.

The import's stage (`imports.pipeline`) runs here for large files, so that it uses the second
core while the importing process looks up, decides and writes. Items cross a pipe, pickled (so
plain tuples, which pickle ten times faster than richer objects); the pipe holds little, so the
process runs at most an item ahead. A `UserError` raised there is raised again here, any
other failure as a `RuntimeError` carrying its traceback; leaving the loop early ends the
process. The child must touch neither the database nor the connections it inherits, and leaves
by `os._exit` (as multiprocessing's fork does), as SQLite and psycopg require of a forked process.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ringcast.errors import UserError

Argument = TypeVar("Argument")
Item = TypeVar("Item")


def streamed(
    produce: Callable[[Argument], Iterator[Item]], argument: Argument, *, name: str
) -> Iterator[Item]:
    """What `produce(argument)` yields, produced in a forked process."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(produce, argument, sender), name=name, daemon=True)
    process.start()
    sender.close()
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
    finally:
        receiver.close()
        if process.is_alive():
            process.terminate()
        process.join()


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
