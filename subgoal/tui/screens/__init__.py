"""The screens of `subgoal play`: live, replay, the episode picker and the error screen."""
