"""HTTP handlers of the bots module, one file per resource, named by operationId."""
