"""The one module that talks to MLflow: every trainer logs through it.

``log_run(...)`` logs parameters, metrics, artifact files and (optionally) a
scikit-learn model, registers the model under a name and points the alias
``champion`` at the new version; ``load_model("models:/name@champion")`` (or
``runs:/...`` or a local MLflow model folder) loads it back.

Where runs go: ``--tracking-uri`` when given (``http://...``, ``sqlite:///...``,
``file:///...`` or a plain folder), else a local file store in ``./mlruns``.
MLflow 3 keeps its file store in maintenance mode behind
``MLFLOW_ALLOW_FILE_STORE``; this module opts in for file stores only, and
turns MLflow's usage telemetry off (nothing leaves the machine by default).
Models are saved with cloudpickle (our estimators are plain Python classes;
skops would need every cxlens type listed as trusted).

``mlflow`` is imported inside the functions; without it they raise
:class:`~cxlens.errors.MissingDependencyError`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError, MissingDependencyError

__all__ = ["DEFAULT_TRACKING_DIR", "TrackedRun", "load_model", "log_run", "resolve_tracking_uri"]

log = logging.getLogger(__name__)
DEFAULT_TRACKING_DIR = "mlruns"
CHAMPION = "champion"


@dataclass(frozen=True)
class TrackedRun:
    """Where a run was logged and what was registered."""

    tracking_uri: str
    experiment: str
    run_id: str
    model_uri: str | None = None
    registered_name: str | None = None
    version: str | None = None
    alias: str | None = None

    @property
    def alias_uri(self) -> str | None:
        """``models:/name@alias``, the reference ``cxlens accounts score --model`` takes."""
        if self.registered_name and self.alias:
            return f"models:/{self.registered_name}@{self.alias}"
        return None


def resolve_tracking_uri(uri: str | os.PathLike[str] | None = None) -> str:
    """The tracking URI to use: ``uri`` (a URI or a plain folder) or ``./mlruns`` as a ``file:`` URI."""
    if uri is None:
        return Path(DEFAULT_TRACKING_DIR).resolve().as_uri()
    text = str(uri)
    if "://" in text or text.startswith(("file:", "databricks")):
        return text
    return Path(text).resolve().as_uri()


def _mlflow(tracking_uri: str | None):
    """Import mlflow and point it (tracking and registry) at the resolved URI."""
    uri = resolve_tracking_uri(tracking_uri)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if uri.startswith("file:"):
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        import mlflow
    except ImportError as exc:
        raise MissingDependencyError(package="mlflow-skinny", feature="Experiment tracking",
                                     extra="tracking") from exc
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow, uri


def _pip_requirements() -> list[str]:
    """Pinned requirements written next to the model (skips MLflow's slow import inference)."""
    from importlib import metadata

    reqs = []
    for package in ("cxlens", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle"):
        try:
            reqs.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return reqs


def _param_value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 500 else text[:497] + "..."


def log_run(*, experiment: str, params: Mapping[str, Any] | None = None,
            metrics: Mapping[str, float | None] | None = None, artifacts: Iterable[str | os.PathLike[str]] = (),
            model: Any = None, registered_name: str | None = None, alias: str | None = CHAMPION,
            run_name: str | None = None, tags: Mapping[str, str] | None = None,
            tracking_uri: str | None = None, extra_requirements: Iterable[str] = ()) -> TrackedRun:
    """Log one training run; register ``model`` under ``registered_name`` and set ``alias`` on it.

    ``metrics`` values that are ``None`` or not finite are skipped.  ``artifacts``
    are files (or folders) copied into the run.  The model's requirements are
    pinned from the installed cxlens, scikit-learn, numpy, pandas, scipy and
    cloudpickle, plus ``extra_requirements`` (e.g. ``["torch==2.13.0"]``).
    Returns a :class:`TrackedRun`.
    """
    import math

    mlflow, uri = _mlflow(tracking_uri)
    if registered_name is not None and model is None:
        raise ConfigError("log_run: registered_name needs a model to register.")
    try:
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=run_name, tags=dict(tags or {})) as run:
            if params:
                mlflow.log_params({k: _param_value(v) for k, v in params.items()})
            clean = {k: float(v) for k, v in (metrics or {}).items()
                     if v is not None and isinstance(v, (int, float)) and math.isfinite(float(v))}
            if clean:
                mlflow.log_metrics(clean)
            for path in artifacts:
                path = Path(path)
                if path.is_dir():
                    mlflow.log_artifacts(str(path), artifact_path=path.name)
                elif path.exists():
                    mlflow.log_artifact(str(path))
            model_uri = version = None
            if model is not None:
                import mlflow.sklearn

                info = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                                registered_model_name=registered_name,
                                                pip_requirements=_pip_requirements() + list(extra_requirements))
                model_uri = info.model_uri
                version = None if info.registered_model_version is None else str(info.registered_model_version)
            run_id = run.info.run_id
        if registered_name and version and alias:
            mlflow.MlflowClient().set_registered_model_alias(registered_name, alias, version)
    except mlflow.exceptions.MlflowException as exc:
        raise ConfigError(f"MLflow tracking at {uri} failed: {exc}") from exc
    tracked = TrackedRun(tracking_uri=uri, experiment=experiment, run_id=run_id, model_uri=model_uri,
                         registered_name=registered_name, version=version,
                         alias=alias if registered_name and version else None)
    log.info("logged run %s to %s%s", run_id, uri,
             f"; registered {registered_name} v{version} as @{alias}" if tracked.alias else "")
    return tracked


def load_model(model_uri: str, *, tracking_uri: str | None = None) -> Any:
    """Load a logged scikit-learn model: ``models:/name@alias``, ``models:/name/3``, ``runs:/id/model``
    or a local MLflow model folder."""
    mlflow, uri = _mlflow(tracking_uri)
    import mlflow.sklearn

    try:
        return mlflow.sklearn.load_model(model_uri)
    except mlflow.exceptions.MlflowException as exc:
        raise ConfigError(f"Cannot load model {model_uri!r} from the tracking store {uri}: {exc}. "
                          "Train and register one first, or give {tracking_uri} (the store that holds it).",
                          params=("tracking_uri",)) from exc
