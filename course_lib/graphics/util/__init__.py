"""Shape checks, safe ops and test helpers shared by every ``course_lib.graphics`` op."""
