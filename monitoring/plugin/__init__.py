"""The ``kubectl canaria`` plugin (also ``canaria rollout``), module by module.

``parser`` builds the command line (global flags in any position, as kubectl allows);
``sources`` reads and asks rollouts in a cluster or in local-mode files; ``render`` and
``live`` draw them; ``watch`` follows a rollout to its end (the documented exit codes in
``exitcodes``); ``actions`` asks for a manual action and waits until the operator applied
it; ``lint`` validates ModelRollout YAML offline. ``monitoring.kubectl_plugin`` runs them.
"""
