"""``pipenv run service``: self-service for product developers.

``service new`` writes a new service's module (``stacks/services/<name>.py``) and
its CODEOWNERS line, keeping them only if every environment builds with them;
``service list`` shows what every service runs, per environment;
``service secrets`` lists the Secrets Manager secrets an environment needs
before its first apply, and with ``--check`` which of them are missing.
Everything is read from the app built in this process: the constructs decide.
"""
