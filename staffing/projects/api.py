"""REST resources of the projects domain."""

blueprints = []
