"""The template sandbox: Jinja2's immutable sandbox with StrictUndefined and limits, the `yaml`,
`json` and `compact` filters, and the ``Renderer`` that turns one template and its values into
text or YAML documents.

Templates may only lay out the plain values ``generator.render.views`` prepared, and a misspelled
name is an error, not an empty string. A fleet repository's own ``templates/`` folder overrides a
built-in template of the same name.
"""

from __future__ import annotations

import functools
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from jinja2 import (BaseLoader, ChoiceLoader, Environment, FileSystemLoader, StrictUndefined,
                    TemplateError, TemplateNotFound, TemplateRuntimeError, TemplateSyntaxError)
from jinja2.loaders import split_template_path
from jinja2 import nodes, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from ruamel.yaml.error import YAMLError

from generator.paths import TEMPLATES_DIR, Reader, Unsafe
from generator.problems import FleetError, Location, Problem, refused
from generator.render.views import compact
from generator.yaml.dump import dump_flow
from generator.yaml.fast import load_fast

BUILTIN = "(built-in)"

def to_yaml_flow(value: Any) -> str:
    """The ``yaml`` filter: a value as one line of flow YAML (JSON is valid YAML 1.2 and 1.1)."""
    return Encoded(dump_flow(value))


def to_json(value: Any) -> str:
    """The ``json`` filter: indented JSON with keys in the order the view gives them."""
    return Encoded(json.dumps(value, ensure_ascii=False, indent=2))


MAX_SEQUENCE = 1_000_000  # characters or items a template may build with `*`
MAX_OUTPUT = 4_000_000    # characters one rendered file may have
MAX_STEPS = 1_000_000     # default of limits.templateSteps (fleetgen.yaml)
ITEMS_PER_STEP = 64       # items (characters, elements) a step may build or pass
STEPS_HINT = ("limits.templateSteps in fleetgen.yaml bounds the loop iterations, calls and items "
              "one template may take")


class StepLimit(TemplateRuntimeError):
    """A template ran out of steps (``FleetSandbox.spend``)."""
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)")


class _NoNoneCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to the sandbox's own join, which refuses None (Jinja's turns it into
    the text "None")."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_text((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _refuse_none(values: Any) -> None:
    if any(v is None for v in values):
        raise TemplateRuntimeError("a value is None; write it with `| yaml` (null) or test it "
                                   "with `is none`")


class FleetSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, plus limits on what a template can build: `'a' * 10**9` or
    `2 ** 10**9` fails fast instead of exhausting memory, and None never renders as "None".

    And a budget of steps per render (``steps``, reset by ``start``), so that CPU time is bounded
    without threads, signals or tracing (which ``--jobs`` workers could not share): every loop
    iteration costs one (each ``for`` iterates through ``counted``), every call and filter one
    plus the size of what it is given and returns, ``range(n)`` its size, and `*`, `+` and `~`
    the size of their result; a size costs a step per ``ITEMS_PER_STEP`` items (what C code does
    with 64 items takes about as long as one step of template code). Running out raises
    ``StepLimit`` at the template line."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _NoNoneCodeGenerator
    steps = MAX_STEPS
    _left = MAX_STEPS

    def start(self) -> None:
        """A new render: the whole budget again."""
        self._left = self.steps

    def spend(self, count: int) -> None:
        self._left -= count
        if self._left < 0:
            raise StepLimit(f"the template took more than {self.steps} steps")

    def spend_on(self, value: Any) -> Any:
        """Spend one step plus one per ``ITEMS_PER_STEP`` items of ``value`` (when it has a
        size); return ``value``."""
        if isinstance(value, (str, list, tuple, dict, range)):
            self.spend(1 + len(value) // ITEMS_PER_STEP)
        else:
            self.spend(1)
        return value

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """``iterable``, spending a step per item (what every ``for`` iterates over)."""
        for item in iterable:
            self.spend(1)
            yield item

    def counted_range(self, *args: int) -> range:
        return self.spend_on(safe_range(*args))  # type: ignore[no-any-return]

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("counted"), [loop.iter], [], None,
                                   None, lineno=loop.iter.lineno)
        return tree

    def call(__self, __context: Any, __obj: Any, *args: Any,  # noqa: N805 - Jinja's signature
             **kwargs: Any) -> Any:
        __self.spend(1)
        return __self.spend_on(super().call(__context, __obj, *args, **kwargs))

    def concat_text(self, parts: tuple[Any, ...]) -> str:
        _refuse_none(parts)
        return self.spend_on("".join(str(p) for p in parts))  # type: ignore[no-any-return]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise SecurityError(f"the exponent {right} is too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                        and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError(f"the result of * would hold {len(seq) * count} items")
        if operator == "%" and isinstance(left, str):
            widths = [int(w) for w in _FORMAT_WIDTH.findall(left)]
            if widths and max(widths) > MAX_SEQUENCE:
                raise SecurityError(f"a format width of {max(widths)} is too large")
        return self.spend_on(super().call_binop(context, operator, left, right))


