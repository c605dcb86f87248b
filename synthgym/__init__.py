"""synthgym: agentic RL tasks that are hard to solve and easy to verify."""
