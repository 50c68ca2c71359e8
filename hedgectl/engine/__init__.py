"""What strategies do with venues, by concept: orders/ (dispatch, the order tracker, reconcile), bootstrap/ (the hedge
cycle), maker_taker/ (the volume loop), scan/, flatten, funding, positions, survey, interrupts."""
