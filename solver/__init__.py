"""The planner: pure Python and OR-Tools CP-SAT, frozen dataclasses in and out."""
