"""GitHub event -> Trigger -> jobs: payload access, the command grammar, authorization, the plan."""
