"""Identity: is the source person still recognisable in a synthetic video? One idea, one place: ``descriptor``
(dlib's ResNet face descriptor, per-video distances and verdicts), ``section`` (the per-video measure as tasks of
the report's stage, and the report's identity section, its claim and headline), ``figures`` (Figures 9 and 10)
and ``expectation`` (what each transfer method is meant to do to identity, checked by ``release``).
"""
