"""The venue machinery every adapter shares (issue 14): today the wire readers (`wire`)."""
