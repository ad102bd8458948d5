"""A toy third-party jiema plugin (see README.md); everything lives in `jiema_toy.plugin`."""
