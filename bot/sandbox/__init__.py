"""The one subprocess boundary and what generated code may see: uid drop, environment, workspace, paths."""
