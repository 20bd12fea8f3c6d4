"""The exceptions subgoal raises on purpose.

Every one of them is a user-facing problem with a one-line message; the CLI prints it and exits with
`exit_code`, never a traceback. Anything else that escapes is a bug.
"""

from __future__ import annotations


class SubgoalError(Exception):
    """Base class: a problem the user can fix, reported as one line."""

    exit_code = 2


class UnknownTaskError(SubgoalError):
    pass


class VariationError(SubgoalError):
    pass


class EpisodeFileError(SubgoalError):
    """A corrupt, truncated or incompatible episode file. The message names the file and line."""


class JavaUnavailable(SubgoalError):
    """No ScienceWorld JVM can run here: every episode would fail the same way, so the run stops."""


class JavaNotFoundError(JavaUnavailable):
    pass


class JavaOptionsError(JavaUnavailable):
    """A setting for the ScienceWorld JVMs (SUBGOAL_JVM_HEAP) that Java would refuse."""


class JavaStartError(JavaUnavailable):
    """Java refused to start the ScienceWorld JVM (e.g. a heap it cannot reserve)."""


class EnvironmentCrashed(SubgoalError):
    """The ScienceWorld JVM died or stopped answering."""


class OutputPathError(SubgoalError):
    pass


class TeacherError(SubgoalError):
    """The teacher (rules or LLM server) could not annotate."""


class TeacherUnavailable(TeacherError):
    """The LLM server cannot be used at all (unreachable, key refused, no such model): stop the run."""


class CheckpointError(SubgoalError):
    pass


class TrainingError(SubgoalError):
    pass


class AgentError(SubgoalError):
    pass
