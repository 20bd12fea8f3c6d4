"""The Textual app of `subgoal play`: live play, replay and play by hand, fed by rollout events.

Importing this package imports no Textual; `subgoal.tui.app` does.
"""
