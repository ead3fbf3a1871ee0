"""Shared pytest set-up: quiet TensorFlow and deterministic Keras seeds for every test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Two pytest workers on two cores: one intra-op thread each keeps them from fighting.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
