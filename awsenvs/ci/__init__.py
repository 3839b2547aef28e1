"""CI: the team's door, a room on top of the run wing (DESIGN: it runs the same launch plan
and the same verbs as a laptop).

- `workflows`: the GitHub Actions workflows `ci github` writes (templates/github/).
- `changes`: which stacks a pull request changes (base branch's org.yaml and code vs head's).
- `report`: a run's results as Markdown (the pull request comment, the job summary, the drift issue).
- `github`: GitHub's side of a job: its environment variables, the event, the REST API
  (comments, issues, environments) with the job's token.
"""
