"""The configuration format's building blocks: the YAML reader with positions, scalar rules,
model types, located rules, secret references and the JSON Schema output.

Each kind's model and rules live in its module under `flexctl/kinds/`; the whole configuration
is assembled and loaded by `flexctl.kinds.configuration.load_config`.
"""
