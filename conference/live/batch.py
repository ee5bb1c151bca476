"""Work that callers arriving together share: one Redis read or one database call per batch.

A thousand sockets joining a hall within seconds would each read the presence snapshot, count
the people in the hall, read the hall's state and insert an attendance row. A `Batcher` runs
such work once for every caller that arrived while the previous run was in flight: the batch a
caller joins starts *after* the call, so what it reads is at least as recent as what the caller
would have read alone (docs/architecture.md, "Live layer").
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

Run = Callable[[Any, list[Any]], Awaitable[list[Any]]]  # (key, items) -> one result per item
T = TypeVar("T")


def per_loop(factory: Callable[[], T]) -> Callable[[], T]:
    """A function returning `factory()`'s object for the running event loop, made on first use
    (one per process in production; a test's event loop gets its own)."""
    made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get() -> T:
        loop = asyncio.get_running_loop()
        found = made.get(loop)
        if found is None:
            found = made[loop] = factory()
        return found

    return get


class Batcher:
    """`await add(key, item)` returns this item's result of `run(key, items)`, where `items`
    are the items of every caller with the same key that waited for the same run. `run` returns
    one result per item (in order); a result that is an exception is raised to its caller
    alone, an exception raised by `run` to every caller of the batch."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._waiting: dict[Hashable, tuple[asyncio.Future[list[Any]], list[Any]]] = {}
        self._running: dict[Hashable, asyncio.Task[None]] = {}

    async def add(self, key: Hashable, item: Any = None) -> Any:
        entry = self._waiting.get(key)
        if entry is None:
            entry = self._waiting[key] = (asyncio.get_running_loop().create_future(), [])
            if key not in self._running:
                self._running[key] = asyncio.get_running_loop().create_task(self._drain(key))
            # else the run in flight starts the next one when it ends
        future, items = entry
        index = len(items)
        items.append(item)
        result = (await asyncio.shield(future))[index]
        if isinstance(result, BaseException):
            raise result
        return result

    async def _drain(self, key: Hashable) -> None:
        try:
            while key in self._waiting:
                future, items = self._waiting.pop(key)  # callers from now on wait for the next run
                try:
                    results = await self._run(key, items)
                except Exception as error:
                    future.set_exception(error)
                    future.exception()  # retrieved: a batch whose callers all left is not logged
                    continue
                future.set_result(results)
        finally:
            self._running.pop(key, None)
