"""The ModelRollout API: the spec (``spec``), the status (``status``) and the resource's
identity (``constants``). The built-in checks a spec may name are a shared contract:
``canaria.contracts.checks``.
"""
