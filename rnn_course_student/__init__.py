"""rnn_course_student: what the course notebooks import, and the self-check `rnn-check`.

It holds the set-up that keeps a notebook's stderr empty (`notebook`, `environment`), the
assertions of the visible test cells (`checks`), their trusted values from Keras/TensorFlow
(`references`), the fingerprints by which a failed check names a catalogued mistake
(`fingerprints`: one-way hashes, no answer), the data (`tasks`), and the helpers that measure,
draw and train (`measures`, `plots`, `cliff`, `training`), and the self-check `rnn-check`
(`selfcheck`, `exercises`), which runs a notebook against the release notebooks the kit's wheel
carries in `release/`. It holds no exercise's answer: the forward pass, backpropagation through
time, clipping and the model configurations are for the student to write.

Importing the package imports nothing heavy; each module imports TensorFlow only when it needs it.
"""
