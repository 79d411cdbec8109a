"""Export: the live organization written back as flexctl configuration files."""
