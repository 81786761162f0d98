"""The one error a user can cause.

Anything a user can get wrong (a bad path, an empty folder, a corrupt file, a bad value) raises
`ReelganError` with a message that names the problem and the fix. The CLI prints it on one line and
exits with status 2; any other exception is a bug in reelgan.
"""


class ReelganError(Exception):
    """A problem with the user's input, explained in one line."""
