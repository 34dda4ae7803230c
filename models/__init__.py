"""cxlens.models: account features, the churn model and the customer health score.

* :mod:`cxlens.models.features` - point-in-time account features (one pure function each)
* :mod:`cxlens.models.labels` - churn labels (horizon or column), training snapshots, time-aware folds
* :mod:`cxlens.models.churn` - :class:`~cxlens.models.churn.ChurnModel`, calibrated, sklearn contract
* :mod:`cxlens.models.explain` - per-account contributions
* :mod:`cxlens.models.signals` - which features are signals with a known direction, which describe the account
* :mod:`cxlens.models.constrained` - the sign-constrained logistic regression the churn model uses for signals
* :mod:`cxlens.models.reasons` - reasons in words: risk-raising signals only, against peers and history
* :mod:`cxlens.models.risk` - the at-risk rule (relative to the base rate, top share, or absolute)
* :mod:`cxlens.models.csat` - estimated CSAT per ticket (:class:`~cxlens.models.csat.CsatModel`)
* :mod:`cxlens.models.health` - the 0-100 customer health score, weights, bands and reasons

The jobs that wire them (train, score, the at-risk review) are in :mod:`cxlens.pipelines.accounts`.
"""
