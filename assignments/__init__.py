"""One folder per assignment (see docs/writing-checks.md); the names come from grading.yml."""
