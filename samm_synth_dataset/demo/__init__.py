"""The demo: a generated real-face corpus with exact ground truth, and ``samm-synth demo`` that runs the whole
pipeline on it.

* :mod:`~samm_synth_dataset.demo.corpus`: the corpus in the SAMM-LV layout (200 fps, workbook, references,
  ground truth) — ``make_demo_corpus``;
* :mod:`~samm_synth_dataset.demo.casme3_corpus`: the same faces in the CAS(ME)³ Part A layout (30 fps, the authors'
  workbooks, quirks included) — ``make_casme3_corpus``;
* :mod:`~samm_synth_dataset.demo.run`: ``run_demo`` and the ``demo``/``make-demo-corpus`` commands.

The generators write files the real readers (:mod:`samm_synth_dataset.sources`) read; they share those readers'
naming, frame rates and sheet headers. Nothing here is SAMM-LV or CAS(ME)³ data.
"""
