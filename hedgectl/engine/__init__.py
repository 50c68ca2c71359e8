"""What strategies do with venues: journaled dispatch, hedge open/close with rollback, flatten, reconcile."""
