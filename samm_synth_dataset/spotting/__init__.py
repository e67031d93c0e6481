"""The reference spotting baseline (SOFTNet, the MEGC 2022/2023 organisers' shallow optical-flow network).

Per video: ``features.flow_features`` (pairs (i, i + k)) and ``labels.pseudo_labels``; per fold and kind:
``train.fit_fold`` then ``train.spot_video`` (intervals in source frame numbers, inclusive) and
``decode.write_submission`` (``vid,onset,offset,type``), scored by ``metrics.spotting``.
"""
