"""cxlens: customer-service conversation analytics.

The public Python API is the names in ``__all__``; import them from ``cxlens`` itself::

    import cxlens

    dataset = cxlens.load_dataset(tickets="tickets.csv", messages="messages.csv")
    report = cxlens.compute_kpis(dataset, by=["channel"], period="month")
    summary = cxlens.score(cxlens.ScoreConfig(archive="examples/archive", out="scored/"))
    scored = cxlens.read_scored("scored/")

Everything else (``cxlens.metrics``, ``cxlens.nlp``, ``cxlens.pipelines``, ...) is the machinery
behind these names and may change between releases.

``import cxlens`` is cheap: each public name is imported from its defining module on first use
(PEP 562 module ``__getattr__``), and heavy libraries (pandas, scikit-learn, torch, mlflow,
spark) only inside the functions that need them.
"""

import importlib as _importlib

__version__ = "0.1.0"

# public name -> the module that defines it (one place; ``__all__`` is built from it)
_EXPORTS: dict[str, str] = {
    # data in
    "load_dataset": "cxlens.dataset",
    "read_twcs": "cxlens.adapters",
    "ValueRules": "cxlens.io",
    # KPIs and their settings
    "BusinessHours": "cxlens.config",
    "KPIConfig": "cxlens.config",
    "SLAPolicy": "cxlens.config",
    "compute_kpis": "cxlens._api",
    "explain_kpi": "cxlens._api",
    "get_kpi": "cxlens.metrics",
    "get_kpi_names": "cxlens.metrics",
    "load_config": "cxlens.config",
    # text models: batches that carry their vectors, the pipeline that runs components over them
    "TextPipeline": "cxlens.nlp",
    "Texts": "cxlens.nlp",
    "SentimentClassifier": "cxlens.nlp.sentiment",
    "TaxonomyClassifier": "cxlens.nlp.classify",
    "TextClassifier": "cxlens.nlp.classify",
    "TopicModel": "cxlens.nlp.topics",
    "emerging_topics": "cxlens.pipelines.topics",
    "load_request_type_model": "cxlens._api",
    "load_scorecard": "cxlens.nlp.qa",
    "load_taxonomy": "cxlens.nlp.classify",
    "load_sentiment_model": "cxlens.nlp.sentiment",
    "score_sentiment": "cxlens.nlp.sentiment",
    "topic_trends": "cxlens.pipelines.topics",
    # accounts
    "HealthConfig": "cxlens.models.health",
    "at_risk_review": "cxlens._api",
    "train_churn": "cxlens._api",
    # batch scoring of an archive
    "ScoreConfig": "cxlens._scoring",
    "read_scored": "cxlens.pipelines.score",
    "score": "cxlens._scoring",
    # errors users catch
    "ConfigError": "cxlens.errors",
    "CxlensError": "cxlens.errors",
    "DataError": "cxlens.errors",
    "MissingDependencyError": "cxlens.errors",
    "UnknownNameError": "cxlens.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cxlens' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