def _counting_filter(env: FleetSandbox, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a filter), spending steps on what it is given and what it returns."""
    passes_context = hasattr(function, "jinja_pass_arg")

    @functools.wraps(function)  # keeps jinja_pass_arg (pass_context and the like)
    def counting(*args: Any, **kwargs: Any) -> Any:
        env.spend_on(args[1] if passes_context and len(args) > 1 else args[0] if args else None)
        return env.spend_on(function(*args, **kwargs))

    return counting


class Encoded(str):
    """Text the `yaml` or `json` filter made: safe to paste into the output as it is."""


_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")


def _finalize(value: Any) -> Any:
    if value is None:
        raise TemplateRuntimeError("a value is None; write it with `| yaml` (null) or test it "
                                   "with `is none`")
    if isinstance(value, str) and not isinstance(value, Encoded) and _LINE_BREAK.search(value):
        # Pasted raw, a line break would add keys to the output: values go through `| yaml`.
        raise TemplateRuntimeError("a value holding a line break is written raw; write it "
                                   "with `| yaml`")
    return value


def refuse_template_links(root: Path) -> None:
    """A fleet's templates/ and the templates in it are real files: a link could read anything,
    outside the repository included (and a looping one would silently fall back to a built-in)."""
    folder = root / TEMPLATES_DIR
    links = [folder] if folder.is_symlink() else (
        [p for p in sorted(folder.rglob("*")) if p.is_symlink()] if folder.is_dir() else [])
    if links:
        raise FleetError([Problem(Location(p.relative_to(root).as_posix()), "symlink",
                                  "templates are not read through symlinks",
                                  "copy the template into templates/") for p in links])


class FleetLoader(BaseLoader):
    """A fleet's own templates (``templates/<name>``), each read through the one reader of
    inputs (``paths.Reader``: no link on the way, a regular file of a sane size), which
    remembers what it read, or that there was no such file, for the render cache. Read once per
    run: Jinja keeps the compiled template, so it is never read again."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def get_source(self, environment: Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        rel = "/".join([TEMPLATES_DIR, *split_template_path(template)])
        data = self.reader.read(rel)
        if data is None:
            raise TemplateNotFound(template)
        return data.decode("utf-8"), str(self.reader.root / rel), lambda: True


