"""The one error type the stack raises for a user to read: one line that names the fix."""


class StackError(RuntimeError):
    """A missing prerequisite or a component that would not start; ``str()`` is one line."""
