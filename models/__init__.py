"""cxlens.models: account features, the churn model and the customer health score.

* :mod:`cxlens.models.features` - point-in-time account features (one pure function each)
* :mod:`cxlens.models.labels` - churn labels (horizon or column), training snapshots, time-aware folds
* :mod:`cxlens.models.churn` - :class:`~cxlens.models.churn.ChurnModel`, calibrated, sklearn contract
* :mod:`cxlens.models.explain` - per-account contributions and reasons in words
* :mod:`cxlens.models.health` - the 0-100 customer health score, weights, bands and reasons

The jobs that wire them (train, score, the at-risk review) are in :mod:`cxlens.pipelines.accounts`.
"""
