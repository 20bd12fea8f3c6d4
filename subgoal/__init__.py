"""subgoal: sub-goal distillation for ScienceWorld."""

__version__ = "0.1.0"
