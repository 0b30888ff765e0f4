"""The step registry and the context a step runs with.

A step is a function ``step(ctx) -> payload`` (plain or ``async``). It reports progress with
``ctx.progress(done, total, message)`` (and, when it does several things at once, each one's
progress as ``parts``: `JobPart`s, kept in the job's ``progress.parts``) and calls
``ctx.check_cancelled()`` between units of work;
cancellation is cooperative for plain functions and immediate (at the next ``await``) for async
ones. What it returns becomes the job's ``payload``: a pydantic model (stored as its
``model_dump(mode="json")``) or plain JSON-serialisable data. A payload that can fall short
of what was asked (a fetch with failed sources) has a ``shortfall()`` method: when it returns
a `Shortfall`, the job ends "partial" (some of the work was done and kept) or "failed" (none
was), with the shortfall's error, and keeps the payload.

A step declares its input (the job's ``metadata``) as a `StepInput` model; the runner checks
the metadata against it before the job is stored or queued, so a missing or mistyped field is
a 422 naming it, never a job that dies later. The step still reads ``ctx.metadata`` as the
checked JSON (only the keys that were sent).

    class CountInput(StepInput):
        n: int = Field(default=10, ge=0, le=1000)

    registry = StepRegistry()

    @registry.step("count", "Count to metadata['n'].", input_model=CountInput)
    def count(ctx: StepContext) -> dict[str, int]:
        n = ctx.metadata.get("n", 10)
        for i in range(n):
            ctx.check_cancelled()
            ctx.progress(i + 1, n)
        return {"counted": n}
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import threading
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import UnknownStepError, UnprocessableError
from app.core.models import JobError, JobPart
from app.pipeline.services import Services

ProgressCallback: TypeAlias = Callable[[int, int | None, str | None], None]
PartsCallback: TypeAlias = Callable[[list[JobPart]], None]
StepFunc: TypeAlias = Callable[["StepContext"], Any] | Callable[["StepContext"], Awaitable[Any]]


class JobCancelled(Exception):
    """Raised inside a step when its job was cancelled."""


@dataclass(frozen=True)
class Shortfall:
    """What a step's payload says it could not do: `error` names it (each failure); with
    `partial`, the rest of the work was done and kept (job "partial"), else none (job
    "failed")."""

    error: JobError
    partial: bool


@runtime_checkable
class MayFallShort(Protocol):
    """A payload that can say it did less than asked (see `Shortfall`)."""

    def shortfall(self) -> Shortfall | None: ...


@dataclass
class StepContext:
    """What a running step sees: its input, its services, and the progress/cancel hooks."""

    job_id: str
    step: str
    metadata: dict[str, Any]
    services: Services
    on_progress: ProgressCallback | None = None
    on_parts: PartsCallback | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    poll_cancel: Callable[[], bool] | None = None  # asks the store about other processes' requests
    _task: asyncio.Task[Any] | None = field(default=None, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    def progress(
        self,
        done: int,
        total: int | None = None,
        message: str | None = None,
        *,
        parts: list[JobPart] | None = None,
    ) -> None:
        """Report `done` units out of `total` (None when unknown), and with `parts` where
        each of the things the step does at once stands."""
        if parts is not None and self.on_parts is not None:
            self.on_parts(parts)
        if self.on_progress is not None:
            self.on_progress(done, total, message)

    @property
    def cancelled(self) -> bool:
        if not self.cancel_event.is_set() and self.poll_cancel is not None and self.poll_cancel():
            self.cancel_event.set()
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if cancellation was requested."""
        if self.cancelled:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    def request_cancel(self) -> None:
        """Ask the step to stop (thread-safe); async steps are interrupted at their next await."""
        self.cancel_event.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)


