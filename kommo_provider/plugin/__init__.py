"""The ``kommo`` Pulumi provider plugin: ``ChatChannelConnection`` for every Pulumi language.

``adapter`` maps the schema's names and provider configuration onto :mod:`kommo_provider.connection`,
``wire`` converts property values, ``server`` serves Pulumi's ResourceProvider gRPC service, and
``schema.json`` describes the package; ``python -m kommo_provider.plugin`` and the
``pulumi-resource-kommo`` console script start it.
"""
