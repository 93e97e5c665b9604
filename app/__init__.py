"""The composition layer: the `aios` CLI, `aios up` and its supervisor, the Rasa process, evaluations
and benchmarks. It assembles the services below it; nothing below imports it."""
