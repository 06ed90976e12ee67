"""Training scripts for the small models Bedside ships (run offline, on ``../shared/data``).

Not part of the ``bedside`` package or its wheel: run them from a clone, with the ``train`` extra
(``pip install -e '.[train]'``, scikit-learn). Each writes its artefacts to ``--out``, by default
the source tree the runtime loads them from (``proxy/detectors/emotion_model/``,
``proxy/detectors/jailbreak_model/``)::

    python -m training.train_emotion
    python -m training.train_emotion_cnn
    python -m training.train_jailbreak

The runtime only loads the artefacts; it never imports this package.
"""