def environment(root: Path, reader: Reader | None = None) -> ImmutableSandboxedEnvironment:
    """The sandbox, loading the fleet's templates through ``reader`` before the built-in ones."""
    refuse_template_links(root)
    loaders: list[BaseLoader] = [FleetLoader(reader or Reader(root))]
    loaders.append(FileSystemLoader(str(files("generator.templates"))))
    env = FleetSandbox(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False, finalize=_finalize)
    env.filters["yaml"] = to_yaml_flow
    env.filters["json"] = to_json
    env.filters["compact"] = compact
    # `| string` and `| join` would also turn None into the text "None".
    string, join = env.filters["string"], env.filters["join"]

    def strict_string(value: Any) -> Any:
        _refuse_none([value])
        return string(value)

    @pass_eval_context
    def strict_join(ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        _refuse_none(items)
        return join(ctx, items, d, attribute)

    env.filters["string"], env.filters["join"] = strict_string, strict_join
    env.filters = {name: _counting_filter(env, f) for name, f in env.filters.items()}
    env.globals["range"] = env.counted_range
    return env


class Renderer:
    def __init__(self, root: Path, steps: int = MAX_STEPS) -> None:
        self.root = root
        self.reader = Reader(root)  # the fleet's templates read so far (see reads)
        self.env = environment(root, self.reader)
        if isinstance(self.env, FleetSandbox):
            self.env.steps = steps

    def reads(self) -> dict[str, str]:
        """What every fleet template read so far saw (``paths.Reader.seen``): a superset of what
        any group built so far used, so a render-cache entry that stores it covers its
        templates (built-in ones are part of ``cache.code_digest``)."""
        return dict(self.reader.seen)

    def template_path(self, name: str) -> str:
        local = self.root / TEMPLATES_DIR / name
        return f"{TEMPLATES_DIR}/{name}" if local.is_file() else f"{TEMPLATES_DIR}/{name} {BUILTIN}"

    def text(self, template: str, context: dict[str, Any], subject: object) -> str:
        """Render one template to text; problems name the template and the subject."""
        try:
            compiled = self.env.get_template(template)
            if isinstance(self.env, FleetSandbox):
                self.env.start()
            text = compiled.render(context)
        except Unsafe as exc:  # a template file the reader refused
            raise FleetError([refused(exc)]) from None
        except TemplateSyntaxError as exc:
            name = exc.name or template
            raise FleetError([Problem(Location(self.template_path(name), exc.lineno, 1),
                                      "template-syntax", exc.message or str(exc))]) from None
        except TemplateError as exc:
            raise FleetError([Problem(Location(self.template_path(template), _template_line(exc)),
                                      "template-error", f"rendering {subject}: {exc}",
                                      STEPS_HINT if isinstance(exc, StepLimit) else "")]) from None
        except Exception as exc:  # noqa: BLE001 - template code is input: its failures are too
            # (ZeroDivisionError, TypeError, OverflowError for range(10**9), RecursionError…)
            raise FleetError([Problem(Location(self.template_path(template), _template_line(exc)),
                                      "template-error", f"rendering {subject}: "
                                      f"{type(exc).__name__}: {exc}")]) from None
        if len(text) > MAX_OUTPUT:
            raise FleetError([Problem(Location(self.template_path(template)), "template-output",
                                      f"rendering {subject} gave {len(text)} characters, more "
                                      f"than the {MAX_OUTPUT} a file may have")])
        return text if text.endswith("\n") else text + "\n"

    def document(self, template: str, context: dict[str, Any], subject: object) -> Any:
        """Render one template and parse its output as YAML."""
        return self.commented(template, context, subject)[0]

    def commented(self, template: str, context: dict[str, Any], subject: object
                  ) -> tuple[Any, str]:
        """Render one template: its output parsed as YAML, and the comment lines it starts with
        (kept at the top of a file that is not a Kubernetes object, such as cluster-config.yaml's
        note on what tanzu would build differently)."""
        text = self.text(template, context, subject)
        lines = text.splitlines(keepends=True)
        count = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
        header = "".join(line.rstrip() + "\n" for line in lines[:count])
        return self._parsed(template, text, subject), header

    def _parsed(self, template: str, text: str, subject: object) -> Any:
        try:
            return load_fast(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            raise FleetError([Problem(Location(self.template_path(template)), "template-output",
                                      f"rendering {subject} gave invalid YAML at output line "
                                      f"{line}: {getattr(exc, 'problem', exc)}")]) from None


def _template_line(exc: BaseException) -> int:
    """The template line an error happened on, from the traceback Jinja maps to template lines."""
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
