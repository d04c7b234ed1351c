"""sitesim simulation: see DESIGN.md. Its public names arrive with their issue."""

__all__: list[str] = []
