"""What the surveys app announces to the apps above it (approvals): a survey result accepted after its
publicity, in the transaction that accepted it. Receivers call a service, nothing more."""

from django.dispatch import Signal

# kwargs: task (SurveyTask, status accepted), actor (the user who ended the notice, or None for the job)
survey_accepted = Signal()
