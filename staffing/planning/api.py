"""REST resources of the planning domain (plans arrive with the solver)."""

blueprints = []