class StepInput(BaseModel):
    """The base of every step's input model: strict (`"no"` is not a boolean), closed (a
    misspelt key is refused, not ignored), plus the keys the runner itself adds."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rerun_of: str | None = Field(
        default=None, max_length=64, description="Set by rerun: the job this one repeats."
    )
    resumed_as: str | None = Field(
        default=None, max_length=64, description="Set on a resumed job: the job continuing it."
    )


def _describe_input_errors(step: str, error: ValidationError) -> tuple[str, list[dict[str, Any]]]:
    issues = [
        {
            "loc": ["metadata", *error_item["loc"]],
            "msg": error_item["msg"],
            "type": error_item["type"],
        }
        for error_item in error.errors()
    ]
    shown = "; ".join(
        ".".join(str(part) for part in issue["loc"]) + f": {issue['msg']}" for issue in issues[:3]
    )
    more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
    return f"{shown}{more} (step {step})", issues


@dataclass(frozen=True)
class StepSpec:
    name: str
    func: StepFunc
    description: str
    input_model: type[StepInput] | None = None  # None: any JSON object (e.g. tests' steps)

    @property
    def result_model(self) -> type[BaseModel] | None:
        """The model of what the step returns (its job's payload), read from its return
        annotation; None when that is not a model (tests' steps)."""
        try:
            hint = typing.get_type_hints(self.func).get("return")
        except (NameError, TypeError):  # an annotation that cannot be resolved here
            return None
        return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


class StepRegistry:
    """Named steps; adding one is one `register` call.

    A step may be registered by where it lives (`register_lazy`, "package.module:function"):
    its module is imported the first time the step is run or described, so a process that
    runs one step (a CLI command) does not import every other step's code (docs/performance.md,
    "Fetching a library from Spotify"). Its input is checked without importing it.
    """

    def __init__(self) -> None:
        self._steps: dict[str, StepSpec] = {}
        self._lazy: dict[str, tuple[str, type[StepInput] | None]] = {}

    def register(
        self,
        name: str,
        func: StepFunc,
        description: str = "",
        *,
        input_model: type[StepInput] | None = None,
    ) -> None:
        if name in self._steps or name in self._lazy:
            raise ValueError(f"step {name!r} is already registered")
        text = description or (func.__doc__ or "").strip()
        self._steps[name] = StepSpec(name, func, text, input_model)

    def register_lazy(
        self, name: str, target: str, *, input_model: type[StepInput] | None = None
    ) -> None:
        """Register the step `target` names ("package.module:function"), imported on first use.

        registry.register_lazy("verify", "app.pipeline.health:verify_step", input_model=NoInput)
        """
        if name in self._steps or name in self._lazy:
            raise ValueError(f"step {name!r} is already registered")
        module, _, function = target.partition(":")
        if not module or not function:
            raise ValueError(f"{target!r} is not 'package.module:function'")
        self._lazy[name] = (target, input_model)

    def step(
        self,
        name: str,
        description: str = "",
        *,
        input_model: type[StepInput] | None = None,
    ) -> Callable[[StepFunc], StepFunc]:
        """Decorator form of `register`."""

        def decorate(func: StepFunc) -> StepFunc:
            self.register(name, func, description, input_model=input_model)
            return func

        return decorate

    def check_input(self, name: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """`metadata` checked against the step's input model, as JSON with only the keys sent;
        `UnprocessableError` (422 ``bad_metadata``) naming every bad field otherwise."""
        input_model = self._input_model(name)
        if input_model is None:
            return dict(metadata)
        try:
            checked = input_model.model_validate(metadata)
        except ValidationError as exc:
            detail, issues = _describe_input_errors(name, exc)
            raise UnprocessableError(
                detail, code="bad_metadata", extra={"errors": issues}
            ) from None
        return checked.model_dump(mode="json", exclude_unset=True)

    def get(self, name: str) -> StepSpec:
        spec = self._steps.get(name)
        if spec is not None:
            return spec
        if name not in self._lazy:
            raise UnknownStepError(name, self.names())
        target, input_model = self._lazy[name]
        module, _, function = target.partition(":")
        func = getattr(importlib.import_module(module), function)
        text = (func.__doc__ or "").strip()
        spec = self._steps[name] = StepSpec(name, func, text, input_model)
        del self._lazy[name]
        return spec

    def _input_model(self, name: str) -> type[StepInput] | None:
        if name in self._lazy:
            return self._lazy[name][1]
        return self.get(name).input_model

    def names(self) -> list[str]:
        return sorted([*self._steps, *self._lazy])

    def specs(self) -> list[StepSpec]:
        return [self.get(name) for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._steps


def run_step_for_job(
    step: str, metadata: dict[str, Any], *, registry: StepRegistry, context: StepContext
) -> Any:
    """Run one registered step to completion in the calling thread and return its payload.

    `metadata` is the step's input; it is what `context.metadata` shows the step.
    """
    spec = registry.get(step)
    context.metadata = metadata
    if inspect.iscoroutinefunction(spec.func):
        return asyncio.run(_run_async(spec, context))
    context.check_cancelled()
    return spec.func(context)


async def _run_async(spec: StepSpec, context: StepContext) -> Any:
    context._loop = asyncio.get_running_loop()
    context._task = asyncio.current_task()
    try:
        context.check_cancelled()
        return await spec.func(context)
    except asyncio.CancelledError:
        if context.cancel_event.is_set():
            raise JobCancelled(f"job {context.job_id} was cancelled") from None
        raise
    finally:
        context._task = None
        context._loop = None
